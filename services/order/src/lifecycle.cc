#include "lifecycle.h"

#include <algorithm>
#include <map>
#include <unordered_set>

namespace pavilion::order {
namespace {

using events::svc_errc;
namespace schema = events::schema;

Error Conflict(const Order& o, const std::string& what) {
  return {make_error_code(svc_errc::conflict),
          what + " (the order is " + std::string(ToString(o.status)) + ")"};
}

Error SubConflict(const SubOrder& s, const std::string& what) {
  return {make_error_code(svc_errc::conflict),
          what + " (sub-order " + s.id + " is " + std::string(ToString(s.status)) + ")"};
}

Error Fail(svc_errc code, std::string message) {
  return {make_error_code(code), std::move(message)};
}

bool Shipped(SubOrderStatus s) {
  return s == SubOrderStatus::kShipped || s == SubOrderStatus::kDelivered;
}

// The sub-order a command is about: named, or the only one, or the calling seller's.
Result<SubOrder*> ResolveSub(Order& o, const std::string& sub_id, const Actor& who) {
  SubOrder* found = nullptr;
  if (!sub_id.empty()) {
    for (auto& s : o.sub_orders) {
      if (s.id == sub_id) found = &s;
    }
    if (!found) return Fail(svc_errc::not_found, "no sub-order " + sub_id + " in " + o.id);
  } else if (who.role == Role::kSeller) {
    for (auto& s : o.sub_orders) {
      if (s.seller_id == who.id) found = &s;
    }
  } else if (o.sub_orders.size() == 1) {
    found = &o.sub_orders[0];
  } else if (o.sub_orders.empty()) {
    return Fail(svc_errc::conflict,
                "the order has no sub-orders (it is " + std::string(ToString(o.status)) + ")");
  } else {
    return Fail(svc_errc::invalid_argument, "sub_order_id: required, the order has " +
                                                std::to_string(o.sub_orders.size()) +
                                                " sub-orders");
  }
  if (found == nullptr || (who.role == Role::kSeller && found->seller_id != who.id)) {
    return Fail(svc_errc::not_found, "no sub-order of yours in " + o.id);
  }
  return found;
}

schema::PricedLine PricedLine(const Order& o, uint32_t i) {
  const OrderLine& l = o.lines[i];
  return {i,          l.sku_id,     l.product_id, l.seller_id,   l.place_code,
          l.quantity, l.unit_price, l.amount,     l.distribution};
}

void MarkPaid(Order& o, const Payment& p, bool late, Decision& d) {
  o.status = OrderStatus::kPaid;
  o.cancel_reason.clear();
  for (auto& s : o.sub_orders) s.status = SubOrderStatus::kPaid;
  schema::OrderPaid paid{o.id, o.shopper_id, p.provider, p.txn_id, p.amount, {}, late};
  for (uint32_t i = 0; i < o.lines.size(); ++i) paid.lines.push_back(PricedLine(o, i));
  d.tx.Emit(o.id, events::kAnyVersion, paid);
}

void MaybeComplete(Order& o) {
  const bool done = std::all_of(o.sub_orders.begin(), o.sub_orders.end(), [](const SubOrder& s) {
    return s.status == SubOrderStatus::kCompleted || s.status == SubOrderStatus::kCancelled;
  });
  if (done && o.status == OrderStatus::kPaid) o.status = OrderStatus::kCompleted;
}

// The refund's latest request to the provider, or null when there is none (an instant provider
// without ids, or a refund not approved yet).
const RefundAttempt* LastAttempt(const Order& o, const std::string& refund_id) {
  for (auto it = o.refund_attempts.rbegin(); it != o.refund_attempts.rend(); ++it) {
    if (it->refund_id == refund_id) return &*it;
  }
  return nullptr;
}

// `reason` defaults to what the refund's status says: the seller's when rejected, the
// provider's when failed, the shopper's otherwise.
void EmitRefund(const Order& o, const SubOrder& s, const Refund& r, std::string_view type,
                Decision& d, const std::string* reason = nullptr) {
  std::string place = s.lines.empty() ? "" : o.lines[s.lines[0]].place_code;
  const RefundAttempt* last = LastAttempt(o, r.id);
  d.tx.EmitAs(type, o.id, events::kAnyVersion,
              schema::RefundChanged{o.id, r.id, s.id, s.seller_id, place,
                                    reason                                ? *reason
                                    : r.status == RefundStatus::kRejected ? r.reject_reason
                                                                          : r.reason,
                                    r.amount, r.with_return, r.items,
                                    last ? last->provider_refund_id : std::string()});
}

SubOrder& SubOf(Order& o, const Refund& r) {
  return *std::find_if(o.sub_orders.begin(), o.sub_orders.end(),
                       [&](const SubOrder& x) { return x.id == r.sub_id; });
}

// Whether the money of refund `r` is on its way or owed (approved, not back yet).
bool InFlight(const Refund& r) {
  return r.status == RefundStatus::kRefunding || r.status == RefundStatus::kFailed;
}

// Records a request to the provider (when it gave an id) and the refund's status after it.
void Asked(Order& o, Refund& r, const RefundResult& asked, Decision& d) {
  if (!asked.provider_refund_id.empty()) {
    o.refund_attempts.push_back({r.id, asked.provider_refund_id,
                                 asked.done ? RefundStatus::kRefunded : RefundStatus::kRefunding,
                                 "", d.now, asked.done ? d.now : 0});
  }
  r.status = asked.done ? RefundStatus::kRefunded : RefundStatus::kRefunding;
}

// Units of each line that the sub-order's refunds cover, but for rejected ones and `except`.
// A unit is refunded once: so no returned unit goes back into stock twice, and the sales lose
// each unit once.
std::vector<int64_t> Covered(const Order& o, const std::string& sub_id, const Refund* except) {
  std::vector<int64_t> covered(o.lines.size(), 0);
  for (const auto& r : o.refunds) {
    if (&r == except || r.sub_id != sub_id || r.status == RefundStatus::kRejected) continue;
    for (const auto& ref : r.items) {
      if (ref.line < covered.size()) covered[ref.line] += ref.quantity;
    }
  }
  return covered;
}

// The sub-order's units that `covered` leaves, line by line.
std::vector<schema::LineRef> Uncovered(const Order& o, const SubOrder& s,
                                       const std::vector<int64_t>& covered) {
  std::vector<schema::LineRef> items;
  for (uint32_t i : s.lines) {
    const int64_t left = o.lines[i].quantity - covered[i];
    if (left > 0) items.push_back({i, o.lines[i].sku_id, left, ""});
  }
  return items;
}

}  // namespace

// ---- Placement ----

std::string Validate(const PlaceOrderInput& in) {
  if (in.shopper_id.empty()) return "shopper_id: give the shopper's id";
  if (in.items.empty() || in.items.size() > kMaxOrderLines) {
    return "items: give 1 to " + std::to_string(kMaxOrderLines) + " items";
  }
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < in.items.size(); ++i) {
    const auto& item = in.items[i];
    std::string at = "items[" + std::to_string(i) + "].";
    if (item.sku_id.empty() || item.sku_id.size() > 64) return at + "sku_id: give a SKU id";
    if (item.quantity < 1 || item.quantity > kMaxLineQuantity) {
      return at + "quantity: give a whole number from 1 to " + std::to_string(kMaxLineQuantity);
    }
    if (!seen.insert(item.sku_id).second) {
      return at + "sku_id: " + item.sku_id + " appears twice; give each SKU once";
    }
  }
  return {};
}

