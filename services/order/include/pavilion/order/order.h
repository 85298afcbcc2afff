// An order as the order service keeps it, and the statuses of its parts.
//
//   order:      pending ─(every line answered)→ pending_payment | rejected
//               pending_payment ─pay→ paid ─(all sub-orders done)→ completed
//               pending_payment ─cancel / payment timeout→ cancelled
//   sub-order:  pending_payment ─pay→ paid ─ship→ shipped ─deliver→ delivered ─confirm→ completed
//               (shipped or delivered ─N days→ completed automatically; refunded in full while
//               paid → cancelled)
//   refund:     requested ─approve→ refunding ─provider: succeeded→ refunded
//                                     refunding ─provider: failed→ failed ─retry→ refunding
//               requested ─reject→ rejected
//               (a provider that pays back at once, the instant one, goes from requested to
//               refunded: refund.approved and refund.completed are emitted together)
//
// Statuses are enums with one ToString/Parse each; their names are what JSON shows and what a
// stored record holds (events/codec.h stores a named enum by its name). Plain values: as
// thread-safe as any struct.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/base/role.h"
#include "pavilion/events/schema.h"

namespace pavilion::order {

enum class OrderStatus {
  kPending,         // Placed; the catalog has not answered every line yet.
  kRejected,        // A line could not be reserved; nothing is held.
  kPendingPayment,  // Every line reserved; awaiting payment until the deadline.
  kPaid,
  kCancelled,  // Unpaid and cancelled (by the shopper, the operator or the payment timeout).
  kCompleted,  // Every sub-order completed or cancelled.
};

enum class SubOrderStatus {
  kPendingPayment,
  kPaid,
  kShipped,
  kDelivered,
  kCompleted,
  kCancelled,
};

enum class LineStatus {
  kPending,   // Awaiting the catalog's answer.
  kReserved,  // Stock held for it.
  kRejected,  // Not reserved; `reason` says why.
  kHidden,    // Another seller's line, in a seller's view of the order.
};

enum class RefundStatus {
  kRequested,
  kRejected,
  kRefunded,   // The money is back with the shopper.
  kRefunding,  // Approved; the provider was asked and has not said it paid back yet.
  kFailed,     // The provider could not pay back: still owed to the shopper until a retry.
};

// What became of a payment received.
enum class PaymentOutcome {
  kApplied,           // It paid the order.
  kRefundDue,         // It is owed back to the shopper (payment.refund_due).
  kPendingReinstate,  // It came after the automatic cancel; the catalog is asked for the stock.
};

std::string_view ToString(OrderStatus s);
std::string_view ToString(SubOrderStatus s);
std::string_view ToString(LineStatus s);
std::string_view ToString(RefundStatus s);
std::string_view ToString(PaymentOutcome s);
// Each is false when `name` names no value; `*out` is then unchanged.
bool Parse(std::string_view name, OrderStatus* out);
bool Parse(std::string_view name, SubOrderStatus* out);
bool Parse(std::string_view name, LineStatus* out);
bool Parse(std::string_view name, RefundStatus* out);
bool Parse(std::string_view name, PaymentOutcome* out);

struct OrderLine {
  std::string sku_id, product_id, seller_id, place_code;
  int64_t quantity = 0;
  Fen unit_price, amount;
  LineStatus status = LineStatus::kPending;
  std::string reason;  // When rejected: unknown_sku | insufficient_stock | hold_limit | …
  events::schema::Distribution distribution;  // Sold through a distributor's listing.
  template <class V>
  void Fields(V& v) {
    v(sku_id), v(product_id), v(seller_id), v(place_code), v(quantity), v(unit_price), v(amount),
        v(status), v(reason), v(distribution);
  }
};

struct SubOrder {
  std::string id, seller_id;
  SubOrderStatus status = SubOrderStatus::kPendingPayment;
  Fen total, refunded;
  std::vector<uint32_t> lines;
  std::string carrier, tracking_no;
  int64_t shipped_micros = 0, delivered_micros = 0, completed_micros = 0;
  template <class V>
  void Fields(V& v) {
    v(id), v(seller_id), v(status), v(total), v(refunded), v(lines), v(carrier), v(tracking_no),
        v(shipped_micros), v(delivered_micros), v(completed_micros);
  }
};

struct Payment {
  std::string provider, txn_id;
  Fen amount;
  int64_t micros = 0;
  PaymentOutcome outcome = PaymentOutcome::kApplied;
  template <class V>
  void Fields(V& v) {
    v(provider), v(txn_id), v(amount), v(micros), v(outcome);
  }
};

struct Refund {
  std::string id, sub_id;
  RefundStatus status = RefundStatus::kRequested;
  Fen amount;
  bool with_return = false;
  std::vector<events::schema::LineRef> items;
  std::string reason, reject_reason;
  int64_t requested_micros = 0, decided_micros = 0;
  template <class V>
  void Fields(V& v) {
    v(id), v(sub_id), v(status), v(amount), v(with_return), v(items), v(reason), v(reject_reason),
        v(requested_micros), v(decided_micros);
  }
};

// One request to the provider to pay a refund back: the approval's, then one per retry. Its
// status is kRefunding until the provider's notification, then kRefunded or kFailed.
struct RefundAttempt {
  std::string refund_id, provider_refund_id;
  RefundStatus status = RefundStatus::kRefunding;
  std::string failure;  // The provider's reason, when failed.
  int64_t requested_micros = 0, notified_micros = 0;
  template <class V>
  void Fields(V& v) {
    v(refund_id), v(provider_refund_id), v(status), v(failure), v(requested_micros),
        v(notified_micros);
  }
};

struct Order {
  std::string id, shopper_id;
  OrderStatus status = OrderStatus::kPending;
  Fen total;
  int64_t created_micros = 0, updated_micros = 0, pay_deadline_micros = 0;
  std::string idempotency_key;
  uint64_t request_hash = 0;
  std::string cancel_reason;  // payment_timeout | shopper | operator
  std::vector<OrderLine> lines;
  std::vector<SubOrder> sub_orders;
  std::vector<Payment> payments;
  std::vector<Refund> refunds;
  // Every request to the provider for the refunds, oldest first. Beside the refunds rather than
  // in them so records stored before it existed still decode (events::Added).
  std::vector<RefundAttempt> refund_attempts;
  template <class V>
  void Fields(V& v) {
    v(id), v(shopper_id), v(status), v(total), v(created_micros), v(updated_micros),
        v(pay_deadline_micros), v(idempotency_key), v(request_hash), v(cancel_reason), v(lines),
        v(sub_orders), v(payments), v(refunds), v(events::Added(refund_attempts));
  }
  // Placement is decided: the answer to POST /v1/orders can be sent.
  bool placed() const { return status != OrderStatus::kPending; }
};

// Who asks: a shopper (its id), a seller (its id) or the operator (no id).
struct Actor {
  Role role = Role::kShopper;
  std::string id;
};

}  // namespace pavilion::order
