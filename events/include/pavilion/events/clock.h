// Clock: the only source of time in Pavilion.
//
// Everything that needs "now" (event timestamps, timeouts, business days) takes a Clock&, so
// tests use ManualClock and never sleep. SystemClock reads the real wall clock. Both are
// thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace pavilion::events {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch.
  virtual int64_t NowMicros() const = 0;
  // A monotonic reading in microseconds, for measuring durations.
  virtual int64_t MonotonicMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  int64_t MonotonicMicros() const override;
  static SystemClock& Instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_micros = 1'700'000'000'000'000) : now_(start_micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  int64_t MonotonicMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }
  void Set(int64_t micros) { now_ = micros; }

 private:
  std::atomic<int64_t> now_;
};

// A day in microseconds, and how far China Standard Time (UTC+8), the pavilion's business day,
// runs ahead of UTC.
inline constexpr int64_t kMicrosPerDay = 86'400'000'000;
inline constexpr int64_t kCstOffsetMicros = 8 * 3'600'000'000LL;

// "YYYY-MM-DD" of a timestamp in China Standard Time (UTC+8), the business day of a pavilion.
std::string BusinessDay(int64_t micros_since_epoch);
// The moment in RFC 3339 in China Standard Time, to the microsecond:
// "2026-11-03T10:00:00.000000+08:00" (what `as_of` accepts back).
std::string CstTime(int64_t micros_since_epoch);
// Whether `day` is a day of the calendar written YYYY-MM-DD: 2024-02-29 is, 2026-02-30 is not.
bool IsDay(std::string_view day);
// When business day `day` (YYYY-MM-DD, checked with IsDay) begins: 00:00 China Standard Time.
int64_t BusinessDayStartMicros(std::string_view day);

}  // namespace pavilion::events
