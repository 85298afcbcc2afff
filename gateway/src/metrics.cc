#include "pavilion/gateway/metrics.h"

namespace pavilion::gateway {

Metrics::Metrics(std::vector<std::string> route_names)
    : names_(std::move(route_names)), routes_(new Route[names_.size()]) {}

void Metrics::Observe(size_t route, int status, int64_t micros) {
  if (route >= names_.size()) return;
  Route& r = routes_[route];
  int cls = status / 100;
  if (cls >= 1 && cls <= 5) r.by_class[cls].fetch_add(1, std::memory_order_relaxed);
  r.latency.Observe(micros);
}

void Metrics::Render(std::string& out) const {
  out += "# HELP pavilion_http_requests_total HTTP requests by route and status class.\n";
  out += "# TYPE pavilion_http_requests_total counter\n";
  for (size_t i = 0; i < names_.size(); ++i) {
    for (int cls = 1; cls <= 5; ++cls) {
      uint64_t n = routes_[i].by_class[cls].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "pavilion_http_requests_total{route=\"" + names_[i] + "\",code=\"" +
             std::to_string(cls) + "xx\"} " + std::to_string(n) + "\n";
    }
  }
  out += "# HELP pavilion_http_request_duration_seconds Latency by route.\n";
  out += "# TYPE pavilion_http_request_duration_seconds histogram\n";
  for (size_t i = 0; i < names_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.latency.count() == 0) continue;
    r.latency.Render(out, "pavilion_http_request_duration_seconds", "route=\"" + names_[i] + "\"");
  }
}

}  // namespace pavilion::gateway