uint64_t RequestHash(const PlaceOrderInput& in) {
  std::string canon;
  for (const auto& item : in.items) {
    canon += item.sku_id;
    canon += ':';
    canon += std::to_string(item.quantity);
    canon += ';';
  }
  return events::Fingerprint64(canon);
}

Order Pending(const std::string& id, const PlaceOrderInput& in, uint64_t request_hash,
              int64_t micros) {
  Order order;
  order.id = id;
  order.shopper_id = in.shopper_id;
  order.created_micros = order.updated_micros = micros;
  order.idempotency_key = in.idempotency_key;
  order.request_hash = request_hash;
  for (const auto& item : in.items) {
    OrderLine line;
    line.sku_id = item.sku_id;
    line.quantity = item.quantity;
    order.lines.push_back(std::move(line));
  }
  return order;
}

bool SameRequest(const Order& o, const PlaceOrderInput& in, uint64_t hash) {
  return o.shopper_id == in.shopper_id && o.request_hash == hash;
}

// The first line at which the order's running total passes kMaxOrderTotal (or cannot be
// represented at all), or -1. Lines the catalog reserved only; a line whose own total could not
// be represented carries the largest amount (see the stock.reserved handler).
int64_t LineOverTotal(const Order& order) {
  Fen total;
  for (uint32_t i = 0; i < order.lines.size(); ++i) {
    const OrderLine& l = order.lines[i];
    if (l.status != LineStatus::kReserved) continue;
    auto sum = total.CheckedAdd(l.amount);
    if (!sum || *sum > kMaxOrderTotal) return i;
    total = *sum;
  }
  return -1;
}

