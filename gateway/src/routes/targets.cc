// Targets and award rules (operator): POST, GET and DELETE /v1/targets and /v1/award-rules, and
// an award rule's results. Settlement checks and writes the definitions and measures them on
// the sales projection (services/settlement/README.md, "Targets and award rules"); this reads
// their JSON — a target's split nested as the operator writes it, flattened into parts — and
// writes their answers, every place code with its name. Answered on the sales worker. An operator
// scoped to a place defines, lists, reads and retires those whose place (a target's scope, a
// rule's `within`) lies in it, its own place when it names none.
#include <set>

#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "pavilion/catalog/kinds.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

namespace schema = events::schema;
using schema::EntityKind;
using schema::TargetMetric;

// "seller" (or "enterprise"), "brand", "town", "village", "product".
bool ParseKind(std::string_view name, EntityKind* kind) {
  if (name == "enterprise") name = "seller";
  return schema::Parse(name, kind);
}
constexpr std::string_view kKinds = "seller (or enterprise), brand, town, village or product";

// ---- Reading ----

bool ReadScope(Body& body, od::value& v, const std::string& where, schema::TargetScope& s) {
  return body.NestedObject(v, where, [&](std::string_view key, od::value& fv) {
    const std::string field = where + std::string(key);
    if (key == "place_code") return body.String(fv, s.place_code, 12);
    if (key == "brand") return body.String(fv, s.brand, 100);
    if (key == "category") return body.String(fv, s.category, 40);
    if (key == "seller_id") return body.String(fv, s.seller_id, 40);
    if (key == "supplier_type") {
      catalog::SupplierType type;
      if (!body.String(fv, s.supplier_type, 40)) return false;
      if (catalog::Parse(s.supplier_type, &type)) return true;
      std::string list;
      for (const auto& t : catalog::SupplierTypes()) list += (list.empty() ? "" : ", ") + t;
      return body.Fail(kInvalidField, field + ": use one of " + list);
    }
    if (key == "agricultural" || key == "poverty") {
      bool b = false;
      if (!body.Bool(fv, b)) return false;
      (key == "agricultural" ? s.agricultural : s.poverty) =
          b ? schema::Either::kYes : schema::Either::kNo;
      return true;
    }
    if (key == "segment") {
      std::string segment;
      if (!body.String(fv, segment, 20)) return false;
      if (segment != "rural") {
        return body.Fail(kInvalidField, field +
                                            ": the one segment is rural (乡村: villages, 镇 "
                                            "and 乡; see GET /v1/openapi.json)");
      }
      s.rural = true;
      return true;
    }
    return body.Fail(kInvalidField, field +
                                        ": not a field of a scope; give place_code, brand, "
                                        "category, supplier_type, seller_id, agricultural, "
                                        "poverty or segment");
  });
}

// A target's body: the top level is parts[0], each "split" entry a part under the one holding
// it. The value's field is checked against the metric once the whole body is read (the metric
// may come after it).
struct TargetReader {
  Body& body;
  schema::TargetDefined& t;
  std::vector<std::pair<std::string, std::string>> value_fields;  // Per part: path, field given.
  bool has_metric = false, has_kind = false;

