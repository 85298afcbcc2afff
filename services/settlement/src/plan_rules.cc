#include "plan_rules.h"

#include <algorithm>
#include <set>
#include <vector>

#include "calendar.h"
#include "pavilion/places/place_directory.h"

namespace pavilion::settlement {
namespace {

using events::svc_errc;
namespace schema = events::schema;

Result<bool> Refuse(std::string message) {
  return {svc_errc::invalid_argument, std::move(message)};
}

// Text a person gave: 1 to `max` bytes and no control characters.
std::string BadText(std::string_view field, std::string_view text, size_t max, bool required) {
  if (text.empty() && !required) return "";
  if (text.empty() || text.size() > max) {
    return std::string(field) + ": give 1 to " + std::to_string(max) + " bytes";
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return std::string(field) + ": no control characters";
  }
  return "";
}

std::string BadPeriod(std::string_view period) {
  if (ParsePeriodLabel(period)) return "";
  return "period: give a year (2026), a quarter (2026-Q3) or a month (2026-11), 2000 to 2099";
}

std::string BadPlace(const std::string& field, std::string_view code, const PlanFacts& facts) {
  if (code.empty()) return "";
  if (!places::LevelOf(code)) {
    return field + ": give a division code of 2, 4, 6, 9 or 12 digits (province to village)";
  }
  const std::string unknown = facts.unknown_place(code);
  return unknown.empty() ? "" : field + ": " + unknown;
}

std::string BadScope(const std::string& at, const schema::TargetScope& s,
                     schema::TargetMetric metric, const PlanFacts& facts) {
  std::string bad = BadPlace(at + "place_code", s.place_code, facts);
  if (bad.empty()) bad = BadText(at + "brand", s.brand, 100, false);
  if (bad.empty()) bad = BadText(at + "supplier_type", s.supplier_type, 40, false);
  if (!bad.empty()) return bad;
  if (!s.category.empty() && !facts.category_known(s.category)) {
    return at + "category: no category " + s.category + " (GET /v1/categories lists them)";
  }
  if (!s.seller_id.empty() && !facts.seller_known(s.seller_id)) {
    return at + "seller_id: no seller " + s.seller_id;
  }
  if (metric == schema::TargetMetric::kAgriculturalNetSales &&
      s.agricultural == schema::Either::kNo) {
    return at + "agricultural: false leaves nothing for agricultural_net_sales_fen to count";
  }
  return "";
}

// Which filter of `parent` the child does not keep, or "" when it keeps them all.
std::string NotKept(const schema::TargetScope& c, const schema::TargetScope& p) {
  if (!p.place_code.empty() && c.place_code.compare(0, p.place_code.size(), p.place_code) != 0) {
    return "place_code";
  }
  auto kept = [](const std::string& child, const std::string& parent) {
    return parent.empty() || child == parent;
  };
  if (!kept(c.brand, p.brand)) return "brand";
  if (!kept(c.category, p.category)) return "category";
  if (!kept(c.supplier_type, p.supplier_type)) return "supplier_type";
  if (!kept(c.seller_id, p.seller_id)) return "seller_id";
  if (p.agricultural != schema::Either::kAny && c.agricultural != p.agricultural) {
    return "agricultural";
  }
  if (p.poverty != schema::Either::kAny && c.poverty != p.poverty) return "poverty";
  if (p.rural && !c.rural) return "segment";
  return "";
}

// Whether the child (keeping every filter of its parent) narrows one of them.
bool Narrows(const schema::TargetScope& c, const schema::TargetScope& p) {
  auto added = [](const std::string& child, const std::string& parent) {
    return parent.empty() && !child.empty();
  };
  return c.place_code.size() > p.place_code.size() || added(c.brand, p.brand) ||
         added(c.category, p.category) || added(c.supplier_type, p.supplier_type) ||
         added(c.seller_id, p.seller_id) ||
         (p.agricultural == schema::Either::kAny && c.agricultural != schema::Either::kAny) ||
         (p.poverty == schema::Either::kAny && c.poverty != schema::Either::kAny) ||
         (c.rural && !p.rural);
}

// Whether no sale can be in both scopes: some filter both set differently.
bool Disjoint(const schema::TargetScope& a, const schema::TargetScope& b) {
  auto differ = [](const std::string& x, const std::string& y) {
    return !x.empty() && !y.empty() && x != y;
  };
  const size_t common = std::min(a.place_code.size(), b.place_code.size());
  const bool places_apart = !a.place_code.empty() && !b.place_code.empty() &&
                            a.place_code.compare(0, common, b.place_code, 0, common) != 0;
  auto either_apart = [](schema::Either x, schema::Either y) {
    return x != schema::Either::kAny && y != schema::Either::kAny && x != y;
  };
  return places_apart || differ(a.brand, b.brand) || differ(a.category, b.category) ||
         differ(a.supplier_type, b.supplier_type) || differ(a.seller_id, b.seller_id) ||
         either_apart(a.agricultural, b.agricultural) || either_apart(a.poverty, b.poverty);
}

std::string WithoutDot(std::string path) {
  if (!path.empty() && path.back() == '.') path.pop_back();
  return path;
}

}  // namespace

std::string PartPath(const schema::TargetDefined& t, size_t index) {
  if (index == 0 || index >= t.parts.size()) return "";
  const auto parent = static_cast<size_t>(t.parts[index].parent);
  size_t k = 0;
  for (size_t j = 1; j < index; ++j) k += static_cast<size_t>(t.parts[j].parent) == parent;
  return PartPath(t, parent) + "split[" + std::to_string(k) + "].";
}

Result<bool> CheckTarget(const schema::TargetDefined& t, const PlanFacts& facts) {
  if (auto bad = BadText("name", t.name, 200, true); !bad.empty()) return Refuse(bad);
  if (auto bad = BadPeriod(t.period); !bad.empty()) return Refuse(bad);
  const bool entities = t.metric == schema::TargetMetric::kEntities;
  if (entities && t.threshold.value() < 0) {
    return Refuse("threshold_fen: give 0 or more: the net sales an entity must reach");
  }
  if (!entities && (t.threshold.value() != 0 || t.strict)) {
    return Refuse("threshold_fen: only the entities metric counts entities over a threshold");
  }
  if (t.parts.empty()) return Refuse("scope: the target's own part is missing");
  if (t.parts.size() > kMaxTargetParts) {
    return Refuse("split: " + std::to_string(t.parts.size()) + " parts; a target holds at most " +
                  std::to_string(kMaxTargetParts) + " with all its quotas");
  }
  const std::string value_field = CountsMoney(t.metric) ? "value_fen" : "value";
  if (t.growth) {
    if (t.growth_bps < -10000 || t.growth_bps > 1'000'000) {
      return Refuse("growth_bps: give -10000 to 1000000 basis points (3000 = +30 %)");
    }
    if (t.parts.size() > 1) {
      return Refuse(
          "split: a growth target's value is known only against last year's sales; "
          "give " +
          value_field + " to split it into quotas");
    }
  }
  std::vector<int> depth(t.parts.size(), 1);
  std::vector<std::vector<size_t>> children(t.parts.size());
  for (size_t i = 0; i < t.parts.size(); ++i) {
    const schema::TargetPart& part = t.parts[i];
    if (i == 0 ? part.parent != -1 : part.parent < 0 || static_cast<size_t>(part.parent) >= i) {
      return Refuse("split: a part's parent must come before it");
    }
    const std::string at = PartPath(t, i);
    if (i > 0) {
      const auto parent = static_cast<size_t>(part.parent);
      depth[i] = depth[parent] + 1;
      if (depth[i] > kMaxTargetDepth) {
        return Refuse(WithoutDot(at) + ": quotas nest at most " +
                      std::to_string(kMaxTargetDepth - 1) + " levels below the target");
      }
      children[parent].push_back(i);
      if (children[parent].size() > kMaxSplit) {
        return Refuse(PartPath(t, parent) + "split: at most " + std::to_string(kMaxSplit) +
                      " quotas split from one part");
      }
      if (auto bad = BadText(at + "name", part.name, 200, false); !bad.empty()) return Refuse(bad);
    }
    if (t.growth ? part.value != 0 : part.value <= 0) {
      return Refuse(at + value_field + ": " +
                    (t.growth ? std::string("a growth target takes growth_bps, not a value")
                              : "give a positive " + value_field));
    }
    if (auto bad = BadScope(at + "scope.", part.scope, t.metric, facts); !bad.empty()) {
      return Refuse(bad);
    }
    if (i == 0) continue;
    const schema::TargetScope& parent = t.parts[static_cast<size_t>(part.parent)].scope;
    if (auto field = NotKept(part.scope, parent); !field.empty()) {
      return Refuse(at + "scope." + field +
                    ": not inside the scope it is split from; a quota keeps every filter of its "
                    "parent and narrows one (a place within its place, a brand, …)");
    }
    if (!Narrows(part.scope, parent)) {
      return Refuse(at +
                    "scope: the same as the scope it is split from; narrow it (a place "
                    "within its place, a brand, a category, …)");
    }
  }
  for (size_t p = 0; p < t.parts.size(); ++p) {
    const auto& kids = children[p];
    if (kids.empty()) continue;
    for (size_t a = 0; a < kids.size(); ++a) {
      for (size_t b = a + 1; b < kids.size(); ++b) {
        if (!Disjoint(t.parts[kids[a]].scope, t.parts[kids[b]].scope)) {
          return Refuse(PartPath(t, kids[b]) + "scope: overlaps " +
                        WithoutDot(PartPath(t, kids[a])) +
                        "'s; quotas split from one part must not overlap (places none within "
                        "another, different brands, categories, …)");
        }
      }
    }
    Fen sum;
    for (size_t k : kids) sum = sum.SaturatingAdd(Fen(t.parts[k].value));
    if (sum.value() < t.parts[p].value) {
      const std::string what = PartPath(t, p) + value_field;
      return Refuse(PartPath(t, p) + "split: the quotas sum to " + std::to_string(sum.value()) +
                    ", less than the " + what + " " + std::to_string(t.parts[p].value) +
                    " they are split from; together they must reach it");
    }
  }
  return true;
}

Result<bool> CheckAwardRule(const schema::AwardRuleDefined& r, const PlanFacts& facts) {
  if (auto bad = BadText("name", r.name, 200, true); !bad.empty()) return Refuse(bad);
  if (auto bad = BadText("title", r.title, 100, false); !bad.empty()) return Refuse(bad);
  if (auto bad = BadPeriod(r.period); !bad.empty()) return Refuse(bad);
  if (auto bad = BadPlace("within", r.within, facts); !bad.empty()) return Refuse(bad);
  if (r.brands.size() > kMaxAwardBrands) {
    return Refuse("brands: at most " + std::to_string(kMaxAwardBrands));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < r.brands.size(); ++i) {
    const std::string field = "brands[" + std::to_string(i) + "]";
    if (auto bad = BadText(field, r.brands[i], 100, true); !bad.empty()) return Refuse(bad);
    if (!seen.insert(r.brands[i]).second) return Refuse(field + ": given twice");
  }
  if (r.threshold.value() < 0) return Refuse("threshold_fen: give 0 or more");
  if (r.award.value() < 0) return Refuse("award_fen: give 0 or more");
  if (r.rate_bps > 10000) return Refuse("rate_bps: give 0 to 10000 basis points (500 = 5 %)");
  if (r.cap.value() < 0) return Refuse("cap_fen: give 0 or more");
  if (r.award.value() > 0 && r.rate_bps > 0) {
    return Refuse("award_fen: a rule pays a fixed award_fen or rate_bps of the sales, not both");
  }
  if (r.cap.value() > 0 && r.rate_bps == 0) {
    return Refuse("cap_fen: caps rate_bps; give rate_bps with it");
  }
  if (r.award.value() == 0 && r.rate_bps == 0 && r.title.empty()) {
    return Refuse(
        "award_fen: give what the rule pays: award_fen, rate_bps (with cap_fen) or a "
        "title");
  }
  return true;
}

Result<bool> CheckReport(const ReportQuery& q, const PlanFacts& facts) {
  std::string bad = BadPeriod(q.period);
  if (bad.empty()) bad = BadPlace("place_code", q.place_code, facts);
  if (bad.empty() && (q.top < 1 || q.top > kMaxReportTop)) {
    bad = "top: give 1 to " + std::to_string(kMaxReportTop) + " sellers";
  }
  return bad.empty() ? Result<bool>(true) : Refuse(bad);
}

}  // namespace pavilion::settlement