void Decide(Order& order, Decision& d) {
  const bool all_reserved =
      std::all_of(order.lines.begin(), order.lines.end(),
                  [](const OrderLine& l) { return l.status == LineStatus::kReserved; });
  // An order worth more than can be paid is refused whole: its reserved stock goes back.
  const int64_t over = all_reserved ? LineOverTotal(order) : -1;
  if (over >= 0) order.lines[over].reason = std::string(kAmountTooLarge);
  if (!all_reserved || over >= 0) {
    order.status = OrderStatus::kRejected;
    schema::OrderRejected rejected{order.id, order.shopper_id, {}, {}};
    for (uint32_t i = 0; i < order.lines.size(); ++i) {
      const auto& l = order.lines[i];
      auto& into = l.status == LineStatus::kReserved ? rejected.release : rejected.rejected;
      into.push_back(schema::LineRef{i, l.sku_id, l.quantity, l.reason});
    }
    d.tx.Emit(order.id, events::kAnyVersion, rejected);
    return;
  }
  // Split by seller, in the order sellers first appear.
  std::map<std::string, size_t> by_seller;
  schema::OrderReserved reserved{order.id,
                                 order.shopper_id,
                                 Fen(0),
                                 {},
                                 {},
                                 d.now + d.options.payment_timeout_micros,
                                 order.created_micros,
                                 d.now};
  for (uint32_t i = 0; i < order.lines.size(); ++i) {
    const OrderLine& l = order.lines[i];
    auto [it, fresh] = by_seller.emplace(l.seller_id, reserved.sub_orders.size());
    if (fresh) {
      reserved.sub_orders.push_back(
          {order.id + "-s" + std::to_string(reserved.sub_orders.size() + 1), l.seller_id, Fen(0)});
    }
    reserved.sub_orders[it->second].total += l.amount;
    reserved.total += l.amount;
    reserved.lines.push_back(PricedLine(order, i));
  }
  ApplyReserved(order, reserved);
  d.tx.Emit(order.id, events::kAnyVersion, reserved);
}

void ApplyReserved(Order& order, const schema::OrderReserved& r) {
  order.status = OrderStatus::kPendingPayment;
  order.created_micros = r.placed_micros;
  order.updated_micros = r.reserved_micros;
  order.pay_deadline_micros = r.pay_deadline_micros;
  order.total = r.total;
  for (const auto& p : r.lines) {
    OrderLine& l = order.lines.at(p.line);
    if (l.status == LineStatus::kReserved) continue;  // Decide's own lines: answered already.
    l.status = LineStatus::kReserved;
    l.product_id = p.product_id;
    l.seller_id = p.seller_id;
    l.place_code = p.place_code;
    l.unit_price = p.unit_price;
    l.amount = p.amount;
    l.distribution = p.distribution;
  }
  order.sub_orders.clear();
  for (const auto& info : r.sub_orders) {
    SubOrder s;
    s.id = info.sub_id;
    s.seller_id = info.seller_id;
    s.status = SubOrderStatus::kPendingPayment;
    s.total = info.total;
    for (uint32_t i = 0; i < order.lines.size(); ++i) {
      if (order.lines[i].seller_id == s.seller_id) s.lines.push_back(i);
    }
    order.sub_orders.push_back(std::move(s));
  }
}

// ---- Who sees what ----

bool SoldThrough(const OrderLine& l, const std::string& seller) {
  const auto& c = l.distribution.commissions;
  return std::any_of(c.begin(), c.end(),
                     [&](const schema::Commission& x) { return x.seller_id == seller; });
}

