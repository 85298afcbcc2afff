// POST /v1/sellers (the operator registers a seller and gets its token), GET /v1/sellers/{id},
// GET /v1/sellers (the operator's directory, filtered, a page at a time). An operator scoped to
// a place registers and lists sellers in it.
#include <unordered_map>

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
  if (auto denied = ScopePlace(cx, *r.who, "place_code", in.place_code)) {
    return respond(std::move(*denied));
  }
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
  std::string error;
  if (!r.query.PlaceCode(&q.place_code, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  if (auto denied = ScopePlace(cx, *r.who, "place_code", q.place_code)) {
    return respond(std::move(*denied));
  }
  q.supplier_type = r.query.Get("supplier_type");
  q.name = r.query.Get("q");
  q.after = r.query.Get("after");
  const auto limit = r.query.Int("limit", 1, 200, &error);
  if (!error.empty()) return respond(ErrorResponse(kInvalidField, error));
  q.limit = static_cast<size_t>(limit.value_or(50));
  // Each seller's sales over the period (business days, both included; all time without them),
  // from the sales projection: one query, for the page's sellers only.
  settlement::SalesQuery totals("seller");
  if (!r.query.Days(&totals.from_day, &totals.to_day, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  cx.s.catalog.ListSellers(std::move(q), [&cx, respond, totals = std::move(totals)](
                                             Result<catalog::SellerPage> page) mutable {
    if (!page.ok()) return respond(FromServiceError(page.error_detail()));
    if (page->sellers.empty()) {
      return respond(JsonResponse(200, R"({"sellers":[],"next_after":""})"));
    }
    for (const auto& s : page->sellers) totals.filter.seller_ids.push_back(s.id);
    cx.s.settlement.Sales(totals, [&cx, respond, page = std::move(page).value()](
                                      Result<std::vector<settlement::SalesRow>> rows) {
      if (!rows.ok()) return respond(FromServiceError(rows.error_detail()));
      std::unordered_map<std::string_view, const settlement::SalesTotals*> of;
      for (const auto& row : *rows) of.emplace(row.key, &row.totals);
      const settlement::SalesTotals none;
      base::JsonWriter w;
      w.BeginObject().Key("sellers").BeginArray();
      for (const auto& s : page.sellers) {
        w.BeginObject();
        WriteSellerFields(w, s, nullptr, cx.PlaceName(s.place_code));
        const auto it = of.find(s.id);
        w.Key("totals").BeginObject();
        WriteSalesTotals(w, it == of.end() ? none : *it->second);
        w.EndObject().EndObject();
      }
      w.EndArray().Field("next_after", page.next_after).EndObject();
      respond(JsonResponse(200, w.Take()));
    });
  });
}

}  // namespace pavilion::gateway::routes
