// A payment provider's notifications: POST /v1/payments/notify (money arrived for an order) and
// POST /v1/payments/refund-notify (a refund it was asked for succeeded or failed). Authenticated
// not by a bearer token but by an HMAC-SHA256 of the raw body with the shared secret, sent as
// "X-Pavilion-Signature: sha256=<hex>"; each is idempotent, so the provider may send it again.
#include "../signature.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// The error to answer when the body is not signed with the payment secret.
std::optional<HttpResponse> Unsigned(const Context& cx, const Request& r) {
  const std::string& secret = cx.options.payment_secret;
  if (!secret.empty() && VerifySignature(secret, r.http.body, r.http.signature)) {
    return std::nullopt;
  }
  return ErrorResponse(kBadSignature,
                       "X-Pavilion-Signature must be sha256=<hex HMAC-SHA256 of the body>");
}

}  // namespace

void PaymentNotify(Context& cx, const Request& r, Respond respond) {
  if (auto refused = Unsigned(cx, r)) return respond(std::move(*refused));
  order::PaymentNotice n;
  int64_t amount = -1;
  n.provider = "prepay";  // The default provider's name.
  Body body;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "order_id") return body.String(v, n.order_id, 64);
    if (key == "txn_id") return body.String(v, n.txn_id, 128);
    if (key == "provider") return body.String(v, n.provider, 40);
    if (key == "amount_fen") return body.Int(v, amount);
    return true;
  });
  if (!ok) return respond(body.TakeError());
  if (n.order_id.empty()) return respond(ErrorResponse(kInvalidField, "order_id: required"));
  if (n.txn_id.empty()) return respond(ErrorResponse(kInvalidField, "txn_id: required"));
  if (amount < 1) {
    return respond(ErrorResponse(kInvalidField, "amount_fen: give the amount paid"));
  }
  n.amount = Fen(amount);
  cx.s.orders.PaymentReceived(std::move(n), OrderAnswer(std::move(respond)));
}

// {"order_id", "refund_id" (the provider's, as the order shows it), "status": "succeeded" |
// "failed", "amount_fen", "reason"?}. Answers the order; 404 for a refund the order never asked
// for, 409 for a wrong amount or an outcome that contradicts what was reported before.
void RefundNotify(Context& cx, const Request& r, Respond respond) {
  if (auto refused = Unsigned(cx, r)) return respond(std::move(*refused));
  order::RefundNotice n;
  std::string status;
  int64_t amount = -1;
  Body body;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "order_id") return body.String(v, n.order_id, 64);
    if (key == "refund_id") return body.String(v, n.provider_refund_id, 128);
    if (key == "status") return body.String(v, status, 20);
    if (key == "amount_fen") return body.Int(v, amount);
    if (key == "reason") return body.String(v, n.reason, 500);
    return true;
  });
  if (!ok) return respond(body.TakeError());
  if (n.order_id.empty()) return respond(ErrorResponse(kInvalidField, "order_id: required"));
  if (n.provider_refund_id.empty()) {
    return respond(ErrorResponse(kInvalidField, "refund_id: required (the provider's refund id)"));
  }
  if (status != "succeeded" && status != "failed") {
    return respond(ErrorResponse(kInvalidField, "status: give succeeded or failed"));
  }
  if (amount < 1) {
    return respond(ErrorResponse(kInvalidField, "amount_fen: give the amount paid back"));
  }
  n.succeeded = status == "succeeded";
  n.amount = Fen(amount);
  cx.s.orders.RefundNotified(std::move(n), OrderAnswer(std::move(respond)));
}

}  // namespace pavilion::gateway::routes
