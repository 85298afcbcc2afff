#include "stock_ledger.h"

#include <optional>

#include "keys.h"
#include "product_store.h"
#include "stock_rules.h"

namespace pavilion::catalog {

namespace schema = events::schema;

StockLedger::StockLedger(events::EventStore& store, events::Worker& worker, ProductStore& products,
                         const CatalogOptions& options)
    : store_(store),
      worker_(worker),
      products_(products),
      hold_cap_(options.hold_cap),
      new_cap_(options.new_shopper_hold_cap),
      client_cap_(options.new_client_hold_cap) {
  // Holds grow by one per new (shopper, SKU) pair, up to the cache limit: room for them all from
  // the start, so no order waits behind a rehash of the whole map on the thread every order
  // goes through.
  if (hold_cap_ > 0) holds_.Reserve(options.cache_limit + options.cache_limit / 4);
}

// Emits an event on a stock SKU's stream, with the stock it leaves, at the version after the one
// the catalog knows: the catalog is the stream's only writer, and the store refuses the batch (a
// fatal error for the processor) rather than let a record name the wrong version.
template <typename E>
void StockLedger::EmitStock(std::string_view type, Sku& sku, E event, events::Transaction& tx) {
  SetLevels(sku, event);
  tx.EmitAs(type, sku.id, sku.stream_version, event);
  ++sku.stream_version;
}

void StockLedger::Reserve(const schema::OrderPlaced& order, events::Transaction& tx) {
  bool is_new = false;
  for (uint32_t line = 0; line < order.items.size(); ++line) {
    const auto& item = order.items[line];
    Sku* listed = products_.LoadSku(item.sku_id);
    const SkuChain chain = products_.ChainOf(listed);
    Sku* sku = chain.stock();  // A listing sells its supplier's stock.
    std::optional<StockRejection> rejection = CheckReserve(sku, item.quantity);
    std::optional<Hold> hold;
    if (!rejection && hold_cap_ > 0) {
      hold = HoldOf(order.shopper_id, sku->id);
      if (OverHoldCap(Held(*hold), item.quantity, hold_cap_)) {
        rejection = StockRejection::kHoldLimit;
      }
    }
    if (line == 0) is_new = IsNew(order.shopper_id);
    if (!rejection && is_new) rejection = CheckNew(order.client, sku->id, item.quantity);
    if (rejection) {
      schema::StockRejected r{order.order_id, line, item.sku_id, item.quantity,
                              std::string(ToString(*rejection))};
      if (sku == nullptr) {
        tx.Emit("sku_unknown", events::kAnyVersion, r);
      } else {
        EmitStock(r.kType, *sku, std::move(r), tx);
      }
      continue;
    }
    catalog::Reserve(*sku, item.quantity);
    if (hold) AddHold(std::move(*hold), item.quantity, tx);
    std::string qty;
    events::PutVarint(qty, static_cast<uint64_t>(item.quantity));
    if (is_new) {
      AddNewHeld(order.client, sku->id, item.quantity, tx);
      // After the varint: its units count as new shoppers', and as those of this client.
      qty.push_back(kCountedNew);
      qty.append(order.client);
    }
    tx.state().Put(keys::Reservation(order.order_id, line), qty);
    // The supplier ships (its sub-order); the shopper pays the listing's price.
    EmitStock(schema::StockReserved::kType, *sku,
              schema::StockReserved{order.order_id, line, listed->id, listed->product_id,
                                    sku->seller_id, sku->place_code, item.quantity, listed->price,
                                    0, DistributionOf(chain)},
              tx);
  }
}

// Consumes the reservation record of one order line, once: a redelivered event finds it gone.
// Records are durable here: the order service acted on stock.reserved only after the batch that
// wrote the record was on disk. `consumed_` covers batches not yet durable.
std::optional<StockLedger::Taken> StockLedger::TakeReservation(const std::string& order_id,
                                                               uint32_t line,
                                                               events::Transaction& tx) {
  std::string key = keys::Reservation(order_id, line);
  std::string value;
  if (consumed_.count(key) || store_.kv().Get(key, &value)) return std::nullopt;
  tx.state().Delete(key);
  Consumed(key, tx);
  // A varint ends at its first byte under 0x80; a byte after it marks new shoppers' units, and
  // what follows that is the client they count under.
  size_t end = 0;
  while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0x80)) ++end;
  Taken taken{end + 1 < value.size(), {}};
  if (taken.counted_new) taken.client = value.substr(end + 2);
  return taken;
}