  bool Part(const std::string& where, size_t index, std::string_view key, od::value& v) {
    const std::string field = where + std::string(key);
    if (key == "scope") return ReadScope(body, v, field + ".", t.parts[index].scope);
    if (key == "value_fen" || key == "value") {
      if (!value_fields[index].second.empty()) {
        return body.Fail(kInvalidField, field + ": give value_fen or value, once");
      }
      value_fields[index].second = std::string(key);
      int64_t n = 0;
      if (!body.Int(v, n)) return false;
      t.parts[index].value = n;
      return true;
    }
    if (key == "split") {
      const int depth = Depth(index) + 1;
      if (depth >= settlement::kMaxTargetDepth) {
        return body.Fail(kInvalidField, field + ": quotas nest at most " +
                                            std::to_string(settlement::kMaxTargetDepth - 1) +
                                            " levels below the target");
      }
      return body.Array(v, [&](size_t i, od::value& item) {
        if (t.parts.size() >= settlement::kMaxTargetParts) {
          return body.Fail(kInvalidField, field + ": a target holds at most " +
                                              std::to_string(settlement::kMaxTargetParts) +
                                              " parts with all its quotas");
        }
        const size_t child = t.parts.size();
        t.parts.push_back(schema::TargetPart{static_cast<int32_t>(index), "", {}, 0});
        const std::string at = field + "[" + std::to_string(i) + "].";
        value_fields.emplace_back(at, "");
        return body.NestedObject(item, at, [&](std::string_view k, od::value& cv) {
          if (k == "name") return body.String(cv, t.parts[child].name, 200);
          if (k == "scope" || k == "value_fen" || k == "value" || k == "split") {
            return Part(at, child, k, cv);
          }
          return body.Fail(kInvalidField, at + std::string(k) +
                                              ": not a field of a quota; give name, scope, "
                                              "value_fen (or value) and split");
        });
      });
    }
    return false;
  }
  int Depth(size_t index) const {
    int d = 0;
    for (int p = t.parts[index].parent; p >= 0; p = t.parts[static_cast<size_t>(p)].parent) ++d;
    return d;
  }

  bool Read(const HttpRequest& http) {
    t.parts.push_back(schema::TargetPart{-1, "", {}, 0});
    value_fields.emplace_back("", "");
    bool ok = body.Object(http, [&](std::string_view key, od::value& v) {
      if (key == "name") return body.String(v, t.name, 200);
      if (key == "metric") {
        std::string name;
        if (!body.String(v, name, 40)) return false;
        has_metric = true;
        if (schema::Parse(name, &t.metric)) return true;
        return body.Fail(kInvalidField,
                         "metric: use net_sales_fen, agricultural_net_sales_fen, orders, "
                         "new_sellers or entities (with entity_kind and threshold_fen)");
      }
      if (key == "entity_kind") {
        std::string name;
        if (!body.String(v, name, 40)) return false;
        has_kind = true;
        if (ParseKind(name, &t.entity_kind)) return true;
        return body.Fail(kInvalidField, "entity_kind: use " + std::string(kKinds));
      }
      if (key == "threshold_fen") {
        int64_t n = 0;
        if (!body.Int(v, n)) return false;
        t.threshold = Fen(n);
        return true;
      }
      if (key == "strict") return body.Bool(v, t.strict);
      if (key == "period") return body.String(v, t.period, 20);
      if (key == "growth_bps") {
        t.growth = true;
        return body.Int(v, t.growth_bps);
      }
      if (key == "scope" || key == "value_fen" || key == "value" || key == "split") {
        return Part("", 0, key, v);
      }
      return body.Fail(kInvalidField, std::string(key) +
                                          ": not a field of a target; give name, metric, "
                                          "entity_kind, threshold_fen, strict, period, "
                                          "value_fen (or value) or growth_bps, scope and split");
    });
    if (!ok) return false;
    if (!has_metric) return body.Missing("metric");
    const std::string want = settlement::CountsMoney(t.metric) ? "value_fen" : "value";
    for (const auto& [at, given] : value_fields) {
      if (given.empty()) {
        if (t.growth && at.empty()) continue;
        return body.Fail(kInvalidField, at + want + ": required" +
                                            (at.empty() ? " (or growth_bps, for a growth target)"
                                                        : std::string()));
      }
      if (given != want) {
        return body.Fail(kInvalidField, at + given + ": metric " +
                                            std::string(schema::ToString(t.metric)) + " counts " +
                                            (want == "value" ? "a number" : "fen") + "; give " +
                                            want);
      }
    }
    if ((t.metric == TargetMetric::kEntities) != has_kind) {
      return body.Fail(kInvalidField, has_kind ? "entity_kind: only with metric entities"
                                               : "entity_kind: required with metric entities: "
                                                 "use " +
                                                     std::string(kKinds));
    }
    return true;
  }
};

// ---- Writing ----

// The field an entity's key is shown under, and its name's.
std::pair<std::string_view, std::string_view> EntityFields(EntityKind kind) {
  switch (kind) {
    case EntityKind::kSeller:
      return {"seller_id", "name"};
    case EntityKind::kBrand:
      return {"brand", ""};
    case EntityKind::kProduct:
      return {"product_id", "title"};
    default:
      return {"place_code", "place_name"};
  }
}

