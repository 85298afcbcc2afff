// Metrics: the gateway's Prometheus series — requests and latency per route, HTTP answers per
// status code, the process (CPU, memory, descriptors, start time) and the build — and the helpers
// every other series (event store, storage engine, connections, projections) is written with, so
// each goes out with its HELP and TYPE as `promtool check metrics` requires.
// Routes are numbered by the router. Counters are relaxed atomics in fixed arrays: Observe() and
// CountResponse() are lock-free, allocate nothing and may be called from any thread. Render() and
// RenderProcess() run per scrape and read /proc.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/base/histogram.h"

namespace pavilion::gateway {

// Appends `# HELP name help` and `# TYPE name type` (counter, gauge, histogram); the samples
// follow. A counter's name ends in _total.
void DescribeMetric(std::string& out, std::string_view name, std::string_view type,
                    std::string_view help);
// DescribeMetric, then one sample without labels.
void AppendMetric(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help, int64_t value);

class Metrics {
 public:
  explicit Metrics(std::vector<std::string> route_names);

  // An answer the router gave on route `route` (index in the route names): counts it per route
  // and status class, per status code (CountResponse) and times it.
  void Observe(size_t route, int status, int64_t micros);
  // An answer given with `status` that no route made (the server's own: 413 before any route is
  // found, and the like). Codes outside 100..599 count as 500.
  void CountResponse(int status);
  // Answers given so far with `status`.
  uint64_t responses(int status) const;

  // Appends the route, status and process series and pavilion_build_info.
  void Render(std::string& out) const;
  // Appends process_cpu_seconds_total, process_resident_memory_bytes,
  // process_virtual_memory_bytes, process_open_fds, process_max_fds and
  // process_start_time_seconds, as Prometheus' client libraries name them, read from /proc.
  static void RenderProcess(std::string& out);

 private:
  static constexpr int kMinStatus = 100, kMaxStatus = 599;

  struct Route {
    std::atomic<uint64_t> by_class[6] = {};  // 1xx..5xx, index = status / 100
    base::LatencyHistogram latency;
  };
  std::vector<std::string> names_;
  std::unique_ptr<Route[]> routes_;
  std::atomic<uint64_t> by_status_[kMaxStatus - kMinStatus + 1] = {};
};

}  // namespace pavilion::gateway
