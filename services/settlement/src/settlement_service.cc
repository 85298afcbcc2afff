#include "pavilion/settlement/settlement_service.h"

#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "ledger_book.h"
#include "pavilion/places/place_directory.h"
#include "plan_book.h"
#include "plan_rules.h"
#include "poverty_ledger.h"
#include "profit_sharing.h"
#include "progress.h"
#include "report.h"
#include "sales_cube.h"
#include "statements.h"

namespace pavilion::settlement {
namespace {

using events::svc_errc;
namespace schema = events::schema;

constexpr std::string_view kPrefix = "set/";

// The sales processor ("sales"): the sales projection, and the index of the targets and award
// rules it measures (plan_book.h).
class SalesLane final : public events::Processor {
 public:
  SalesLane(SalesCube& cube, PlanBook& plans) : cube_(cube), plans_(plans) {}
  std::string_view name() const override { return cube_.name(); }
  std::vector<std::string> event_types() const override {
    std::vector<std::string> types = cube_.event_types();
    for (auto& t : PlanBook::EventTypes()) types.push_back(std::move(t));
    return types;
  }
  void Handle(const events::Envelope& event, events::Transaction& tx) override {
    if (event.type == schema::TargetDefined::kType ||
        event.type == schema::AwardRuleDefined::kType) {
      return plans_.Handle(event, tx);
    }
    cube_.Handle(event, tx);
  }
  void BeforeBatch() override { cube_.BeforeBatch(); }
  void AfterBatch(events::Transaction& batch) override { cube_.AfterBatch(batch); }

 private:
  SalesCube& cube_;
  PlanBook& plans_;
};

}  // namespace

class SettlementService::Impl final : public events::Processor {
 public:
  Impl(events::EventStore& store, events::Worker& worker, SettlementOptions options)
      : store_(store),
        worker_(worker),
        options_(options),
        provider_(options.payout_provider ? options.payout_provider : &builtin_),
        ledger_(store.kv()),
        poverty_(store.kv()),
        profit_sharing_(store.kv(), options.profit_sharing_cap_bps,
                        [this]() -> const settlement::FeeRules& { return ledger_.Rules(); }),
        sales_(store, options.cache_limit),
        plans_(store),
        sales_lane_(sales_, plans_) {}
  PayoutProvider& provider() { return *provider_; }
  LedgerBook& ledger() { return ledger_; }
  settlement::PovertyLedger& poverty() { return poverty_; }
  ProfitSharing& profit_sharing() { return profit_sharing_; }
  SalesCube& sales() { return sales_; }
  PlanBook& plans() { return plans_; }
  events::Processor& sales_lane() { return sales_lane_; }

  // What the checks of a definition ask (plan_rules.h), answered on the sales worker.
  PlanFacts Facts() {
    return {[this](std::string_view code) -> std::string {
              places::PlaceDirectory* dir = options_.places;
              if (dir == nullptr || dir->Source().empty() || dir->Find(code)) return "";
              return "no division " + std::string(code) + " in " + dir->Source() +
                     "; look the code up with GET /v1/places?q=<the place's name>";
            },
            [this](std::string_view code) { return sales_.CategoryKnown(code); },
            [this](const std::string& id) { return sales_.SellerKnown(id); }};
  }
  SalesReader Reader() {
    return [this](const SalesQuery& q) { return sales_.Query(q); };
  }
  EntityNamer Namer() {
    return [this](schema::EntityKind kind, const std::string& key) -> std::string {
      if (kind == schema::EntityKind::kSeller) return sales_.SellerName(key);
      if (kind == schema::EntityKind::kProduct) return sales_.ProductTitle(key);
      return "";
    };
  }
  Result<TargetView> Measured(Result<TargetView> v, int64_t as_of_micros) {
    if (!v.ok()) return v;
    auto ok = MeasureTarget(*v, as_of_micros, store_.clock().NowMicros(), Reader(), Namer());
    if (!ok.ok()) return ok.error_detail();
    return v;
  }
  const SettlementOptions& options() const { return options_; }

