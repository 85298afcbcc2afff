#include "pavilion/order/order_service.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace pavilion::order {
namespace {

using events::svc_errc;
namespace schema = events::schema;

std::string OrderKey(std::string_view id) { return "ord/o/" + std::string(id); }

uint64_t RequestHash(const PlaceOrderInput& in) {
  std::string canon;
  for (const auto& item : in.items) {
    canon += item.sku_id;
    canon += ':';
    canon += std::to_string(item.quantity);
    canon += ';';
  }
  return events::Fingerprint64(canon);
}

std::string OrderIdFor(const PlaceOrderInput& in) {
  if (in.idempotency_key.empty()) return events::NewId("ord");
  return "ord_" + events::Hex64(events::Fingerprint64(in.shopper_id + '\n' + in.idempotency_key));
}

}  // namespace

class OrderService::Impl final : public events::Processor {
 public:
  Impl(events::EventStore& store, events::Worker& worker) : store_(store), worker_(worker) {}

  std::string_view name() const override { return "order"; }

  void Handle(const events::Envelope& event, events::Transaction& tx) override {
    if (event.type == schema::StockReserved::kType) {
      auto r = events::Decode<schema::StockReserved>(event.payload);
      if (!r.ok()) return;
      Answer(r->order_id, r->line, tx, [&](OrderLine& line) {
        line.status = "reserved";
        line.product_id = r->product_id;
        line.seller_id = r->seller_id;
        line.place_code = r->place_code;
        line.unit_price = r->unit_price;
        line.amount = r->unit_price * line.quantity;
      });
    } else if (event.type == schema::StockRejected::kType) {
      auto r = events::Decode<schema::StockRejected>(event.payload);
      if (!r.ok()) return;
      Answer(r->order_id, r->line, tx, [&](OrderLine& line) {
        line.status = "rejected";
        line.reason = r->reason;
      });
    }
  }

  void Place(const std::string& id, PlaceOrderInput in, std::function<void(Result<Order>)> done) {
    const uint64_t hash = RequestHash(in);
    if (Order* open = FindOpen(id)) {
      if (!SameRequest(*open, in, hash)) return done(IdempotencyConflict());
      waiters_[id].push_back(std::move(done));
      return;
    }
    // Without a key the id is fresh and cannot exist yet; with one, a retry finds its order.
    if (auto stored = in.idempotency_key.empty() ? Result<Order>(svc_errc::not_found) : Load(id);
        stored.ok()) {
      if (!SameRequest(*stored, in, hash)) return done(IdempotencyConflict());
      return done(std::move(stored));
    }
    if (auto err = Validate(in); !err.empty()) return done({svc_errc::invalid_argument, err});

    Order order;
    order.id = id;
    order.shopper_id = in.shopper_id;
    order.created_micros = order.updated_micros = store_.clock().NowMicros();
    order.idempotency_key = in.idempotency_key;
    order.request_hash = hash;
    for (const auto& item : in.items) {
      OrderLine line;
      line.sku_id = item.sku_id;
      line.quantity = item.quantity;
      order.lines.push_back(std::move(line));
    }
    events::Transaction tx;
    tx.set_correlation_id(id);
    tx.Emit(id, events::kNoStream, schema::OrderPlaced{id, in.shopper_id, std::move(in.items)});
    tx.state().Put(OrderKey(id), events::Encode(order));
    open_.emplace(id, std::move(order));
    waiters_[id].push_back(std::move(done));
    tx.OnDurable([this, id](std::error_code ec) {
      if (!ec) return;
      worker_.Post([this, id, ec] {
        open_.erase(id);
        Fire(id, Result<Order>(svc_errc::internal, "could not store the order: " + ec.message()));
      });
    });
    tx.Commit(store_, /*fatal_on_error=*/false);
  }

  Result<Order> Load(const std::string& id) {
    std::string bytes;
    if (store_.kv().Get(OrderKey(id), &bytes)) return {svc_errc::not_found, "no order " + id};
    auto order = events::Decode<Order>(bytes);
    if (!order.ok()) return {svc_errc::internal, "stored order is corrupt"};
    return order;
  }

 private:
  static Result<Order> IdempotencyConflict() {
    return {svc_errc::conflict,
            "Idempotency-Key was already used for a different order; send the same body to "
            "retry, or use a new key for a new order"};
  }

  static bool SameRequest(const Order& o, const PlaceOrderInput& in, uint64_t hash) {
    return o.shopper_id == in.shopper_id && o.idempotency_key == in.idempotency_key &&
           o.request_hash == hash;
  }

