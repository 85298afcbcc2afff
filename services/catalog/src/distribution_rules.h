// The pure decisions of one-click distribution (一键分销): whether a markup is acceptable,
// whether a product may be resold by a distributor, and what a listing's SKU costs. The
// Distributor finds the products and writes the listings these allow. No store, no clock.
// Thread-safe: no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

inline constexpr size_t kMaxDistribute = 100'000;  // Products in one request.

// A distribution request's markup: nullopt when acceptable.
std::optional<Error> CheckMarkup(const DistributeInput& in);
// A request whose sellers exist, naming `product_count` products (or the supplier's all).
std::optional<Error> CheckDistribute(const DistributeInput& in, size_t product_count);

// Why `source` (at position `index` of the request) cannot become a listing of `distributor`,
// or empty: a chain has at most two levels, and no one resells its own product back.
// `root_seller` is the seller at the end of the source's chain.
std::string CheckDistributable(const Product& source, const std::string& root_seller,
                               const std::string& distributor, size_t index);

// ceil(price × (100 + percent) / 100) + fen: a listing never rounds a price down. nullopt when
// the result cannot be represented (checked, never wrapped: within CheckMarkup's bounds two
// levels of markups stay near 1.2e12 fen, but the rule does not rely on its callers).
inline std::optional<Fen> MarkedUp(Fen price, int64_t percent, int64_t fen) {
  auto scaled = price.CheckedMul(100 + percent);
  if (!scaled) return std::nullopt;
  auto rounded = scaled->CheckedAdd(Fen(99));
  if (!rounded) return std::nullopt;
  return Fen(rounded->value() / 100).CheckedAdd(Fen(fen));
}

// A listing SKU's price: its source's, marked up, and never under the supplier's floor; nullopt
// when it cannot be represented.
inline std::optional<Fen> ListingPrice(Fen source_price, const Product& listing) {
  // Markups are not negative, so a listing never undercuts its source, whose prices already
  // respect the floor; the check stays as the rule's last word.
  auto marked = MarkedUp(source_price, listing.markup_percent, listing.markup_fen);
  if (!marked) return std::nullopt;
  return std::max(*marked, listing.floor_price);
}

}  // namespace pavilion::catalog
