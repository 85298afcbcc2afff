// Business days as numbers: the calendar the sales projection and the targets measured on it
// count in. A day is its number of days since 1970-01-01; a business day runs in China Standard
// Time (UTC+8). Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "pavilion/events/clock.h"

namespace pavilion::settlement {

using events::kCstOffsetMicros;
using events::kMicrosPerDay;

struct Civil {
  int y, m, d;
};
// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms).
int DaysFromCivil(int y, int m, int d);
Civil CivilFromDays(int z);
// The value of a run of decimal digits (already checked).
int Digits(std::string_view s);
// A day written YYYY-MM-DD (already checked with events::IsDay), and back.
int DayNumber(std::string_view day);
std::string DayString(int n);
// The business day (UTC+8) of a moment in microseconds since the epoch.
int DayOfMicros(int64_t micros);
int MonthEnd(int y, int m);
inline int QuarterOf(int m) { return (m - 1) / 3 + 1; }
// The first and last day of the period of kind `period` (day, month, quarter, year) holding
// `day`, and its label ("2026-11-03", "2026-11", "2026-Q4", "2026").
int PeriodStart(std::string_view period, int day);
int PeriodEnd(std::string_view period, int day);
std::string Label(std::string_view period, int day);
// The same day a year before (Feb 29 → Feb 28).
int YearBefore(int day);
// A period written as a label of a year, quarter or month ("2026", "2026-Q3", "2026-11"), years
// 2000 to 2099: its first and last day; nullopt for anything else.
std::optional<std::pair<int, int>> ParsePeriodLabel(std::string_view label);

}  // namespace pavilion::settlement
