// The pure decisions of one-click distribution (一键分销): whether a markup is acceptable,
// whether a product may be resold by a distributor, and what a listing's SKU costs. The
// Distributor finds the products and writes the listings these allow. No store, no clock.
// Thread-safe: no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// The share of a listing SKU's price its distributors keep, (price - supply) / price in basis
// points rounded up (so a check on it never lets a fen past a cap): what ProductCreated's
// margin_bps carries.
inline uint32_t MarginBps(Fen price, Fen supply) {
  if (price.value() <= 0 || supply >= price) return 0;
  if (supply.value() <= 0) return 10000;
  // (price - supply) × 10000 may pass int64 for the dearest prices.
  __extension__ typedef __int128 Wide;
  const Wide margin = static_cast<Wide>(price.value() - supply.value()) * 10000;
  return static_cast<uint32_t>((margin + price.value() - 1) / price.value());
}

// The platform fee a sale of a product would pay under `rules`, as settlement's posting rules
// take it: the supplier's override, then no fee for a registered poor household's product,
// then the category's, then the default (at most 10000).
uint32_t FeeBps(const events::schema::FeeRulesSet& rules, std::string_view supplier_id,
                std::string_view category, bool poverty);

// Whether a listing with distributors' share `margin_bps` of product `product_id` may exist
// under the profit-sharing cap (`cap_bps`, 0: no profile) with the fee `fee_bps`: nullopt when
// it may, else the error naming markup_percent.
std::optional<Error> CheckProfitSharing(uint32_t cap_bps, uint32_t margin_bps, uint32_t fee_bps,
                                        const DistributeInput& in, const std::string& product_id);

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
