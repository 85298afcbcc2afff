// Builds the sales report of a place and period (pavilion/settlement/report.h) from the sales
// projection and the targets and award rules in force at its moment. Pure given its readers.
#pragma once

#include <vector>

#include "pavilion/settlement/report.h"
#include "pavilion/settlement/targets.h"
#include "progress.h"

namespace pavilion::places {
class PlaceDirectory;
}

namespace pavilion::settlement {

// `q` checked already (CheckReport). The figures are as of q.as_of_micros (0: as they stand at
// `now_micros`); `targets` and `rules` are every definition ever made (retired ones too: those in
// force at the moment count); places are named by `places` (null: not named).
Result<SalesReport> BuildReport(const ReportQuery& q, int64_t now_micros, const SalesReader& sales,
                                const EntityNamer& name, std::vector<TargetView> targets,
                                const std::vector<AwardRuleView>& rules,
                                places::PlaceDirectory* places);

}  // namespace pavilion::settlement
