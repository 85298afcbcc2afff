// Orders: placement (the hot path: POST /v1/orders, answered within a bounded wait), reading and
// listing, and the lifecycle commands pay, cancel, ship, deliver and confirm.
#include <algorithm>
#include <cstdio>

#include "../signature.h"
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "pavilion/events/clock.h"
#include "pavilion/events/codec.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

constexpr size_t kMaxIdempotencyKey = 128;

// Whether a seller, whose view of the order `seen` holds only the sub-orders it may follow, sees
// event `e` of the order's stream: the order's own events, and those of its sub-orders; not
// another seller's shipments or refunds, nor the shopper's payments.
bool SellerSees(const order::Order& seen, const events::Envelope& e) {
  std::string sub_id;
  if (e.type.starts_with("suborder.")) {
    auto c = events::Decode<events::schema::SubOrderChanged>(e.payload);
    if (!c.ok()) return false;
    sub_id = std::move(c->sub_id);
  } else if (e.type.starts_with("refund.")) {
    auto c = events::Decode<events::schema::RefundChanged>(e.payload);
    if (!c.ok()) return false;
    sub_id = std::move(c->sub_id);
  } else {
    return e.type != events::schema::RefundDue::kType;
  }
  return std::any_of(seen.sub_orders.begin(), seen.sub_orders.end(),
                     [&](const order::SubOrder& s) { return s.id == sub_id; });
}

// A rejected order the client must change rather than read: 422 naming the line at which its
// total passed what one order may be worth, 409 for a line new shoppers may not hold more of
// (the order service refused it whole and gave its stock back); nullopt otherwise.
std::optional<HttpResponse> Refusal(const order::Order& o) {
  if (o.status != order::OrderStatus::kRejected) return std::nullopt;
  for (size_t i = 0; i < o.lines.size(); ++i) {
    const order::OrderLine& l = o.lines[i];
    if (l.reason == "new_client_limit") {
      return ErrorResponse(kConflict,
                           "items[" + std::to_string(i) +
                               "].quantity: shoppers who have not paid an order yet, ordering from "
                               "your network address, already hold as many unpaid units of " +
                               l.sku_id +
                               " as they may together; pay for an earlier order first, or order "
                               "fewer units");
    }
    if (l.reason == "new_shopper_limit") {
      return ErrorResponse(
          kConflict, "items[" + std::to_string(i) +
                         "].quantity: shoppers who have not paid an order yet already hold as many "
                         "unpaid units of " +
                         l.sku_id +
                         " as they may together; pay for an earlier order first, or try again "
                         "once others have paid or released theirs");
    }
    if (l.reason != order::kAmountTooLarge) continue;
    char line_total[32];
    std::snprintf(line_total, sizeof line_total, "%.3g",
                  static_cast<double>(l.unit_price.value()) * static_cast<double>(l.quantity));
    return ErrorResponse(kInvalidField,
                         "items[" + std::to_string(i) + "].quantity: with this line (" +
                             std::to_string(l.quantity) + " × " +
                             std::to_string(l.unit_price.value()) + " fen = " + line_total +
                             " fen) the order is worth more than can be paid; one order may be "
                             "worth at most " +
                             std::to_string(order::kMaxOrderTotal.value()) +
                             " fen (¥100 million): order fewer units");
  }
  return std::nullopt;
}

}  // namespace

order::Actor ActorOf(const Principal& who) { return {who.role, who.subject}; }

std::function<void(Result<order::Order>)> OrderAnswer(Respond respond, int status) {
  return [respond = std::move(respond), status](Result<order::Order> o) {
    if (!o.ok()) return respond(FromServiceError(o.error_detail()));
    respond(OrderResponse(status, std::move(*o)));
  };
}

