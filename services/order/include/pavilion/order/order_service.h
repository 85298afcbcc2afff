// OrderService: an order's whole life, from checkout to after-sale.
//
// Place() writes order.placed; the catalog answers each line (stock.reserved / stock.rejected).
// When every line is reserved the order is split into one sub-order per seller and waits for
// payment (order.reserved, status pending_payment); otherwise it is rejected with each line's
// reason (order.rejected). Then it moves through the states order.h draws: paid, shipped per
// sub-order, delivered, completed, refunded; or cancelled while unpaid.
//
// A payment arriving after an automatic cancel takes the stock again if it is there (the order
// becomes paid) and otherwise records the money as owed back (payment.refund_due): a payment is
// never lost and stock never oversold. Payments are idempotent by provider transaction id.
// Timeouts are driven by Tick(), which reads the injected Clock: nothing here sleeps.
//
// State lives under "ord/" in the store (src/keys.h), written in the same batch as the events;
// every command for one order runs on the order worker, so an order has exactly one writer. That
// worker is a lane of the store's writer worker when it has one (EventStore::writer_worker()).
// The parts: the rules (src/lifecycle.h, pure), the orders ahead of the store (order_store.h),
// the status index, timeouts and listings, wired by this class.
//
// Reads: stock.reserved, stock.rejected, stock.reinstated, and an order without a record from
// its own order.placed or order.reserved.
// Writes: order.placed, order.reserved, order.rejected, order.paid, order.cancelled,
// order.reinstate_requested, payment.refund_due, suborder.shipped, suborder.delivered,
// suborder.completed, refund.requested, refund.approved, refund.rejected, refund.completed,
// refund.failed, refund.retried.
// Thread-safety: public methods may be called from any thread; callbacks run on the order worker
// or the store's sync thread and must not block.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/events/schema.h"
#include "pavilion/order/order.h"

namespace pavilion::order {

struct PlaceOrderInput {
  std::string shopper_id;
  std::vector<events::schema::OrderItem> items;
  std::string idempotency_key;  // Optional.
  std::string client = {};      // OrderPlaced::client; optional.
};

struct OrderOptions {
  int64_t payment_timeout_micros = 30ll * 60 * 1'000'000;      // 30 minutes
  int64_t auto_confirm_micros = 10ll * 24 * 3600 * 1'000'000;  // 10 days after shipping
  int64_t after_sale_micros = 15ll * 24 * 3600 * 1'000'000;    // 15 days after completion
  // Timeouts applied per task on the order worker; a full pass queues the next (see Tick).
  size_t timeouts_per_pass = 10'000;
};

struct PaymentNotice {
  std::string order_id, provider, txn_id;
  Fen amount;
};

// A provider's notification about a refund it was asked to pay back (its id for the request).
struct RefundNotice {
  std::string order_id, provider_refund_id;
  bool succeeded = false;
  Fen amount;
  std::string reason;  // Why it failed, in the provider's words.
};

struct RefundInput {
  std::string order_id, sub_id;  // sub_id may be empty when the order has one sub-order.
  std::vector<events::schema::OrderItem> items;  // Empty: the whole sub-order.
  int64_t amount_fen = -1;                       // -1: the value of the items.
  bool with_return = false;
  std::string reason;
};

// One owner's orders (a shopper's or a seller's) or, with neither, the whole pavilion's (the
// operator's directory), newest first; optionally only those with a line placed in `place_code`
// or under it (a code prefix), placed from `from_micros` (included) to `to_micros` (excluded).
struct ListQuery {
  std::string shopper_id, seller_id, status, cursor;
  int limit = 20;
  std::string place_code = {};             // (Initialized: callers leave the last three out.)
  int64_t from_micros = 0, to_micros = 0;  // 0: no bound.
};

struct OrderPage {
  std::vector<Order> orders;
  std::string next_cursor;  // Empty on the last page.
};

// What a prepay provider answers the shopper's "pay": the intent its app completes. The money
// arrives later, as the provider's signed notification (PaymentReceived), which pays the order.
struct PaymentIntent {
  std::string provider;
  std::string intent_id;  // The same for every "pay" of one order.
  Fen amount;
  int64_t expires_micros = 0;  // The order's payment deadline.
};

// A charge's outcome: the money taken at once (txn_id), or an intent to complete.
struct ChargeResult {
  std::string txn_id;
  std::optional<PaymentIntent> intent;
};

// A refund request's outcome: the provider's id for it, and whether the money is back already.
// When not `done` the provider notifies later whether it succeeded (RefundNotified).
struct RefundResult {
  std::string provider_refund_id;
  bool done = false;
};

// The payment provider seam. The prepay one (the default) answers "pay" with an intent and
// carries refunds out later, as WeChat Pay and Alipay do; the instant one (tests, the demo) takes
// and gives back the money at once.
class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual std::string name() const = 0;
  // Charges `amount` for an order payable until `expires_micros`.
  virtual Result<ChargeResult> Charge(const std::string& order_id, Fen amount,
                                      int64_t expires_micros) = 0;
  // Asks to pay `amount` of transaction `txn_id` back. `request_id` is the order service's id
  // for this request (one per attempt: a retry is a new request), what a provider keys its
  // idempotency on (WeChat Pay's out_refund_no).
  virtual Result<RefundResult> Refund(const std::string& txn_id, const std::string& request_id,
                                      Fen amount) = 0;
};