void WriteEntity(Context& cx, base::JsonWriter& w, EntityKind kind, const settlement::Entity& e) {
  const auto [key, name] = EntityFields(kind);
  w.Field(key, e.key);
  if (kind == EntityKind::kTown || kind == EntityKind::kVillage) {
    w.Field(name, cx.PlaceName(e.key));
  } else if (!name.empty()) {
    w.Field(name, e.name);
  }
  w.Field("net_fen", e.net.value());
}

void WriteScope(Context& cx, base::JsonWriter& w, const schema::TargetScope& s) {
  w.Key("scope").BeginObject();
  if (!s.place_code.empty()) {
    w.Field("place_code", s.place_code).Field("place_name", cx.PlaceName(s.place_code));
  }
  for (auto [name, value] :
       {std::pair{"brand", &s.brand}, std::pair{"category", &s.category},
        std::pair{"supplier_type", &s.supplier_type}, std::pair{"seller_id", &s.seller_id}}) {
    if (!value->empty()) w.Field(name, *value);
  }
  if (s.agricultural != schema::Either::kAny) {
    w.Field("agricultural", s.agricultural == schema::Either::kYes);
  }
  if (s.poverty != schema::Either::kAny) w.Field("poverty", s.poverty == schema::Either::kYes);
  if (s.rural) w.Field("segment", "rural");
  w.EndObject();
}

// A part (the target or a quota) with its progress when measured and its quotas when `deep`.
void WritePart(Context& cx, base::JsonWriter& w, const settlement::TargetView& v, size_t i,
               bool deep) {
  const schema::TargetDefined& t = v.definition;
  const std::string unit = settlement::CountsMoney(t.metric) ? "_fen" : "";
  WriteScope(cx, w, t.parts[i].scope);
  if (!t.growth) w.Field("value" + unit, t.parts[i].value);
  if (v.measured) {
    const settlement::PartProgress& p = v.progress[i];
    if (p.base) w.Field("base" + unit, *p.base).Field("value" + unit, p.value);
    w.Field("actual" + unit, p.actual);
    w.Key("percent_bps");
    p.percent_bps ? w.Int(*p.percent_bps) : w.Null();
    w.Key("forecast" + unit);
    p.forecast ? w.Int(*p.forecast) : w.Null();
    w.Field("forecast_method", settlement::ToString(p.method));
    w.Key("on_track");
    p.on_track ? w.Bool(*p.on_track) : w.Null();
    if (t.metric == TargetMetric::kEntities) {
      w.Key("entities").BeginArray();
      for (const auto& e : p.entities) {
        w.BeginObject();
        WriteEntity(cx, w, t.entity_kind, e);
        w.EndObject();
      }
      w.EndArray();
    }
  }
  size_t quotas = 0;
  for (size_t k = i + 1; k < t.parts.size(); ++k) {
    quotas += static_cast<size_t>(t.parts[k].parent) == i;
  }
  if (quotas == 0) return;
  if (!deep) {
    w.Field("quotas", quotas);
    return;
  }
  if (v.measured) w.Field("split_sum" + unit, v.progress[i].split_sum);
  w.Key("split").BeginArray();
  for (size_t k = i + 1; k < t.parts.size(); ++k) {
    if (static_cast<size_t>(t.parts[k].parent) != i) continue;
    w.BeginObject();
    if (!t.parts[k].name.empty()) w.Field("name", t.parts[k].name);
    WritePart(cx, w, v, k, deep);
    w.EndObject();
  }
  w.EndArray();
}

void WriteRetired(base::JsonWriter& w, int64_t defined, int64_t retired) {
  w.Field("defined_micros", defined).Field("active", retired == 0);
  if (retired != 0) w.Field("retired_micros", retired);
}

