// The sales report of a place over a month, quarter or year (GET /v1/reports/sales): what the
// county's service centre hands the commerce bureau each period. Every figure is read from the
// sales projection as of one moment, so a report of a past period asked again later with the same
// `as_of` holds the same figures (services/settlement/README.md, "Reports").
//
// A report is a few tables (pavilion/tables/table.h), each a section: totals and their
// agricultural and rural parts with the same period a year before; the place's sub-regions one
// level down, with their names; brands; categories; the top sellers; poverty households'
// products by household; the progress of every target in scope; the awards earned. The gateway
// writes them as JSON (one array per section), CSV (the sections one after the other) or XLSX
// (a sheet each). Plain values: no thread-safety concerns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pavilion/tables/table.h"

namespace pavilion::settlement {

struct ReportQuery {
  std::string place_code;  // A division code; empty: the whole pavilion.
  std::string period;      // "2026", "2026-Q3" or "2026-11".
  // The moment the figures are taken at (microseconds since the epoch); 0: now.
  int64_t as_of_micros = 0;
  size_t top = 10;  // Sellers in the top sellers' section, 1 to kMaxReportTop.
};
inline constexpr size_t kMaxReportTop = 100;

struct ReportSection {
  std::string key;  // The JSON field: totals, by_place, by_brand, by_category, top_sellers,
                    // poverty_households, targets, awards.
  tables::Table table;
};

struct SalesReport {
  std::string place_code, place_name;  // The name from the place directory ("" without one).
  std::string period, from_day, to_day;
  std::string sub_level;     // The level of the by_place rows; "" for a village (none).
  int64_t as_of_micros = 0;  // The moment taken: the query's, or the time it was made.
  // A first section for CSV and XLSX: the fields above as rows of (item, value).
  tables::Table summary;
  std::vector<ReportSection> sections;
};

}  // namespace pavilion::settlement
