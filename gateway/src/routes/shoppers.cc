// POST /v1/shoppers: anyone registers as a shopper and gets its token (its id carries when: a
// new shopper holds stock within CatalogOptions::new_shopper_hold_cap), at a rate per address.
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "routes.h"

namespace pavilion::gateway::routes {

void CreateShopper(Context& cx, const Request& r, Respond respond) {
  if (const int64_t wait =
          cx.shopper_limiter.Take(r.http.peer, cx.s.store.clock().MonotonicMicros())) {
    return respond(RateLimited("POST /v1/shoppers", wait));
  }
  std::string name;
  if (!r.http.body.empty()) {
    Body body;
    bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
      if (key == "name") return body.String(v, name, 200);
      return true;
    });
    if (!ok) return respond(body.TakeError());
  }
  std::string id = events::NewId("shp");
  auto token = cx.identity.Issue(Role::kShopper, id);
  if (!token.ok()) {
    return respond(ErrorResponse(kInternal, "could not store the shopper's token"));
  }
  base::JsonWriter w;
  w.BeginObject().Field("id", id).Field("name", name).Field("token", *token).EndObject();
  respond(JsonResponse(201, w.Take()));
}

}  // namespace pavilion::gateway::routes
