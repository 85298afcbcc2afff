#include <gtest/gtest.h>

#include <future>
#include <optional>
#include <thread>

#include "../support/in_process.h"

namespace pavilion {
namespace {

using events::svc_errc;
using testing::Await;
using testing::InProcess;

TEST(Catalog, RegisterSellerValidatesEveryField) {
  InProcess p;
  auto bad_place = Await<catalog::Seller>([&](auto done) {
    p.catalog->RegisterSeller({"n", "14043", "cooperative"}, done);
  });
  EXPECT_EQ(bad_place.error(), svc_errc::invalid_argument);
  EXPECT_NE(bad_place.message().find("place_code"), std::string::npos);
  auto bad_type = Await<catalog::Seller>([&](auto done) {
    p.catalog->RegisterSeller({"n", "140430", "pirate"}, done);
  });
  EXPECT_NE(bad_type.message().find("supplier_type"), std::string::npos);
  auto no_name = Await<catalog::Seller>([&](auto done) {
    p.catalog->RegisterSeller({"", "140430", "cooperative"}, done);
  });
  EXPECT_NE(no_name.message().find("name"), std::string::npos);
  EXPECT_EQ(p.store->head(), 0u);  // Nothing was written.
  auto ok = Await<catalog::Seller>([&](auto done) {
    p.catalog->RegisterSeller({"古丈茶农", "433126", "poor_household"}, done);
  });
  ASSERT_TRUE(ok.ok());
  auto events = p.store->ReadStream(ok->id);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, events::schema::SellerRegistered::kType);
}

TEST(Catalog, CreateProductChecksSellerAndSkus) {
  InProcess p;
  auto seller = p.Seller();
  auto unknown = Await<catalog::Product>([&](auto done) {
    p.catalog->CreateProduct(testing::ProductIn("sel_nobody", "t", {{"500g", Fen(1), 1}}), done);
  });
  EXPECT_EQ(unknown.error(), svc_errc::not_found);
  auto free = Await<catalog::Product>([&](auto done) {
    p.catalog->CreateProduct(testing::ProductIn(seller.id, "t", {{"500g", Fen(0), 1}}), done);
  });
  EXPECT_NE(free.message().find("skus[0].price_fen"), std::string::npos);
  auto negative = Await<catalog::Product>([&](auto done) {
    p.catalog->CreateProduct(testing::ProductIn(seller.id, "t", {{"500g", Fen(5), -1}}), done);
  });
  EXPECT_NE(negative.message().find("skus[0].stock"), std::string::npos);
  auto product = p.Product(seller.id, 2990, 7);
  EXPECT_EQ(product.place_code, "140430");
  auto sku = p.Sku(product.id);
  EXPECT_EQ(sku.stock, 7);
  EXPECT_EQ(sku.price, Fen(2990));
}

TEST(Catalog, ConcurrentOrdersNeverOversell) {
  InProcess p;
  auto seller = p.Seller();
  constexpr int kStock = 50;
  auto product = p.Product(seller.id, 100, kStock);
  const std::string sku = product.sku_ids[0];
  std::atomic<int> confirmed{0}, rejected{0};
  std::vector<std::thread> shoppers;
  for (int t = 0; t < 8; ++t) {
    shoppers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto o = p.Order("shp_" + std::to_string(t), {{sku, 1}});
        ASSERT_TRUE(o.ok());
        (ToString(o->status) == "pending_payment" ? confirmed : rejected)++;
      }
    });
  }
  for (auto& t : shoppers) t.join();
  EXPECT_EQ(confirmed.load(), kStock);
  EXPECT_EQ(rejected.load(), 8 * 20 - kStock);
  auto s = p.Sku(product.id);
  EXPECT_EQ(s.stock, 0);
  EXPECT_EQ(s.reserved, kStock);
}