bool CanSee(const Order& o, const Actor& who) {
  switch (who.role) {
    case Role::kOperator:
      return true;
    case Role::kShopper:
      return o.shopper_id == who.id;
    case Role::kSeller:
      return std::any_of(o.sub_orders.begin(), o.sub_orders.end(),
                         [&](const SubOrder& s) { return s.seller_id == who.id; }) ||
             std::any_of(o.lines.begin(), o.lines.end(),
                         [&](const OrderLine& l) { return SoldThrough(l, who.id); });
  }
  return false;
}

Order ViewFor(Order o, const Actor& who) {
  if (who.role != Role::kSeller) return o;
  std::vector<SubOrder> mine;
  std::unordered_set<uint32_t> lines;
  o.total = Fen(0);
  for (auto& s : o.sub_orders) {
    // Its own sub-orders; for a distributor, the lines its listings sold and the supplier's
    // sub-orders that ship them (to follow; it cannot act on them).
    std::vector<uint32_t> sold;
    for (uint32_t i : s.lines) {
      if (s.seller_id == who.id || SoldThrough(o.lines[i], who.id)) sold.push_back(i);
    }
    if (sold.empty()) continue;
    lines.insert(sold.begin(), sold.end());
    for (uint32_t i : sold) o.total += o.lines[i].amount;
    mine.push_back(std::move(s));
  }
  for (uint32_t i = 0; i < o.lines.size(); ++i) {
    if (!lines.count(i)) {
      o.lines[i] = OrderLine{"", "", "", "", 0, Fen(), Fen(), LineStatus::kHidden, "", {}};
    }
  }
  std::erase_if(o.refunds, [&](const Refund& r) {
    return std::none_of(mine.begin(), mine.end(),
                        [&](const SubOrder& s) { return s.id == r.sub_id; });
  });
  std::erase_if(o.refund_attempts, [&](const RefundAttempt& a) {
    return std::none_of(o.refunds.begin(), o.refunds.end(),
                        [&](const Refund& r) { return r.id == a.refund_id; });
  });
  o.sub_orders = std::move(mine);
  o.payments.clear();
  return o;
}

// ---- Payment ----

Result<bool> CheckPay(const Order& o, const Actor& who) {
  if (who.role == Role::kSeller) return Fail(svc_errc::forbidden, "a seller cannot pay");
  if (o.status != OrderStatus::kPendingPayment) {
    return Conflict(o, "only an order awaiting payment can be paid");
  }
  return true;
}

Result<bool> ApplyPayment(Order& o, Payment p, Decision& d) {
  for (const auto& seen : o.payments) {
    if (seen.provider == p.provider && seen.txn_id == p.txn_id) return false;  // Duplicate.
  }
  if (o.status == OrderStatus::kPending) {
    return Fail(svc_errc::conflict, "the order is still being placed; retry shortly");
  }
  p.micros = d.now;
  const bool has_applied = std::any_of(o.payments.begin(), o.payments.end(), [](const Payment& x) {
    return x.outcome != PaymentOutcome::kRefundDue;
  });
  if (o.status == OrderStatus::kPendingPayment && p.amount == o.total) {
    p.outcome = PaymentOutcome::kApplied;
    o.payments.push_back(p);
    MarkPaid(o, p, /*late=*/false, d);
  } else if (o.status == OrderStatus::kCancelled && o.cancel_reason == "payment_timeout" &&
             !has_applied && p.amount == o.total) {
    // Late payment after the automatic cancel: ask the catalog for the stock again.
    p.outcome = PaymentOutcome::kPendingReinstate;
    o.payments.push_back(p);
    schema::ReinstateRequested req{o.id, o.shopper_id, {}};
    for (uint32_t i = 0; i < o.lines.size(); ++i) {
      req.lines.push_back({i, o.lines[i].sku_id, o.lines[i].quantity, ""});
    }
    d.tx.Emit(o.id, events::kAnyVersion, req);
  } else {
    std::string reason = p.amount != o.total                   ? "amount_mismatch"
                         : o.status == OrderStatus::kRejected  ? "order_rejected"
                         : o.status == OrderStatus::kCancelled ? "order_cancelled"
                                                               : "already_paid";
    p.outcome = PaymentOutcome::kRefundDue;
    o.payments.push_back(p);
    d.tx.Emit(o.id, events::kAnyVersion,
              schema::RefundDue{o.id, o.shopper_id, p.provider, p.txn_id, reason, p.amount});
  }
  return true;
}