void WriteTarget(Context& cx, base::JsonWriter& w, const settlement::TargetView& v, bool deep) {
  const schema::TargetDefined& t = v.definition;
  w.BeginObject().Field("id", t.target_id).Field("name", t.name);
  w.Field("metric", schema::ToString(t.metric));
  if (t.metric == TargetMetric::kEntities) {
    w.Field("entity_kind", schema::ToString(t.entity_kind));
    w.Field("threshold_fen", t.threshold.value()).Field("strict", t.strict);
  }
  w.Field("period", t.period);
  if (t.growth) w.Field("growth_bps", t.growth_bps);
  WriteRetired(w, v.defined_micros, v.retired_micros);
  if (v.measured) {
    w.Field("from", v.from_day).Field("to", v.to_day).Field("as_of_micros", v.as_of_micros);
    w.Field("days", v.days).Field("days_elapsed", v.days_elapsed);
  }
  WritePart(cx, w, v, 0, deep);
  w.EndObject();
}

void WriteRule(Context& cx, base::JsonWriter& w, const settlement::AwardRuleView& v) {
  const schema::AwardRuleDefined& r = v.definition;
  w.BeginObject().Field("id", r.rule_id).Field("name", r.name);
  if (!r.title.empty()) w.Field("title", r.title);
  w.Field("scope_kind", schema::ToString(r.kind)).Field("period", r.period);
  if (!r.within.empty()) w.Field("within", r.within).Field("within_name", cx.PlaceName(r.within));
  if (!r.brands.empty()) {
    w.Key("brands").BeginArray();
    for (const auto& b : r.brands) w.String(b);
    w.EndArray();
  }
  w.Field("threshold_fen", r.threshold.value()).Field("strict", r.strict);
  if (r.rate_bps > 0) {
    w.Field("rate_bps", r.rate_bps);
    if (r.cap.value() > 0) w.Field("cap_fen", r.cap.value());
  } else {
    w.Field("award_fen", r.award.value());
  }
  WriteRetired(w, v.defined_micros, v.retired_micros);
  w.EndObject();
}

// A list: ?after=&limit=&retired= read, the page asked of settlement by `call`, each item
// written by `write` under `field`, with the next page's `next_after`.
template <typename Page, typename Write>
void List(Context& cx, const Request& r, Respond respond, std::string_view field,
          void (settlement::SettlementService::*call)(settlement::DefinitionsQuery,
                                                      std::function<void(Result<Page>)>),
          Write write) {
  settlement::DefinitionsQuery q;
  std::string error;
  const auto limit = r.query.Int("limit", 1, 200, &error);
  if (!error.empty()) return respond(ErrorResponse(kInvalidField, error));
  q.limit = static_cast<size_t>(limit.value_or(50));
  q.after = r.query.Get("after");
  q.retired = r.query.Flag("retired");
  q.within = r.who->place_code;  // A scoped operator's own; everyone's for the pavilion's.
  (cx.s.settlement.*call)(q, [&cx, respond, field, write](Result<Page> page) {
    if (!page.ok()) return respond(FromServiceError(page.error_detail()));
    base::JsonWriter w;
    w.BeginObject().Key(field).BeginArray();
    write(cx, w, *page);
    w.EndArray().Field("next_after", page->next_after).EndObject();
    respond(JsonResponse(200, w.Take()));
  });
}

// The place a definition lies in, and the field that names it: a target's scope, a rule's
// `within`. An operator scoped to a place sees and changes only those in it.
std::string_view PlaceOf(const settlement::TargetView& v) {
  return v.definition.parts.empty() ? "" : v.definition.parts[0].scope.place_code;
}
std::string_view PlaceOf(const settlement::AwardRuleView& v) { return v.definition.within; }
constexpr std::string_view FieldOf(const settlement::TargetView&) { return "scope.place_code"; }
constexpr std::string_view FieldOf(const settlement::AwardRuleView&) { return "within"; }

// The 403 when `who` may not see definition `v`.
template <typename View>
std::optional<HttpResponse> Unseen(const Context& cx, const Principal& who, const View& v) {
  if (who.Sees(PlaceOf(v))) return std::nullopt;
  return OutsideScope(cx, who, FieldOf(v));
}

