#include "pavilion/base/histogram.h"

#include <gtest/gtest.h>

namespace pavilion::base {
namespace {

TEST(LatencyHistogram, CountsIntoCumulativeBucketsInSeconds) {
  LatencyHistogram h;
  h.Observe(100);        // On a bound: in that bucket.
  h.Observe(101);        // Just past it: the next.
  h.Observe(7'000);      // 10 ms bucket.
  h.Observe(9'000'000);  // Past the last bound.
  h.Observe(-5);         // A clock step back counts as zero.
  EXPECT_EQ(h.count(), 5u);
  std::string out;
  h.Render(out, "x_seconds", "route=\"r\"");
  EXPECT_NE(out.find("x_seconds_bucket{route=\"r\",le=\"0.000100\"} 2\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("x_seconds_bucket{route=\"r\",le=\"0.000250\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{route=\"r\",le=\"0.005000\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{route=\"r\",le=\"0.010000\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{route=\"r\",le=\"5.000000\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_bucket{route=\"r\",le=\"+Inf\"} 5\n"), std::string::npos);
  EXPECT_NE(out.find("x_seconds_sum{route=\"r\"} 9.007201\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_count{route=\"r\"} 5\n"), std::string::npos);
  std::string bare;
  h.Render(bare, "y", "");
  EXPECT_NE(bare.find("y_bucket{le=\"+Inf\"} 5\n"), std::string::npos) << bare;
  EXPECT_NE(bare.find("y_count 5\n"), std::string::npos);
}

}  // namespace
}  // namespace pavilion::base
