// POST /v1/distributions: one-click distribution, a seller (or the operator for it; one scoped
// to a place for a distributor in it) resells a supplier's products as listings of its own.
#include "../views.h"
#include "routes.h"

namespace pavilion::gateway::routes {

void Distribute(Context& cx, const Request& r, Respond respond) {
  catalog::DistributeInput in;
  Body body;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "distributor_id") return body.String(v, in.distributor_id, 64);
    if (key == "supplier_id") return body.String(v, in.supplier_id, 64);
    if (key == "markup_percent") return body.Int(v, in.markup_percent);
    if (key == "markup_fen") return body.Int(v, in.markup_fen);
    if (key == "product_ids") {
      return body.Array(v, [&](size_t i, od::value& item) {
        if (i >= 100'000) return body.Fail(kInvalidField, "product_ids: at most 100000");
        return body.String(item, in.product_ids.emplace_back(), 64);
      });
    }
    return true;
  });
  if (!ok) return respond(body.TakeError());
  if (in.supplier_id.empty()) {
    body.Missing("supplier_id");
    return respond(body.TakeError());
  }
  if (auto denied = ActFor(*r.who, Role::kSeller, "distributor_id", in.distributor_id)) {
    return respond(std::move(*denied));
  }
  const std::string distributor_id = in.distributor_id;
  ForSeller(
      cx, *r.who, "distributor_id", distributor_id, respond,
      [&cx, respond, in = std::move(in)]() mutable {
        cx.s.catalog.Distribute(std::move(in), [respond](Result<catalog::DistributeReport> report) {
          if (!report.ok()) return respond(FromServiceError(report.error_detail()));
          base::JsonWriter w;
          w.BeginObject().Field("created", report->created).Field("updated", report->updated);
          w.Field("unchanged", report->unchanged).Key("listing_ids").BeginArray();
          for (const auto& id : report->listing_ids) w.String(id);
          w.EndArray().Field("rejected", static_cast<int>(report->errors.size()));
          w.Key("errors").BeginArray();
          for (const auto& e : report->errors) {
            w.BeginObject().Field("row", e.row).Field("message", e.message).EndObject();
          }
          w.EndArray().EndObject();
          respond(JsonResponse(200, w.Take()));
        });
      });
}

}  // namespace pavilion::gateway::routes