// Stock moves write no SKU record: the events on the SKU's stream carry its stock, so the record
// a product wrote stays as it was, and after a restart the SKU reads as before it. A command that
// writes the record (an update setting the stock) records the stream's version with it; the
// moves after it continue from there.
TEST(Catalog, StockMovesWriteNoSkuRecordTheirEventsCarryTheStock) {
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  std::string seller_id, product_id, sku_id, created;
  auto numbers = [](const catalog::Sku& s) {
    return std::vector<int64_t>{s.stock, s.reserved, s.sold};
  };
  {
    InProcess p(&kv, &clock);
    seller_id = p.Seller().id;
    auto product = p.Product(seller_id, 100, 20);
    product_id = product.id;
    sku_id = product.sku_ids[0];
    p.Settle();
    ASSERT_FALSE(kv.Get("cat/sku/" + sku_id, &created));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(ToString(p.Paid("shp_a", {{sku_id, 1}})->status), "paid");
    for (int i = 0; i < 2; ++i) {
      auto o = p.Order("shp_b", {{sku_id, 1}});
      ASSERT_EQ(ToString(o->status), "pending_payment");
      ASSERT_TRUE(p.Do([&](auto done) {
                     p.orders->Cancel(o->id, {Role::kShopper, "shp_b"}, done);
                   }).ok());
    }
    ASSERT_EQ(ToString(p.Order("shp_c", {{sku_id, 4}})->status), "pending_payment");
    ASSERT_EQ(ToString(p.Order("shp_d", {{sku_id, 50}})->status),
              "rejected");  // The last event: a rejection.
    p.Settle();
    EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{13, 4, 3}));
    std::string now;
    ASSERT_FALSE(kv.Get("cat/sku/" + sku_id, &now));
    EXPECT_EQ(now, created);
    // 3 reserved and sold, 2 reserved and released, 1 reserved, 1 rejected.
    auto stream = p.store->ReadStream(sku_id);
    ASSERT_TRUE(stream.ok());
    EXPECT_EQ(stream->size(), 12u);
  }
  {
    InProcess p(&kv, &clock);
    EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{13, 4, 3}));
    auto updated = Await<catalog::Product>([&](auto done) {
      p.catalog->UpdateProduct(
          product_id, testing::ProductIn(seller_id, "沁州黄小米", {{"500g", Fen(100), 30}}),
          seller_id, done);
    });
    ASSERT_TRUE(updated.ok()) << updated.message();
    EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{30, 4, 3}));
    std::string record;
    ASSERT_FALSE(kv.Get("cat/sku/" + sku_id, &record));
    auto stored = events::Decode<catalog::Sku>(record);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->stream_version, 12u);
    EXPECT_EQ(numbers(*stored), (std::vector<int64_t>{30, 4, 3}));
  }
  {
    InProcess p(&kv, &clock);  // The record the update wrote, nothing after it.
    EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{30, 4, 3}));
    ASSERT_EQ(ToString(p.Order("shp_e", {{sku_id, 2}})->status), "pending_payment");
    p.Settle();
  }
  InProcess p(&kv, &clock);  // The record, then one event past it.
  EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{28, 6, 3}));
}

// A SKU record from before stream versions was rewritten with every stock move: it is the SKU's
// stock while its stream's last event is from before too (schema 1, without the numbers); the
// next move follows the stream's last version and carries the stock, also after a restart that
// still finds the older record.
struct OldSku {  // catalog::Sku's record as it was stored, without stream_version.
  std::string id, product_id, seller_id, place_code, spec;
  Fen price;
  int64_t stock = 0, reserved = 0, sold = 0;
  std::string source_sku_id;
  template <class V>
  void Fields(V& v) {
    v(id), v(product_id), v(seller_id), v(place_code), v(spec), v(price), v(stock), v(reserved),
        v(sold), v(source_sku_id);
  }
};