bool StockLedger::Answered(const std::string& done_key) {
  return consumed_.count(done_key) || Stored(store_, done_key);
}

// Remembers a once-only key this batch changes until the batch is durable (the store still shows
// the old state until then).
void StockLedger::Consumed(const std::string& key, events::Transaction& tx) {
  consumed_.insert(key);
  tx.OnDurable(
      [this, key](std::error_code) { worker_.Post([this, key] { consumed_.erase(key); }); });
}

void StockLedger::Release(const std::string& order_id, const std::string& shopper,
                          const std::vector<schema::LineRef>& lines, events::Transaction& tx) {
  for (const auto& ref : lines) {
    Sku* sku = products_.StockOf(products_.LoadSku(ref.sku_id));
    if (sku == nullptr) continue;
    auto taken = TakeReservation(order_id, ref.line, tx);
    if (!taken) continue;
    catalog::Release(*sku, ref.quantity);
    AddHold(shopper, sku->id, -ref.quantity, tx);
    if (taken->counted_new) AddNewHeld(taken->client, sku->id, -ref.quantity, tx);
    EmitStock(schema::StockReleased::kType, *sku,
              schema::StockReleased{order_id, ref.line, sku->id, ref.quantity}, tx);
  }
}

void StockLedger::Sell(const schema::OrderPaid& paid, events::Transaction& tx) {
  if (IsNew(paid.shopper_id)) {  // A shopper who pays is new no more.
    paid_.insert(paid.shopper_id);
    tx.state().Put(keys::PaidShopper(paid.shopper_id), "1");
  }
  for (const auto& line : paid.lines) {
    Sku* sku = products_.StockOf(products_.LoadSku(line.sku_id));
    if (sku == nullptr) continue;
    auto taken = TakeReservation(paid.order_id, line.line, tx);
    if (!taken) continue;
    catalog::Sell(*sku, line.quantity);
    AddHold(paid.shopper_id, sku->id, -line.quantity, tx);
    if (taken->counted_new) AddNewHeld(taken->client, sku->id, -line.quantity, tx);
    EmitStock(schema::StockSold::kType, *sku,
              schema::StockSold{paid.order_id, line.line, sku->id, line.quantity, false}, tx);
  }
}

void StockLedger::Reinstate(const schema::ReinstateRequested& req, const std::string& event_id,
                            events::Transaction& tx) {
  // All or nothing: a late payment buys the whole order again or none of it. Each request is
  // answered once (a redelivery of the same event is not): a second late payment after a first
  // found no stock asks again, and is answered, rather than waiting forever.
  const std::string done_key = keys::Reinstated(event_id);
  if (Answered(done_key)) return;
  schema::StockReinstated answer{req.order_id, true, ""};
  for (const auto& line : req.lines) {
    if (!CanTake(products_.StockOf(products_.LoadSku(line.sku_id)), line.quantity)) {
      answer = {req.order_id, false, std::string(ToString(StockRejection::kInsufficientStock))};
      break;
    }
  }
  if (answer.ok) {
    for (const auto& line : req.lines) {
      Sku* sku = products_.StockOf(products_.LoadSku(line.sku_id));
      SellFromStock(*sku, line.quantity);
      EmitStock(schema::StockSold::kType, *sku,
                schema::StockSold{req.order_id, line.line, sku->id, line.quantity, true}, tx);
    }
  }
  tx.state().Put(done_key, answer.ok ? "1" : "0");
  Consumed(done_key, tx);
  tx.Emit(req.order_id + "-stock", events::kAnyVersion, answer);
}

