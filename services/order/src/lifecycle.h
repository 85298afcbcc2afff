// The order's rules: given an order and a command, the order's new state and the events to
// append, or a typed error. Pure: nothing here reads a clock, a store or a provider, nor calls
// back; the service hands in the time (Decision::now) and commits what a decision emitted. So
// the state machine is tested as a table (tests/services/order_lifecycle_test.cc) without a
// store. A decision that fails leaves the order as it was.
//
// Result<bool>: true when the order changed (commit it), false for an idempotent repeat (answer
// with the order as it is), an error otherwise (svc_errc: 403 forbidden, 404 not_found,
// 409 conflict with the current state, 422 invalid_argument naming the field).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pavilion/events/processor.h"
#include "pavilion/order/order.h"
#include "pavilion/order/order_service.h"

namespace pavilion::order {

// What a decision is made with and where its effects go.
struct Decision {
  int64_t now = 0;              // The time it is made at (event times, deadlines).
  const OrderOptions& options;  // Payment timeout, auto-confirm delay, after-sale window.
  events::Transaction& tx;      // Its events.
  // Sub-orders shipped by it, due to complete automatically at the time given.
  std::vector<std::pair<int64_t, std::string>> confirm_due = {};
  // Sub-orders completed by it, whose after-sale window closes at the time given.
  std::vector<std::pair<int64_t, std::string>> after_sale_due = {};
};

// ---- Placement ----

// An empty string when the input is acceptable, else what to fix (422).
std::string Validate(const PlaceOrderInput& in);
// Same items, same hash: what an idempotent retry is compared by.
uint64_t RequestHash(const PlaceOrderInput& in);
// An order as placed, every line awaiting the catalog.
Order Pending(const std::string& id, const PlaceOrderInput& in, uint64_t request_hash,
              int64_t micros);
// Whether a keyed request found under its derived id is the same one (the key itself is not
// compared: an order rebuilt from its events does not know it).
bool SameRequest(const Order& o, const PlaceOrderInput& in, uint64_t hash);
// Every line answered: order.reserved (split into one sub-order per seller, in the order the
// sellers first appear; awaiting payment until now + the payment timeout) when all are
// reserved, else order.rejected with each line's reason.
void Decide(Order& order, Decision& d);
// What order.reserved makes of the order placed: Decide's state, and what an order without a
// record is rebuilt from. Every line of the event is one of the order's.
void ApplyReserved(Order& order, const events::schema::OrderReserved& r);

// ---- Who sees what ----

bool CanSee(const Order& o, const Actor& who);
// A seller sees only its own sub-orders (and, as a distributor, those shipping lines its
// listings sold), their lines, refunds and total; not the payments nor other sellers' lines.
Order ViewFor(Order o, const Actor& who);
// Whether a distributor's listing (at any level of the chain) sold this line.
bool SoldThrough(const OrderLine& l, const std::string& seller);
// Calls fn(seller) for every seller who sees sub-order `sub` of `o`: its own, and the
// distributors whose listings sold one of its lines. One may come twice.
template <typename Fn>
void ForEachViewer(const Order& o, const SubOrder& sub, Fn fn) {
  fn(sub.seller_id);
  for (uint32_t line : sub.lines) {
    if (line >= o.lines.size()) continue;
    for (const auto& c : o.lines[line].distribution.commissions) fn(c.seller_id);
  }
}

// ---- Payment ----

// Whether `who` may pay the order now (before the provider is asked to charge).
Result<bool> CheckPay(const Order& o, const Actor& who);
// Money arrived: it pays the order, or (after an automatic cancel) asks the catalog for the
// stock again, or is recorded as owed back. Idempotent by (provider, txn_id).
Result<bool> ApplyPayment(Order& o, Payment p, Decision& d);
// The catalog's answer to a late payment: paid, or the money owed back. False for a
// redelivery.
bool Reinstated(Order& o, const events::schema::StockReinstated& r, Decision& d);

// ---- Cancel, ship, deliver, confirm ----

Result<bool> Cancel(Order& o, const Actor& who, Decision& d);
// Cancels an order awaiting payment and releases its lines (reason: shopper | operator |
// payment_timeout).
void CancelUnpaid(Order& o, const std::string& reason, Decision& d);
Result<bool> Ship(Order& o, const std::string& sub_id, const std::string& carrier,
                  const std::string& tracking, const Actor& who, Decision& d);
Result<bool> Deliver(Order& o, const std::string& sub_id, const Actor& who, Decision& d);
// Every shipped or delivered sub-order when `sub_id` is empty; `automatic` for the timeout.
Result<bool> Confirm(Order& o, const std::string& sub_id, const Actor& who, bool automatic,
                     Decision& d);

// ---- Refunds ----

Result<bool> RequestRefund(Order& o, const RefundInput& in, const Actor& who, Decision& d);
// A refund decision, checked: the refund to decide, or null for a repeat of the decision.
Result<Refund*> CheckRefundDecision(Order& o, const std::string& refund_id, bool approve,
                                    const Actor& who);
void RejectRefund(Order& o, Refund& r, const std::string& reason, Decision& d);
// The id of the next request to the provider for `r`: the refund's id for the first, then
// "<refund id>-<n>" for the n-th (each retry is a new request).
std::string RefundRequestId(const Order& o, const Refund& r);
// After the provider was asked to pay back (`asked`, recorded as an attempt when it has an id):
// refund.approved; then at once refund.completed (CompleteRefund) when the money is back
// already, else the refund is refunding until the provider's notification.
void ApproveRefund(Order& o, Refund& r, const RefundResult& asked, Decision& d);
// The provider gave the money back at once.
inline void ApproveRefund(Order& o, Refund& r, Decision& d) {
  ApproveRefund(o, r, RefundResult{"", true}, d);
}
// The money is back: refund.completed, the sub-order's refunded total (cancelled when refunded
// in full before it shipped), returned units restocked downstream.
void CompleteRefund(Order& o, Refund& r, Decision& d);
// The provider's notification about one of its refund requests. True when it changed the
// order; false for a repeat of what is recorded; not_found for a request the order does not
// know, conflict for a wrong amount or an outcome that contradicts what is recorded.
Result<bool> RefundNotified(Order& o, const RefundNotice& n, Decision& d);
// A retry, checked: the failed refund to ask the provider for again, or null when it is
// refunding or refunded already (a repeat).
Result<Refund*> CheckRefundRetry(Order& o, const std::string& refund_id, const Actor& who);
// Asked again (`asked`): refund.retried; then refund.completed at once when `asked.done`.
void RetryRefund(Order& o, Refund& r, const RefundResult& asked, Decision& d);
// The payment that paid the order, if any: the one a refund gives money back from.
const Payment* AppliedPayment(const Order& o);

}  // namespace pavilion::order