TEST(Catalog, SkuRecordsFromBeforeStreamVersionsAreTheStock) {
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  std::string product_id, sku_id;
  {
    InProcess p(&kv, &clock);
    auto product = p.Product(p.Seller().id, 100, 20);
    product_id = product.id;
    sku_id = product.sku_ids[0];
    p.Settle();
    // Two moves as an older Pavilion wrote them: schema 1, no stock numbers but `stock_after`.
    std::vector<events::NewEvent> moves;
    for (uint32_t i = 0; i < 2; ++i) {
      events::schema::StockReserved r;
      r.order_id = "ord_old" + std::to_string(i);
      r.sku_id = sku_id;
      r.quantity = 1;
      r.stock_after = 19 - i;
      moves.push_back(
          {sku_id, events::kAnyVersion, std::string(r.kType), events::Encode(r), "", "", 1});
    }
    ASSERT_TRUE(p.store->AppendAndWait({std::move(moves), {}}).ok());
  }
  auto current = events::Decode<catalog::Sku>([&] {
    std::string bytes;
    EXPECT_FALSE(kv.Get("cat/sku/" + sku_id, &bytes));
    return bytes;
  }());
  ASSERT_TRUE(current.ok());
  const catalog::Sku& c = *current;
  storage::WriteBatch old;  // The record that older Pavilion rewrote with each move.
  old.Put("cat/sku/" + sku_id, events::Encode(OldSku{c.id, c.product_id, c.seller_id, c.place_code,
                                                     c.spec, c.price, 17, 2, 1, ""}));
  ASSERT_FALSE(kv.Write(old, true));
  auto numbers = [](const catalog::Sku& s) {
    return std::vector<int64_t>{s.stock, s.reserved, s.sold};
  };
  {
    InProcess p(&kv, &clock);
    EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{17, 2, 1}));
    ASSERT_EQ(ToString(p.Order("shp_b", {{sku_id, 3}})->status), "pending_payment");
    p.Settle();
    EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{14, 5, 1}));
    auto last = p.store->ReadLast(sku_id);
    ASSERT_TRUE(last.ok() && last->has_value());
    EXPECT_EQ((*last)->stream_version, 3u);
    EXPECT_EQ((*last)->schema_version, events::schema::kStockLevelsSchema);
  }
  // The record is still the older one; the move since carries the stock.
  InProcess p(&kv, &clock);
  EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{14, 5, 1}));
  ASSERT_EQ(ToString(p.Order("shp_c", {{sku_id, 1}})->status), "pending_payment");
  p.Settle();
  EXPECT_EQ(numbers(p.Sku(product_id)), (std::vector<int64_t>{13, 6, 1}));
}

}  // namespace
}  // namespace pavilion

namespace pavilion {
namespace {

events::schema::TraceRecord Record() {
  events::schema::TraceRecord r;
  r.production_base = "沁州黄镇次村村谷子基地";
  r.farming = {{"2026-05-02", "播种"}, {"2026-07-15", "施有机肥"}};
  r.soil_water_inspection = "土壤重金属未检出";
  r.harvest_date = "2026-09-28";
  r.packing_date = "2026-10-03";
  r.inspection_report = "SX-2026-0931 合格";
  return r;
}

TEST(Catalog, BatchesGetTraceCodesAndOnlyTheirSellerRegistersThem) {
  testing::InProcess p;
  auto seller = p.Seller();
  auto other = p.Seller("433126");
  auto product = p.Product(seller.id, 2990, 10);
  auto batch = testing::Await<catalog::Batch>([&](auto d) {
    p.catalog->RegisterBatch({product.id, seller.id, Record()}, d);
  });
  ASSERT_TRUE(batch.ok()) << batch.message();
  EXPECT_EQ(batch->trace_code.size(), 10u);
  auto trace =
      testing::Await<catalog::Trace>([&](auto d) { p.catalog->GetTrace(batch->trace_code, d); });
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->product.title, "沁州黄小米");
  EXPECT_EQ(trace->seller.id, seller.id);
  EXPECT_EQ(trace->batch.record.farming.size(), 2u);
  auto foreign = testing::Await<catalog::Batch>([&](auto d) {
    p.catalog->RegisterBatch({product.id, other.id, Record()}, d);
  });
  EXPECT_EQ(foreign.error(), events::svc_errc::forbidden);
  auto bad = Record();
  bad.packing_date = "2026-09-01";
  auto backwards = testing::Await<catalog::Batch>([&](auto d) {
    p.catalog->RegisterBatch({product.id, "", bad}, d);
  });
  EXPECT_NE(backwards.message().find("packing_date"), std::string::npos);
  EXPECT_EQ(testing::Await<catalog::Trace>([&](auto d) { p.catalog->GetTrace("NOPE", d); }).error(),
            events::svc_errc::not_found);
}

}  // namespace
}  // namespace pavilion

