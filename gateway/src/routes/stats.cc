// GET /v1/stats/sales: the sales projection (services/settlement/README.md, "The sales
// projection") grouped by seller, place at any level, supplier type, brand, category,
// agricultural or not, product, channel, poverty-household products or in total; filtered on the
// same; over business days cut into periods; as of any moment; with year-on-year and
// period-on-period columns and a top N (operator; one scoped to a place sees sales within it).
// Place codes come with their names when the
// place directory is loaded (--places). Answered on the sales worker. `as_of` is read here for
// every route measured on the sales projection (ReadAsOf).
#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "pavilion/places/place_directory.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// "true"/"1", "false"/"0", or absent; false (with *error) for anything else.
bool Bool(const Query& q, std::string_view name, std::optional<bool>* out, std::string* error) {
  if (!q.Has(name)) return true;
  const std::string& v = q.Get(name);
  if (v == "true" || v == "1") {
    *out = true;
  } else if (v == "false" || v == "0") {
    *out = false;
  } else {
    *error = std::string(name) + ": use true or false";
    return false;
  }
  return true;
}

// The field a group's key is shown under.
std::string_view KeyField(std::string_view group_by) {
  if (group_by == "seller") return "seller_id";
  if (group_by == "place") return "place_code";
  if (group_by == "product") return "product_id";
  return group_by;
}

// Growth over a base, in basis points (settlement::GrowthBps); null without a positive base.
void Growth(base::JsonWriter& w, std::string_view name, Fen now, Fen base) {
  w.Key(name);
  if (auto bps = settlement::GrowthBps(now, base)) {
    w.Int(*bps);
  } else {
    w.Null();
  }
}

}  // namespace

std::optional<HttpResponse> ReadAsOf(Context& cx, const Query& q, int64_t* micros) {
  *micros = 0;
  if (!q.Has("as_of")) return std::nullopt;
  const std::string& text = q.Get("as_of");
  auto at = settlement::ParseAsOf(text);
  if (!at) {
    return ErrorResponse(kInvalidField,
                         "as_of: give an RFC 3339 time (2026-11-03T10:00:00+08:00) or a business "
                         "day (2026-11-03, as it closed)");
  }
  const int64_t now = cx.s.store.clock().NowMicros();
  // A business day given is as it closed: today's is as it stands now.
  if (text.size() == 10 && *at > now && text == cx.Today()) at = now;
  if (*at > now) {
    return ErrorResponse(kInvalidField,
                         "as_of: " + text + " has not come yet; give a time up to now");
  }
  *micros = std::max<int64_t>(*at, 1);
  return std::nullopt;
}

