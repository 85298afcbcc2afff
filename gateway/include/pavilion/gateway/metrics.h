// Metrics: request counts and latency histograms per route, rendered as Prometheus text.
// Routes are numbered by the router; counters are atomics, so Observe() is lock-free and
// thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pavilion/base/histogram.h"

namespace pavilion::gateway {

class Metrics {
 public:
  explicit Metrics(std::vector<std::string> route_names);
  void Observe(size_t route, int status, int64_t micros);
  // Appends this object's series to `out`.
  void Render(std::string& out) const;

 private:
  struct Route {
    std::atomic<uint64_t> by_class[6] = {};  // 1xx..5xx, index = status / 100
    base::LatencyHistogram latency;
  };
  std::vector<std::string> names_;
  std::unique_ptr<Route[]> routes_;
};

}  // namespace pavilion::gateway
