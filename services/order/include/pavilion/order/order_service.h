// OrderService: places orders and follows them to their outcome.
//
// Place() writes order.placed. The Processor then collects the catalog's answer for every line
// (stock.reserved / stock.rejected) and writes order.confirmed when all lines are reserved or
// order.rejected (with each failed line's reason and the reserved lines to release) when any is
// not. Orders are state in the EventStore's KvStore under "ord/", written in the same batch as
// their events. An idempotency key makes the order id a function of (shopper, key), so a retry
// finds the first order and a different body under the same key is a conflict.
//
// Reads: stock.reserved, stock.rejected. Writes: order.placed, order.confirmed, order.rejected.
// Thread-safety: public methods may be called from any thread; callbacks run on the order worker
// and must not block.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/events/schema.h"

namespace pavilion::order {

struct PlaceOrderInput {
  std::string shopper_id;
  std::vector<events::schema::OrderItem> items;
  std::string idempotency_key;  // Optional.
};

struct OrderLine {
  std::string sku_id, product_id, seller_id, place_code;
  int64_t quantity = 0;
  Fen unit_price, amount;
  std::string status = "pending";  // pending | reserved | rejected
  std::string reason;              // For rejected lines: unknown_sku | insufficient_stock
  template <class V>
  void Fields(V& v) {
    v(sku_id), v(product_id), v(seller_id), v(place_code), v(quantity), v(unit_price), v(amount),
        v(status), v(reason);
  }
};

struct Order {
  std::string id, shopper_id;
  std::string status = "pending";  // pending | confirmed | rejected
  Fen total;
  int64_t created_micros = 0, updated_micros = 0;
  std::string idempotency_key;
  uint64_t request_hash = 0;
  std::vector<OrderLine> lines;
  template <class V>
  void Fields(V& v) {
    v(id), v(shopper_id), v(status), v(total), v(created_micros), v(updated_micros),
        v(idempotency_key), v(request_hash), v(lines);
  }
  bool final() const { return status != "pending"; }
};

inline constexpr size_t kMaxOrderLines = 100;
inline constexpr int64_t kMaxLineQuantity = 1'000'000;

class OrderService {
 public:
  explicit OrderService(events::EventStore& store);
  ~OrderService();

  // Returns the order's id at once. `done` runs when the order is confirmed or rejected and that
  // state is durable, or at once with an error (422 validation, 409 idempotency conflict).
  std::string Place(PlaceOrderInput input, std::function<void(Result<Order>)> done);
  // The durable state of an order.
  void Get(std::string id, std::function<void(Result<Order>)> done);

  events::Processor& processor();
  events::Worker& worker() { return worker_; }

 private:
  class Impl;
  events::Worker worker_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::order
