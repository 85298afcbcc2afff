// The status index: an owner's orders by status, so a seller's paid orders to ship page as fast
// as its whole listing. A shopper's entries follow the order's status
// (ord/st-shopper/<shopper>/<status>/…); each seller who sees a sub-order (its own, or a
// distributor's whose listing sold a line of it) has an entry by that sub-order's status
// (ord/st-seller/<seller>/<status>/…). The statuses every order passes through within the
// payment timeout (pending, pending_payment) are not indexed, so placing an order writes no
// index key; a listing filtered on them scans the owner's listing instead.
//
// OrderStore keeps the entries in the transaction that records the order (IndexedStatusMoved,
// StatusEntries); BuildStatusIndex gives a store recorded before the index its entries once.
// Functions of values; BuildStatusIndex runs before the service handles anything.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "pavilion/events/event_store.h"
#include "pavilion/order/order.h"

namespace pavilion::order {

// The statuses an order is indexed by: its own (for its shopper), then one per sub-order (for
// the sellers who see it).
struct IndexedStatuses {
  OrderStatus order = OrderStatus::kPending;
  std::vector<SubOrderStatus> subs;
};

bool StatusIndexed(OrderStatus s);
bool StatusIndexed(SubOrderStatus s);
IndexedStatuses StatusesOf(const Order& o);
// Whether `now` has an indexed status that `before` had not, or the other way: an order that
// changes none (placing one) moves no entry. Allocates nothing.
bool IndexedStatusMoved(const Order& now, const IndexedStatuses& before);
// The index keys of order `o` when its statuses are `statuses`.
std::set<std::string> StatusEntries(const Order& o, const IndexedStatuses& statuses);

// Gives every order recorded before the index its entries, unless `ord/st-built-2` says it is
// done (the first index, `ord/st-built`, keyed a seller's entries by the order's status, not
// its sub-orders': those are replaced). A failure leaves the marker unwritten, so the next start
// tries again. Says on stderr how many orders it indexed and how long it took.
void BuildStatusIndex(events::EventStore& store);

}  // namespace pavilion::order
