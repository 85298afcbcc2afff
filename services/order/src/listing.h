// Listing: an owner's orders, newest first, a page at a time — and the sellers' and the
// pavilion's listing entries a batch of the catalog's answers writes.
//
// A shopper's listing (ord/by-shopper/…) has one entry per order, written by Place. A seller's
// (ord/by-seller/…) has one entry per batch of the catalog's answers: the orders of the batch it
// sees share the key of the newest of them, the value listing them newest first (an entry of one
// order has no value). The pavilion's (ord/by-all//…, the operator's directory) has one entry per
// order the catalog answered (reserved or rejected), written with the batch;
// BuildPavilionListing gives a store recorded before it its entries once (from the shoppers'
// listings: an order placed but never answered before the upgrade is listed too). A period
// bounds the keys scanned (they begin with the time placed) and each order; a place is a filter
// on its lines (for a seller, on every line of the order, not only its own). A page may end inside
// such an entry; its cursor is then the entry's key in hex and, after a dot, how many of its orders
// were gone through. A shopper's or seller's filter on a status past payment reads the status index
// instead (status_index.h); on pending or pending_payment it scans the listing from its newest
// entry, as the pavilion's always does. A page scans at most 10,000 orders.
//
// Threads: the order worker only.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "order_store.h"
#include "pavilion/order/order_service.h"

namespace pavilion::order {

class Listing {
 public:
  explicit Listing(OrderStore& orders) : orders_(orders) {}

  Result<OrderPage> List(const ListQuery& q);
  // Order `o` was just reserved: every seller who sees it, and the pavilion, list it with the
  // batch (AfterBatch).
  void Listed(const Order& o);
  // Writes each seller's entry, and the pavilion's, for the orders of the batch.
  void AfterBatch(events::Transaction& batch);

 private:
  OrderStore& orders_;
  // The orders the batch lists under each seller's listing prefix, and the pavilion's: (placed
  // at, id).
  std::unordered_map<std::string, std::vector<std::pair<int64_t, std::string>>> batch_;
  std::vector<std::pair<int64_t, std::string>> pavilion_;
};

// Gives every order recorded before the pavilion's listing existed its entry, unless
// `ord/by-all-built` says it is done. Runs before the service handles anything.
void BuildPavilionListing(events::EventStore& store);

}  // namespace pavilion::order
