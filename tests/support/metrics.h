// Reading one series' value out of a Prometheus text page (GET /metrics).
#pragma once

#include <cstdint>
#include <string>

namespace pavilion::testing {

// The value of `series` (its name and labels exactly as printed, e.g.
// `pavilion_store_sst_bytes{family="default"}`) on a line of its own; -1 when there is none.
inline int64_t MetricValue(const std::string& page, const std::string& series) {
  const std::string line = series + " ";
  size_t at = 0;
  if (!page.starts_with(line)) {
    at = page.find("\n" + line);
    if (at == std::string::npos) return -1;
    ++at;  // Past the newline.
  }
  return std::stoll(page.substr(at + line.size()));
}

}  // namespace pavilion::testing