bool Reinstated(Order& o, const schema::StockReinstated& r, Decision& d) {
  auto it = std::find_if(o.payments.begin(), o.payments.end(), [](const Payment& p) {
    return p.outcome == PaymentOutcome::kPendingReinstate;
  });
  if (it == o.payments.end()) return false;  // A redelivery.
  if (r.ok) {
    it->outcome = PaymentOutcome::kApplied;
    MarkPaid(o, *it, /*late=*/true, d);
  } else {
    it->outcome = PaymentOutcome::kRefundDue;
    d.tx.Emit(o.id, events::kAnyVersion,
              schema::RefundDue{o.id, o.shopper_id, it->provider, it->txn_id,
                                "late_payment_out_of_stock", it->amount});
  }
  o.updated_micros = d.now;
  return true;
}

// ---- Cancel, ship, deliver, confirm ----

Result<bool> Cancel(Order& o, const Actor& who, Decision& d) {
  if (who.role == Role::kSeller) {
    return Fail(svc_errc::forbidden, "a seller cannot cancel; the shopper asks for a refund");
  }
  if (o.status == OrderStatus::kCancelled) return false;
  if (o.status != OrderStatus::kPendingPayment) {
    return Conflict(o, "only an unpaid order can be cancelled; request a refund instead");
  }
  CancelUnpaid(o, std::string(ToString(who.role)), d);
  return true;
}

void CancelUnpaid(Order& o, const std::string& reason, Decision& d) {
  o.status = OrderStatus::kCancelled;
  o.cancel_reason = reason;
  for (auto& s : o.sub_orders) s.status = SubOrderStatus::kCancelled;
  schema::OrderCancelled cancelled{o.id, o.shopper_id, reason, {}};
  for (uint32_t i = 0; i < o.lines.size(); ++i) {
    cancelled.release.push_back({i, o.lines[i].sku_id, o.lines[i].quantity, ""});
  }
  d.tx.Emit(o.id, events::kAnyVersion, cancelled);
}

Result<bool> Ship(Order& o, const std::string& sub_id, const std::string& carrier,
                  const std::string& tracking, const Actor& who, Decision& d) {
  if (carrier.empty() || tracking.empty()) {
    return Fail(svc_errc::invalid_argument, "carrier and tracking_no: both are required");
  }
  auto sub = ResolveSub(o, sub_id, who);
  if (!sub.ok()) return sub.error_detail();
  SubOrder& s = **sub;
  if (s.status == SubOrderStatus::kShipped && s.tracking_no == tracking) return false;
  if (s.status != SubOrderStatus::kPaid) {
    return SubConflict(s, "only a paid sub-order can be shipped");
  }
  // A refund approved before shipping decided what goes back to stock, or that nothing ships:
  // until the provider pays it back the goods stay.
  for (const auto& r : o.refunds) {
    if (r.sub_id == s.id && InFlight(r) && (r.with_return || s.refunded + r.amount == s.total)) {
      return Fail(svc_errc::conflict,
                  "refund " + r.id + " of " + s.id + " is " + std::string(ToString(r.status)) +
                      ": ship once the provider has paid it back (or it is rejected)");
    }
  }
  s.status = SubOrderStatus::kShipped;
  s.carrier = carrier;
  s.tracking_no = tracking;
  s.shipped_micros = d.now;
  d.confirm_due.emplace_back(s.shipped_micros + d.options.auto_confirm_micros, s.id);
  d.tx.EmitAs(schema::SubOrderChanged::kShipped, o.id, events::kAnyVersion,
              schema::SubOrderChanged{o.id, s.id, s.seller_id, carrier, tracking, false});
  return true;
}