  // The caches are dropped past the bound, once every write queued so far is durable (until
  // then the store would show older values than memory). Called only between transactions:
  // before each batch and before the queries, which load what they read.
  void BeforeBatch() override { Trim(); }
  void AfterBatch(events::Transaction& batch) override { ledger_.Flush(batch); }
  void Trim() {
    if (cached() < options_.cache_limit) return;
    (void)store_.AppendAndWait(events::AppendRequest{});
    ledger_.DropCaches();
  }
  size_t cached() const { return ledger_.cached(); }

  std::string_view name() const override { return "settlement"; }
  events::EventStore& store() { return store_; }

  std::vector<std::string> event_types() const override { return handlers_.types(); }
  void Handle(const events::Envelope& event, events::Transaction& tx) override {
    handlers_.Handle(event, tx);
  }

  const events::Handlers handlers_ =
      events::Handlers()
          .On<schema::OrderPaid>([this](const schema::OrderPaid& paid, const events::Envelope& e,
                                        events::Transaction& tx) {
            ledger_.Paid(paid, e.time_micros, tx);
            poverty_.Paid(paid, e.time_micros, tx);
          })
          .On<schema::RefundChanged>(schema::RefundChanged::kCompleted,
                                     [this](const schema::RefundChanged& refund,
                                            const events::Envelope& e, events::Transaction& tx) {
                                       ledger_.Refunded(refund, e.time_micros, tx);
                                       poverty_.Refunded(refund, e.time_micros, tx);
                                     })
          // The ledger's other inputs (ledger_book.h).
          .On<schema::SubOrderChanged>(schema::SubOrderChanged::kCompleted,
                                       [this](const auto& c, const auto& e, auto& tx) {
                                         ledger_.Completed(c, e.time_micros, tx);
                                       })
          .On<schema::SubOrderChanged>(schema::SubOrderChanged::kAfterSaleClosed,
                                       [this](const auto& c, const auto& e, auto& tx) {
                                         ledger_.AfterSaleClosed(c, e.time_micros, tx);
                                       })
          .On<schema::ProductCreated>([this](const auto& p, const auto&, auto& tx) {
            ledger_.Product(p, tx);
            profit_sharing_.Product(p, tx);
          })
          .On<schema::ProductCreated>(schema::ProductCreated::kUpdated,
                                      [this](const auto& p, const auto&, auto& tx) {
                                        ledger_.Product(p, tx);
                                        profit_sharing_.Product(p, tx);
                                      })
          .On<schema::SellerRegistered>(
              [this](const auto& s, const auto&, auto& tx) { poverty_.Seller(s, tx); })
          .On<schema::FeeRulesSet>(
              [this](const auto& r, const auto&, auto& tx) { ledger_.FeeRulesSet(r, tx); })
          .On<schema::PayoutChanged>(schema::PayoutChanged::kRequested,
                                     [this](const auto& p, const auto& e, auto& tx) {
                                       if (auto it = inflight_.find(p.party_id);
                                           it != inflight_.end()) {
                                         it->second = std::max(Fen(0), it->second - p.amount);
                                       }
                                       Folded(ledger_.PayoutRequested(p, e.time_micros, tx), tx);
                                     })
          .On<schema::PayoutChanged>(schema::PayoutChanged::kConfirmed,
                                     [this](const auto& p, const auto& e, auto& tx) {
                                       Folded(ledger_.PayoutResolved(p, true, e.time_micros, tx),
                                              tx);
                                     })
          .On<schema::PayoutChanged>(
              schema::PayoutChanged::kReturned, [this](const auto& p, const auto& e, auto& tx) {
                Folded(ledger_.PayoutResolved(p, false, e.time_micros, tx), tx);
              });

  // Once the fold is durable: the provider is handed a payout in transit (unless it has moved
  // on by then, as in a rebuild from the log) and whoever waits for the payout is answered.
  void Folded(std::optional<PayoutView> v, events::Transaction& tx) {
    if (!v) return;
    tx.OnDurable([this, v = std::move(*v)](std::error_code ec) {
      if (ec) return;
      worker_.Post([this, v] {
        auto now = ledger_.Payout(v.payout_id);
        if (v.state == "in_transit" && now && now->state == "in_transit") {
          provider_->Send(PayoutOrder{v.payout_id, v.party_id, v.amount});
        }
        auto it = waiters_.find(v.payout_id);
        if (it == waiters_.end()) return;
        auto waiting = std::move(it->second);
        waiters_.erase(it);
        for (auto& w : waiting) w(v);
      });
    });
  }

