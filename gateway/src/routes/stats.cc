// GET /v1/stats/sales: confirmed sales per seller or per place, over business days (operator).
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "routes.h"

namespace pavilion::gateway::routes {

void SalesStats(Context& cx, const Request& r, Respond respond) {
  const Query& q = r.query;
  settlement::SalesQuery query;
  if (q.Has("group_by")) query.group_by = q.Get("group_by");
  std::string error;
  if (!q.Day("from", &query.from_day, &error) || !q.Day("to", &query.to_day, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  query.by_day = q.Flag("by_day");
  cx.s.settlement.Sales(query, [query, respond](Result<std::vector<settlement::SalesRow>> rows) {
    if (!rows.ok()) return respond(FromServiceError(rows.error_detail()));
    base::JsonWriter w;
    w.BeginObject().Field("group_by", query.group_by).Key("rows").BeginArray();
    Fen total;
    for (const auto& row : *rows) {
      w.BeginObject().Field(query.group_by == "seller" ? "seller_id" : "place_code", row.key);
      if (!row.day.empty()) w.Field("day", row.day);
      w.Field("amount_fen", row.totals.amount.value()).Field("orders", row.totals.orders);
      w.Field("units", row.totals.units).EndObject();
      total += row.totals.amount;
    }
    w.EndArray().Field("total_amount_fen", total.value()).EndObject();
    respond(JsonResponse(200, w.Take()));
  });
}

}  // namespace pavilion::gateway::routes