Result<bool> Deliver(Order& o, const std::string& sub_id, const Actor& who, Decision& d) {
  if (who.role == Role::kShopper) {
    return Fail(svc_errc::forbidden, "the shopper confirms receipt with /confirm");
  }
  auto sub = ResolveSub(o, sub_id, who);
  if (!sub.ok()) return sub.error_detail();
  SubOrder& s = **sub;
  if (s.status == SubOrderStatus::kDelivered) return false;
  if (s.status != SubOrderStatus::kShipped) {
    return SubConflict(s, "only a shipped sub-order can be delivered");
  }
  s.status = SubOrderStatus::kDelivered;
  s.delivered_micros = d.now;
  d.tx.EmitAs(schema::SubOrderChanged::kDelivered, o.id, events::kAnyVersion,
              schema::SubOrderChanged{o.id, s.id, s.seller_id, s.carrier, s.tracking_no, false});
  return true;
}

Result<bool> Confirm(Order& o, const std::string& sub_id, const Actor& who, bool automatic,
                     Decision& d) {
  if (who.role == Role::kSeller) {
    return Fail(svc_errc::forbidden, "only the shopper confirms receipt");
  }
  std::vector<SubOrder*> targets;
  if (sub_id.empty()) {
    for (auto& s : o.sub_orders) {
      if (Shipped(s.status)) targets.push_back(&s);
    }
    if (targets.empty()) return Conflict(o, "nothing has been shipped yet");
  } else {
    auto sub = ResolveSub(o, sub_id, who);
    if (!sub.ok()) return sub.error_detail();
    if ((*sub)->status == SubOrderStatus::kCompleted) return false;
    if (!Shipped((*sub)->status)) {
      return SubConflict(**sub, "only a shipped sub-order can be confirmed");
    }
    targets.push_back(*sub);
  }
  for (SubOrder* s : targets) {
    s->status = SubOrderStatus::kCompleted;
    s->completed_micros = d.now;
    d.after_sale_due.emplace_back(d.now + d.options.after_sale_micros, s->id);
    d.tx.EmitAs(
        schema::SubOrderChanged::kCompleted, o.id, events::kAnyVersion,
        schema::SubOrderChanged{o.id, s->id, s->seller_id, s->carrier, s->tracking_no, automatic});
  }
  MaybeComplete(o);
  return true;
}

// ---- Refunds ----

Result<bool> RequestRefund(Order& o, const RefundInput& in, const Actor& who, Decision& d) {
  if (who.role == Role::kSeller) return Fail(svc_errc::forbidden, "the shopper asks for refunds");
  if (o.status != OrderStatus::kPaid && o.status != OrderStatus::kCompleted) {
    return Conflict(o, "only a paid order can be refunded");
  }
  if (in.sub_id.empty() && in.items.empty() && in.amount_fen < 0 && o.sub_orders.size() > 1) {
    // The whole order: one refund per sub-order that still has money on it. All or none.
    Order before = o;
    int asked = 0;
    for (const auto& s : before.sub_orders) {
      if (s.status == SubOrderStatus::kCancelled || s.refunded == s.total) continue;
      RefundInput part = in;
      part.sub_id = s.id;
      auto r = RequestRefund(o, part, who, d);
      if (!r.ok()) {
        o = std::move(before);
        return r;
      }
      ++asked;
    }
    if (asked == 0) return Conflict(o, "nothing left to refund");
    return true;
  }
  auto sub = ResolveSub(o, in.sub_id, who);
  if (!sub.ok()) return sub.error_detail();
  SubOrder& s = **sub;
  if (s.status == SubOrderStatus::kCancelled) return SubConflict(s, "nothing left to refund");
  if (s.status == SubOrderStatus::kCompleted &&
      d.now > s.completed_micros + d.options.after_sale_micros) {
    return SubConflict(s, "the after-sale window has closed");
  }
  for (const auto& r : o.refunds) {
    if (r.sub_id == s.id && (r.status == RefundStatus::kRequested || InFlight(r))) {
      return Fail(svc_errc::conflict, "refund " + r.id + " for this sub-order is open (" +
                                          std::string(ToString(r.status)) + ")");
    }
  }
  Refund r;
  r.id = o.id + "-r" + std::to_string(o.refunds.size() + 1);
  r.sub_id = s.id;
  r.with_return = in.with_return;
  r.reason = in.reason;
  r.requested_micros = d.now;
  // Counts this request's items too as they are read (the same SKU twice in one request).
  std::vector<int64_t> covered = Covered(o, s.id, nullptr);
  Fen items_value;
  for (const auto& item : in.items) {
    auto it = std::find_if(s.lines.begin(), s.lines.end(),
                           [&](uint32_t i) { return o.lines[i].sku_id == item.sku_id; });
    if (it == s.lines.end()) {
      return Fail(svc_errc::invalid_argument,
                  "items: " + item.sku_id + " is not in sub-order " + s.id);
    }
    const OrderLine& line = o.lines[*it];
    const int64_t left = line.quantity - covered[*it];
    if (left < 1) {
      return Fail(svc_errc::invalid_argument,
                  "items: every unit of " + item.sku_id + " is refunded already");
    }
    if (item.quantity < 1 || item.quantity > left) {
      return Fail(svc_errc::invalid_argument, "items: quantity of " + item.sku_id +
                                                  " must be 1 to " + std::to_string(left) +
                                                  " (the units not refunded yet)");
    }
    covered[*it] += item.quantity;
    r.items.push_back({*it, item.sku_id, item.quantity, ""});
    items_value += line.unit_price * item.quantity;
  }
  if (in.items.empty() && in.with_return) {
    r.items = Uncovered(o, s, covered);  // The whole sub-order comes back.
    if (r.items.empty()) {
      return Fail(svc_errc::invalid_argument,
                  "with_return: every unit of " + s.id +
                      " is refunded already; ask for an amount without a return");
    }
  }
  const Fen refundable = s.total - s.refunded;
  Fen amount = in.amount_fen >= 0 ? Fen(in.amount_fen)
               : in.items.empty() ? refundable
                                  : items_value;
  if (amount.value() < 1 || amount > refundable) {
    return Fail(svc_errc::invalid_argument, "amount_fen: give 1 to " +
                                                std::to_string(refundable.value()) +
                                                " (what is left to refund on " + s.id + ")");
  }
  r.amount = amount;
  r.status = RefundStatus::kRequested;
  EmitRefund(o, s, r, schema::RefundChanged::kRequested, d);
  o.refunds.push_back(std::move(r));
  return true;
}

