// POST /v1/sellers (the operator registers a seller and gets its token), GET /v1/sellers/{id}.
#include "../views.h"
#include "routes.h"

namespace pavilion::gateway::routes {

void CreateSeller(Context& cx, const Request& r, Respond respond) {
  catalog::SellerInput in;
  Body body;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "name") return body.String(v, in.name, 200);
    if (key == "place_code") return body.String(v, in.place_code, 12);
    if (key == "supplier_type") return body.String(v, in.supplier_type, 40);
    return true;
  });
  if (!ok) return respond(body.TakeError());
  if (in.supplier_type.empty()) in.supplier_type = "enterprise";
  cx.s.catalog.RegisterSeller(in, [&cx, respond](Result<catalog::Seller> s) {
    if (!s.ok()) return respond(FromServiceError(s.error_detail()));
    auto token = cx.identity.Issue(Role::kSeller, s->id);
    if (!token.ok()) {
      return respond(ErrorResponse(kInternal, "could not store the seller's token"));
    }
    respond(JsonResponse(201, SellerJson(*s, &*token, cx.PlaceName(s->place_code))));
  });
}

void GetSeller(Context& cx, const Request& r, Respond respond) {
  cx.s.catalog.GetSeller(r.params[0], [&cx, respond](Result<catalog::Seller> s) {
    if (!s.ok()) return respond(FromServiceError(s.error_detail()));
    respond(JsonResponse(200, SellerJson(*s, nullptr, cx.PlaceName(s->place_code))));
  });
}

}  // namespace pavilion::gateway::routes
