#include "progress.h"

#include <algorithm>

#include "calendar.h"
#include "pavilion/base/enum_names.h"

namespace pavilion::settlement {
namespace {

namespace schema = events::schema;
using schema::EntityKind;
using schema::TargetMetric;
// Products of fen and counts, before dividing: GCC's 128-bit integer (an extension).
__extension__ using Wide = __int128;

constexpr EnumNames<ForecastMethod, 4> kMethods({"not_started", "linear", "last_year_shape",
                                                 "final"});

int64_t Clamp(Wide v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}
// a × num ÷ den, rounded down (den > 0).
int64_t Scale(int64_t a, int64_t num, int64_t den) {
  Wide q = Wide{a} * num / den;
  if ((Wide{a} * num) % den != 0 && (a < 0) != (num < 0)) --q;
  return Clamp(q);
}
// base × (10000 + bps) ÷ 10000, rounded up.
int64_t Grown(int64_t base, int64_t bps) {
  const Wide n = Wide{base} * (10000 + bps);
  Wide q = n / 10000;
  if (n % 10000 != 0 && n > 0) ++q;
  return Clamp(q);
}

bool Passes(Fen net, Fen threshold, bool strict) {
  return strict ? net > threshold : net >= threshold;
}

SalesFilter FilterOf(const schema::TargetScope& s, TargetMetric metric) {
  SalesFilter f;
  f.within = s.place_code;
  f.brand = s.brand;
  f.category = s.category;
  f.supplier_type = s.supplier_type;
  f.seller_id = s.seller_id;
  if (s.agricultural != schema::Either::kAny)
    f.agricultural = s.agricultural == schema::Either::kYes;
  if (s.poverty != schema::Either::kAny) f.poverty = s.poverty == schema::Either::kYes;
  if (metric == TargetMetric::kAgriculturalNetSales) f.agricultural = true;
  f.rural = s.rural;
  return f;
}

// What one measure asks of the cube: a filter, as of a moment.
struct Reader {
  const SalesReader& sales;
  int64_t as_of;