namespace pavilion {
namespace {

TEST(Catalog, BrowseAndSearchWithFiltersSortAndCursor) {
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  testing::InProcess p(&kv, &clock);
  auto qin = p.Seller("140430");
  auto guzhang = p.Seller("433126");
  auto make = [&](const std::string& seller, const std::string& title, int64_t price,
                  int64_t stock) {
    clock.Advance(1000);
    return testing::Await<catalog::Product>([&](auto d) {
             p.catalog->CreateProduct(
                 testing::ProductIn(seller, title, {{"500g", Fen(price), stock}}), d);
           })
        .value();
  };
  auto millet = make(qin.id, "沁州黄小米 500g", 2990, 10);
  auto vinegar = make(qin.id, "沁州黄米醋", 1890, 0);
  auto tea = make(guzhang.id, "古丈毛尖 Organic Green Tea", 16800, 5);
  auto list = [&](catalog::ProductQuery q) {
    auto r = testing::Await<catalog::ProductPage>([&](auto d) { p.catalog->ListProducts(q, d); });
    EXPECT_TRUE(r.ok()) << r.message();
    std::vector<std::string> ids;
    for (const auto& prod : r->products) ids.push_back(prod.id);
    return std::pair{ids, r->next_cursor};
  };
  catalog::ProductQuery all;
  EXPECT_EQ(list(all).first, (std::vector<std::string>{tea.id, vinegar.id, millet.id}));
  catalog::ProductQuery chinese;
  chinese.q = "州黄";
  EXPECT_EQ(list(chinese).first.size(), 2u);
  chinese.q = "黄小";
  EXPECT_EQ(list(chinese).first, (std::vector<std::string>{millet.id}));
  catalog::ProductQuery words;
  words.q = "green TEA";
  EXPECT_EQ(list(words).first, (std::vector<std::string>{tea.id}));
  catalog::ProductQuery place;
  place.place_code = "14";
  EXPECT_EQ(list(place).first.size(), 2u);
  place.in_stock = true;
  EXPECT_EQ(list(place).first, (std::vector<std::string>{millet.id}));
  catalog::ProductQuery cheap;
  cheap.max_price_fen = 3000;
  cheap.sort = "price_asc";
  EXPECT_EQ(list(cheap).first, (std::vector<std::string>{vinegar.id, millet.id}));
  catalog::ProductQuery paged;
  paged.limit = 2;
  auto [first, cursor] = list(paged);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_FALSE(cursor.empty());
  paged.cursor = cursor;
  EXPECT_EQ(list(paged).first, (std::vector<std::string>{millet.id}));
  catalog::ProductQuery bad;
  bad.sort = "random";
  EXPECT_EQ(testing::Await<catalog::ProductPage>([&](auto d) {
              p.catalog->ListProducts(bad, d);
            }).error(),
            events::svc_errc::invalid_argument);
}

}  // namespace
}  // namespace pavilion

