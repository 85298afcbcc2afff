// Orders: placement (the hot path: POST /v1/orders, answered within a bounded wait), reading and
// listing, and the lifecycle commands pay, cancel, ship, deliver and confirm.
#include <charconv>

#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

constexpr size_t kMaxIdempotencyKey = 128;

}  // namespace

order::Actor ActorOf(const Principal& who) { return {who.role, who.subject}; }

std::function<void(Result<order::Order>)> OrderAnswer(Respond respond, int status) {
  return [respond = std::move(respond), status](Result<order::Order> o) {
    if (!o.ok()) return respond(FromServiceError(o.error_detail()));
    respond(OrderResponse(status, std::move(*o)));
  };
}

void CreateOrder(Context& cx, const Request& r, Respond respond) {
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

  auto call = std::make_shared<PendingCall>(std::move(respond));
  call->order_id = cx.s.orders.Place(std::move(in), [call](Result<order::Order> o) {
    if (!call->Claim()) return;
    // Moved out: the session it holds need not wait for the sweep to drop the call.
    auto respond = std::move(call->respond);
    if (!o.ok()) return respond(FromServiceError(o.error_detail()));
    respond(OrderResponse(201, std::move(*o)));
  });
  cx.order_waits->Add(std::move(call));  // Only the sweep reads order_id, after this.
}

// The order with its event history, oldest first.
void GetOrder(Context& cx, const Request& r, Respond respond) {
  cx.s.orders.Get(r.params[0], ActorOf(*r.who), [&cx, respond](Result<order::Order> o) {
    if (!o.ok()) return respond(FromServiceError(o.error_detail()));
    std::string json = OrderJson(*o);
    base::JsonWriter h;
    h.BeginArray();
    if (auto history = cx.s.store.ReadStream(o->id); history.ok()) {
      for (const auto& e : *history) {
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

// Shoppers list their own orders, sellers their own sub-orders' orders; the operator names either.
void ListOrders(Context& cx, const Request& r, Respond respond) {
  const Query& q = r.query;
  order::ListQuery query{q.Get("shopper_id"), q.Get("seller_id"), q.Get("status"), q.Get("cursor"),
                         20};
  if (const std::string& text = q.Get("limit"); !text.empty()) {
    int limit = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || limit < 1 || limit > 100) {
      return respond(ErrorResponse(kInvalidField, "limit: give 1 to 100"));
    }
    query.limit = limit;
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

void PayOrder(Context& cx, const Request& r, Respond respond) {
  cx.s.orders.Pay(r.params[0], ActorOf(*r.who), OrderAnswer(std::move(respond)));
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
  cx.s.orders.Ship(r.params[0], sub, carrier, tracking, ActorOf(*r.who),
                   OrderAnswer(std::move(respond)));
}

void DeliverOrder(Context& cx, const Request& r, Respond respond) {
  std::string sub;
  if (!ReadOptionalStrings(r.http, respond, {{"sub_order_id", &sub}})) return;
  cx.s.orders.Deliver(r.params[0], sub, ActorOf(*r.who), OrderAnswer(std::move(respond)));
}

void ConfirmOrder(Context& cx, const Request& r, Respond respond) {
  std::string sub;
  if (!ReadOptionalStrings(r.http, respond, {{"sub_order_id", &sub}})) return;
  cx.s.orders.Confirm(r.params[0], sub, ActorOf(*r.who), OrderAnswer(std::move(respond)));
}

}  // namespace pavilion::gateway::routes
