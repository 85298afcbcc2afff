// The sales projection's query and answer types: what GET /v1/stats/sales asks the sales cube
// (services/settlement/README.md, "The sales projection") and what it answers.
//
// A query names a grouping (seller, place at any level, supplier type, brand, category,
// agricultural or not, product, channel, poverty-household products, or one total), filters on
// the same dimensions, a day range cut into periods (day, month, quarter, year; business days in
// China Standard Time), an "as of" moment, comparison columns and a top N. Plain values: no
// thread-safety concerns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pavilion/base/result.h"
#include "pavilion/events/schema.h"

namespace pavilion::settlement {

struct SalesTotals {
  Fen amount;          // Net: paid − refunded (today's column, kept under its name).
  int64_t orders = 0;  // Paid orders with a line in the group (an order counts once a group).
  int64_t units = 0;   // Net units: paid − returned.
  Fen paid, refunded;  // Refunded on the day it was paid back.
  int64_t units_paid = 0, units_refunded = 0;
  int64_t selling_sellers = 0;  // Sellers with a paid line in the group and period.
  int64_t new_sellers = 0;      // Of those, sellers whose first paid sale ever is in the period.
};

struct SalesRow {
  std::string key;  // The group's key: a seller id, a place code, "true"/"false", … ("" total).
  std::string day;  // The period's label ("2026-11-03", "2026-11", "2026-Q4", "2026"), or empty.
  SalesTotals totals;
  // The comparison columns asked for: the same period a year before (Feb 29 → Feb 28), and the
  // period before (the previous day, month, quarter or year; for a range that is not one whole
  // period, as many days just before it).
  std::optional<SalesTotals> year_ago, previous;
};

// Filters: empty (or nullopt) matches everything.
struct SalesFilter {
  std::string seller_id, supplier_type, brand, category, product_id;
  std::string channel;  // "direct", or the id of the distributor whose listing sold it.
  std::string within;   // A place code: only sales whose place is it or lies in it.
  std::optional<bool> agricultural, poverty;
  // Only sales placed in rural places (places::IsRural: villages, 镇 and 乡; a sale placed at a
  // county or coarser is not).
  bool rural = false;
  // Only sales of one of these brands (with `brand`, of that one too); empty: any.
  std::vector<std::string> brands;
  // Only sales of one of these sellers (with `seller_id`, of that one too); empty: any.
  std::vector<std::string> seller_ids;
};

struct SalesQuery {
  // Today's four parameters first, as callers give them ({"seller", "", "", false}).
  SalesQuery(std::string group_by = "seller", std::string from_day = "", std::string to_day = "",
             bool by_day = false)
      : group_by(std::move(group_by)),
        from_day(std::move(from_day)),
        to_day(std::move(to_day)),
        by_day(by_day) {}
  // seller | place | supplier_type | brand | category | agricultural | product | channel |
  // poverty | total.
  std::string group_by;
  std::string from_day, to_day;  // Inclusive; empty means from the first sale / up to the last.
  bool by_day = false;           // Same as period = "day".
  std::string period;            // "" (the whole range), day, month, quarter, year.
  std::string level;             // group_by=place: province|city|county|town|village; "" exact.
  SalesFilter filter;
  // The moment the numbers are taken at (microseconds since the epoch); 0: as they stand now.
  int64_t as_of_micros = 0;
  bool compare_year = false, compare_previous = false;
  size_t top = 0;  // The N groups with the highest net over the range; 0: all.
};

// The names group_by accepts, and the levels `level` does.
inline constexpr std::string_view kSalesGroupings[] = {
    "seller",       "place",   "supplier_type", "brand",   "category",
    "agricultural", "product", "channel",       "poverty", "total"};
inline constexpr std::string_view kSalesPeriods[] = {"day", "month", "quarter", "year"};

// An "as of" as a request gives it: an RFC 3339 time ("2026-11-03T10:00:00+08:00", "…Z",
// fractions of a second allowed) or a business day ("2026-11-03": as the day closed, UTC+8).
// nullopt for anything else.
std::optional<int64_t> ParseAsOf(std::string_view text);

// The growth of `now` over `base` in basis points, rounded toward zero; none without a positive
// base (the yoy_bps and pop_bps of the answers).
std::optional<int64_t> GrowthBps(Fen now, Fen base);

}  // namespace pavilion::settlement
