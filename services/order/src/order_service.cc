// OrderService wires the parts: commands and the catalog's answers run on the order worker,
// where the rules (lifecycle.h) decide, OrderStore stages and tracks the order, and Timeouts and
// Listing add what a batch of answers shares.
#include "pavilion/order/order_service.h"

#include <algorithm>
#include <limits>

#include "keys.h"
#include "lifecycle.h"
#include "listing.h"
#include "order_store.h"
#include "status_index.h"
#include "timeouts.h"

namespace pavilion::order {
namespace {

using events::svc_errc;
namespace schema = events::schema;

std::string OrderIdFor(const PlaceOrderInput& in) {
  if (in.idempotency_key.empty()) return events::NewId("ord");
  return "ord_" + events::Hex64(events::Fingerprint64(in.shopper_id + '\n' + in.idempotency_key));
}

Result<Order> IdempotencyConflict() {
  return {svc_errc::conflict,
          "Idempotency-Key was already used for a different order; send the same body to "
          "retry, or use a new key for a new order"};
}

}  // namespace

Result<ChargeResult> InstantPaymentProvider::Charge(const std::string&, Fen amount, int64_t) {
  if (amount.value() <= 0) return {svc_errc::invalid_argument, "nothing to charge"};
  return ChargeResult{events::NewId("pay"), std::nullopt};
}

Result<RefundResult> InstantPaymentProvider::Refund(const std::string&, const std::string&,
                                                    Fen amount) {
  if (amount.value() <= 0) return {svc_errc::invalid_argument, "nothing to refund"};
  return RefundResult{events::NewId("rfn"), /*done=*/true};
}

Result<ChargeResult> PrepayPaymentProvider::Charge(const std::string& order_id, Fen amount,
                                                   int64_t expires_micros) {
  if (amount.value() <= 0) return {svc_errc::invalid_argument, "nothing to charge"};
  return ChargeResult{"", PaymentIntent{name(), "pi_" + order_id, amount, expires_micros}};
}

Result<RefundResult> PrepayPaymentProvider::Refund(const std::string&,
                                                   const std::string& request_id, Fen amount) {
  if (amount.value() <= 0) return {svc_errc::invalid_argument, "nothing to refund"};
  return RefundResult{"rfd_" + request_id, /*done=*/false};
}

class OrderService::Impl final : public events::Processor {
 public:
  Impl(events::EventStore& store, events::Worker& worker, OrderOptions options,
       PaymentProvider* payments)
      : store_(store),
        options_(options),
        payments_(payments ? payments : &prepay_),
        orders_(store, worker),
        timeouts_(orders_, worker, options_),
        listing_(orders_) {
    BuildStatusIndex(store_);
    BuildPavilionListing(store_);
  }

  std::string_view name() const override { return "order"; }
  events::EventStore& store() { return store_; }
  Timeouts& timeouts() { return timeouts_; }
  Listing& listing() { return listing_; }

  // ---- Processor: the catalog's answers ----

  std::vector<std::string> event_types() const override { return handlers_.types(); }
  void Handle(const events::Envelope& event, events::Transaction& tx) override {
    handlers_.Handle(event, tx);
  }

  // Once per batch of the catalog's answers: what the batch's orders share (one payment timeout
  // key, one listing entry per seller) goes into the batch's one transaction.
  void AfterBatch(events::Transaction& batch) override {
    listing_.AfterBatch(batch);
    timeouts_.AfterBatch(batch);
  }

  // ---- Commands ----