namespace {

// The refund `refund_id` of `o`, for its sub-order's seller or the operator to act on (`verb`:
// "decides", "retries"); not_found or forbidden otherwise.
Result<Refund*> RefundForSeller(Order& o, const std::string& refund_id, const Actor& who,
                                std::string_view verb) {
  auto it = std::find_if(o.refunds.begin(), o.refunds.end(),
                         [&](const Refund& r) { return r.id == refund_id; });
  if (it == o.refunds.end()) return Fail(svc_errc::not_found, "no refund " + refund_id);
  auto sub = ResolveSub(o, it->sub_id, who);
  if (!sub.ok()) return sub.error_detail();
  if (who.role == Role::kShopper) {
    return Fail(svc_errc::forbidden,
                "the seller or the operator " + std::string(verb) + " refunds");
  }
  return &*it;
}

}  // namespace

Result<Refund*> CheckRefundDecision(Order& o, const std::string& refund_id, bool approve,
                                    const Actor& who) {
  auto found = RefundForSeller(o, refund_id, who, "decides");
  if (!found.ok()) return found;
  Refund& r = **found;
  if ((approve && (r.status == RefundStatus::kRefunded || InFlight(r))) ||
      (!approve && r.status == RefundStatus::kRejected)) {
    return static_cast<Refund*>(nullptr);
  }
  if (r.status != RefundStatus::kRequested) {
    return Fail(svc_errc::conflict,
                "refund " + r.id + " is already " + std::string(ToString(r.status)));
  }
  return &r;
}

void RejectRefund(Order& o, Refund& r, const std::string& reason, Decision& d) {
  SubOrder& s = SubOf(o, r);
  r.decided_micros = d.now;
  r.status = RefundStatus::kRejected;
  r.reject_reason = reason;
  EmitRefund(o, s, r, schema::RefundChanged::kRejected, d);
}

std::string RefundRequestId(const Order& o, const Refund& r) {
  const auto n = std::count_if(o.refund_attempts.begin(), o.refund_attempts.end(),
                               [&](const RefundAttempt& a) { return a.refund_id == r.id; });
  return n == 0 ? r.id : r.id + "-" + std::to_string(n + 1);
}

