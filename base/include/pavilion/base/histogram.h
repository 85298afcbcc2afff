// LatencyHistogram: counts of durations in fixed buckets, rendered as a Prometheus histogram.
// Observe() is lock-free (relaxed atomics) and may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace pavilion::base {

class LatencyHistogram {
 public:
  // Upper bounds, in microseconds; a last bucket takes the rest.
  static constexpr std::array<int64_t, 13> kBucketsMicros = {
      100,    250,    500,     1'000,   2'500,     5'000,    10'000,
      25'000, 50'000, 100'000, 250'000, 1'000'000, 5'000'000};

  void Observe(int64_t micros);
  uint64_t count() const;
  // Appends `name`_bucket / _sum / _count lines (in seconds) with `labels` (`route="…"`, or
  // empty) to `out`; the # TYPE line is the caller's, once per metric name.
  void Render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::atomic<uint64_t> buckets_[kBucketsMicros.size() + 1] = {};
  std::atomic<uint64_t> sum_micros_{0};
};

}  // namespace pavilion::base
