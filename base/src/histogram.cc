#include "pavilion/base/histogram.h"

#include <algorithm>

namespace pavilion::base {

void LatencyHistogram::Observe(int64_t micros) {
  micros = std::max<int64_t>(micros, 0);
  const size_t b =
      static_cast<size_t>(std::lower_bound(kBucketsMicros.begin(), kBucketsMicros.end(), micros) -
                          kBucketsMicros.begin());
  buckets_[b].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(micros), std::memory_order_relaxed);
}

uint64_t LatencyHistogram::count() const {
  uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

void LatencyHistogram::Render(std::string& out, std::string_view name,
                              std::string_view labels) const {
  const std::string prefix(name);
  const std::string sep = labels.empty() ? "" : std::string(labels) + ",";
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= kBucketsMicros.size(); ++b) {
    cumulative += buckets_[b].load(std::memory_order_relaxed);
    const std::string le = b < kBucketsMicros.size()
                               ? std::to_string(static_cast<double>(kBucketsMicros[b]) / 1e6)
                               : "+Inf";
    out += prefix + "_bucket{" + sep + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  std::string braces;
  if (!labels.empty()) braces.append("{").append(labels).append("}");
  out += prefix + "_sum" + braces + " " +
         std::to_string(static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6) +
         "\n";
  out += prefix + "_count" + braces + " " + std::to_string(cumulative) + "\n";
}

}  // namespace pavilion::base