// Pays and pays back at once: a shopper's "pay" is the payment, an approval the refund. For
// tests and the demo only.
class InstantPaymentProvider final : public PaymentProvider {
 public:
  std::string name() const override { return "instant"; }
  Result<ChargeResult> Charge(const std::string& order_id, Fen amount,
                              int64_t expires_micros) override;
  Result<RefundResult> Refund(const std::string& txn_id, const std::string& request_id,
                              Fen amount) override;
};

// Prepay, then notify: "pay" answers an intent derived from the order (so asking again gives the
// same one) and the order stays pending_payment until the provider's signed notification.
// Refunds too are requests the provider carries out and notifies (POST
// /v1/payments/refund-notify); their id is derived from the request ("rfd_<request id>").
class PrepayPaymentProvider final : public PaymentProvider {
 public:
  std::string name() const override { return "prepay"; }
  Result<ChargeResult> Charge(const std::string& order_id, Fen amount,
                              int64_t expires_micros) override;
  Result<RefundResult> Refund(const std::string& txn_id, const std::string& request_id,
                              Fen amount) override;
};

// What the shopper's "pay" did: the order (paid, with an instant provider), and the intent to
// complete when the provider is paid later.
struct PayOutcome {
  Order order;
  std::optional<PaymentIntent> intent;
};

inline constexpr size_t kMaxOrderLines = 100;
inline constexpr int64_t kMaxLineQuantity = 1'000'000;
// The most one order may be worth (¥100 million, as the catalog's dearest price): a business
// rule that also keeps every sum over orders (a seller's sales, a day's) far from int64's end.
inline constexpr Fen kMaxOrderTotal = Fen(100'000'000'00);
// A line's reason when the order's total passed kMaxOrderTotal at that line.
inline constexpr std::string_view kAmountTooLarge = "amount_too_large";

class OrderService {
 public:
  // `payments` must outlive the service; null means the prepay provider.
  explicit OrderService(events::EventStore& store, OrderOptions options = {},
                        PaymentProvider* payments = nullptr);
  ~OrderService();

  // Returns the order's id at once. `done` runs when placement is decided (pending_payment or
  // rejected) and durable, or at once with an error (422 validation, 409 idempotency conflict).
  std::string Place(PlaceOrderInput input, std::function<void(Result<Order>)> done);
  void Get(std::string id, Actor who, std::function<void(Result<Order>)> done);
  void List(ListQuery query, std::function<void(Result<OrderPage>)> done);

  // Lifecycle commands; each answers with the order once the change is durable, or 409 with
  // the current state when the transition is not allowed.
  // Pay with the configured provider (the shopper's "pay" button): with the instant provider
  // the order is paid; with a prepay one it stays pending_payment and the answer carries the
  // intent the provider's notification completes.
  void StartPayment(std::string order_id, Actor who, std::function<void(Result<PayOutcome>)> done);
  // StartPayment's order alone.
  void Pay(std::string order_id, Actor who, std::function<void(Result<Order>)> done);
  // A provider's notification that money arrived (already authenticated by the caller).
  // Idempotent by (provider, txn_id).
  void PaymentReceived(PaymentNotice notice, std::function<void(Result<Order>)> done);
  void Cancel(std::string order_id, Actor who, std::function<void(Result<Order>)> done);
  void Ship(std::string order_id, std::string sub_id, std::string carrier, std::string tracking,
            Actor who, std::function<void(Result<Order>)> done);
  void Deliver(std::string order_id, std::string sub_id, Actor who,
               std::function<void(Result<Order>)> done);
  void Confirm(std::string order_id, std::string sub_id, Actor who,
               std::function<void(Result<Order>)> done);
  void RequestRefund(RefundInput input, Actor who, std::function<void(Result<Order>)> done);
  // Approving asks the provider to pay back: the refund is refunded at once with the instant
  // provider, refunding (until the provider's notification) with the prepay one.
  void DecideRefund(std::string refund_id, bool approve, std::string reason, Actor who,
                    std::function<void(Result<Order>)> done);
  // A provider's notification about a refund (already authenticated by the caller): succeeded
  // completes it (refund.completed, as an instant refund); failed records why (refund.failed)
  // and leaves the money owed. Idempotent; a wrong amount or an unknown or superseded request is
  // a conflict or not_found and changes nothing.
  void RefundNotified(RefundNotice notice, std::function<void(Result<Order>)> done);
  // Asks the provider again for a failed refund (the seller who decides it or the operator).
  // A refund already refunding or refunded is a repeat: answered with the order as it is.
  void RetryRefund(std::string refund_id, Actor who, std::function<void(Result<Order>)> done);

  // Applies the timeouts due at the clock's now: unpaid orders are cancelled, shipped
  // sub-orders past the auto-confirm delay are completed. `pavilion serve` calls it every
  // 100 ms; a backlog is worked off in passes of OrderOptions::timeouts_per_pass, one task each.
  void Tick();

  events::Processor& processor();
  events::Worker& worker() { return worker_; }

 private:
  class Impl;
  events::Worker worker_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::order