  void Place(const std::string& id, PlaceOrderInput in, OrderStore::Done done) {
    const uint64_t hash = RequestHash(in);
    // Without a key the id is fresh and cannot exist yet; with one, a retry finds its order.
    Order* existing = in.idempotency_key.empty() ? nullptr : orders_.Find(id);
    if (existing != nullptr) {
      if (!SameRequest(*existing, in, hash)) {
        orders_.Release(id);
        return done(IdempotencyConflict());
      }
      if (existing->placed() && !orders_.Dirty(id)) {
        Order copy = *existing;
        orders_.Release(id);
        return done(std::move(copy));
      }
      orders_.Wait(id, std::move(done));
      return;
    }
    if (auto err = Validate(in); !err.empty()) return done({svc_errc::invalid_argument, err});

    Order order = Pending(id, in, hash, store_.clock().NowMicros());
    events::Transaction tx;
    tx.set_correlation_id(id);
    // A keyless order's id is fresh; a keyed one's is derived from the key, so the store checks.
    tx.Emit(id, in.idempotency_key.empty() ? events::kFreshStream : events::kNoStream,
            schema::OrderPlaced{id, in.shopper_id, std::move(in.items), std::move(in.client)});
    tx.state().Put(IndexKey("shopper", order.shopper_id, order.created_micros, id), "");
    // No record yet: until the catalog's first answer writes one, the order.placed event is the
    // order (OrderStore::Load rebuilds it from there).
    orders_.Add(id, std::move(order), std::move(done), tx);
    tx.Commit(store_, /*fatal_on_error=*/false);
  }

  Result<Order> Get(const std::string& id, const Actor& who) {
    auto o = orders_.Load(id);
    if (!o.ok()) return o;
    if (!CanSee(*o, who)) return {svc_errc::not_found, "no order " + id};
    return ViewFor(std::move(o).value(), who);
  }

  // Every mutating command: find the order, check who may see it, decide, commit, answer once
  // durable.
  template <typename Fn>
  void Mutate(const std::string& id, const Actor& who, OrderStore::Done done, Fn decide) {
    Order* order = orders_.Find(id);
    if (order == nullptr || !CanSee(*order, who)) {
      return done(Result<Order>(svc_errc::not_found, "no order " + id));
    }
    events::Transaction tx;
    tx.set_correlation_id(id);
    Decision d{store_.clock().NowMicros(), options_, tx};
    Result<bool> changed = decide(*order, d);
    if (!changed.ok()) {
      orders_.Release(id);
      return done(changed.error_detail());
    }
    if (!*changed && !orders_.Dirty(id)) {  // An idempotent repeat: answer with the state.
      Order copy = *order;
      orders_.Release(id);
      return done(std::move(copy));
    }
    timeouts_.SetConfirms(d, id);
    order->updated_micros = d.now;
    tx.OnDurable([done, snapshot = *order](std::error_code ec) {
      if (ec) return done(Result<Order>(svc_errc::internal, "could not store: " + ec.message()));
      done(snapshot);
    });
    orders_.Commit(id, tx, /*fatal=*/true);
  }

  // The shopper's "pay" button: the provider charges, then the payment applies; or the
  // provider answers an intent (into *intent) and the order waits for its notification.
  Result<bool> Pay(Order& o, const Actor& who, Decision& d, std::optional<PaymentIntent>* intent) {
    if (auto payable = CheckPay(o, who); !payable.ok()) return payable;
    auto charge = payments_->Charge(o.id, o.total, o.pay_deadline_micros);
    if (!charge.ok()) return charge.error_detail();
    if (charge->intent) {
      *intent = std::move(charge->intent);
      return false;  // Nothing changes until the money arrives.
    }
    d.now = store_.clock().NowMicros();  // The payment's time is when the provider answered.
    return ApplyPayment(o, Payment{payments_->name(), charge->txn_id, o.total, 0, {}}, d);
  }

  Result<bool> DecideRefund(Order& o, const std::string& refund_id, bool approve,
                            const std::string& reason, const Actor& who, Decision& d) {
    auto checked = CheckRefundDecision(o, refund_id, approve, who);
    if (!checked.ok()) return checked.error_detail();
    Refund* r = *checked;
    if (r == nullptr) return false;  // The same decision again.
    if (!approve) {
      RejectRefund(o, *r, reason, d);
      return true;
    }
    auto asked = AskRefund(o, *r, d);
    if (!asked.ok()) return asked.error_detail();
    ApproveRefund(o, *r, *asked, d);
    return true;
  }

  Result<bool> RetryRefund(Order& o, const std::string& refund_id, const Actor& who, Decision& d) {
    auto checked = CheckRefundRetry(o, refund_id, who);
    if (!checked.ok()) return checked.error_detail();
    Refund* r = *checked;
    if (r == nullptr) return false;  // Already on its way (or back).
    auto asked = AskRefund(o, *r, d);
    if (!asked.ok()) return asked.error_detail();
    order::RetryRefund(o, *r, *asked, d);
    return true;
  }

