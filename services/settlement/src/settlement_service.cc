#include "pavilion/settlement/settlement_service.h"

#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "ledger_book.h"
#include "poverty_ledger.h"
#include "statements.h"

namespace pavilion::settlement {
namespace {

using events::svc_errc;
namespace schema = events::schema;

constexpr std::string_view kPrefix = "set/";

// "set/<dimension>/<day>/<key>": one row per dimension, day and key.
std::string RowKey(std::string_view dimension, std::string_view day, std::string_view key) {
  std::string k(kPrefix);
  k.append(dimension).append("/").append(day).append("/").append(key);
  return k;
}

// Sums of sales are checked: a projection cannot refuse an event already written, so a sum that
// cannot be represented stops at int64's end instead of wrapping to the other sign. Orders are
// worth at most order::kMaxOrderTotal, so reaching it takes ~9e8 of the dearest orders a day.
Fen SaturatingAdd(Fen a, Fen b) {
  if (auto sum = a.CheckedAdd(b)) return *sum;
  return Fen(b.value() > 0 ? std::numeric_limits<int64_t>::max()
                           : std::numeric_limits<int64_t>::min());
}

}  // namespace

class SettlementService::Impl final : public events::Processor {
 public:
  explicit Impl(events::EventStore& store)
      : store_(store), ledger_(store.kv()), poverty_(store.kv()) {}
  LedgerBook& ledger() { return ledger_; }
  settlement::PovertyLedger& poverty() { return poverty_; }

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
            const std::string day = events::BusinessDay(e.time_micros);
            // An order counts once per seller and once per place, however many lines it has.
            std::set<std::string> sellers, places;
            for (const auto& line : paid.lines) {
              Add(day, "seller", line.seller_id, line.amount, line.quantity, sellers, tx);
              Add(day, "place", line.place_code, line.amount, line.quantity, places, tx);
            }
            ledger_.Paid(paid, e.time_micros, tx);
            poverty_.Paid(paid, e.time_micros, tx);
          })
          // Refunds reduce the sales of the day they are paid back; orders are not uncounted.
          .On<schema::RefundChanged>(
              schema::RefundChanged::kCompleted,
              [this](const schema::RefundChanged& refund, const events::Envelope& e,
                     events::Transaction& tx) {
                const std::string day = events::BusinessDay(e.time_micros);
                int64_t units = 0;
                for (const auto& item : refund.items) units += item.quantity;
                std::set<std::string> none = {refund.seller_id, refund.place_code};
                Add(day, "seller", refund.seller_id, Fen(0) - refund.amount, -units, none, tx);
                Add(day, "place", refund.place_code, Fen(0) - refund.amount, -units, none, tx);
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
          .On<schema::ProductCreated>(
              [this](const auto& p, const auto&, auto& tx) { ledger_.Product(p, tx); })
          .On<schema::ProductCreated>(
              schema::ProductCreated::kUpdated,
              [this](const auto& p, const auto&, auto& tx) { ledger_.Product(p, tx); })
          .On<schema::SellerRegistered>(
              [this](const auto& s, const auto&, auto& tx) { poverty_.Seller(s, tx); })
          .On<schema::FeeRulesSet>(
              [this](const auto& r, const auto&, auto& tx) { ledger_.FeeRulesSet(r, tx); });

  Result<std::vector<SalesRow>> Sales(const SalesQuery& q) {
    if (q.group_by != "seller" && q.group_by != "place") {
      return {svc_errc::invalid_argument, "group_by: use seller or place"};
    }
    if ((!q.from_day.empty() && !events::IsDay(q.from_day)) ||
        (!q.to_day.empty() && !events::IsDay(q.to_day))) {
      return {svc_errc::invalid_argument, "from/to: use a day as YYYY-MM-DD"};
    }
    const std::string prefix = std::string(kPrefix) + q.group_by + "/";
    const std::string begin = prefix + q.from_day;
    const std::string end = q.to_day.empty() ? storage::PrefixEnd(prefix) : prefix + q.to_day + "0";
    std::map<std::pair<std::string, std::string>, SalesTotals> rows;
    std::error_code inner;
    auto ec = store_.kv().Scan(begin, end, [&](std::string_view k, std::string_view v) {
      std::string_view rest = k.substr(prefix.size());
      std::string day(rest.substr(0, 10));
      std::string key(rest.substr(11));
      // The in-memory row may be ahead of the durable one; reads show the durable state.
      auto t = events::Decode<SalesTotals>(v);
      if (!t.ok()) {
        inner = t.error();
        return false;
      }
      auto& into = rows[{key, q.by_day ? day : std::string()}];
      into.amount = SaturatingAdd(into.amount, t->amount);
      into.orders += t->orders;
      into.units += t->units;
      return true;
    });
    if (ec || inner) return {svc_errc::internal, "reading the sales projection failed"};
    std::vector<SalesRow> out;
    for (auto& [k, t] : rows) out.push_back(SalesRow{k.first, k.second, t});
    return out;
  }

 private:
  void Add(const std::string& day, const char* dimension, const std::string& key, Fen amount,
           int64_t units, std::set<std::string>& counted, events::Transaction& tx) {
    std::string row_key = RowKey(dimension, day, key);
    SalesTotals& t = Row(row_key);
    t.amount = SaturatingAdd(t.amount, amount);
    t.units += units;
    if (counted.insert(key).second) ++t.orders;
    tx.state().Put(row_key, events::Encode(t));
  }

  SalesTotals& Row(const std::string& key) {
    if (auto it = rows_.find(key); it != rows_.end()) return it->second;
    SalesTotals t;
    std::string bytes;
    if (!store_.kv().Get(key, &bytes)) {
      if (auto decoded = events::Decode<SalesTotals>(bytes); decoded.ok()) t = *decoded;
    }
    return rows_[key] = t;
  }

  events::EventStore& store_;
  std::unordered_map<std::string, SalesTotals> rows_;
  LedgerBook ledger_;
  settlement::PovertyLedger poverty_;
};

SettlementService::SettlementService(events::EventStore& store)
    : worker_("settlement", store.writer_worker()), impl_(std::make_unique<Impl>(store)) {}

SettlementService::~SettlementService() {
  worker_.Stop();
  // Commits still queued in the store call back into this service: let them run first.
  (void)impl_->store().AppendAndWait(events::AppendRequest{});
}

events::Processor& SettlementService::processor() { return *impl_; }

void SettlementService::Sales(SalesQuery query,
                              std::function<void(Result<std::vector<SalesRow>>)> done) {
  worker_.Post([this, q = std::move(query), done = std::move(done)] { done(impl_->Sales(q)); });
}

void SettlementService::Settlement(std::string order_id,
                                   std::function<void(Result<OrderSettlement>)> done) {
  worker_.Post([this, id = std::move(order_id), done = std::move(done)] {
    done(impl_->ledger().Order(id));
  });
}

void SettlementService::Balances(std::string party_id, std::function<void(PartyBalances)> done) {
  worker_.Post([this, id = std::move(party_id), done = std::move(done)] {
    done(impl_->ledger().Balances(id));
  });
}

void SettlementService::Audit(std::function<void(Result<LedgerAudit>)> done) {
  worker_.Post([this, done = std::move(done)] { done(impl_->ledger().Audit()); });
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
  events::AppendRequest req;
  req.events.push_back(events::NewEvent{"settlement-fee-rules", events::kAnyVersion,
                                        std::string(schema::FeeRulesSet::kType), events::Encode(e),
                                        "", "", 1});
  impl_->store().Append(std::move(req), [done](std::error_code ec, const events::AppendResult&) {
    if (ec) return done(Result<bool>(svc_errc::internal, "could not store the fee rules"));
    done(true);
  });
}

void SettlementService::Statement(StatementQuery query,
                                  std::function<void(Result<settlement::Statement>)> done) {
  worker_.Post([this, q = std::move(query), done = std::move(done)] {
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
  return kv.Write(wb, true);
}

}  // namespace pavilion::settlement
