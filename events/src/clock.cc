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
  constexpr int64_t kCstOffsetSeconds = 8 * 3600;
  std::time_t t = static_cast<std::time_t>(micros_since_epoch / 1'000'000 + kCstOffsetSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

}  // namespace pavilion::events
