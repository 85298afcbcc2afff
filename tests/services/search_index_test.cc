// The search index's two ways of answering a price-sorted query — sorting the candidates, or
// walking every document in price order — must give the same pages, also after products change.
#include "../../services/catalog/src/search_index.h"

#include <gtest/gtest.h>

#include <random>

namespace pavilion::catalog {
namespace {

const char* const kWords[] = {"小米", "红枣", "核桃", "毛尖", "蜂蜜"};

void Fill(SearchIndex& index, std::mt19937& rng, int count, int round) {
  for (int i = 0; i < count; ++i) {
    Product p;
    p.id = "prd_" + std::to_string(rng() % 4500);  // Some ids come again: updates.
    p.seller_id = "sel_" + std::to_string(i % 3);
    p.title =
        std::string(kWords[rng() % 5]) + " " + kWords[rng() % 5] + " " + std::to_string(round);
    p.place_code = i % 2 ? "140430" : "433126";
    index.Put(p, {static_cast<int64_t>(100 + rng() % 50), static_cast<int64_t>(200 + rng() % 900)});
  }
}

std::vector<std::string> AllPages(const SearchIndex& index, ProductQuery q) {
  std::vector<std::string> ids;
  auto stocked = [](const std::string& id) { return id.back() % 3 != 0; };
  for (int pages = 0; pages < 500; ++pages) {
    auto hits = index.Query(q, "2026-11-22", stocked);
    EXPECT_TRUE(hits.ok());
    ids.insert(ids.end(), hits->product_ids.begin(), hits->product_ids.end());
    if (hits->next_cursor.empty()) break;
    q.cursor = hits->next_cursor;
  }
  return ids;
}

TEST(SearchIndex, WalkingByPriceAnswersLikeSortingTheCandidates) {
  SearchIndex walking(/*walk_threshold=*/1), sorting(/*walk_threshold=*/SIZE_MAX);
  std::mt19937 a(1), b(1);
  // After the first round, fewer changes than documents: the walk merges them with the sorted
  // list instead of sorting again.
  for (int round = 0; round < 3; ++round) {
    Fill(walking, a, round == 0 ? 3000 : 300, round);
    Fill(sorting, b, round == 0 ? 3000 : 300, round);
    for (const char* sort : {"price_asc", "price_desc"}) {
      for (std::string words : {"", "小米", "红枣 核桃", "蜂"}) {
        for (bool in_stock : {false, true}) {
          ProductQuery q;
          q.q = words;
          q.sort = sort;
          q.in_stock = in_stock;
          q.place_code = in_stock ? "14" : "";
          q.limit = 37;
          auto walked = AllPages(walking, q);
          EXPECT_EQ(walked, AllPages(sorting, q)) << sort << " " << words << " " << in_stock;
          EXPECT_FALSE(walked.empty());
        }
      }
    }
  }
}

}  // namespace
}  // namespace pavilion::catalog