std::function<void(Result<settlement::TargetView>)> TargetAnswer(Context& cx, const Principal& who,
                                                                 Respond respond, int status) {
  return [&cx, who, respond, status](Result<settlement::TargetView> v) {
    if (!v.ok()) return respond(FromServiceError(v.error_detail()));
    if (auto denied = Unseen(cx, who, *v)) return respond(std::move(*denied));
    base::JsonWriter w;
    WriteTarget(cx, w, *v, true);
    respond(JsonResponse(status, w.Take()));
  };
}

std::function<void(Result<settlement::AwardRuleView>)> RuleAnswer(Context& cx, const Principal& who,
                                                                  Respond respond, int status) {
  return [&cx, who, respond, status](Result<settlement::AwardRuleView> v) {
    if (!v.ok()) return respond(FromServiceError(v.error_detail()));
    if (auto denied = Unseen(cx, who, *v)) return respond(std::move(*denied));
    base::JsonWriter w;
    WriteRule(cx, w, *v);
    respond(JsonResponse(status, w.Take()));
  };
}

}  // namespace

void DefineTarget(Context& cx, const Request& r, Respond respond) {
  schema::TargetDefined t;
  Body body;
  TargetReader reader{body, t, {}};
  if (!reader.Read(r.http)) return respond(body.TakeError());
  // Quotas lie in their target's place (settlement checks): the target's is the one to check.
  if (auto denied = ScopePlace(cx, *r.who, "scope.place_code", t.parts[0].scope.place_code)) {
    return respond(std::move(*denied));
  }
  cx.s.settlement.DefineTarget(std::move(t), TargetAnswer(cx, *r.who, std::move(respond), 201));
}

void GetTarget(Context& cx, const Request& r, Respond respond) {
  int64_t as_of = 0;
  if (auto bad = ReadAsOf(cx, r.query, &as_of)) return respond(std::move(*bad));
  cx.s.settlement.Target(r.params.at(0), as_of, TargetAnswer(cx, *r.who, std::move(respond), 200));
}

void RetireTarget(Context& cx, const Request& r, Respond respond) {
  const Principal& who = *r.who;
  if (!who.Scoped()) {
    return cx.s.settlement.RetireTarget(r.params.at(0),
                                        TargetAnswer(cx, who, std::move(respond), 200));
  }
  // A scoped operator's: read (and measured, the one read there is) first, retired if its own.
  cx.s.settlement.Target(r.params.at(0), 0, [&cx, who, respond](Result<settlement::TargetView> v) {
    if (!v.ok()) return respond(FromServiceError(v.error_detail()));
    if (auto denied = Unseen(cx, who, *v)) {
      return respond(std::move(*denied));
    }
    cx.s.settlement.RetireTarget(v->definition.target_id, TargetAnswer(cx, who, respond, 200));
  });
}

void ListTargets(Context& cx, const Request& r, Respond respond) {
  List(cx, r, std::move(respond), "targets", &settlement::SettlementService::Targets,
       [](Context& cx, base::JsonWriter& w, const settlement::TargetPage& page) {
         for (const auto& t : page.items) WriteTarget(cx, w, t, false);
       });
}