  void RunPayouts(std::function<void(Result<std::vector<PayoutView>>)> done) {
    // Everything folded so far is in the store; what is requested but not folded is inflight_.
    (void)store_.AppendAndWait(events::AppendRequest{});
    events::AppendRequest req;
    std::vector<schema::PayoutChanged> asked;
    for (const auto& [party, available] : ledger_.PayableBalances()) {
      Fen& inflight = inflight_[party];
      const Fen amount = available - inflight;
      if (amount.value() <= 0 || amount < options_.payout_minimum) continue;
      schema::PayoutChanged p{events::NewId("po"), party, provider_->name(), "", amount};
      req.events.push_back(events::NewEvent{p.payout_id, events::kFreshStream,
                                            std::string(schema::PayoutChanged::kRequested),
                                            events::Encode(p), "", "", 1});
      inflight += amount;
      asked.push_back(std::move(p));
    }
    if (asked.empty()) return done(std::vector<PayoutView>{});
    struct Run {
      size_t left;
      std::vector<PayoutView> got;
      std::function<void(Result<std::vector<PayoutView>>)> done;
    };
    auto run = std::make_shared<Run>(Run{asked.size(), {}, std::move(done)});
    for (const auto& p : asked) {
      waiters_[p.payout_id].push_back([run](const PayoutView& v) {
        run->got.push_back(v);
        if (--run->left == 0) run->done(std::move(run->got));
      });
    }
    store_.Append(std::move(req), [this, asked, run](std::error_code ec, const auto&) {
      if (!ec) return;
      worker_.Post([this, asked, run] {
        for (const auto& p : asked) {
          waiters_.erase(p.payout_id);
          inflight_[p.party_id] = std::max(Fen(0), inflight_[p.party_id] - p.amount);
        }
        run->done(
            Result<std::vector<PayoutView>>(svc_errc::internal, "could not store the payout run"));
      });
    });
  }

  void Resolve(const std::string& id, bool confirm, std::string reason,
               std::function<void(Result<PayoutView>)> done) {
    const std::string_view want = confirm ? "paid_out" : "returned";
    auto answer = [id, want, confirm, done](const PayoutView& v) {
      if (v.state == want) return done(v);
      done(Result<PayoutView>(svc_errc::conflict, "payout " + id + " is " + v.state +
                                                      ": it cannot be " +
                                                      (confirm ? "confirmed" : "returned")));
    };
    auto v = ledger_.Payout(id);
    if (!v) return done(Result<PayoutView>(svc_errc::not_found, "payout " + id + " not found"));
    if (v->state != "in_transit") return answer(*v);
    auto& waiting = waiters_[id];
    const bool asked = !waiting.empty();
    waiting.push_back(answer);
    if (asked) return;  // Its answer is on its way to the log: answer both with it.
    schema::PayoutChanged p{id, v->party_id, v->provider, std::move(reason), v->amount};
    events::AppendRequest req;
    const auto type =
        confirm ? schema::PayoutChanged::kConfirmed : schema::PayoutChanged::kReturned;
    req.events.push_back(events::NewEvent{id, 1, std::string(type), events::Encode(p), "", "", 1});
    store_.Append(std::move(req), [this, id](std::error_code ec, const auto&) {
      if (!ec) return;
      worker_.Post([this, id] {
        auto it = waiters_.find(id);
        if (it == waiters_.end()) return;
        auto waiting = std::move(it->second);
        waiters_.erase(it);
        // Another writer resolved it first (or the store failed): the payout as it stands.
        PayoutView unchanged;
        unchanged.payout_id = id;
        unchanged.state = "unchanged (the store refused the change)";
        auto now = ledger_.Payout(id);
        for (auto& w : waiting) w(now && now->state != "in_transit" ? *now : unchanged);
      });
    });
  }

  Result<std::vector<PayoutView>> Payouts(const std::string& party, size_t limit) {
    (void)store_.AppendAndWait(events::AppendRequest{});
    return ledger_.Payouts(party, limit);
  }

