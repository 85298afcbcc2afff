// POST /v1/sellers (the operator registers a seller and gets its token), GET /v1/sellers/{id},
// GET /v1/sellers (the operator's directory, filtered, a page at a time).
#include "../views.h"
#include "pavilion/base/json_writer.h"
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

void ListSellers(Context& cx, const Request& r, Respond respond) {
  catalog::SellerQuery q;
  q.place_code = r.query.Get("place_code");
  if (q.place_code.find_first_not_of("0123456789") != std::string::npos) {
    return respond(ErrorResponse(kInvalidField, "place_code: give digits (a code or its prefix)"));
  }
  q.supplier_type = r.query.Get("supplier_type");
  q.name = r.query.Get("q");
  q.after = r.query.Get("after");
  std::string error;
  const auto limit = r.query.Int("limit", 1, 200, &error);
  if (!error.empty()) return respond(ErrorResponse(kInvalidField, error));
  q.limit = static_cast<size_t>(limit.value_or(50));
  cx.s.catalog.ListSellers(std::move(q), [&cx, respond](Result<catalog::SellerPage> page) {
    if (!page.ok()) return respond(FromServiceError(page.error_detail()));
    std::string json = "{\"sellers\":[";
    for (size_t i = 0; i < page->sellers.size(); ++i) {
      const auto& s = page->sellers[i];
      if (i) json += ",";
      json += SellerJson(s, nullptr, cx.PlaceName(s.place_code));
    }
    base::JsonWriter w;
    w.String(page->next_after);
    json += "],\"next_after\":" + w.Take() + "}";
    respond(JsonResponse(200, std::move(json)));
  });
}

}  // namespace pavilion::gateway::routes