void CreateOrder(Context& cx, const Request& r, Respond respond) {
  // Each placement holds stock unpaid until the payment timeout: at a rate per address.
  if (cx.order_limiter.enabled()) {
    if (const int64_t wait =
            cx.order_limiter.Take(r.http.peer, cx.s.store.clock().MonotonicMicros())) {
      return respond(RateLimited("POST /v1/orders", wait));
    }
  }
  order::PlaceOrderInput in;
  Body body;
  bool has_items = false;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "shopper_id") return body.String(v, in.shopper_id, 64);
    if (key != "items") return true;
    has_items = true;
    return body.Array(v, [&](size_t i, od::value& item) {
      if (i >= order::kMaxOrderLines) {
        return body.Fail(kInvalidField,
                         "items: give at most " + std::to_string(order::kMaxOrderLines));
      }
      events::schema::OrderItem line;
      bool has_qty = false;
      std::string where = "items[" + std::to_string(i) + "].";
      bool fields_ok = body.NestedObject(item, where, [&](std::string_view k, od::value& fv) {
        if (k == "sku_id") return body.String(fv, line.sku_id, 64);
        if (k == "quantity") {
          has_qty = true;
          return body.Int(fv, line.quantity);
        }
        return true;
      });
      if (!fields_ok) return false;
      if (line.sku_id.empty()) return body.Missing(where + "sku_id");
      if (!has_qty) return body.Missing(where + "quantity");
      in.items.push_back(std::move(line));
      return true;
    });
  });
  if (!ok) return respond(body.TakeError());
  if (!has_items) return respond(ErrorResponse(kInvalidField, "items: required"));
  if (auto denied = ActFor(*r.who, Role::kShopper, "shopper_id", in.shopper_id)) {
    return respond(std::move(*denied));
  }
  if (r.http.idempotency_key.size() > kMaxIdempotencyKey) {
    return respond(ErrorResponse(kInvalidHeader, "Idempotency-Key: use at most 128 characters"));
  }
  in.idempotency_key = r.http.idempotency_key;
  in.client = ClientTag(cx.options.payment_secret, r.http.peer);

  auto call = std::make_shared<PendingCall>(std::move(respond));
  call->order_id = cx.s.orders.Place(std::move(in), [call](Result<order::Order> o) {
    if (!call->Claim()) return;
    // Moved out: the session it holds need not wait for the sweep to drop the call.
    auto respond = std::move(call->respond);
    if (!o.ok()) return respond(FromServiceError(o.error_detail()));
    if (auto refused = Refusal(*o)) return respond(std::move(*refused));
    respond(OrderResponse(201, std::move(*o)));
  });
  cx.order_waits->Add(std::move(call));  // Only the sweep reads order_id, after this.
}

// The order with its event history, oldest first.
void GetOrder(Context& cx, const Request& r, Respond respond) {
  cx.s.orders.Get(
      r.params[0], ActorOf(*r.who), [&cx, respond, who = *r.who](Result<order::Order> o) {
        if (!o.ok()) return respond(FromServiceError(o.error_detail()));
        if (who.Scoped() && !SeesOrder(who, *o)) {
          return respond(ErrorResponse(kNotFound, "order " + o->id + " not found"));
        }
        std::string json = OrderJson(*o);
        base::JsonWriter h;
        h.BeginArray();
        if (auto history = cx.s.store.ReadStream(o->id); history.ok()) {
          for (const auto& e : *history) {
            if (who.role == Role::kSeller && !SellerSees(*o, e)) continue;
            h.BeginObject().Field("type", e.type).Field("version", e.stream_version);
            h.Field("time_micros", e.time_micros).Field("event_id", e.event_id).EndObject();
          }
        }
        h.EndArray();
        json.pop_back();
        json += ",\"history\":" + h.Take() + "}";
        respond(JsonResponse(200, std::move(json)));
      });
}

