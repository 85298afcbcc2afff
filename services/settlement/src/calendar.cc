#include "calendar.h"

#include <algorithm>
#include <cstdio>

namespace pavilion::settlement {

int DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil CivilFromDays(int z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp + (mp < 10 ? 3 : -9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

int Digits(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

int DayNumber(std::string_view day) {
  return DaysFromCivil(Digits(day.substr(0, 4)), Digits(day.substr(5, 2)),
                       Digits(day.substr(8, 2)));
}

std::string DayString(int n) {
  const Civil c = CivilFromDays(n);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", c.y, c.m, c.d);
  return buf;
}

int DayOfMicros(int64_t micros) {
  const int64_t shifted = micros + kCstOffsetMicros;
  return static_cast<int>((shifted >= 0 ? shifted : shifted - kMicrosPerDay + 1) / kMicrosPerDay);
}

int MonthEnd(int y, int m) {
  return m == 12 ? DaysFromCivil(y + 1, 1, 1) - 1 : DaysFromCivil(y, m + 1, 1) - 1;
}

int PeriodEnd(std::string_view period, int day) {
  const Civil v = CivilFromDays(day);
  if (period == "month") return MonthEnd(v.y, v.m);
  if (period == "quarter") return MonthEnd(v.y, QuarterOf(v.m) * 3);
  if (period == "year") return DaysFromCivil(v.y + 1, 1, 1) - 1;
  return day;
}

int PeriodStart(std::string_view period, int day) {
  const Civil v = CivilFromDays(day);
  if (period == "month") return DaysFromCivil(v.y, v.m, 1);
  if (period == "quarter") return DaysFromCivil(v.y, (QuarterOf(v.m) - 1) * 3 + 1, 1);
  if (period == "year") return DaysFromCivil(v.y, 1, 1);
  return day;
}

std::string Label(std::string_view period, int day) {
  const Civil v = CivilFromDays(day);
  char buf[32];
  if (period == "month") {
    std::snprintf(buf, sizeof buf, "%04d-%02d", v.y, v.m);
  } else if (period == "quarter") {
    std::snprintf(buf, sizeof buf, "%04d-Q%d", v.y, QuarterOf(v.m));
  } else if (period == "year") {
    std::snprintf(buf, sizeof buf, "%04d", v.y);
  } else {
    return DayString(day);
  }
  return buf;
}

int YearBefore(int day) {
  const Civil v = CivilFromDays(day);
  const int last = v.m == 2 ? MonthEnd(v.y - 1, 2) - DaysFromCivil(v.y - 1, 2, 1) + 1 : 31;
  return DaysFromCivil(v.y - 1, v.m, std::min(v.d, last));
}

std::optional<std::pair<int, int>> ParsePeriodLabel(std::string_view t) {
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (t.size() < 4 || !digits(t.substr(0, 4))) return std::nullopt;
  const int y = Digits(t.substr(0, 4));
  if (y < 2000 || y > 2099) return std::nullopt;
  const int first = DaysFromCivil(y, 1, 1);
  if (t.size() == 4) return std::pair{first, PeriodEnd("year", first)};
  if (t.size() == 7 && t[4] == '-' && t[5] == 'Q' && t[6] >= '1' && t[6] <= '4') {
    const int start = DaysFromCivil(y, (t[6] - '1') * 3 + 1, 1);
    return std::pair{start, PeriodEnd("quarter", start)};
  }
  if (t.size() == 7 && t[4] == '-' && digits(t.substr(5, 2))) {
    const int m = Digits(t.substr(5, 2));
    if (m < 1 || m > 12) return std::nullopt;
    const int start = DaysFromCivil(y, m, 1);
    return std::pair{start, MonthEnd(y, m)};
  }
  return std::nullopt;
}

}  // namespace pavilion::settlement
