// POST /v1/payments/notify: a payment provider's notification. Authenticated not by a bearer
// token but by an HMAC-SHA256 of the raw body with the shared secret, sent as
// "X-Pavilion-Signature: sha256=<hex>"; idempotent by txn_id.
#include "../signature.h"
#include "routes.h"

namespace pavilion::gateway::routes {

void PaymentNotify(Context& cx, const Request& r, Respond respond) {
  const std::string& secret = cx.options.payment_secret;
  if (secret.empty() || !VerifySignature(secret, r.http.body, r.http.signature)) {
    return respond(ErrorResponse(
        kBadSignature, "X-Pavilion-Signature must be sha256=<hex HMAC-SHA256 of the body>"));
  }
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

}  // namespace pavilion::gateway::routes
