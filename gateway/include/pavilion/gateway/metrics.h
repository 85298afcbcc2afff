// Metrics: request counts and latency histograms per route, rendered as Prometheus text.
// Routes are numbered by the router; counters are atomics, so Observe() is lock-free and
// thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pavilion::gateway {

class Metrics {
 public:
  static constexpr std::array<int64_t, 12> kBucketsMicros = {
      250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 1'000'000,
      5'000'000};

  explicit Metrics(std::vector<std::string> route_names);
  void Observe(size_t route, int status, int64_t micros);
  // Appends this object's series to `out`.
  void Render(std::string& out) const;

 private:
  struct Route {
    std::atomic<uint64_t> by_class[6] = {};  // 1xx..5xx, index = status / 100
    std::atomic<uint64_t> buckets[kBucketsMicros.size() + 1] = {};
    std::atomic<uint64_t> sum_micros{0};
    std::atomic<uint64_t> count{0};
  };
  std::vector<std::string> names_;
  std::unique_ptr<Route[]> routes_;
};

}  // namespace pavilion::gateway