void ApproveRefund(Order& o, Refund& r, const RefundResult& asked, Decision& d) {
  SubOrder& s = SubOf(o, r);
  r.decided_micros = d.now;
  // Units refunded before the sub-order ships never left the warehouse: they go back to stock
  // whatever the request said. (Were they left out, a later refund that empties the sub-order
  // would return them and the sales would lose them twice.)
  if (s.status == SubOrderStatus::kPaid && !r.items.empty()) r.with_return = true;
  Asked(o, r, asked, d);
  EmitRefund(o, s, r, schema::RefundChanged::kApproved, d);
  if (asked.done) CompleteRefund(o, r, d);
}

void CompleteRefund(Order& o, Refund& r, Decision& d) {
  SubOrder& s = SubOf(o, r);
  r.status = RefundStatus::kRefunded;
  s.refunded += r.amount;
  if (s.refunded == s.total && s.status == SubOrderStatus::kPaid) {
    // Refunded in full before it shipped: it will not ship, and what was not yet given back
    // goes back to stock.
    s.status = SubOrderStatus::kCancelled;
    r.with_return = true;
    r.items = Uncovered(o, s, Covered(o, s.id, &r));
  }
  EmitRefund(o, s, r, schema::RefundChanged::kCompleted, d);
  MaybeComplete(o);
}

Result<bool> RefundNotified(Order& o, const RefundNotice& n, Decision& d) {
  auto at = std::find_if(
      o.refund_attempts.begin(), o.refund_attempts.end(),
      [&](const RefundAttempt& a) { return a.provider_refund_id == n.provider_refund_id; });
  if (at == o.refund_attempts.end()) {
    return Fail(svc_errc::not_found,
                "refund_id: the order " + o.id + " asked for no refund " + n.provider_refund_id);
  }
  RefundAttempt& a = *at;
  Refund& r = *std::find_if(o.refunds.begin(), o.refunds.end(),
                            [&](const Refund& x) { return x.id == a.refund_id; });
  if (n.amount != r.amount) {
    return Fail(svc_errc::conflict, "amount_fen: refund " + n.provider_refund_id + " is for " +
                                        std::to_string(r.amount.value()) + " fen, not " +
                                        std::to_string(n.amount.value()));
  }
  const RefundStatus outcome = n.succeeded ? RefundStatus::kRefunded : RefundStatus::kFailed;
  if (a.status == outcome) return false;  // The provider says it again.
  if (a.status != RefundStatus::kRefunding) {
    return Fail(svc_errc::conflict, "status: refund " + n.provider_refund_id + " was reported " +
                                        std::string(ToString(a.status)) + " already");
  }
  if (&a != LastAttempt(o, r.id) || r.status != RefundStatus::kRefunding) {
    return Fail(svc_errc::conflict, "refund_id: " + n.provider_refund_id +
                                        " was superseded by a later request for refund " + r.id);
  }
  a.status = outcome;
  a.notified_micros = d.now;
  if (n.succeeded) {
    CompleteRefund(o, r, d);
    return true;
  }
  a.failure = n.reason.empty() ? "the provider gave no reason" : n.reason;
  r.status = RefundStatus::kFailed;
  EmitRefund(o, SubOf(o, r), r, schema::RefundChanged::kFailed, d, &a.failure);
  return true;
}

Result<Refund*> CheckRefundRetry(Order& o, const std::string& refund_id, const Actor& who) {
  auto found = RefundForSeller(o, refund_id, who, "retries");
  if (!found.ok()) return found;
  Refund& r = **found;
  if (r.status == RefundStatus::kRefunding || r.status == RefundStatus::kRefunded) {
    return static_cast<Refund*>(nullptr);
  }
  if (r.status != RefundStatus::kFailed) {
    return Fail(svc_errc::conflict, "refund " + r.id + " is " + std::string(ToString(r.status)) +
                                        "; only a failed refund is retried");
  }
  return &r;
}

void RetryRefund(Order& o, Refund& r, const RefundResult& asked, Decision& d) {
  Asked(o, r, asked, d);
  EmitRefund(o, SubOf(o, r), r, schema::RefundChanged::kRetried, d);
  if (asked.done) CompleteRefund(o, r, d);
}

const Payment* AppliedPayment(const Order& o) {
  const Payment* paid = nullptr;
  for (const auto& p : o.payments) {
    if (p.outcome == PaymentOutcome::kApplied) paid = &p;
  }
  return paid;
}

}  // namespace pavilion::order