void StockLedger::Restock(const schema::RefundChanged& refund, events::Transaction& tx) {
  const std::string done_key = keys::Restocked(refund.refund_id);
  if (Answered(done_key)) return;
  for (const auto& item : refund.items) {
    Sku* sku = products_.StockOf(products_.LoadSku(item.sku_id));
    if (sku == nullptr) continue;
    const int64_t units = catalog::Restock(*sku, item.quantity);
    EmitStock(schema::StockReleased::kRestocked, *sku,
              schema::StockReleased{refund.order_id, item.line, sku->id, units}, tx);
  }
  tx.state().Put(done_key, "1");
  Consumed(done_key, tx);
}

StockLedger::Hold StockLedger::HoldOf(const std::string& shopper, const std::string& sku) {
  std::string key = keys::Hold(shopper, sku);
  const size_t hash = base::PackedStringMap::Hash(key);
  return {std::move(key), hash};
}

int64_t StockLedger::Held(const Hold& hold) {
  if (const uint64_t* cached = holds_.Find(hold.key, hold.hash)) {
    return static_cast<int64_t>(*cached);
  }
  std::string v;
  int64_t held = 0;
  if (!store_.kv().Get(hold.key, &v)) held = std::max<int64_t>(0, std::stoll(v));
  holds_.Set(hold.key, hold.hash, static_cast<uint64_t>(held));
  return held;
}

void StockLedger::AddHold(const std::string& shopper, const std::string& sku, int64_t delta,
                          events::Transaction& tx) {
  if (hold_cap_ > 0) AddHold(HoldOf(shopper, sku), delta, tx);
}

void StockLedger::AddHold(Hold hold, int64_t delta, events::Transaction& tx) {
  const int64_t held = HeldAfter(Held(hold), delta);
  holds_.Set(hold.key, hold.hash, static_cast<uint64_t>(held));  // 0: holds nothing.
  if (held == 0) {
    tx.state().Delete(hold.key);
  } else {
    tx.state().Put(std::move(hold.key), std::to_string(held));
  }
}

bool StockLedger::IsNew(const std::string& shopper) {
  if (new_cap_ <= 0 && client_cap_ <= 0) return false;
  if (!events::IdMillis(shopper)) return false;  // Not minted by NewId: named by the operator.
  if (paid_.count(shopper)) return false;
  if (Stored(store_, keys::PaidShopper(shopper))) {
    paid_.insert(shopper);
    return false;
  }
  return true;
}

std::optional<StockRejection> StockLedger::CheckNew(const std::string& client,
                                                    const std::string& sku, int64_t quantity) {
  // A cap that is off is neither read nor counted.
  if (new_cap_ > 0 && OverHoldCap(NewHeld(keys::NewHeld(sku)), quantity, new_cap_)) {
    return StockRejection::kNewShopperLimit;
  }
  if (client_cap_ > 0 && !client.empty() &&
      OverHoldCap(NewHeld(keys::NewClientHeld(client, sku)), quantity, client_cap_)) {
    return StockRejection::kNewClientLimit;
  }
  return std::nullopt;
}

int64_t StockLedger::NewHeld(const std::string& key) {
  if (auto it = new_held_.find(key); it != new_held_.end()) return it->second;
  std::string v;
  int64_t held = 0;
  if (!store_.kv().Get(key, &v)) held = std::max<int64_t>(0, std::stoll(v));
  return new_held_[key] = held;
}

void StockLedger::AddNewHeld(const std::string& client, const std::string& sku, int64_t delta,
                             events::Transaction& tx) {
  for (std::string key :
       {new_cap_ > 0 ? keys::NewHeld(sku) : std::string(),
        client_cap_ > 0 && !client.empty() ? keys::NewClientHeld(client, sku) : std::string()}) {
    if (key.empty()) continue;
    const int64_t held = HeldAfter(NewHeld(key), delta);
    // Kept at 0 in memory (found in review: erased, the next order before this batch is durable
    // read the store's older count and inflated it for good); DropCache clears it once durable.
    new_held_[key] = held;
    if (held == 0) {
      tx.state().Delete(key);
    } else {
      tx.state().Put(key, std::to_string(held));
    }
  }
}

}  // namespace pavilion::catalog
