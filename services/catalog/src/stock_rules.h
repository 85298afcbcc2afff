// The pure decisions about a SKU's stock: whether an order line can be reserved, and how each
// move (reserve, release, sell, sell again after a late payment, restock) changes the three
// numbers available / reserved / sold. They take the SKU whose stock is sold (the end of a
// listing chain: SkuChain) and the command's quantities; the StockLedger finds the SKUs, reads
// the holds, and emits what these decide. No store, no clock: catalog_rules_test checks them
// directly. Thread-safe: no state.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/catalog/kinds.h"

namespace pavilion::catalog {

// A SKU and the SKUs it resells, listing first, the supplier's last (two levels at most); empty
// when a link is missing.
struct SkuChain {
  std::array<Sku*, 3> skus{};
  size_t size = 0;
  Sku* stock() const { return size == 0 ? nullptr : skus[size - 1]; }  // What it sells.
};

// Whether `quantity` units can be reserved from `stock` (null: unknown SKU), before the hold cap.
inline std::optional<StockRejection> CheckReserve(const Sku* stock, int64_t quantity) {
  if (stock == nullptr) return StockRejection::kUnknownSku;
  if (quantity <= 0 || stock->stock < quantity) return StockRejection::kInsufficientStock;
  return std::nullopt;
}
// Whether a shopper holding `held` unpaid units would pass `cap` (0: no cap) with `quantity` more.
inline bool OverHoldCap(int64_t held, int64_t quantity, int64_t cap) {
  return cap > 0 && held + quantity > cap;
}
// What a shopper holds after a move of `delta` units (never below 0).
inline int64_t HeldAfter(int64_t held, int64_t delta) { return std::max<int64_t>(0, held + delta); }

// Whether a late payment can take `quantity` units again (all lines must, or none is taken).
inline bool CanTake(const Sku* stock, int64_t quantity) {
  return stock != nullptr && stock->stock >= quantity;
}

// The moves. Each keeps stock + reserved + sold unchanged except a restock, which returns sold
// units to stock, never more than were sold.
inline void Reserve(Sku& sku, int64_t quantity) {
  sku.stock -= quantity;
  sku.reserved += quantity;
}
inline void Release(Sku& sku, int64_t quantity) {
  sku.stock += quantity;
  sku.reserved -= quantity;
}
inline void Sell(Sku& sku, int64_t quantity) {
  sku.reserved -= quantity;
  sku.sold += quantity;
}
inline void SellFromStock(Sku& sku, int64_t quantity) {  // A late payment's reinstatement.
  sku.stock -= quantity;
  sku.sold += quantity;
}
inline int64_t Restock(Sku& sku, int64_t quantity) {  // Returns the units restocked.
  const int64_t units = std::min(quantity, sku.sold);
  sku.sold -= units;
  sku.stock += units;
  return units;
}

// The stock a stock event leaves, written into it (stock.rejected names it `available`).
template <typename E>
void SetLevels(const Sku& sku, E& event) {
  if constexpr (requires { event.stock_after; }) {
    event.stock_after = sku.stock;
  } else {
    event.available = sku.stock;
  }
  event.reserved_after = sku.reserved;
  event.sold_after = sku.sold;
}

// How a unit sold through the chain's first SKU divides between supplier and distributors.
events::schema::Distribution DistributionOf(const SkuChain& chain);

}  // namespace pavilion::catalog
