#include "report.h"

#include <algorithm>
#include <limits>
#include <map>

#include "calendar.h"
#include "pavilion/places/place_directory.h"

namespace pavilion::settlement {
namespace {

namespace schema = events::schema;
using tables::Cell;
using tables::ColumnType;
using tables::Table;

// Whether place `code` lies in `within` (is it or is under it). Every place lies in "" (the
// whole pavilion); "" (no place) lies in "" only.
bool Inside(std::string_view code, std::string_view within) { return code.starts_with(within); }

// A moment in force: defined by then and not retired by then.
template <typename View>
bool InForce(const View& v, int64_t moment) {
  return v.defined_micros <= moment && (v.retired_micros == 0 || v.retired_micros > moment);
}

bool Overlaps(const std::string& period, int from, int to) {
  const auto days = ParsePeriodLabel(period);
  return days && days->first <= to && days->second >= from;
}

Cell Optional(const std::optional<int64_t>& v) {
  if (v) return *v;
  return std::monostate{};
}

struct Namer {
  places::PlaceDirectory* dir;
  // "郭村镇" for rows of one place's sub-regions; "山西省长治市沁县" where a place stands alone.
  std::string Short(std::string_view code) const {
    if (dir == nullptr || code.empty()) return "";
    auto p = dir->Find(code);
    return p ? p->name : "";
  }
  std::string Full(std::string_view code) const {
    return dir == nullptr || code.empty() ? "" : dir->FullName(code);
  }
};

// The figures of a group, with the same period a year before; the counts of selling and new
// sellers where the group is not one seller.
void MetricColumns(Table& t, bool seller_counts) {
  t.columns.insert(t.columns.end(), {{"paid_fen", "已付 paid (元)", ColumnType::kFen},
                                     {"refunded_fen", "退款 refunded (元)", ColumnType::kFen},
                                     {"net_fen", "净额 net (元)", ColumnType::kFen},
                                     {"orders", "订单 orders", ColumnType::kInteger},
                                     {"units", "净件数 net units", ColumnType::kInteger}});
  if (seller_counts) {
    t.columns.insert(t.columns.end(),
                     {{"selling_sellers", "在售卖家 selling sellers", ColumnType::kInteger},
                      {"new_sellers", "新增卖家 new sellers", ColumnType::kInteger}});
  }
  t.columns.insert(t.columns.end(),
                   {{"year_ago_net_fen", "去年同期净额 net a year before (元)", ColumnType::kFen},
                    {"yoy_bps", "同比 year on year (基点 bps)", ColumnType::kInteger}});
}
void MetricCells(std::vector<Cell>& row, const SalesRow& r, bool seller_counts) {
  const SalesTotals& t = r.totals;
  row.insert(row.end(), {t.paid.value(), t.refunded.value(), t.amount.value(), t.orders, t.units});
  if (seller_counts) row.insert(row.end(), {t.selling_sellers, t.new_sellers});
  const Fen base = r.year_ago ? r.year_ago->amount : Fen();
  row.insert(row.end(), {base.value(), Optional(GrowthBps(t.amount, base))});
}

// What every section asks of the projection: the report's place, its period up to the moment
// (a period still running is compared with the same days a year before, not a whole period),
// as of the moment, with the same days a year before.
struct Ask {
  const SalesReader& sales;
  const ReportQuery& q;
  int from, to;  // to: the period's end or the moment's day, whichever is first.
  Result<std::vector<SalesRow>> operator()(std::string group_by, SalesFilter f,
                                           std::string level = "", size_t top = 0) const {
    if (to < from) return std::vector<SalesRow>{};  // The period has not begun.
    SalesQuery s(std::move(group_by), DayString(from), DayString(to));
    s.level = std::move(level);
    s.filter = std::move(f);
    s.filter.within = q.place_code;
    s.as_of_micros = q.as_of_micros;
    s.compare_year = true;
    s.top = top;
    return sales(s);
  }
  // The same days a year before alone (the projection answers a comparison only for a group
  // with sales in the period itself).
  Result<SalesTotals> YearBefore(SalesFilter f) const {
    if (to < from) return SalesTotals{};
    SalesQuery s("total", DayString(settlement::YearBefore(from)),
                 DayString(settlement::YearBefore(to)));
    s.filter = std::move(f);
    s.filter.within = q.place_code;
    s.as_of_micros = q.as_of_micros;
    auto rows = sales(s);
    if (!rows.ok()) return rows.error_detail();
    return rows->empty() ? SalesTotals{} : rows->front().totals;
  }
};
// Every group, the highest net first (a top N as large as can be).
constexpr size_t kAllByNet = std::numeric_limits<size_t>::max();

Table Summary(const SalesReport& r) {
  Table t{"概要 summary",
          {{"item", "项目 item", ColumnType::kText}, {"value", "内容 value", ColumnType::kText}},
          {}};
  auto add = [&t](const char* item, const std::string& value) {
    t.rows.push_back({std::string(item), value});
  };
  add("place_code", r.place_code);
  add("place_name", r.place_name);
  add("period", r.period);
  add("from", r.from_day);
  add("to", r.to_day);
  add("as_of", events::CstTime(r.as_of_micros));
  add("sub_level", r.sub_level);
  return t;
}

Result<Table> Totals(const Ask& ask) {
  Table t{"合计 totals", {{"part", "口径 part", ColumnType::kText}}, {}};
  MetricColumns(t, true);
  SalesFilter agricultural, rural;
  agricultural.agricultural = true;
  rural.rural = true;
  for (auto [part, filter] : {std::pair{"all", SalesFilter{}},
                              std::pair{"agricultural", agricultural}, std::pair{"rural", rural}}) {
    auto rows = ask("total", filter);
    if (!rows.ok()) return rows.error_detail();
    SalesRow none;
    if (rows->empty()) {
      auto before = ask.YearBefore(filter);
      if (!before.ok()) return before.error_detail();
      none.year_ago = *before;
    }
    std::vector<Cell> row{std::string(part)};
    MetricCells(row, rows->empty() ? none : rows->front(), true);
    t.rows.push_back(std::move(row));
  }
  return t;
}

// One row per group: its key, perhaps a name, its figures.
Result<Table> Groups(const Ask& ask, Table t, const std::string& group_by, SalesFilter filter,
                     const std::string& level, size_t top,
                     const std::function<std::string(const std::string&)>& name) {
  const bool seller_counts = group_by != "seller";
  MetricColumns(t, seller_counts);
  auto rows = ask(group_by, std::move(filter), level, top);
  if (!rows.ok()) return rows.error_detail();
  for (const auto& r : *rows) {
    std::vector<Cell> row{r.key};
    if (name) row.push_back(name(r.key));
    MetricCells(row, r, seller_counts);
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table TargetsTable() {
  return {"目标进度 targets",
          {{"target_id", "目标编号 target", ColumnType::kText},
           {"target", "目标 name", ColumnType::kText},
           {"part", "分项 part", ColumnType::kText},
           {"place_code", "地区代码 place", ColumnType::kText},
           {"place_name", "地区 place name", ColumnType::kText},
           {"metric", "指标 metric", ColumnType::kText},
           {"period", "期间 period", ColumnType::kText},
           {"value_fen", "目标额 value (元)", ColumnType::kFen},
           {"actual_fen", "完成额 actual (元)", ColumnType::kFen},
           {"forecast_fen", "预计 forecast (元)", ColumnType::kFen},
           {"value", "目标数 value", ColumnType::kInteger},
           {"actual", "完成数 actual", ColumnType::kInteger},
           {"forecast", "预计数 forecast", ColumnType::kInteger},
           {"percent_bps", "完成率 percent (基点 bps)", ColumnType::kInteger},
           {"forecast_method", "预计方法 forecast method", ColumnType::kText},
           {"track", "进度 track", ColumnType::kText}},
          {}};
}

// The parts of the targets in force whose period meets the report's and whose place lies in
// the report's: a target of the place (or under it) with all its quotas, a wider one with its
// quotas that lie in it.
Result<bool> AddTargets(Table& t, std::vector<TargetView> targets, const ReportQuery& q,
                        int64_t moment, int64_t now, int from, int to, const SalesReader& sales,
                        const EntityNamer& name, const Namer& places) {
  for (TargetView& v : targets) {
    const schema::TargetDefined& d = v.definition;
    if (!InForce(v, moment) || !Overlaps(d.period, from, to) || d.parts.empty()) continue;
    const bool whole = Inside(d.parts[0].scope.place_code, q.place_code);
    std::vector<size_t> shown;
    for (size_t i = 0; i < d.parts.size(); ++i) {
      if (whole || (!q.place_code.empty() && Inside(d.parts[i].scope.place_code, q.place_code)))
        shown.push_back(i);
    }
    if (shown.empty()) continue;
    if (auto ok = MeasureTarget(v, q.as_of_micros, now, sales, name); !ok.ok()) return ok;
    const bool money = CountsMoney(d.metric);
    for (size_t i : shown) {
      const schema::TargetPart& part = d.parts[i];
      const PartProgress& p = v.progress[i];
      const Cell none = std::monostate{};
      const Cell value = p.value, actual = p.actual, forecast = Optional(p.forecast);
      std::string track;
      if (p.on_track) track = *p.on_track ? "on_track" : "behind";
      t.rows.push_back({d.target_id, d.name, part.name.empty() ? d.name : part.name,
                        part.scope.place_code, places.Full(part.scope.place_code),
                        std::string(ToString(d.metric)), d.period, money ? value : none,
                        money ? actual : none, money ? forecast : none, money ? none : value,
                        money ? none : actual, money ? none : forecast, Optional(p.percent_bps),
                        std::string(ToString(p.method)), track});
    }
  }
  return true;
}

Table AwardsTable() {
  return {"奖励 awards",
          {{"rule_id", "规则编号 rule", ColumnType::kText},
           {"rule", "规则 name", ColumnType::kText},
           {"title", "称号 title", ColumnType::kText},
           {"kind", "对象类型 kind", ColumnType::kText},
           {"key", "对象 key", ColumnType::kText},
           {"name", "名称 name", ColumnType::kText},
           {"period", "期间 period", ColumnType::kText},
           {"net_fen", "本地净额 net here (元)", ColumnType::kFen},
           {"award_fen", "奖励 award (元)", ColumnType::kFen}},
          {}};
}

// What the rules in force whose period meets the report's award in its place: every qualifier
// of a rule of the place (or under it); of a wider rule, the towns and villages in the place and
// the sellers, brands and products that sold in it in the rule's period, each with its net in
// the place (what it sold elsewhere is not the place's to see).
Result<bool> AddAwards(Table& t, const std::vector<AwardRuleView>& rules, const ReportQuery& q,
                       int64_t moment, int64_t now, int from, int to, const SalesReader& sales,
                       const EntityNamer& name, const Namer& places) {
  for (const AwardRuleView& rule : rules) {
    const schema::AwardRuleDefined& r = rule.definition;
    if (!InForce(rule, moment) || !Overlaps(r.period, from, to)) continue;
    const bool whole = Inside(r.within, q.place_code);
    if (!whole && !Inside(q.place_code, r.within)) continue;
    const bool place_kind =
        r.kind == schema::EntityKind::kTown || r.kind == schema::EntityKind::kVillage;
    auto results = MeasureAwards(rule, q.as_of_micros, now, sales, name);
    if (!results.ok()) return results.error_detail();
    // A wider rule's sellers, brands and products that sold here, with their net here: the
    // report shows that, not their net elsewhere (the award is earned over the rule's scope).
    std::map<std::string, Fen> sold_here;
    if (!whole && !place_kind) {
      const auto period = ParsePeriodLabel(r.period);
      SalesQuery s(std::string(ToString(r.kind)), DayString(period->first),
                   DayString(period->second));
      s.filter.within = q.place_code;
      s.filter.brands = r.brands;
      s.as_of_micros = q.as_of_micros;
      auto rows = sales(s);
      if (!rows.ok()) return rows.error_detail();
      for (const auto& row : *rows) sold_here[row.key] = row.totals.amount;
    }
    for (const auto& qualifier : results->qualifiers) {
      const std::string& key = qualifier.entity.key;
      Fen net = qualifier.entity.net;
      if (!whole && place_kind && !Inside(key, q.place_code)) continue;
      if (!whole && !place_kind) {
        auto here = sold_here.find(key);
        if (here == sold_here.end()) continue;
        net = here->second;
      }
      t.rows.push_back({r.rule_id, r.name, r.title, std::string(ToString(r.kind)), key,
                        place_kind ? places.Full(key) : qualifier.entity.name, r.period,
                        net.value(), qualifier.award.value()});
    }
  }
  return true;
}

}  // namespace

Result<SalesReport> BuildReport(const ReportQuery& q, int64_t now_micros, const SalesReader& sales,
                                const EntityNamer& name, std::vector<TargetView> targets,
                                const std::vector<AwardRuleView>& rules,
                                places::PlaceDirectory* places) {
  const auto period = ParsePeriodLabel(q.period);
  if (!period) return {events::svc_errc::invalid_argument, "period: not a period"};
  const auto [from, to] = *period;
  const Namer namer{places};
  SalesReport report;
  report.place_code = q.place_code;
  report.place_name = namer.Full(q.place_code);
  report.period = q.period;
  report.from_day = DayString(from);
  report.to_day = DayString(to);
  report.as_of_micros = q.as_of_micros != 0 ? q.as_of_micros : now_micros;
  if (q.place_code.empty()) {
    report.sub_level = ToString(places::Level::kProvince);
  } else if (auto level = places::LevelOf(q.place_code);
             level && *level != places::Level::kVillage) {
    report.sub_level = ToString(static_cast<places::Level>(static_cast<int>(*level) + 1));
  }
  report.summary = Summary(report);
  const Ask ask{sales, q, from, std::min(to, DayOfMicros(report.as_of_micros))};
  auto add = [&report](const char* key, Result<Table> t) -> Result<bool> {
    if (!t.ok()) return t.error_detail();
    report.sections.push_back({key, std::move(*t)});
    return true;
  };
  auto place_name = [&namer](const std::string& code) { return namer.Short(code); };
  auto seller_name = [&name](const std::string& id) {
    return name(schema::EntityKind::kSeller, id);
  };
  const std::function<std::string(const std::string&)> unnamed;
  SalesFilter poverty;
  poverty.supplier_type = "poor_household";
  const Table place_table{"分地区 by place",
                          {{"place_code", "地区代码 place", ColumnType::kText},
                           {"place_name", "地区 place name", ColumnType::kText}},
                          {}};
  const Table seller_table{"",
                           {{"seller_id", "卖家编号 seller", ColumnType::kText},
                            {"name", "卖家 name", ColumnType::kText}},
                           {}};
  Table top = seller_table, households = seller_table;
  top.name = "销售前列卖家 top sellers";
  households.name = "脱贫户产品 poverty households";
  for (auto ok :
       {add("totals", Totals(ask)),
        add("by_place", report.sub_level.empty() ? Result<Table>(place_table)
                                                 : Groups(ask, place_table, "place", {},
                                                          report.sub_level, 0, place_name)),
        add("by_brand",
            Groups(ask, {"分品牌 by brand", {{"brand", "品牌 brand", ColumnType::kText}}, {}},
                   "brand", {}, "", kAllByNet, unnamed)),
        add("by_category",
            Groups(ask,
                   {"分品类 by category", {{"category", "品类 category", ColumnType::kText}}, {}},
                   "category", {}, "", kAllByNet, unnamed)),
        add("top_sellers", Groups(ask, top, "seller", {}, "", q.top, seller_name)),
        add("poverty_households",
            Groups(ask, households, "seller", poverty, "", kAllByNet, seller_name))}) {
    if (!ok.ok()) return ok.error_detail();
  }
  Table t = TargetsTable();
  if (auto ok = AddTargets(t, std::move(targets), q, report.as_of_micros, now_micros, from, to,
                           sales, name, namer);
      !ok.ok()) {
    return ok.error_detail();
  }
  report.sections.push_back({"targets", std::move(t)});
  Table a = AwardsTable();
  if (auto ok =
          AddAwards(a, rules, q, report.as_of_micros, now_micros, from, to, sales, name, namer);
      !ok.ok()) {
    return ok.error_detail();
  }
  report.sections.push_back({"awards", std::move(a)});
  return report;
}

}  // namespace pavilion::settlement