void DefineAwardRule(Context& cx, const Request& r, Respond respond) {
  schema::AwardRuleDefined rule;
  Body body;
  bool kind = false;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    auto fen = [&](Fen& out) {
      int64_t n = 0;
      if (!body.Int(v, n)) return false;
      out = Fen(n);
      return true;
    };
    if (key == "name") return body.String(v, rule.name, 200);
    if (key == "title") return body.String(v, rule.title, 100);
    if (key == "scope_kind") {
      std::string name;
      if (!body.String(v, name, 40)) return false;
      kind = true;
      if (ParseKind(name, &rule.kind)) return true;
      return body.Fail(kInvalidField, "scope_kind: use " + std::string(kKinds));
    }
    if (key == "period") return body.String(v, rule.period, 20);
    if (key == "within") return body.String(v, rule.within, 12);
    if (key == "brands") {
      return body.Array(v, [&](size_t, od::value& item) {
        if (rule.brands.size() >= settlement::kMaxAwardBrands) {
          return body.Fail(kInvalidField,
                           "brands: at most " + std::to_string(settlement::kMaxAwardBrands));
        }
        return body.String(item, rule.brands.emplace_back(), 100);
      });
    }
    if (key == "threshold_fen") return fen(rule.threshold);
    if (key == "strict") return body.Bool(v, rule.strict);
    if (key == "award_fen") return fen(rule.award);
    if (key == "cap_fen") return fen(rule.cap);
    if (key == "rate_bps") {
      int64_t n = 0;
      if (!body.Int(v, n)) return false;
      if (n < 0 || n > 10000) {
        return body.Fail(kInvalidField, "rate_bps: give 0 to 10000 basis points (500 = 5 %)");
      }
      rule.rate_bps = static_cast<uint32_t>(n);
      return true;
    }
    return body.Fail(kInvalidField, std::string(key) +
                                        ": not a field of an award rule; give name, title, "
                                        "scope_kind, period, within, brands, threshold_fen, "
                                        "strict, award_fen or rate_bps and cap_fen");
  });
  if (!ok) return respond(body.TakeError());
  if (!kind) return respond(ErrorResponse(kInvalidField, "scope_kind: required"));
  if (auto denied = ScopePlace(cx, *r.who, "within", rule.within)) {
    return respond(std::move(*denied));
  }
  cx.s.settlement.DefineAwardRule(std::move(rule), RuleAnswer(cx, *r.who, std::move(respond), 201));
}

void GetAwardRule(Context& cx, const Request& r, Respond respond) {
  cx.s.settlement.AwardRule(r.params.at(0), RuleAnswer(cx, *r.who, std::move(respond), 200));
}

void RetireAwardRule(Context& cx, const Request& r, Respond respond) {
  const Principal& who = *r.who;
  if (!who.Scoped()) {
    return cx.s.settlement.RetireAwardRule(r.params.at(0),
                                           RuleAnswer(cx, who, std::move(respond), 200));
  }
  cx.s.settlement.AwardRule(
      r.params.at(0), [&cx, who, respond](Result<settlement::AwardRuleView> v) {
        if (!v.ok()) return respond(FromServiceError(v.error_detail()));
        if (auto denied = Unseen(cx, who, *v)) {
          return respond(std::move(*denied));
        }
        cx.s.settlement.RetireAwardRule(v->definition.rule_id, RuleAnswer(cx, who, respond, 200));
      });
}

void ListAwardRules(Context& cx, const Request& r, Respond respond) {
  List(cx, r, std::move(respond), "award_rules", &settlement::SettlementService::AwardRules,
       [](Context& cx, base::JsonWriter& w, const settlement::AwardRulePage& page) {
         for (const auto& rule : page.items) WriteRule(cx, w, rule);
       });
}

void GetAwardResults(Context& cx, const Request& r, Respond respond) {
  int64_t as_of = 0;
  if (auto bad = ReadAsOf(cx, r.query, &as_of)) return respond(std::move(*bad));
  cx.s.settlement.AwardResults(r.params.at(0), as_of,
                               [&cx, who = *r.who, respond](Result<settlement::AwardResults> got) {
                                 if (!got.ok())
                                   return respond(FromServiceError(got.error_detail()));
                                 if (auto denied = Unseen(cx, who, got->rule)) {
                                   return respond(std::move(*denied));
                                 }
                                 const schema::AwardRuleDefined& rule = got->rule.definition;
                                 base::JsonWriter w;
                                 w.BeginObject().Key("rule");
                                 WriteRule(cx, w, got->rule);
                                 w.Field("from", got->from_day).Field("to", got->to_day);
                                 w.Field("as_of_micros", got->as_of_micros);
                                 w.Key("qualifiers").BeginArray();
                                 for (const auto& q : got->qualifiers) {
                                   w.BeginObject();
                                   WriteEntity(cx, w, rule.kind, q.entity);
                                   w.Field("award_fen", q.award.value());
                                   if (!rule.title.empty()) w.Field("title", rule.title);
                                   w.EndObject();
                                 }
                                 w.EndArray().Field("count", got->qualifiers.size());
                                 w.Field("total_award_fen", got->total_award.value()).EndObject();
                                 respond(JsonResponse(200, w.Take()));
                               });
}

}  // namespace pavilion::gateway::routes
