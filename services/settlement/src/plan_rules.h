// The rules a target or an award rule must keep before it is written (pure: the facts it needs
// of the world are asked through PlanFacts). Each refusal is invalid_argument with a message
// starting with the field at fault as the request names it ("split[1].scope.place_code: …").
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "pavilion/base/result.h"
#include "pavilion/events/schema.h"
#include "pavilion/settlement/report.h"
#include "pavilion/settlement/targets.h"

namespace pavilion::settlement {

struct PlanFacts {
  // An error for a place code that is no division (empty when it is one, or when no directory
  // is loaded and only its form could be checked).
  std::function<std::string(std::string_view code)> unknown_place;
  std::function<bool(std::string_view code)> category_known;
  std::function<bool(const std::string& id)> seller_known;
};

// The target's name, metric, period, value or growth, scopes and split: quotas of scopes
// narrower than their parent's, pairwise disjoint, at least as much in all as their parent's
// value, within kMaxTargetParts, kMaxSplit and kMaxTargetDepth.
Result<bool> CheckTarget(const events::schema::TargetDefined& t, const PlanFacts& facts);
Result<bool> CheckAwardRule(const events::schema::AwardRuleDefined& r, const PlanFacts& facts);
// A report's place (a division, or empty), period and top.
Result<bool> CheckReport(const ReportQuery& q, const PlanFacts& facts);

// The JSON path of a part in the request ("" for parts[0], "split[1].split[0]." below).
std::string PartPath(const events::schema::TargetDefined& t, size_t index);

}  // namespace pavilion::settlement