namespace pavilion {
namespace {

events::schema::Certification ScLicence(std::string to) {
  return {"sc_licence", "SC10114043000011", "沁县市场监督管理局", "2020-01-01", std::move(to)};
}

TEST(Catalog, ProcessedFoodNeedsAValidScLicence) {
  events::ManualClock clock(1795365000ll * 1'000'000);  // 2026-11-23 in Beijing
  storage::MemoryKvStore kv;
  testing::InProcess p(&kv, &clock);
  auto seller = p.Seller();
  auto create = [&](catalog::ProductInput in) {
    return testing::Await<catalog::Product>([&](auto d) { p.catalog->CreateProduct(in, d); });
  };
  auto in = testing::ProductIn(seller.id, "沁州黄小米", {{"500g", Fen(2990), 10}});
  in.category = "grain";
  in.brand = "沁州黄";
  auto none = create(in);
  EXPECT_EQ(none.error(), events::svc_errc::invalid_argument);
  EXPECT_NE(none.message().find("SC licence"), std::string::npos);
  in.certifications = {ScLicence("2026-01-31")};  // Expired.
  EXPECT_EQ(create(in).error(), events::svc_errc::invalid_argument);
  in.certifications = {ScLicence("2027-06-30"),
                       {"organic", "ORG-1", "中绿华夏", "2025-01-01", "2026-12-31"}};
  auto ok = create(in);
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(ok->brand, "沁州黄");
  in.category = "gadgets";
  EXPECT_NE(create(in).message().find("category"), std::string::npos);

  // Search by a claim that is valid today; once the organic certificate expires it is no claim.
  catalog::ProductQuery organic;
  organic.certification = "organic";
  auto list = [&] {
    return testing::Await<catalog::ProductPage>(
               [&](auto d) { p.catalog->ListProducts(organic, d); })
        ->products.size();
  };
  EXPECT_EQ(list(), 1u);
  clock.Advance(40ll * 24 * 3600 * 1'000'000);  // Into 2027.
  EXPECT_EQ(list(), 0u);
  EXPECT_FALSE(catalog::CertificationValid(ok->certifications[1], "2027-01-01"));
  EXPECT_TRUE(catalog::CertificationValid(ok->certifications[0], "2027-01-01"));
}

// Images are read on the caller's thread, not the catalog's, which reserves stock for every
// order: a client reading images in bulk cannot hold orders up (found in review: pipelined
// anonymous image reads queued on the catalog's thread ahead of orders).
TEST(Catalog, ImagesAreReadOffTheCatalogThread) {
  testing::InProcess p;
  const std::string png = "\x89PNG\r\n\x1A\n" + std::string(64, 'a');
  auto ref = Await<std::string>([&](auto d) { p.catalog->StoreImage(png, d); });
  ASSERT_TRUE(ref.ok()) << ref.message();
  std::promise<void> release, blocked;
  // Taken here: the task may still be between its two lines when the test lets it go.
  std::shared_future<void> released = release.get_future().share();
  p.catalog->worker().Post([&blocked, released] {
    blocked.set_value();
    released.wait();
  });
  blocked.get_future().wait();  // The catalog's thread is busy from here on.
  std::optional<Result<std::string>> got;
  p.catalog->GetImage(*ref, [&](Result<std::string> image) { got = std::move(image); });
  std::optional<Result<std::string>> missing;
  p.catalog->GetImage("0000.png", [&](Result<std::string> image) { missing = std::move(image); });
  release.set_value();
  testing::RoundTrip(p.catalog->worker());  // The task is done with what it captured.
  ASSERT_TRUE(got.has_value());             // Answered while the catalog's thread was still busy.
  ASSERT_TRUE(got->ok());
  EXPECT_EQ(**got, png);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->error(), svc_errc::not_found);
}

TEST(Catalog, PoorHouseholdProductsCarryAFloorPrice) {
  testing::InProcess p;
  auto household = p.Seller("433126", "poor_household");
  auto in = testing::ProductIn(household.id, "古丈八月瓜",
                               {{"3斤", Fen(5800), 10}, {"5斤", Fen(8800), 5}});
  in.category = "fruit";
  auto product = testing::Await<catalog::Product>([&](auto d) { p.catalog->CreateProduct(in, d); });
  ASSERT_TRUE(product.ok());
  EXPECT_TRUE(product->poverty_zone);
  EXPECT_EQ(product->floor_price, Fen(5800));  // The lowest price it was listed at.
  in.floor_price_fen = 6000;                   // A protective price above a SKU: refused.
  auto under = testing::Await<catalog::Product>([&](auto d) { p.catalog->CreateProduct(in, d); });
  EXPECT_NE(under.message().find("floor price"), std::string::npos);
  catalog::ProductQuery zone;
  zone.poverty_zone = true;
  auto page =
      testing::Await<catalog::ProductPage>([&](auto d) { p.catalog->ListProducts(zone, d); });
  ASSERT_EQ(page->products.size(), 1u);
  EXPECT_EQ(page->products[0].id, product->id);
}

TEST(Catalog, CategoriesOperatorsAddAreEventsAndSurviveARestart) {
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  catalog::CategoryInput kiwi;
  kiwi.code = "kiwi";
  kiwi.name = "猕猴桃";
  kiwi.parent = "fruit";
  {
    testing::InProcess p(&kv, &clock);
    auto seller = p.Seller();
    auto in = testing::ProductIn(seller.id, "猕猴桃", {{"5斤", Fen(3900), 5}});
    in.category = "kiwi";
    auto before = Await<catalog::Product>([&](auto d) { p.catalog->CreateProduct(in, d); });
    EXPECT_EQ(before.error(), svc_errc::invalid_argument);
    auto set = Await<catalog::Category>([&](auto d) { p.catalog->SetCategory(kiwi, d); });
    ASSERT_TRUE(set.ok()) << set.message();
    EXPECT_TRUE(set->agricultural);  // Its parent's.
    // In force at once for the next command, and an event on its stream.
    EXPECT_TRUE(Await<catalog::Product>([&](auto d) { p.catalog->CreateProduct(in, d); }).ok());
    auto events = p.store->ReadStream("category-kiwi");
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].type, events::schema::CategorySet::kType);
    auto e = events::Decode<events::schema::CategorySet>((*events)[0].payload);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->parent, "fruit");
    EXPECT_TRUE(e->agricultural);
    // A refused change writes nothing.
    catalog::CategoryInput loop;
    loop.code = "fruit";
    loop.parent = "kiwi";
    EXPECT_FALSE(Await<catalog::Category>([&](auto d) { p.catalog->SetCategory(loop, d); }).ok());
    EXPECT_EQ(p.store->ReadStream("category-fruit")->size(), 0u);
  }
  testing::InProcess again(&kv, &clock);
  bool found = false;
  for (const auto& c : again.catalog->Categories()) {
    if (c.code != "kiwi") continue;
    found = true;
    EXPECT_EQ(c.name, "猕猴桃");
    EXPECT_EQ(c.parent, "fruit");
    EXPECT_EQ(c.depth, 2);
    EXPECT_TRUE(c.agricultural);
  }
  EXPECT_TRUE(found);
}

