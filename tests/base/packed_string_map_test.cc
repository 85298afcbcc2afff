#include "pavilion/base/packed_string_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace pavilion::base {
namespace {

uint64_t Get(const PackedStringMap& t, const std::string& s) {
  const uint64_t* v = t.Find(s, PackedStringMap::Hash(s));
  return v == nullptr ? UINT64_MAX : *v;
}

TEST(PackedStringMap, FindsWhatWasSetAndForgetsOnClear) {
  PackedStringMap t;
  EXPECT_EQ(Get(t, "ord_1"), UINT64_MAX);
  for (int i = 0; i < 1000; ++i) {  // Through several growths.
    const std::string s = "ord_" + std::to_string(i);
    t.Set(s, PackedStringMap::Hash(s), i);
  }
  t.Set("ord_7", PackedStringMap::Hash("ord_7"), 70);  // An update, not a second entry.
  EXPECT_EQ(t.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(Get(t, "ord_" + std::to_string(i)), i == 7 ? 70u : uint64_t(i));
  }
  EXPECT_EQ(Get(t, "ord_1000"), UINT64_MAX);
  EXPECT_EQ(Get(t, "ord_"), UINT64_MAX);  // A prefix of a key is another key.
  EXPECT_EQ(Get(t, "ord_10x"), UINT64_MAX);
  std::vector<std::string> order;
  t.ForEach([&](std::string_view s, size_t, uint64_t) { order.emplace_back(s); });
  ASSERT_EQ(order.size(), 1000u);
  EXPECT_EQ(order.front(), "ord_0");  // In the order first set.
  EXPECT_EQ(order.back(), "ord_999");
  t.Clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(Get(t, "ord_3"), UINT64_MAX);
  t.Set("ord_3", PackedStringMap::Hash("ord_3"), 9);
  EXPECT_EQ(Get(t, "ord_3"), 9u);
}

TEST(PackedStringMap, ReservedRoomHoldsWhatIsSet) {
  PackedStringMap t;
  t.Reserve(3000);
  for (int i = 0; i < 5000; ++i) {  // Past the reserve too.
    const std::string s = "hold/" + std::to_string(i);
    t.Set(s, PackedStringMap::Hash(s), i * 2);
  }
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(Get(t, "hold/" + std::to_string(i)), uint64_t(i) * 2);
  t.Clear();
  t.Reserve(10);  // Never shrinks.
  EXPECT_EQ(Get(t, "hold/1"), UINT64_MAX);
}

// Keys that share one hash still keep their own versions (a weak hash must not merge streams).
TEST(PackedStringMap, EqualHashesStayApart) {
  PackedStringMap t;
  for (int i = 0; i < 100; ++i) t.Set("s" + std::to_string(i), 42, i);
  for (int i = 0; i < 100; ++i) {
    const uint64_t* v = t.Find("s" + std::to_string(i), 42);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, uint64_t(i));
  }
  EXPECT_EQ(t.Find("s100", 42), nullptr);
}

// Against std::map under random sets, clears and lookups.
TEST(PackedStringMap, AgreesWithAMap) {
  std::mt19937 rng(7);
  PackedStringMap t;
  std::map<std::string, uint64_t> m;
  for (int step = 0; step < 50'000; ++step) {
    const std::string s = "sku_" + std::to_string(rng() % 3000);
    const size_t h = PackedStringMap::Hash(s);
    switch (rng() % 10) {
      case 0:
        if (rng() % 100 == 0) {
          t.Clear();
          m.clear();
        }
        break;
      case 1:
      case 2:
      case 3:
      case 4: {
        const uint64_t v = rng();
        t.Set(s, h, v);
        m[s] = v;
        break;
      }
      default: {
        const uint64_t* v = t.Find(s, h);
        auto it = m.find(s);
        ASSERT_EQ(v != nullptr, it != m.end()) << s;
        if (v != nullptr) {
          ASSERT_EQ(*v, it->second);
        }
      }
    }
  }
  EXPECT_EQ(t.size(), m.size());
}

}  // namespace
}  // namespace pavilion::base
