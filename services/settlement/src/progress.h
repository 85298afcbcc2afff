// Targets and award rules measured on the sales projection: every figure is one query of the
// sales cube (SalesCube::Query), so a target counts exactly what GET /v1/stats/sales shows for
// the same scope, period and moment. Pure given the reader: it reads nothing else.
//
// A part's actual is its metric over the period as of the moment. Its forecast to the period's
// end: the actual once the period is over; none before it begins; otherwise by last year's
// shape — actual × (last year's period) ÷ (last year's period up to the same day), the metric
// itself, or for the entities metric the scope's net sales applied to each entity — when both
// of last year's figures are positive, and by the run rate otherwise — actual × days in the
// period ÷ days elapsed (the as_of day counts as elapsed). Products of fen are taken in 128 bits
// and rounded down. A growth target's value is last year's figure × (10000 + growth_bps) ÷
// 10000, rounded up.
#pragma once

#include <functional>
#include <string>

#include "pavilion/base/result.h"
#include "pavilion/settlement/sales.h"
#include "pavilion/settlement/targets.h"

namespace pavilion::settlement {

using SalesReader = std::function<Result<std::vector<SalesRow>>(const SalesQuery&)>;
// The name of an entity settlement knows (a seller's, a product's title); "" otherwise.
using EntityNamer = std::function<std::string(events::schema::EntityKind, const std::string&)>;

// Fills view.progress (one per part) as of `as_of_micros` (0: as things stand at `now_micros`).
Result<bool> MeasureTarget(TargetView& view, int64_t as_of_micros, int64_t now_micros,
                           const SalesReader& sales, const EntityNamer& name);

// Those an award rule pays as of `as_of_micros` (0: now).
Result<AwardResults> MeasureAwards(const AwardRuleView& rule, int64_t as_of_micros,
                                   int64_t now_micros, const SalesReader& sales,
                                   const EntityNamer& name);

}  // namespace pavilion::settlement
