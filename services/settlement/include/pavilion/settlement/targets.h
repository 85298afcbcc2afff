// Targets and award rules: what operators track, measured on the sales projection
// (services/settlement/README.md, "Targets and award rules").
//
// A target (events::schema::TargetDefined) counts a metric — net sales, their agricultural part,
// orders, new sellers, or the entities of a kind over a threshold — in a scope over a period, up
// to a value or to a growth over the same period a year before, and may be split into quotas of
// narrower scopes (任务分解). An award rule (events::schema::AwardRuleDefined) pays a title and an
// award to every entity of a kind whose net sales in a period pass a threshold. Both are
// immutable once defined; they can only be retired. Their measures are read from the sales
// projection as of any moment. Plain values: no thread-safety concerns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pavilion/events/schema.h"

namespace pavilion::settlement {

// What a definition may hold and how many may be active: past these, 422 naming the field.
inline constexpr size_t kMaxActiveTargets = 1000;
inline constexpr size_t kMaxActiveAwardRules = 200;
inline constexpr size_t kMaxTargetParts = 300;  // A target and every quota under it.
inline constexpr size_t kMaxSplit = 100;        // Quotas split from one part.
inline constexpr int kMaxTargetDepth = 4;       // The target and three levels of quotas.
inline constexpr size_t kMaxAwardBrands = 100;
inline constexpr size_t kMaxListedEntities = 200;  // Entities a target's part lists.

// Whether a metric counts fen (net sales and their agricultural part: `value_fen`, `actual_fen`,
// …) or a number (`value`, `actual`, …).
inline bool CountsMoney(events::schema::TargetMetric m) {
  return m == events::schema::TargetMetric::kNetSales ||
         m == events::schema::TargetMetric::kAgriculturalNetSales;
}

// How a forecast to the period's end was made: the period has not begun (none), by the run rate
// of the days elapsed, by last year's shape (actual × last year's total ÷ last year's figure to
// the same day), or the period is over (the actual is final).
enum class ForecastMethod : uint8_t { kNotStarted, kLinear, kLastYearShape, kFinal };
std::string_view ToString(ForecastMethod m);

// An entity counted or awarded: its key (a seller id, brand, place code, product id), its name
// where settlement knows it (a seller's name, a product's title; places are named by the
// gateway) and its net sales in the period.
struct Entity {
  std::string key, name;
  Fen net;
};

// One part of a target (parts[0]: the target itself) as of a moment. Money metrics in fen,
// the others in counts.
struct PartProgress {
  int64_t value = 0;            // The quota: the part's value, or the growth target's.
  std::optional<int64_t> base;  // A growth target: the same period a year before.
  int64_t actual = 0;
  std::optional<int64_t> percent_bps;  // actual × 10000 ÷ value, rounded down; none for value 0.
  std::optional<int64_t> forecast;     // To the period's end; none before it begins.
  ForecastMethod method = ForecastMethod::kNotStarted;
  std::optional<bool> on_track;  // forecast ≥ value; none before the period begins.
  int64_t split_sum = 0;         // The values of the quotas split from it.
  std::vector<Entity> entities;  // The entities metric: those counted, highest net first.
};

struct TargetView {
  events::schema::TargetDefined definition;
  int64_t defined_micros = 0, retired_micros = 0;  // retired_micros 0: active.
  // Measured (a single target's answer; lists are not): the moment, the period's days, and one
  // progress per part, in the order of definition.parts.
  bool measured = false;
  int64_t as_of_micros = 0;
  std::string from_day, to_day;
  int days = 0, days_elapsed = 0;  // The as_of day counts as elapsed.
  std::vector<PartProgress> progress;
};

struct AwardRuleView {
  events::schema::AwardRuleDefined definition;
  int64_t defined_micros = 0, retired_micros = 0;
};

// A page of definitions in the order they were made (ids sort by creation), after `after`.
struct DefinitionsQuery {
  std::string after;
  size_t limit = 50;
  bool retired = false;  // Also those retired.
  // Only those whose place (a target's scope, an award rule's `within`) lies in this one (a code
  // prefix): an operator scoped to a place lists its own. Empty: all.
  std::string within = {};
};
template <typename View>
struct DefinitionPage {
  std::vector<View> items;
  std::string next_after;  // Empty on the last page.
};
using TargetPage = DefinitionPage<TargetView>;
using AwardRulePage = DefinitionPage<AwardRuleView>;

// Those an award rule pays as of a moment, highest net first.
struct AwardQualifier {
  Entity entity;
  Fen award;
};
struct AwardResults {
  AwardRuleView rule;
  int64_t as_of_micros = 0;
  std::string from_day, to_day;
  std::vector<AwardQualifier> qualifiers;
  Fen total_award;
};

}  // namespace pavilion::settlement
