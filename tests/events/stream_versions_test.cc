#include "pavilion/events/stream_versions.h"

#include <gtest/gtest.h>

#include <string>

namespace pavilion::events {
namespace {

TEST(StreamVersionCache, KeepsTwoGenerationsAndWhatIsReadFromTheOld) {
  StreamVersionCache c(3);
  auto set = [&](const std::string& s, uint64_t v) { c.Set(s, base::PackedStringMap::Hash(s), v); };
  auto find = [&](const std::string& s) { return c.Find(s, base::PackedStringMap::Hash(s)); };
  set("a", 1);
  set("b", 2);
  c.Turn();  // Not full: nothing moves.
  EXPECT_EQ(find("b"), 2u);
  set("c", 3);
  set("d", 4);  // Over the bound between turns: all kept until the next Turn().
  EXPECT_EQ(c.size(), 4u);
  EXPECT_EQ(find("a"), 1u);
  c.Turn();                  // {a, b, c, d} become the old generation.
  EXPECT_EQ(find("a"), 1u);  // Found in the old: copied into the young.
  set("e", 5);
  set("f", 6);
  c.Turn();  // {a, e, f} old; {a, b, c, d} gone.
  EXPECT_EQ(find("a"), 1u);
  EXPECT_EQ(find("b"), std::nullopt);
  EXPECT_EQ(find("d"), std::nullopt);
  EXPECT_EQ(find("f"), 6u);
  set("f", 7);  // A newer version in the young hides the old one's.
  EXPECT_EQ(find("f"), 7u);
  c.Clear();
  EXPECT_EQ(find("a"), std::nullopt);
  EXPECT_EQ(c.size(), 0u);
}

}  // namespace
}  // namespace pavilion::events