 private:
  const events::Handlers handlers_ =
      events::Handlers()
          .On<schema::StockReserved>(
              [this](const schema::StockReserved& r, const auto&, events::Transaction& tx) {
                Answer(r.order_id, r.line, tx, [&](OrderLine& line) {
                  line.status = LineStatus::kReserved;
                  line.product_id = r.product_id;
                  line.seller_id = r.seller_id;
                  line.place_code = r.place_code;
                  line.unit_price = r.unit_price;
                  // Saturated, not wrapped: Decide refuses an order whose total passes
                  // kMaxOrderTotal, and this line's amount then does.
                  line.amount = r.unit_price.CheckedMul(line.quantity)
                                    .value_or(Fen(std::numeric_limits<int64_t>::max()));
                  line.distribution = r.distribution;
                });
              })
          .On<schema::StockRejected>(
              [this](const schema::StockRejected& r, const auto&, events::Transaction& tx) {
                Answer(r.order_id, r.line, tx, [&](OrderLine& line) {
                  line.status = LineStatus::kRejected;
                  line.reason = r.reason;
                });
              })
          .On<schema::StockReinstated>(
              [this](const schema::StockReinstated& r, const auto&, events::Transaction& tx) {
                Order* o = orders_.Find(r.order_id);
                if (o == nullptr) return;
                Decision d{store_.clock().NowMicros(), options_, tx};
                if (!Reinstated(*o, r, d)) return orders_.Release(r.order_id);  // A redelivery.
                orders_.Stage(r.order_id, tx);
              });

  // Asks the provider to pay refund `r` back from the payment that paid the order. The decision
  // is timed when the provider answered.
  Result<RefundResult> AskRefund(const Order& o, const Refund& r, Decision& d) {
    const Payment* paid = AppliedPayment(o);
    auto asked = payments_->Refund(paid ? paid->txn_id : "", RefundRequestId(o, r), r.amount);
    d.now = store_.clock().NowMicros();
    return asked;
  }

  // Applies one line's answer; decides the placement when every line has one. The source
  // appends the batch's transactions together with its checkpoint, so this only stages.
  template <typename Fn>
  void Answer(const std::string& order_id, uint32_t line_no, events::Transaction& tx, Fn apply) {
    Order* order = orders_.Find(order_id);
    if (order == nullptr) return;
    if (order->placed() || line_no >= order->lines.size() ||
        order->lines[line_no].status != LineStatus::kPending) {
      orders_.Release(order_id);  // A redelivery.
      return;
    }
    apply(order->lines[line_no]);
    const int64_t now = store_.clock().NowMicros();
    order->updated_micros = now;
    const bool all_answered =
        std::none_of(order->lines.begin(), order->lines.end(),
                     [](const OrderLine& l) { return l.status == LineStatus::kPending; });
    if (all_answered) {
      Decision d{now, options_, tx};
      Decide(*order, d);
      listing_.Listed(*order);
      if (order->status == OrderStatus::kPendingPayment) timeouts_.AwaitPayment(*order);
    }
    // Just reserved, the order is what order.reserved says: no record (see OrderStore).
    orders_.Stage(order_id, tx,
                  /*record=*/!all_answered || order->status != OrderStatus::kPendingPayment);
  }