// Shoppers list their own orders, sellers their own sub-orders' orders; the operator names either,
// or neither for the pavilion's (one scoped to a place: those with a line placed in it).
void ListOrders(Context& cx, const Request& r, Respond respond) {
  const Query& q = r.query;
  order::ListQuery query{q.Get("shopper_id"), q.Get("seller_id"), q.Get("status"), q.Get("cursor"),
                         20};
  // Query::Int refuses trailing junk ("1x", "10abc"), as every route's integers are read.
  std::string error;
  if (auto limit = q.Int("limit", 1, 100, &error)) {
    query.limit = static_cast<int>(*limit);
  } else if (!error.empty()) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  // The pavilion's orders over business days (China Standard Time), and in a place.
  std::string from, to;
  if (!q.Days(&from, &to, &error) || !q.PlaceCode(&query.place_code, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  if (!from.empty()) query.from_micros = events::BusinessDayStartMicros(from);
  // (A day before 1970 bounds to nothing rather than to "no bound", 0.)
  if (!to.empty()) {
    query.to_micros =
        std::max<int64_t>(1, events::BusinessDayStartMicros(to) + events::kMicrosPerDay);
  }
  const Principal& who = *r.who;
  if (who.role == Role::kShopper) {
    if (!query.seller_id.empty()) {
      return respond(ErrorResponse(kForbidden, "seller_id: not yours"));
    }
    if (auto denied = ActFor(who, Role::kShopper, "shopper_id", query.shopper_id)) {
      return respond(std::move(*denied));
    }
  } else if (who.role == Role::kSeller) {
    if (!query.shopper_id.empty()) {
      return respond(ErrorResponse(kForbidden, "shopper_id: not yours"));
    }
    if (auto denied = ActFor(who, Role::kSeller, "seller_id", query.seller_id)) {
      return respond(std::move(*denied));
    }
  } else if (auto denied = ScopePlace(cx, who, "place_code", query.place_code)) {
    return respond(std::move(*denied));
  }
  cx.s.orders.List(query, [respond](Result<order::OrderPage> page) {
    if (!page.ok()) return respond(FromServiceError(page.error_detail()));
    base::JsonWriter w;
    w.BeginObject().Key("orders").BeginArray();
    for (const auto& o : page->orders) WriteOrder(w, o);
    w.EndArray();
    if (page->next_cursor.empty()) {
      w.Key("next_cursor").Null();
    } else {
      w.Field("next_cursor", page->next_cursor);
    }
    w.EndObject();
    respond(JsonResponse(200, w.Take()));
  });
}

// With the instant provider (tests, the demo) the answer is the paid order. With the prepay one
// it is 202: the order, still pending_payment, and the intent the shopper completes in the
// provider's app; the provider's signed notification (POST /v1/payments/notify) pays the order.
void PayOrder(Context& cx, const Request& r, Respond respond) {
  const bool can_notify = !cx.options.payment_secret.empty();
  cx.s.orders.StartPayment(
      r.params[0], ActorOf(*r.who),
      [respond = std::move(respond), can_notify](Result<order::PayOutcome> paid) {
        if (!paid.ok()) return respond(FromServiceError(paid.error_detail()));
        if (!paid->intent) return respond(OrderResponse(200, std::move(paid->order)));
        HttpResponse answer;
        answer.status = 202;
        answer.render = [o = std::move(paid->order), intent = std::move(*paid->intent),
                         can_notify] {
          std::string json = OrderJson(o);
          base::JsonWriter w;
          w.BeginObject().Field("provider", intent.provider).Field("intent_id", intent.intent_id);
          w.Field("amount_fen", intent.amount.value());
          w.Field("expires_micros", intent.expires_micros);
          w.Field("next",
                  can_notify
                      ? "complete the payment in the provider's app; the provider then sends POST "
                        "/v1/payments/notify (signed with the payment secret) and the order "
                        "becomes paid: read it with GET /v1/orders/{id}"
                      : "this server has no payment secret, so no provider notification can be "
                        "accepted and the order cannot be paid: set --payment-secret (or "
                        "PAVILION_PAYMENT_SECRET), or run with --payment-provider instant for a "
                        "demo");
          w.EndObject();
          json.pop_back();
          json += ",\"payment_intent\":" + w.Take() + "}";
          return json;
        };
        respond(std::move(answer));
      });
}

void CancelOrder(Context& cx, const Request& r, Respond respond) {
  cx.s.orders.Cancel(r.params[0], ActorOf(*r.who), OrderAnswer(std::move(respond)));
}

void ShipOrder(Context& cx, const Request& r, Respond respond) {
  std::string sub, carrier, tracking;
  if (!ReadOptionalStrings(
          r.http, respond,
          {{"sub_order_id", &sub}, {"carrier", &carrier}, {"tracking_no", &tracking}})) {
    return;
  }
  ForOrderSeller(cx, *r.who, r.params[0], sub, respond,
                 [&cx, id = r.params[0], sub, carrier, tracking, who = *r.who, respond] {
                   cx.s.orders.Ship(id, sub, carrier, tracking, ActorOf(who), OrderAnswer(respond));
                 });
}

void DeliverOrder(Context& cx, const Request& r, Respond respond) {
  std::string sub;
  if (!ReadOptionalStrings(r.http, respond, {{"sub_order_id", &sub}})) return;
  ForOrderSeller(cx, *r.who, r.params[0], sub, respond,
                 [&cx, id = r.params[0], sub, who = *r.who, respond] {
                   cx.s.orders.Deliver(id, sub, ActorOf(who), OrderAnswer(respond));
                 });
}

void ConfirmOrder(Context& cx, const Request& r, Respond respond) {
  std::string sub;
  if (!ReadOptionalStrings(r.http, respond, {{"sub_order_id", &sub}})) return;
  cx.s.orders.Confirm(r.params[0], sub, ActorOf(*r.who), OrderAnswer(std::move(respond)));
}

}  // namespace pavilion::gateway::routes
