#include "pavilion/events/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace pavilion::events {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SystemClock::MonotonicMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

std::string BusinessDay(int64_t micros_since_epoch) {
  std::time_t t = static_cast<std::time_t>((micros_since_epoch + kCstOffsetMicros) / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string CstTime(int64_t micros_since_epoch) {
  const int64_t local = micros_since_epoch + kCstOffsetMicros;
  int64_t micros = local % 1'000'000;
  std::time_t t = static_cast<std::time_t>(local / 1'000'000);
  if (micros < 0) micros += 1'000'000, --t;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // Room for any int, as the compiler counts.
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+08:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros));
  return buf;
}

bool IsDay(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  const int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  const int month = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

int64_t BusinessDayStartMicros(std::string_view d) {
  const auto number = [&d](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  const std::chrono::sys_days day{std::chrono::year{number(0, 4)} /
                                  static_cast<unsigned>(number(5, 2)) /
                                  static_cast<unsigned>(number(8, 2))};
  return std::chrono::duration_cast<std::chrono::microseconds>(day.time_since_epoch()).count() -
         kCstOffsetMicros;
}

}  // namespace pavilion::events
