// StockLedger: the catalog's processor side, which moves every SKU's stock in answer to the
// order service's events — order.placed (stock.reserved / stock.rejected), order.paid
// (stock.sold), order.rejected and order.cancelled (stock.released), order.reinstate_requested
// (stock.reinstated, all lines or none), refund.completed with returned goods (stock.restocked).
// stock_rules.h decides each move; this class finds the SKUs (ProductStore), keeps the units each
// shopper holds unpaid (for CatalogOptions::hold_cap), and all new shoppers together, and those of
// one client address, hold of a SKU (new_shopper_hold_cap, new_client_hold_cap; a reservation
// counted so is marked with its client, to be taken back once), and writes the
// once-only records that make a redelivered event move nothing: a reservation per order line
// ("cat/res/…"), and the answered reinstatements and restocks. Each stock event is emitted on the
// SKU's stream at the version after the one the catalog knows, carrying the three numbers it
// leaves.
//
// Owned by the catalog worker; not thread-safe. `worker` runs the clean-up of once-only keys
// after their batch is durable.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pavilion/base/packed_string_map.h"
#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

class ProductStore;

class StockLedger {
 public:
  StockLedger(events::EventStore& store, events::Worker& worker, ProductStore& products,
              const CatalogOptions& options);

  void Reserve(const events::schema::OrderPlaced& order, events::Transaction& tx);
  void Release(const std::string& order_id, const std::string& shopper,
               const std::vector<events::schema::LineRef>& lines, events::Transaction& tx);
  void Sell(const events::schema::OrderPaid& paid, events::Transaction& tx);
  void Reinstate(const events::schema::ReinstateRequested& req, const std::string& event_id,
                 events::Transaction& tx);
  void Restock(const events::schema::RefundChanged& refund, events::Transaction& tx);

  // Holds are counted against CatalogOptions::cache_limit; the caller makes writes durable first.
  size_t cached() const { return holds_.size() + new_held_.size() + paid_.size(); }
  void DropCache() {
    holds_.Clear();
    new_held_.clear();
    paid_.clear();
  }

 private:
  // A hold's key, built and hashed once for the check and the count.
  struct Hold {
    std::string key;
    size_t hash;
  };
  static Hold HoldOf(const std::string& shopper, const std::string& sku);
  int64_t Held(const Hold& hold);
  void AddHold(const std::string& shopper, const std::string& sku, int64_t delta,
               events::Transaction& tx);
  void AddHold(Hold hold, int64_t delta, events::Transaction& tx);

  template <typename E>
  void EmitStock(std::string_view type, Sku& sku, E event, events::Transaction& tx);
  // A reservation record taken once: whether its units counted toward new shoppers' holds.
  struct Taken {
    bool counted_new;
    std::string client;  // Whose count its units are in (OrderPlaced::client); may be empty.
  };
  static constexpr char kCountedNew = 'n';
  std::optional<Taken> TakeReservation(const std::string& order_id, uint32_t line,
                                       events::Transaction& tx);
  // Whether the shopper is new (no order paid yet); false when both caps are off.
  bool IsNew(const std::string& shopper);
  // Whether a new shopper's `quantity` of `sku` passes the cap of all new shoppers, or that of
  // its client.
  std::optional<StockRejection> CheckNew(const std::string& client, const std::string& sku,
                                         int64_t quantity);
  // Units held under a count's key (keys::NewHeld, keys::NewClientHeld).
  int64_t NewHeld(const std::string& key);
  // Moves both counts of a SKU: all new shoppers', and the client's when there is one.
  void AddNewHeld(const std::string& client, const std::string& sku, int64_t delta,
                  events::Transaction& tx);
  bool Answered(const std::string& done_key);
  void Consumed(const std::string& key, events::Transaction& tx);

  events::EventStore& store_;
  events::Worker& worker_;
  ProductStore& products_;
  const int64_t hold_cap_;
  const int64_t new_cap_, client_cap_;
  base::PackedStringMap holds_;  // Units each (shopper, SKU) holds unpaid; 0 for none.
  // Units new shoppers hold unpaid, by count key (per SKU, per client and SKU); and the new
  // shoppers who have paid.
  std::unordered_map<std::string, int64_t> new_held_;
  std::unordered_set<std::string> paid_;
  // Once-only records consumed by a batch that is not yet durable (the store still shows them).
  std::unordered_set<std::string> consumed_;
};

}  // namespace pavilion::catalog