  static std::string Validate(const PlaceOrderInput& in) {
    if (in.shopper_id.empty()) return "shopper_id: give the shopper's id";
    if (in.items.empty() || in.items.size() > kMaxOrderLines) {
      return "items: give 1 to " + std::to_string(kMaxOrderLines) + " items";
    }
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < in.items.size(); ++i) {
      const auto& item = in.items[i];
      std::string at = "items[" + std::to_string(i) + "].";
      if (item.sku_id.empty() || item.sku_id.size() > 64) return at + "sku_id: give a SKU id";
      if (item.quantity < 1 || item.quantity > kMaxLineQuantity) {
        return at + "quantity: give a whole number from 1 to " + std::to_string(kMaxLineQuantity);
      }
      if (!seen.insert(item.sku_id).second) {
        return at + "sku_id: " + item.sku_id + " appears twice; give each SKU once";
      }
    }
    return {};
  }

  Order* FindOpen(const std::string& id) {
    auto it = open_.find(id);
    return it == open_.end() ? nullptr : &it->second;
  }

  // Applies one line's answer; finishes the order when every line has one.
  template <typename Fn>
  void Answer(const std::string& order_id, uint32_t line_no, events::Transaction& tx, Fn apply) {
    Order* order = FindOpen(order_id);
    if (order == nullptr) {
      auto stored = Load(order_id);
      if (!stored.ok() || stored->final()) return;  // Unknown or already decided: a redelivery.
      order = &(open_[order_id] = std::move(stored).value());
    }
    if (order->final() || line_no >= order->lines.size()) return;
    OrderLine& line = order->lines[line_no];
    if (line.status != "pending") return;
    apply(line);
    order->updated_micros = store_.clock().NowMicros();

    bool all_answered = std::all_of(order->lines.begin(), order->lines.end(),
                                    [](const OrderLine& l) { return l.status != "pending"; });
    if (all_answered) Finish(*order, tx);
    tx.state().Put(OrderKey(order->id), events::Encode(*order));
    if (order->final()) {
      tx.OnDurable([this, id = order->id](std::error_code) {
        worker_.Post([this, id] {
          auto it = open_.find(id);
          if (it == open_.end()) return;
          Order done = std::move(it->second);
          open_.erase(it);
          Fire(id, std::move(done));
        });
      });
    }
  }

  void Finish(Order& order, events::Transaction& tx) {
    bool all_reserved = std::all_of(order.lines.begin(), order.lines.end(),
                                    [](const OrderLine& l) { return l.status == "reserved"; });
    if (all_reserved) {
      order.status = "confirmed";
      schema::OrderConfirmed confirmed{order.id, order.shopper_id, Fen(0), {}};
      for (const auto& l : order.lines) {
        order.total += l.amount;
        confirmed.lines.push_back(schema::ConfirmedLine{l.sku_id, l.product_id, l.seller_id,
                                                        l.place_code, l.quantity, l.unit_price,
                                                        l.amount});
      }
      confirmed.total = order.total;
      tx.Emit(order.id, events::kAnyVersion, confirmed);
      return;
    }
    order.status = "rejected";
    schema::OrderRejected rejected{order.id, order.shopper_id, {}, {}};
    for (uint32_t i = 0; i < order.lines.size(); ++i) {
      const auto& l = order.lines[i];
      auto& into = l.status == "reserved" ? rejected.release : rejected.rejected;
      into.push_back(schema::LineRef{i, l.sku_id, l.quantity, l.reason});
    }
    tx.Emit(order.id, events::kAnyVersion, rejected);
  }

  void Fire(const std::string& id, const Result<Order>& result) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    auto callbacks = std::move(it->second);
    waiters_.erase(it);
    for (auto& cb : callbacks) cb(result);
  }

  events::EventStore& store_;
  events::Worker& worker_;
  // Orders whose final state is not yet durable. Their waiters are answered once it is.
  std::unordered_map<std::string, Order> open_;
  std::unordered_map<std::string, std::vector<std::function<void(Result<Order>)>>> waiters_;
};

OrderService::OrderService(events::EventStore& store)
    : worker_("order"), impl_(std::make_unique<Impl>(store, worker_)) {}

OrderService::~OrderService() { worker_.Stop(); }

events::Processor& OrderService::processor() { return *impl_; }

std::string OrderService::Place(PlaceOrderInput input, std::function<void(Result<Order>)> done) {
  std::string id = OrderIdFor(input);
  worker_.Post([this, id, input = std::move(input), done = std::move(done)]() mutable {
    impl_->Place(id, std::move(input), std::move(done));
  });
  return id;
}

void OrderService::Get(std::string id, std::function<void(Result<Order>)> done) {
  worker_.Post([this, id = std::move(id), done = std::move(done)] { done(impl_->Load(id)); });
}

}  // namespace pavilion::order