  Result<std::vector<SalesRow>> Rows(std::string group_by, std::string level, const SalesFilter& f,
                                     int from, int to) const {
    SalesQuery q(std::move(group_by), DayString(from), DayString(to));
    q.level = std::move(level);
    q.filter = f;
    q.as_of_micros = as_of;
    return sales(q);
  }
  // The metric's figure over days [from, to].
  Result<int64_t> Figure(TargetMetric metric, const SalesFilter& f, int from, int to) const {
    auto rows = Rows("total", "", f, from, to);
    if (!rows.ok()) return rows.error_detail();
    if (rows->empty()) return int64_t{0};
    const SalesTotals& t = rows->front().totals;
    switch (metric) {
      case TargetMetric::kOrders:
        return t.orders;
      case TargetMetric::kNewSellers:
        return t.new_sellers;
      default:
        return t.amount.value();
    }
  }
  // Every entity of a kind with sales in days [from, to], with its net.
  Result<std::vector<Entity>> Entities(EntityKind kind, const SalesFilter& f, int from,
                                       int to) const {
    std::string group_by = "place", level;
    size_t digits = 0;
    switch (kind) {
      case EntityKind::kSeller:
        group_by = "seller";
        break;
      case EntityKind::kBrand:
        group_by = "brand";
        break;
      case EntityKind::kProduct:
        group_by = "product";
        break;
      case EntityKind::kTown:
        level = "town", digits = 9;
        break;
      case EntityKind::kVillage:
        level = "village", digits = 12;
        break;
    }
    auto rows = Rows(group_by, level, f, from, to);
    if (!rows.ok()) return rows.error_detail();
    std::vector<Entity> out;
    for (auto& r : *rows) {
      // A brand is a name: sales without one are of no brand. A sale placed coarser than the
      // level keeps its own code: it is in no town (village).
      if (r.key.empty() || (digits != 0 && r.key.size() != digits)) continue;
      out.push_back({std::move(r.key), "", r.totals.amount});
    }
    return out;
  }
};

void ByNet(std::vector<Entity>& v) {
  std::stable_sort(v.begin(), v.end(), [](const Entity& a, const Entity& b) {
    return a.net != b.net ? a.net > b.net : a.key < b.key;
  });
}

}  // namespace

std::string_view ToString(ForecastMethod m) { return kMethods.Name(m); }

Result<bool> MeasureTarget(TargetView& view, int64_t as_of_micros, int64_t now_micros,
                           const SalesReader& sales, const EntityNamer& name) {
  const schema::TargetDefined& t = view.definition;
  const auto period = ParsePeriodLabel(t.period);
  if (!period) return {events::svc_errc::internal, "the target's period does not parse"};
  const auto [from, to] = *period;
  const int64_t moment = as_of_micros != 0 ? as_of_micros : now_micros;
  const int day = DayOfMicros(moment);
  const int days = to - from + 1;
  const int elapsed = std::clamp(day - from + 1, 0, days);
  view.measured = true;
  view.as_of_micros = moment;
  view.from_day = DayString(from);
  view.to_day = DayString(to);
  view.days = days;
  view.days_elapsed = elapsed;
  view.progress.assign(t.parts.size(), PartProgress{});
  const Reader read{sales, as_of_micros};
  const bool entities = t.metric == TargetMetric::kEntities;
  const int ly_from = YearBefore(from), ly_to = YearBefore(to), ly_day = YearBefore(day);
  auto counted = [&](const std::vector<Entity>& all, int64_t num, int64_t den) {
    int64_t n = 0;
    for (const auto& e : all)
      n += Passes(Fen(Scale(e.net.value(), num, den)), t.threshold, t.strict);
    return n;
  };
  for (size_t i = 0; i < t.parts.size(); ++i) {
    const schema::TargetPart& part = t.parts[i];
    PartProgress& p = view.progress[i];
    const SalesFilter filter = FilterOf(part.scope, t.metric);
    std::vector<Entity> all;
    if (entities) {
      auto got = read.Entities(t.entity_kind, filter, from, to);
      if (!got.ok()) return got.error_detail();
      all = std::move(*got);
      ByNet(all);
      p.actual = counted(all, 1, 1);
      for (const auto& e : all) {
        if (p.entities.size() == kMaxListedEntities || !Passes(e.net, t.threshold, t.strict)) break;
        p.entities.push_back({e.key, name(t.entity_kind, e.key), e.net});
      }
    } else {
      auto got = read.Figure(t.metric, filter, from, to);
      if (!got.ok()) return got.error_detail();
      p.actual = *got;
    }
    // Last year's figure over the whole period: the growth target's base, and the shape.
    std::optional<int64_t> last_year;
    auto last_year_of = [&]() -> Result<int64_t> {
      if (entities) {
        auto got = read.Entities(t.entity_kind, filter, ly_from, ly_to);
        if (!got.ok()) return got.error_detail();
        return counted(*got, 1, 1);
      }
      return read.Figure(t.metric, filter, ly_from, ly_to);
    };
    if (t.growth) {
      auto base = last_year_of();
      if (!base.ok()) return base.error_detail();
      p.base = *base;
      p.value = Grown(*base, t.growth_bps);
      if (!entities) last_year = *base;
    } else {
      p.value = part.value;
    }
    if (p.value > 0) p.percent_bps = Scale(p.actual, 10000, p.value);
    for (size_t k = i + 1; k < t.parts.size(); ++k) {
      if (static_cast<size_t>(t.parts[k].parent) == i) p.split_sum += t.parts[k].value;
    }
    if (elapsed == 0) {
      p.method = ForecastMethod::kNotStarted;
      continue;
    }
    if (elapsed == days) {
      p.method = ForecastMethod::kFinal;
      p.forecast = p.actual;
    } else {
      // The shape: of the metric itself, or for entities of the scope's net sales.
      const TargetMetric shape_metric = entities ? TargetMetric::kNetSales : t.metric;
      if (!last_year) {
        auto got = read.Figure(shape_metric, filter, ly_from, ly_to);
        if (!got.ok()) return got.error_detail();
        last_year = *got;
      }
      auto to_date = read.Figure(shape_metric, filter, ly_from, ly_day);
      if (!to_date.ok()) return to_date.error_detail();
      int64_t num = days, den = elapsed;
      p.method = ForecastMethod::kLinear;
      if (*last_year > 0 && *to_date > 0) {
        num = *last_year, den = *to_date;
        p.method = ForecastMethod::kLastYearShape;
      }
      p.forecast = entities ? counted(all, num, den) : Scale(p.actual, num, den);
    }
    p.on_track = *p.forecast >= p.value;
  }
  return true;
}

Result<AwardResults> MeasureAwards(const AwardRuleView& rule, int64_t as_of_micros,
                                   int64_t now_micros, const SalesReader& sales,
                                   const EntityNamer& name) {
  const schema::AwardRuleDefined& r = rule.definition;
  const auto period = ParsePeriodLabel(r.period);
  if (!period) return {events::svc_errc::internal, "the rule's period does not parse"};
  AwardResults out;
  out.rule = rule;
  out.as_of_micros = as_of_micros != 0 ? as_of_micros : now_micros;
  out.from_day = DayString(period->first);
  out.to_day = DayString(period->second);
  SalesFilter filter;
  filter.within = r.within;
  filter.brands = r.brands;
  auto all = Reader{sales, as_of_micros}.Entities(r.kind, filter, period->first, period->second);
  if (!all.ok()) return all.error_detail();
  ByNet(*all);
  for (auto& e : *all) {
    if (!Passes(e.net, r.threshold, r.strict)) continue;
    Fen award = r.award;
    if (r.rate_bps > 0) {
      award = Fen(Scale(e.net.value(), r.rate_bps, 10000));
      if (r.cap.value() > 0) award = std::min(award, r.cap);
    }
    e.name = name(r.kind, e.key);
    out.total_award = out.total_award.SaturatingAdd(award);
    out.qualifiers.push_back({std::move(e), award});
  }
  return out;
}

}  // namespace pavilion::settlement