 private:
  events::EventStore& store_;
  events::Worker& worker_;
  const SettlementOptions options_;
  BuiltinPayoutProvider builtin_;
  PayoutProvider* provider_;
  // Requested by a run but not folded yet, per party: the next run leaves it out.
  std::unordered_map<std::string, Fen> inflight_;
  std::unordered_map<std::string, std::vector<std::function<void(const PayoutView&)>>> waiters_;
  LedgerBook ledger_;
  settlement::PovertyLedger poverty_;
  ProfitSharing profit_sharing_;
  SalesCube sales_;  // Its own processor, run on the sales worker.
  PlanBook plans_;
  SalesLane sales_lane_;
};

SettlementService::SettlementService(events::EventStore& store, SettlementOptions options)
    : worker_("settlement", store.writer_worker()),
      sales_worker_("sales", store.writer_worker()),
      impl_(std::make_unique<Impl>(store, worker_, options)) {}

SettlementService::~SettlementService() {
  worker_.Stop();
  sales_worker_.Stop();
  // Commits still queued in the store call back into this service: let them run first.
  (void)impl_->store().AppendAndWait(events::AppendRequest{});
}

events::Processor& SettlementService::processor() { return *impl_; }
events::Processor& SettlementService::sales_processor() { return impl_->sales_lane(); }

void SettlementService::RunPayouts(std::function<void(Result<std::vector<PayoutView>>)> done) {
  worker_.Post([this, done = std::move(done)]() mutable { impl_->RunPayouts(std::move(done)); });
}

void SettlementService::ConfirmPayout(std::string payout_id,
                                      std::function<void(Result<PayoutView>)> done) {
  worker_.Post([this, id = std::move(payout_id), done = std::move(done)]() mutable {
    impl_->Resolve(id, true, "", std::move(done));
  });
}

void SettlementService::ReturnPayout(std::string payout_id, std::string reason,
                                     std::function<void(Result<PayoutView>)> done) {
  worker_.Post([this, id = std::move(payout_id), reason = std::move(reason),
                done = std::move(done)]() mutable {
    impl_->Resolve(id, false, std::move(reason), std::move(done));
  });
}

void SettlementService::Payouts(std::string party_id, size_t limit,
                                std::function<void(Result<std::vector<PayoutView>>)> done) {
  worker_.Post([this, id = std::move(party_id), limit, done = std::move(done)] {
    impl_->Trim();
    done(impl_->Payouts(id, limit));
  });
}

PayoutProvider& SettlementService::payout_provider() { return impl_->provider(); }

void SettlementService::Cached(std::function<void(size_t)> done) {
  worker_.Post([this, done = std::move(done)] { done(impl_->cached()); });
}

void SettlementService::Sales(SalesQuery query,
                              std::function<void(Result<std::vector<SalesRow>>)> done) {
  sales_worker_.Post(
      [this, q = std::move(query), done = std::move(done)] { done(impl_->sales().Query(q)); });
}

void SettlementService::DefineTarget(schema::TargetDefined target,
                                     std::function<void(Result<TargetView>)> done) {
  sales_worker_.Post([this, t = std::move(target), done = std::move(done)]() mutable {
    if (auto ok = CheckTarget(t, impl_->Facts()); !ok.ok()) return done(ok.error_detail());
    done(impl_->Measured(impl_->plans().DefineTarget(std::move(t)), 0));
  });
}

void SettlementService::RetireTarget(std::string id, std::function<void(Result<TargetView>)> done) {
  sales_worker_.Post([this, id = std::move(id), done = std::move(done)] {
    done(impl_->plans().RetireTarget(id));
  });
}

void SettlementService::Target(std::string id, int64_t as_of_micros,
                               std::function<void(Result<TargetView>)> done) {
  sales_worker_.Post([this, id = std::move(id), as_of_micros, done = std::move(done)] {
    done(impl_->Measured(impl_->plans().Target(id), as_of_micros));
  });
}

void SettlementService::Targets(DefinitionsQuery query,
                                std::function<void(Result<TargetPage>)> done) {
  sales_worker_.Post(
      [this, q = std::move(query), done = std::move(done)] { done(impl_->plans().Targets(q)); });
}

void SettlementService::DefineAwardRule(schema::AwardRuleDefined rule,
                                        std::function<void(Result<AwardRuleView>)> done) {
  sales_worker_.Post([this, r = std::move(rule), done = std::move(done)]() mutable {
    if (auto ok = CheckAwardRule(r, impl_->Facts()); !ok.ok()) return done(ok.error_detail());
    done(impl_->plans().DefineAwardRule(std::move(r)));
  });
}

void SettlementService::RetireAwardRule(std::string id,
                                        std::function<void(Result<AwardRuleView>)> done) {
  sales_worker_.Post([this, id = std::move(id), done = std::move(done)] {
    done(impl_->plans().RetireAwardRule(id));
  });
}

void SettlementService::AwardRule(std::string id, std::function<void(Result<AwardRuleView>)> done) {
  sales_worker_.Post(
      [this, id = std::move(id), done = std::move(done)] { done(impl_->plans().AwardRule(id)); });
}

void SettlementService::AwardRules(DefinitionsQuery query,
                                   std::function<void(Result<AwardRulePage>)> done) {
  sales_worker_.Post(
      [this, q = std::move(query), done = std::move(done)] { done(impl_->plans().AwardRules(q)); });
}

void SettlementService::AwardResults(std::string id, int64_t as_of_micros,
                                     std::function<void(Result<settlement::AwardResults>)> done) {
  sales_worker_.Post([this, id = std::move(id), as_of_micros, done = std::move(done)] {
    auto rule = impl_->plans().AwardRule(id);
    if (!rule.ok()) return done(rule.error_detail());
    done(MeasureAwards(*rule, as_of_micros, impl_->store().clock().NowMicros(), impl_->Reader(),
                       impl_->Namer()));
  });
}

namespace {

// Every definition ever made, retired ones too, page after page.
template <typename View, typename List>
Result<std::vector<View>> Every(List list) {
  DefinitionsQuery q;
  q.retired = true;
  q.limit = 500;
  std::vector<View> all;
  do {
    Result<DefinitionPage<View>> page = list(q);
    if (!page.ok()) return page.error_detail();
    std::move(page->items.begin(), page->items.end(), std::back_inserter(all));
    q.after = std::move(page->next_after);
  } while (!q.after.empty());
  return all;
}

}  // namespace

void SettlementService::SalesReport(ReportQuery query,
                                    std::function<void(Result<settlement::SalesReport>)> done) {
  sales_worker_.Post([this, q = std::move(query), done = std::move(done)] {
    if (auto ok = CheckReport(q, impl_->Facts()); !ok.ok()) return done(ok.error_detail());
    PlanBook& plans = impl_->plans();
    auto targets = Every<TargetView>([&plans](const auto& q) { return plans.Targets(q); });
    if (!targets.ok()) return done(targets.error_detail());
    auto rules = Every<AwardRuleView>([&plans](const auto& q) { return plans.AwardRules(q); });
    if (!rules.ok()) return done(rules.error_detail());
    places::PlaceDirectory* dir = impl_->options().places;
    if (dir != nullptr && dir->Source().empty()) dir = nullptr;
    // Without an as_of, the report is dated when what the projection has folded stands: now,
    // or just before an event still on its way (asked again with that as_of: the same bytes).
    const int64_t now = impl_->store().clock().NowMicros();
    const int64_t moment = q.as_of_micros != 0 ? now : impl_->sales().FoldedMoment(now);
    done(BuildReport(q, moment, impl_->Reader(), impl_->Namer(), std::move(*targets), *rules, dir));
  });
}

void SettlementService::Settlement(std::string order_id,
                                   std::function<void(Result<OrderSettlement>)> done) {
  worker_.Post([this, id = std::move(order_id), done = std::move(done)] {
    impl_->Trim();
    done(impl_->ledger().Order(id));
  });
}

void SettlementService::Balances(std::string party_id, std::function<void(PartyBalances)> done) {
  worker_.Post([this, id = std::move(party_id), done = std::move(done)] {
    impl_->Trim();
    done(impl_->ledger().Balances(id));
  });
}

void SettlementService::Audit(std::function<void(Result<LedgerAudit>)> done) {
  worker_.Post([this, done = std::move(done)] {
    impl_->Trim();
    done(impl_->ledger().Audit());
  });
}

void SettlementService::SetFeeRules(FeeRulesInput rules, std::function<void(Result<bool>)> done) {
  schema::FeeRulesSet e;
  e.default_bps = rules.default_bps;
  auto rates = [](const auto& in, std::vector<schema::FeeRate>& out, const char* field) {
    for (const auto& [key, bps] : in) {
      if (key.empty()) return std::string(field) + ": a key must not be empty";
      if (bps > 10000) {
        return std::string(field) + ": " + key + " must be 0 to 10000 basis points";
      }
      out.push_back({key, bps});
    }
    return std::string();
  };
  std::string bad = rules.default_bps > 10000 ? "default_bps: give 0 to 10000 basis points" : "";
  if (bad.empty()) bad = rates(rules.by_category, e.by_category, "by_category");
  if (bad.empty()) bad = rates(rules.by_seller, e.by_seller, "by_seller");
  if (!bad.empty()) return done(Result<bool>(svc_errc::invalid_argument, bad));
  auto append = [this, e, done] {
    events::AppendRequest req;
    req.events.push_back(events::NewEvent{"settlement-fee-rules", events::kAnyVersion,
                                          std::string(schema::FeeRulesSet::kType),
                                          events::Encode(e), "", "", 1});
    impl_->store().Append(std::move(req), [done](std::error_code ec, const events::AppendResult&) {
      if (ec) return done(Result<bool>(svc_errc::internal, "could not store the fee rules"));
      done(true);
    });
  };
  if (impl_->options().profit_sharing_cap_bps == 0) return append();
  // The profile checks the rules against every listing folded so far, read from the store once
  // what the processor has written is durable (README "Profit sharing": what a distribution at
  // the same moment can do).
  worker_.Post([this, e, append = std::move(append), done] {
    (void)impl_->store().AppendAndWait(events::AppendRequest{});
    settlement::FeeRules rules;
    rules.default_bps = e.default_bps;
    rules.by_category = e.by_category;
    rules.by_seller = e.by_seller;
    auto ok = impl_->profit_sharing().Check(rules);
    if (!ok.ok()) return done(std::move(ok));
    append();
  });
}

void SettlementService::FeeRules(std::function<void(Result<FeeRulesInput>)> done) {
  auto last = impl_->store().ReadLast("settlement-fee-rules", events::Upto::kWritten);
  if (!last.ok())
    return done(Result<FeeRulesInput>(svc_errc::internal, "reading the fee rules failed"));
  FeeRulesInput out;
  if (*last) {
    auto e = events::Decode<schema::FeeRulesSet>((*last)->payload);
    if (!e.ok())
      return done(Result<FeeRulesInput>(svc_errc::internal, "the fee rules do not decode"));
    out.default_bps = e->default_bps;
    for (const auto& r : e->by_category) out.by_category.emplace_back(r.key, r.bps);
    for (const auto& r : e->by_seller) out.by_seller.emplace_back(r.key, r.bps);
  }
  done(std::move(out));
}

void SettlementService::Entries(EntriesQuery query, std::function<void(Result<EntriesPage>)> done) {
  worker_.Post([this, q = std::move(query), done = std::move(done)] {
    impl_->Trim();
    // The entries are read from the store: first make what the ledger has written durable.
    (void)impl_->store().AppendAndWait(events::AppendRequest{});
    done(impl_->ledger().Entries(q));
  });
}

void SettlementService::Statement(StatementQuery query,
                                  std::function<void(Result<settlement::Statement>)> done) {
  worker_.Post([this, q = std::move(query), done = std::move(done)] {
    // The statement is read from the store: first make what the ledger has written durable.
    (void)impl_->store().AppendAndWait(events::AppendRequest{});
    done(ReadStatement(impl_->store().kv(), q));
  });
}

void SettlementService::PovertyLedger(PovertyQuery query,
                                      std::function<void(Result<std::vector<PovertyRow>>)> done) {
  worker_.Post(
      [this, q = std::move(query), done = std::move(done)] { done(impl_->poverty().Query(q)); });
}

std::error_code SettlementService::Reset(storage::KvStore& kv) {
  storage::WriteBatch wb;
  auto ec =
      kv.Scan(kPrefix, storage::PrefixEnd(kPrefix), [&](std::string_view k, std::string_view) {
        wb.Delete(k);
        return true;
      });
  if (ec) return ec;
  wb.Delete(events::EmbeddedSource::CheckpointKey("settlement"));
  wb.Delete(events::EmbeddedSource::CheckpointKey("sales"));
  return kv.Write(wb, true);
}

}  // namespace pavilion::settlement
