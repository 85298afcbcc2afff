#include "order_store.h"

#include "keys.h"
#include "lifecycle.h"

namespace pavilion::order {
namespace {

using events::svc_errc;
namespace schema = events::schema;

}  // namespace

OrderStore::OrderStore(events::EventStore& store, events::Worker& worker)
    : store_(store), worker_(worker) {}

Order* OrderStore::Find(const std::string& id) {
  if (auto it = orders_.find(id); it != orders_.end()) return &it->second.order;
  bool recorded = false;
  auto stored = Load(id, &recorded);
  if (!stored.ok()) return nullptr;
  Entry& entry = orders_[id];
  entry.recorded = recorded;
  entry.indexed = StatusesOf(*stored);  // Recorded statuses are indexed (BuildStatusIndex).
  return &(entry.order = std::move(stored).value());
}

Result<Order> OrderStore::Load(const std::string& id, bool* recorded) {
  if (recorded != nullptr) *recorded = false;
  std::string bytes;
  if (auto ec = store_.kv().Get(OrderKey(id), &bytes); ec == storage::errc::not_found) {
    return FromEvents(id);
  } else if (ec) {
    return {svc_errc::internal, "reading the order failed"};
  }
  auto order = events::Decode<Order>(bytes);
  if (!order.ok()) return {svc_errc::internal, "stored order is corrupt"};
  if (recorded != nullptr) *recorded = true;
  return order;
}

// An order without a record: reserved and unchanged since (rebuilt from its order.reserved
// event alone, which carries every line), or placed and not yet answered by the catalog (from
// its order.placed event, stamped with the event's time). Every later change writes the record.
Result<Order> OrderStore::FromEvents(const std::string& id) {
  auto second = store_.ReadStream(id, 2, 1);
  if (!second.ok()) return {svc_errc::internal, "reading the order's events failed"};
  if (!second->empty()) {
    const events::Envelope& e = second->front();
    auto r = e.type == schema::OrderReserved::kType
                 ? events::Decode<schema::OrderReserved>(e.payload)
                 : Result<schema::OrderReserved>(events::errc::corrupt_event);
    const Result<Order> unfit(svc_errc::internal,
                              "order " + id + " has no record and its events do not rebuild it");
    if (!r.ok() || r->placed_micros == 0) return unfit;
    PlaceOrderInput in{r->shopper_id, std::vector<schema::OrderItem>(r->lines.size()), ""};
    for (const auto& line : r->lines) {
      if (line.line >= in.items.size()) return unfit;
      in.items[line.line] = {line.sku_id, line.quantity};
    }
    Order order = Pending(id, in, RequestHash(in), r->placed_micros);
    ApplyReserved(order, *r);
    return order;
  }
  auto first = store_.ReadStream(id, 1, 1);
  if (!first.ok()) return {svc_errc::internal, "reading the order's events failed"};
  if (first->empty() || first->front().type != schema::OrderPlaced::kType) {
    return {svc_errc::not_found, "no order " + id};
  }
  auto placed = events::Decode<schema::OrderPlaced>(first->front().payload);
  if (!placed.ok()) return {svc_errc::internal, "stored order is corrupt"};
  PlaceOrderInput in{placed->shopper_id, std::move(placed->items), ""};
  return Pending(id, in, RequestHash(in), first->front().time_micros);
}

void OrderStore::Add(const std::string& id, Order order, Done done, events::Transaction& tx) {
  Entry& entry = orders_[id];
  entry.order = std::move(order);
  entry.waiters.push_back(std::move(done));
  Track(id, entry, tx);
}

bool OrderStore::Dirty(const std::string& id) const {
  auto it = orders_.find(id);
  return it != orders_.end() && it->second.inflight > 0;
}

void OrderStore::Release(const std::string& id) {
  auto it = orders_.find(id);
  if (it != orders_.end() && it->second.inflight == 0 && it->second.waiters.empty()) {
    orders_.erase(it);
  }
}

void OrderStore::Stage(const std::string& id, events::Transaction& tx, bool record) {
  Entry& entry = orders_.at(id);
  if (record) {
    tx.state().Put(OrderKey(id), events::Encode(entry.order));
  } else if (entry.recorded) {
    tx.state().Delete(OrderKey(id));
  }
  IndexStatuses(entry, tx);
  entry.recorded = record;
  Track(id, entry, tx);
}

void OrderStore::Commit(const std::string& id, events::Transaction& tx, bool fatal) {
  Stage(id, tx);
  tx.Commit(store_, fatal);
}

void OrderStore::IndexStatuses(Entry& entry, events::Transaction& tx) {
  if (!IndexedStatusMoved(entry.order, entry.indexed)) return;
  IndexedStatuses now = StatusesOf(entry.order);
  const auto before = StatusEntries(entry.order, entry.indexed);
  const auto after = StatusEntries(entry.order, now);
  for (const auto& key : before) {
    if (!after.contains(key)) tx.state().Delete(key);
  }
  for (const auto& key : after) {
    if (!before.contains(key)) tx.state().Put(key, "");
  }
  entry.indexed = std::move(now);
}

void OrderStore::Track(const std::string& id, Entry& entry, events::Transaction& tx) {
  ++entry.inflight;
  tx.OnDurable([this, id](std::error_code ec) { Durable(id, ec); });
}

void OrderStore::Durable(const std::string& id, std::error_code ec) {
  bool first = false;
  {
    std::lock_guard lock(durable_mu_);
    first = durable_.empty();
    durable_.emplace_back(id, ec);
  }
  if (first) worker_.Post([this] { ApplyDurable(); });
}

void OrderStore::ApplyDurable() {
  {
    std::lock_guard lock(durable_mu_);
    applying_.swap(durable_);
  }
  for (const auto& [id, ec] : applying_) Committed(id, ec);
  applying_.clear();
}

void OrderStore::Committed(const std::string& id, std::error_code ec) {
  auto it = orders_.find(id);
  if (it == orders_.end() || --it->second.inflight > 0) return;
  Entry& entry = it->second;
  if (!ec && !entry.order.placed()) return;  // Still waiting for the catalog.
  auto waiters = std::move(entry.waiters);
  Result<Order> result =
      ec ? Result<Order>(svc_errc::internal, "could not store the order: " + ec.message())
         : Result<Order>(std::move(entry.order));
  orders_.erase(it);  // On failure the durable state is reloaded next time.
  for (size_t i = 0; i < waiters.size(); ++i) {
    if (i + 1 == waiters.size()) {
      waiters[i](std::move(result));  // The last (usually the only) waiter takes it.
    } else {
      waiters[i](result);
    }
  }
}

}  // namespace pavilion::order