TEST(Catalog, SearchFindsEveryMatchPagesThemAndSurvivesARestart) {
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  std::vector<std::string> millets;  // Newest first.
  std::string renamed;
  auto list = [](testing::InProcess& p, catalog::ProductQuery q) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 100; ++pages) {
      auto r = testing::Await<catalog::ProductPage>([&](auto d) { p.catalog->ListProducts(q, d); });
      EXPECT_TRUE(r.ok()) << r.message();
      for (const auto& prod : r->products) ids.push_back(prod.id);
      if (r->next_cursor.empty()) break;
      q.cursor = r->next_cursor;
    }
    return ids;
  };
  catalog::ProductQuery millet;
  millet.q = "小米";
  millet.limit = 7;
  {
    testing::InProcess p(&kv, &clock);
    auto seller = p.Seller();
    for (int i = 0; i < 40; ++i) {
      clock.Advance(1000);
      std::string title = (i % 4 == 3 ? "古丈毛尖 " : "沁州黄小米 ") + std::to_string(i);
      auto made =
          testing::Await<catalog::Product>([&](auto d) {
            p.catalog->CreateProduct(
                testing::ProductIn(seller.id, title, {{"500g", Fen(1000 + (i * 37) % 500), i % 5}}),
                d);
          }).value();
      if (i % 4 != 3) millets.insert(millets.begin(), made.id);
    }
    EXPECT_EQ(list(p, millet), millets);  // All 30, newest first, over 5 pages.
    // In stock only (every fifth has none), and by price with an offset cursor.
    catalog::ProductQuery stocked = millet;
    stocked.in_stock = true;
    EXPECT_EQ(list(p, stocked).size(), 24u);
    catalog::ProductQuery cheap = millet;
    cheap.sort = "price_asc";
    auto by_price = list(p, cheap);
    ASSERT_EQ(by_price.size(), 30u);
    int64_t last = 0;
    for (const auto& id : by_price) {
      int64_t price = p.Sku(id).price.value();
      EXPECT_LE(last, price);
      last = price;
    }
    // A renamed product is found by its new title only.
    renamed = millets.back();
    auto in = testing::ProductIn(seller.id, "沁县红枣", {{"500g", Fen(999), 1}});
    ASSERT_TRUE(testing::Await<catalog::Product>([&](auto d) {
                  p.catalog->UpdateProduct(renamed, in, seller.id, d);
                }).ok());
    millets.pop_back();
    EXPECT_EQ(list(p, millet), millets);
    catalog::ProductQuery dates;
    dates.q = "红枣";
    EXPECT_EQ(list(p, dates), std::vector<std::string>{renamed});
  }
  // The index is rebuilt from the records at start: the same answers.
  testing::InProcess again(&kv, &clock);
  EXPECT_EQ(list(again, millet), millets);
  catalog::ProductQuery dates;
  dates.q = "红枣";
  EXPECT_EQ(list(again, dates), std::vector<std::string>{renamed});
  catalog::ProductQuery bad_cursor = millet;
  bad_cursor.cursor = "zz";
  EXPECT_EQ(testing::Await<catalog::ProductPage>([&](auto d) {
              again.catalog->ListProducts(bad_cursor, d);
            }).error(),
            events::svc_errc::invalid_argument);
}

}  // namespace
}  // namespace pavilion