void SalesStats(Context& cx, const Request& r, Respond respond) {
  const Query& q = r.query;
  settlement::SalesQuery query;
  if (q.Has("group_by")) query.group_by = q.Get("group_by");
  std::string error;
  if (!q.Day("from", &query.from_day, &error) || !q.Day("to", &query.to_day, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  query.by_day = q.Flag("by_day");
  query.period = q.Get("period");
  query.level = q.Get("level");
  auto& f = query.filter;
  f.within = q.Get("within");
  if (auto denied = ScopePlace(cx, *r.who, "within", f.within)) return respond(std::move(*denied));
  f.seller_id = q.Get("seller_id");
  f.supplier_type = q.Get("supplier_type");
  f.brand = q.Get("brand");
  f.category = q.Get("category");
  f.product_id = q.Get("product_id");
  f.channel = q.Get("channel");
  std::optional<bool> rural;
  if (!Bool(q, "agricultural", &f.agricultural, &error) ||
      !Bool(q, "poverty", &f.poverty, &error) || !Bool(q, "rural", &rural, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  f.rural = rural.value_or(false);
  // brands=a,b: any of these (original brands, as award rules list them).
  for (std::string_view one : q.List("brands")) {
    if (one.empty() || f.brands.size() == settlement::kMaxAwardBrands) {
      return respond(ErrorResponse(
          kInvalidField, "brands: give 1 to " + std::to_string(settlement::kMaxAwardBrands) +
                             " brand names separated by commas, none empty"));
    }
    f.brands.emplace_back(one);
  }
  if (q.Has("rural") && !f.rural) {
    return respond(ErrorResponse(kInvalidField,
                                 "rural: only rural=true (sales placed in villages, 镇 and 乡) "
                                 "filters; leave it out for all sales"));
  }
  if (auto bad = ReadAsOf(cx, q, &query.as_of_micros)) return respond(std::move(*bad));
  for (std::string_view one : q.List("compare")) {
    if (one == "yoy") {
      query.compare_year = true;
    } else if (one == "pop") {
      query.compare_previous = true;
    } else {
      return respond(ErrorResponse(kInvalidField,
                                   "compare: use yoy (the same period a year before), pop (the "
                                   "period before) or yoy,pop"));
    }
  }
  const auto top = q.Int("top", 1, 10000, &error);
  if (!error.empty()) return respond(ErrorResponse(kInvalidField, error));
  query.top = static_cast<size_t>(top.value_or(0));
  places::PlaceDirectory* directory =
      cx.s.places != nullptr && !cx.s.places->Source().empty() ? cx.s.places : nullptr;
  cx.s.settlement.Sales(
      query, [query, directory, respond](Result<std::vector<settlement::SalesRow>> rows) {
        if (!rows.ok()) return respond(FromServiceError(rows.error_detail()));
        const bool place = query.group_by == "place";
        const bool by_day = query.by_day || query.period == "day";
        base::JsonWriter w;
        w.BeginObject().Field("group_by", query.group_by);
        if (!query.level.empty()) w.Field("level", query.level);
        if (!query.period.empty() || by_day) w.Field("period", by_day ? "day" : query.period);
        w.Key("rows").BeginArray();
        Fen total;
        std::string name_of, name;  // The last code named: rows of one place come together.
        for (const auto& row : *rows) {
          w.BeginObject();
          if (query.group_by == "agricultural" || query.group_by == "poverty") {
            w.Field(KeyField(query.group_by), row.key == "true");
          } else if (query.group_by != "total") {
            w.Field(KeyField(query.group_by), row.key);
          }
          if (!row.day.empty()) w.Field(by_day ? "day" : "period", row.day);
          w.Field("amount_fen", row.totals.amount.value()).Field("orders", row.totals.orders);
          w.Field("units", row.totals.units);
          if (place && directory != nullptr) {
            if (name_of != row.key) {
              name_of = row.key;
              name = directory->FullName(row.key);
            }
            if (!name.empty()) w.Field("place_name", name);
          }
          w.Field("paid_fen", row.totals.paid.value())
              .Field("refunded_fen", row.totals.refunded.value());
          w.Field("net_fen", row.totals.amount.value());
          w.Field("units_paid", row.totals.units_paid)
              .Field("units_refunded", row.totals.units_refunded);
          w.Field("selling_sellers", row.totals.selling_sellers);
          w.Field("new_sellers", row.totals.new_sellers);
          if (row.year_ago) {
            w.Key("year_ago").BeginObject();
            WriteSalesTotals(w, *row.year_ago);
            w.EndObject();
            Growth(w, "yoy_bps", row.totals.amount, row.year_ago->amount);
          }
          if (row.previous) {
            w.Key("previous").BeginObject();
            WriteSalesTotals(w, *row.previous);
            w.EndObject();
            Growth(w, "pop_bps", row.totals.amount, row.previous->amount);
          }
          w.EndObject();
          total = total.SaturatingAdd(row.totals.amount);
        }
        w.EndArray().Field("total_amount_fen", total.value());
        if (!query.filter.within.empty()) {
          w.Field("within", query.filter.within);
          if (directory != nullptr) {
            const std::string within = directory->FullName(query.filter.within);
            if (!within.empty()) w.Field("within_name", within);
          }
        }
        w.EndObject();
        respond(JsonResponse(200, w.Take()));
      });
}

}  // namespace pavilion::gateway::routes
