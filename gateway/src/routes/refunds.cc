// Refunds: the shopper (or the operator) asks for one on an order; the sub-order's seller (or the
// operator; one scoped to a place for a seller in it) approves or rejects it by the refund's own
// id, and retries one the payment provider could not pay back.
#include <algorithm>

#include "../views.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// The order, 200; or 202 while refund `refund_id` waits for the provider to pay it back (as
// /pay answers 202 while the payment waits for it).
std::function<void(Result<order::Order>)> RefundAnswer(Respond respond, std::string refund_id) {
  return [respond = std::move(respond), refund_id = std::move(refund_id)](Result<order::Order> o) {
    if (!o.ok()) return respond(FromServiceError(o.error_detail()));
    const bool waiting = std::any_of(o->refunds.begin(), o->refunds.end(), [&](const auto& x) {
      return x.id == refund_id && x.status == order::RefundStatus::kRefunding;
    });
    respond(OrderResponse(waiting ? 202 : 200, std::move(*o)));
  };
}

// An operator scoped to a place acts on a refund for the seller of its sub-order only: `then`
// runs once that seller is known to lie in its place (at once for anyone else).
void ForRefundSeller(Context& cx, const Request& r, const Respond& respond,
                     std::function<void()> then) {
  const std::string& refund_id = r.params[0];
  ForOrderSeller(cx, *r.who, refund_id.substr(0, refund_id.rfind("-r")), refund_id, respond,
                 std::move(then));
}

void DecideRefund(Context& cx, const Request& r, Respond respond, bool approve) {
  std::string reason;
  if (!ReadOptionalStrings(r.http, respond, {{"reason", &reason}})) return;
  ForRefundSeller(cx, r, respond, [&cx, id = r.params[0], approve, reason, who = *r.who, respond] {
    cx.s.orders.DecideRefund(id, approve, reason, ActorOf(who), RefundAnswer(respond, id));
  });
}

}  // namespace

void RequestRefund(Context& cx, const Request& r, Respond respond) {
  order::RefundInput in;
  in.order_id = r.params[0];
  if (!r.http.body.empty()) {
    Body body;
    bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
      if (key == "sub_order_id") return body.String(v, in.sub_id, 100);
      if (key == "reason") return body.String(v, in.reason, 500);
      if (key == "amount_fen") return body.Int(v, in.amount_fen);
      if (key == "with_return") return body.Bool(v, in.with_return);
      if (key != "items") return true;
      return body.Array(v, [&](size_t i, od::value& item) {
        events::schema::OrderItem line;
        std::string where = "items[" + std::to_string(i) + "].";
        bool fields_ok = body.NestedObject(item, where, [&](std::string_view k, od::value& fv) {
          if (k == "sku_id") return body.String(fv, line.sku_id, 64);
          if (k == "quantity") return body.Int(fv, line.quantity);
          return true;
        });
        if (!fields_ok) return false;
        if (line.sku_id.empty()) return body.Missing(where + "sku_id");
        in.items.push_back(std::move(line));
        return true;
      });
    });
    if (!ok) return respond(body.TakeError());
    if (in.amount_fen < -1) {
      return respond(ErrorResponse(kInvalidField, "amount_fen: must be positive"));
    }
  }
  cx.s.orders.RequestRefund(std::move(in), ActorOf(*r.who), OrderAnswer(std::move(respond), 201));
}

void ApproveRefund(Context& cx, const Request& r, Respond respond) {
  DecideRefund(cx, r, std::move(respond), true);
}

void RejectRefund(Context& cx, const Request& r, Respond respond) {
  DecideRefund(cx, r, std::move(respond), false);
}

void RetryRefund(Context& cx, const Request& r, Respond respond) {
  ForRefundSeller(cx, r, respond, [&cx, id = r.params[0], who = *r.who, respond] {
    cx.s.orders.RetryRefund(id, ActorOf(who), RefundAnswer(respond, id));
  });
}

}  // namespace pavilion::gateway::routes
