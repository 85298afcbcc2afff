// The order service's keys in the store, all under "ord/":
//
//   ord/o/<order>                                   the order's record (events::Encode(Order))
//   ord/by-<shopper|seller>/<owner>/<time><order>   an owner's listing, oldest first; a seller's
//                                                   entry may name a batch's orders in its value
//   ord/by-all//<time><order>                       the pavilion's listing, one key per order
//   ord/st-<shopper|seller>/<owner>/<status>/<time><order>   the status index (status_index.h)
//   ord/due/<when>/<kind>/<order>[/<sub>]           a timeout to apply at `when` (timeouts.h)
//   ord/st-built-2                                  the status index covers every record
//   ord/by-all-built                                the pavilion's listing covers every order
//
// <time> and <when> are 8 bytes big-endian microseconds, so keys sort by time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/base/result.h"

namespace pavilion::order {

inline constexpr std::string_view kDuePrefix = "ord/due/";
// The kind of a due key that names a batch of orders in its value (see Timeouts::AfterBatch);
// "pay" keys name one order each (stores from before batches have them), "confirm" keys one
// sub-order.
inline constexpr std::string_view kBatchPay = "pays";
inline constexpr std::string_view kPay = "pay";
inline constexpr std::string_view kConfirm = "confirm";
// One completed sub-order whose after-sale window closes: suborder.after_sale_closed.
inline constexpr std::string_view kAfterSale = "after_sale";

std::string OrderKey(std::string_view id);
// "ord/by-<kind>/<owner>/": an owner's listing.
std::string ListingPrefix(std::string_view kind, std::string_view owner);
// "ord/st-<kind>/<owner>/<status>/": an owner's orders in one status.
std::string StatusPrefix(std::string_view kind, std::string_view owner, std::string_view status);
// An order's entry in either index: the prefix, the time it was placed, its id.
std::string IndexEntry(std::string prefix, int64_t micros, std::string_view id);
std::string IndexKey(std::string_view kind, std::string_view owner, int64_t micros,
                     std::string_view id);

// "ord/due/<when>/<kind>/<order>[/<sub>]".
std::string DueKey(int64_t when, std::string_view kind, std::string_view order_id,
                   std::string_view sub_id = {});
// Just past the due keys of `now`.
std::string DueEnd(int64_t now);
struct DueTarget {
  std::string_view kind, order_id, sub_id;
};
DueTarget ParseDueKey(std::string_view key);

// The orders a key names, a listing entry or a payment timeout: the one in the key itself
// (`own_id`) when its value is empty, else those its value lists (a batch's). An error when
// that list is corrupt.
Result<std::vector<std::string>> NamedOrders(std::string_view own_id, std::string_view value);
// How many orders a key names (see NamedOrders), without decoding them: the list's length.
size_t NamedCount(std::string_view value);

}  // namespace pavilion::order