#include "pavilion/catalog/pack.h"

namespace pavilion {
namespace {

const char* kPack =
    R"({"outer_id":"QZH-001","title":"沁州黄小米","category":"grain","brand":"沁州黄","certifications":[{"type":"sc_licence","number":"SC1","valid_to":"2099-12-31"}],"skus":[{"spec":"500g","price_fen":2990,"stock":100}]})"
    "\n"
    R"({"outer_id":"QZH-002","title":"沁县土鸡蛋","category":"eggs","skus":[{"spec":"30枚","price_fen":4500,"stock":50}]})"
    "\n"
    R"({"outer_id":"QZH-003","title":"米醋","category":"condiment","skus":[{"spec":"500ml","price_fen":1890,"stock":10}]})"
    "\n"
    R"({"outer_id":"QZH-004","title":"核桃","skus":[{"spec":"250g","price_fen":"3580","stock":20}]})"
    "\n"
    "not json\n"
    "\n";

TEST(Packs, ParserReportsEveryBadRowWithItsField) {
  auto parsed = catalog::ParseNdjsonPack(kPack);
  ASSERT_EQ(parsed.rows.size(), 3u);
  EXPECT_EQ(parsed.rows[0].outer_id, "QZH-001");
  EXPECT_EQ(parsed.rows[0].product.skus[0].price, Fen(2990));
  EXPECT_EQ(parsed.rows[1].product.category, "eggs");
  ASSERT_EQ(parsed.errors.size(), 2u);
  EXPECT_EQ(parsed.errors[0].row, 4);
  EXPECT_EQ(parsed.errors[0].message, "skus[0].price_fen: expected an integer");
  EXPECT_EQ(parsed.errors[1].row, 5);
  auto missing = catalog::ParseNdjsonPack(R"({"title":"x","skus":[]})");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].message, "outer_id: required");
  EXPECT_EQ(catalog::ParseNdjsonPack("{}\n{}\n{}", 2).errors.back().message,
            "pack: more than 2 rows");
}

TEST(Packs, ImportAppliesValidRowsAndReimportChangesNothing) {
  testing::InProcess p;
  auto seller = p.Seller();
  auto import = [&](std::string text) {
    auto parsed = catalog::ParseNdjsonPack(text);
    return testing::Await<catalog::ImportReport>(
               [&](auto d) { p.catalog->ImportPack(seller.id, std::move(parsed.rows), d); })
        .value();
  };
  auto first = import(kPack);
  EXPECT_EQ(first.created, 2);
  ASSERT_EQ(first.errors.size(), 1u);  // The vinegar has no SC licence: a catalog rule.
  EXPECT_EQ(first.errors[0].row, 3);
  EXPECT_NE(first.errors[0].message.find("SC licence"), std::string::npos);
  const uint64_t head = p.store->head();
  auto again = import(kPack);
  EXPECT_EQ(again.unchanged, 2);
  EXPECT_EQ(again.created + again.updated, 0);
  EXPECT_EQ(p.store->head(), head);  // Nothing written.
  // A changed pack: one price changes and one new spec; only that product is updated.
  std::string changed = kPack;
  changed.replace(changed.find("\"price_fen\":4500"), 16, "\"price_fen\":4800");
  auto third = import(changed);
  EXPECT_EQ(third.updated, 1);
  EXPECT_EQ(third.unchanged, 1);
  catalog::ProductQuery eggs;
  eggs.q = "鸡蛋";
  auto page =
      testing::Await<catalog::ProductPage>([&](auto d) { p.catalog->ListProducts(eggs, d); });
  ASSERT_EQ(page->products.size(), 1u);
  EXPECT_EQ(page->products[0].skus[0].price, Fen(4800));
  // Stock already held by orders stays theirs when the pack sets what is available.
  auto o = p.Order("shp_1", {{page->products[0].skus[0].id, 5}});
  ASSERT_EQ(ToString(o->status), "pending_payment");
  changed.replace(changed.find("\"stock\":50"), 10, "\"stock\":70");
  EXPECT_EQ(import(changed).updated, 1);
  auto sku = p.Sku(page->products[0].id);
  EXPECT_EQ(sku.stock, 70);
  EXPECT_EQ(sku.reserved, 5);
}

}  // namespace
}  // namespace pavilion
