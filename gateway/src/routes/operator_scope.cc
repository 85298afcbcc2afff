// What an operator scoped to a place may see and do: the checks every route that admits one
// calls (routes.h, "Operators scoped to a place").
#include <algorithm>

#include "routes.h"

namespace pavilion::gateway {

HttpResponse OutsideScope(const Context& cx, const Principal& who, std::string_view field) {
  const std::string name = cx.PlaceName(who.place_code);
  return ErrorResponse(kForbidden, std::string(field) + ": this token sees " + who.place_code +
                                       (name.empty() ? "" : " (" + name + ")") + " only");
}

std::optional<HttpResponse> ScopePlace(const Context& cx, const Principal& who,
                                       std::string_view field, std::string& place) {
  if (!who.Scoped()) return std::nullopt;
  if (place.empty()) place = who.place_code;
  if (who.Sees(place)) return std::nullopt;
  return OutsideScope(cx, who, field);
}

void ForSeller(Context& cx, const Principal& who, std::string_view field,
               const std::string& seller_id, const Respond& respond, std::function<void()> then) {
  if (!who.Scoped()) return then();
  cx.s.catalog.GetSeller(seller_id, [&cx, who, field = std::string(field), respond,
                                     then = std::move(then)](Result<catalog::Seller> s) {
    if (!s.ok()) return respond(FromServiceError(s.error_detail()));
    if (!who.Sees(s->place_code)) return respond(OutsideScope(cx, who, field));
    then();
  });
}

void ForProductSeller(Context& cx, const Principal& who, const std::string& product_id,
                      const Respond& respond, std::function<void()> then) {
  if (!who.Scoped()) return then();
  cx.s.catalog.GetProduct(
      product_id, [&cx, who, respond, then = std::move(then)](Result<catalog::Product> p) mutable {
        if (!p.ok()) return respond(FromServiceError(p.error_detail()));
        ForSeller(cx, who, "the product's seller", p->seller_id, respond, std::move(then));
      });
}

bool SeesOrder(const Principal& who, const order::Order& o) {
  return std::ranges::any_of(o.lines, [&who](const order::OrderLine& l) {
    return !l.place_code.empty() && who.Sees(l.place_code);
  });
}

void ForOrder(Context& cx, const Principal& who, const std::string& order_id,
              const Respond& respond, std::function<void()> then) {
  if (!who.Scoped()) return then();
  cx.s.orders.Get(order_id, routes::ActorOf(who),
                  [who, respond, then = std::move(then)](Result<order::Order> o) {
                    if (!o.ok()) return respond(FromServiceError(o.error_detail()));
                    // As a seller or shopper not in the order is answered.
                    if (!SeesOrder(who, *o)) {
                      return respond(ErrorResponse(kNotFound, "order " + o->id + " not found"));
                    }
                    then();
                  });
}

void ForOrderSeller(Context& cx, const Principal& who, const std::string& order_id,
                    const std::string& id, const Respond& respond, std::function<void()> then) {
  if (!who.Scoped()) return then();
  cx.s.orders.Get(order_id, routes::ActorOf(who),
                  [&cx, who, id, respond, then = std::move(then)](Result<order::Order> o) mutable {
                    if (!o.ok()) return respond(FromServiceError(o.error_detail()));
                    std::string sub_id = id;
                    for (const auto& refund : o->refunds) {
                      if (refund.id == id) sub_id = refund.sub_id;
                    }
                    const order::SubOrder* sub = nullptr;
                    for (const auto& s : o->sub_orders) {
                      if (s.id == sub_id || (sub_id.empty() && o->sub_orders.size() == 1)) sub = &s;
                    }
                    if (sub == nullptr) return then();  // Names none: the order service says so.
                    ForSeller(cx, who, "the sub-order's seller", sub->seller_id, respond,
                              std::move(then));
                  });
}

}  // namespace pavilion::gateway