  events::EventStore& store_;
  const OrderOptions options_;
  PrepayPaymentProvider prepay_;
  PaymentProvider* payments_;
  OrderStore orders_;
  Timeouts timeouts_;
  Listing listing_;
};

OrderService::OrderService(events::EventStore& store, OrderOptions options,
                           PaymentProvider* payments)
    : worker_("order", store.writer_worker()),
      impl_(std::make_unique<Impl>(store, worker_, options, payments)) {}

OrderService::~OrderService() {
  worker_.Stop();
  // Commits still queued in the store call back into this service: let them run first.
  (void)impl_->store().AppendAndWait(events::AppendRequest{});
}

events::Processor& OrderService::processor() { return *impl_; }

std::string OrderService::Place(PlaceOrderInput input, std::function<void(Result<Order>)> done) {
  std::string id = OrderIdFor(input);
  worker_.Post([this, id, input = std::move(input), done = std::move(done)]() mutable {
    impl_->Place(id, std::move(input), std::move(done));
  });
  return id;
}

void OrderService::Get(std::string id, Actor who, std::function<void(Result<Order>)> done) {
  worker_.Post([this, id = std::move(id), who = std::move(who), done = std::move(done)] {
    done(impl_->Get(id, who));
  });
}

void OrderService::List(ListQuery query, std::function<void(Result<OrderPage>)> done) {
  worker_.Post(
      [this, q = std::move(query), done = std::move(done)] { done(impl_->listing().List(q)); });
}

void OrderService::StartPayment(std::string order_id, Actor who,
                                std::function<void(Result<PayOutcome>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    // Set on the worker before Mutate answers, read by the answer (on the worker or the sync
    // thread, after the commit that follows).
    auto intent = std::make_shared<std::optional<PaymentIntent>>();
    impl_->Mutate(
        order_id, who,
        [intent, done = std::move(done)](Result<Order> o) {
          if (!o.ok()) return done(o.error_detail());
          done(PayOutcome{std::move(o).value(), std::move(*intent)});
        },
        [&](Order& o, Decision& d) { return impl_->Pay(o, who, d, intent.get()); });
  });
}

void OrderService::Pay(std::string order_id, Actor who, std::function<void(Result<Order>)> done) {
  StartPayment(std::move(order_id), std::move(who),
               [done = std::move(done)](Result<PayOutcome> paid) {
                 if (!paid.ok()) return done(paid.error_detail());
                 done(std::move(paid->order));
               });
}

void OrderService::PaymentReceived(PaymentNotice n, std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(n.order_id, Actor{Role::kOperator, ""}, std::move(done),
                  [&](Order& o, Decision& d) {
                    return ApplyPayment(o, Payment{n.provider, n.txn_id, n.amount, 0, {}}, d);
                  });
  });
}

void OrderService::Cancel(std::string order_id, Actor who,
                          std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done),
                  [&](Order& o, Decision& d) { return order::Cancel(o, who, d); });
  });
}

void OrderService::Ship(std::string order_id, std::string sub_id, std::string carrier,
                        std::string tracking, Actor who, std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done), [&](Order& o, Decision& d) {
      return order::Ship(o, sub_id, carrier, tracking, who, d);
    });
  });
}

void OrderService::Deliver(std::string order_id, std::string sub_id, Actor who,
                           std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done),
                  [&](Order& o, Decision& d) { return order::Deliver(o, sub_id, who, d); });
  });
}

void OrderService::Confirm(std::string order_id, std::string sub_id, Actor who,
                           std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done), [&](Order& o, Decision& d) {
      return order::Confirm(o, sub_id, who, /*automatic=*/false, d);
    });
  });
}

void OrderService::RequestRefund(RefundInput input, Actor who,
                                 std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(input.order_id, who, std::move(done),
                  [&](Order& o, Decision& d) { return order::RequestRefund(o, input, who, d); });
  });
}

void OrderService::DecideRefund(std::string refund_id, bool approve, std::string reason, Actor who,
                                std::function<void(Result<Order>)> done) {
  // Refund ids are "<order id>-r<n>".
  std::string order_id = refund_id.substr(0, refund_id.rfind("-r"));
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done), [&](Order& o, Decision& d) {
      return impl_->DecideRefund(o, refund_id, approve, reason, who, d);
    });
  });
}

void OrderService::RefundNotified(RefundNotice n, std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(n.order_id, Actor{Role::kOperator, ""}, std::move(done),
                  [&](Order& o, Decision& d) { return order::RefundNotified(o, n, d); });
  });
}

void OrderService::RetryRefund(std::string refund_id, Actor who,
                               std::function<void(Result<Order>)> done) {
  std::string order_id = refund_id.substr(0, refund_id.rfind("-r"));
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done),
                  [&](Order& o, Decision& d) { return impl_->RetryRefund(o, refund_id, who, d); });
  });
}

void OrderService::Tick() {
  worker_.Post([this] { impl_->timeouts().Tick(); });
}

}  // namespace pavilion::order
