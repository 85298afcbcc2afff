// One-click distribution: listings share the supplier's stock, are priced by their markup, stay
// within two levels, follow their source, and orders on them remember how the money divides.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "../support/in_process.h"
#include "pavilion/catalog/pack.h"

namespace pavilion {
namespace {

using events::svc_errc;
using testing::Await;

struct Chain {
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  std::unique_ptr<testing::InProcess> p = std::make_unique<testing::InProcess>(&kv, &clock);
  catalog::Seller supplier = p->Seller("140430", "cooperative");
  catalog::Seller d1 = p->Seller("140430", "individual");
  catalog::Seller d2 = p->Seller("433126", "village_station");
  catalog::Product product =
      Await<catalog::Product>([&](auto done) {
        p->catalog->CreateProduct(
            testing::ProductIn(supplier.id, "沁州黄小米",
                               {{"500g", Fen(2990), 10}, {"1kg", Fen(5600), 3}}),
            done);
      }).value();

  Result<catalog::DistributeReport> Distribute(const std::string& distributor,
                                               const std::string& from,
                                               std::vector<std::string> ids, int64_t percent,
                                               int64_t fen = 0) {
    return Await<catalog::DistributeReport>([&](auto done) {
      p->catalog->Distribute({distributor, from, std::move(ids), percent, fen}, done);
    });
  }
  catalog::Product Get(const std::string& id) {
    return Await<catalog::Product>([&](auto done) { p->catalog->GetProduct(id, done); }).value();
  }
};

TEST(Distribution, ListingsShareStockNeverOversellAndRememberTheMargins) {
  Chain c;
  auto one = c.Distribute(c.d1.id, c.supplier.id, {}, 20);  // The supplier's whole pack.
  ASSERT_TRUE(one.ok()) << one.message();
  ASSERT_EQ(one->created, 1);
  auto l1 = c.Get(one->listing_ids[0]);
  EXPECT_EQ(l1.seller_id, c.d1.id);
  EXPECT_EQ(l1.level, 1);
  EXPECT_EQ(l1.title, "沁州黄小米");
  ASSERT_EQ(l1.skus.size(), 2u);
  EXPECT_EQ(l1.skus[0].price, Fen(3588));  // ceil(2990 × 1.2)
  EXPECT_EQ(l1.skus[1].price, Fen(6720));
  EXPECT_EQ(l1.skus[0].stock, 10);  // The supplier's stock.
  EXPECT_EQ(l1.skus[0].source_sku_id, c.product.skus[0].id);

  // Second level: D2 resells D1's listing with 10 % more.
  auto two = c.Distribute(c.d2.id, c.d1.id, {l1.id}, 10);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->created, 1);
  auto l2 = c.Get(two->listing_ids[0]);
  EXPECT_EQ(l2.level, 2);
  EXPECT_EQ(l2.skus[0].price, Fen(3947));  // ceil(3588 × 1.1)

  // One stock behind three prices: 4 through D1, 6 direct, then nothing is left for anyone.
  auto via_d1 = c.p->Order("shp_a", {{l1.skus[0].id, 4}});
  ASSERT_EQ(ToString(via_d1->status), "pending_payment");
  const auto& line = via_d1->lines[0];
  EXPECT_EQ(line.seller_id, c.supplier.id);  // The supplier ships.
  EXPECT_EQ(line.unit_price, Fen(3588));
  EXPECT_EQ(line.distribution.listing_seller_id, c.d1.id);
  EXPECT_EQ(line.distribution.supply_price, Fen(2990));
  ASSERT_EQ(line.distribution.commissions.size(), 1u);
  EXPECT_EQ(line.distribution.commissions[0].unit, Fen(598));
  ASSERT_EQ(ToString(c.p->Order("shp_b", {{c.product.skus[0].id, 6}})->status), "pending_payment");
  EXPECT_EQ(c.Get(l2.id).skus[0].stock, 0);
  EXPECT_EQ(ToString(c.p->Order("shp_c", {{l1.skus[0].id, 1}})->status), "rejected");
  EXPECT_EQ(ToString(c.p->Order("shp_d", {{l2.skus[0].id, 1}})->status), "rejected");

  // Cancelling D1's order gives the 4 units back to everyone.
  ASSERT_TRUE(c.p->Do([&](auto done) {
                   c.p->orders->Cancel(via_d1->id, {Role::kShopper, "shp_a"}, done);
                 })
                  .ok());
  c.p->Settle();  // The catalog releases the units when it handles order.cancelled.
  EXPECT_EQ(c.Get(c.product.id).skus[0].stock, 4);
  auto via_d2 = c.p->Order("shp_e", {{l2.skus[0].id, 2}});
  ASSERT_EQ(ToString(via_d2->status), "pending_payment");
  const auto& d = via_d2->lines[0].distribution;
  EXPECT_EQ(d.listing_seller_id, c.d2.id);
  ASSERT_EQ(d.commissions.size(), 2u);
  EXPECT_EQ(d.commissions[0].seller_id, c.d1.id);
  EXPECT_EQ(d.commissions[0].unit, Fen(598));
  EXPECT_EQ(d.commissions[1].seller_id, c.d2.id);
  EXPECT_EQ(d.commissions[1].unit, Fen(359));
  // The books balance: supply price plus margins is what the shopper pays.
  EXPECT_EQ(d.supply_price + d.commissions[0].unit + d.commissions[1].unit, Fen(3947));
  EXPECT_EQ(c.Get(c.product.id).skus[0].stock, 2);
  EXPECT_EQ(c.Get(c.product.id).skus[0].reserved, 8);

  // Distributors follow the orders their listings sold (read only); the supplier ships them.
  auto listed = [&](const std::string& seller) {
    std::vector<std::string> ids;
    auto page = Await<order::OrderPage>([&](auto done) {
      c.p->orders->List({"", seller, "", "", 20}, done);
    });
    for (const auto& o : page->orders) ids.push_back(o.id);
    return ids;
  };
  EXPECT_EQ(listed(c.d2.id), std::vector<std::string>{via_d2->id});
  // Both orders carry the same (manual) clock time, so their order in the list is not defined.
  auto d1_orders = listed(c.d1.id);
  std::sort(d1_orders.begin(), d1_orders.end());
  auto expected = std::vector<std::string>{via_d2->id, via_d1->id};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(d1_orders, expected);
  auto seen = Await<order::Order>([&](auto done) {
    c.p->orders->Get(via_d2->id, {Role::kSeller, c.d1.id}, done);
  });
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->sub_orders.size(), 1u);
  EXPECT_EQ(seen->sub_orders[0].seller_id, c.supplier.id);
  EXPECT_EQ(seen->total, Fen(2 * 3947));
  auto ship = c.p->Do([&](auto done) {
    c.p->orders->Ship(via_d2->id, "", "EMS", "E1", {Role::kSeller, c.d1.id}, done);
  });
  EXPECT_EQ(ship.error(), svc_errc::not_found);  // Only the supplier ships.
  auto stranger = Await<order::Order>([&](auto done) {
    c.p->orders->Get(via_d2->id, {Role::kSeller, "sel_other"}, done);
  });
  EXPECT_EQ(stranger.error(), svc_errc::not_found);
}

TEST(Distribution, ChainsStopAtTwoLevelsAndBadRequestsChangeNothing) {
  Chain c;
  auto one = c.Distribute(c.d1.id, c.supplier.id, {c.product.id}, 0, 100);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(c.Get(one->listing_ids[0]).skus[0].price, Fen(3090));  // fixed markup
  auto two = c.Distribute(c.d2.id, c.d1.id, {one->listing_ids[0]}, 5);
  ASSERT_TRUE(two.ok());
  const uint64_t head = c.p->store->head();
  // A third level, reselling one's own product, and bad markups are refused.
  auto three = c.Distribute(c.d1.id, c.d2.id, {two->listing_ids[0]}, 5);
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(three->errors.size(), 1u);
  EXPECT_NE(three->errors[0].message.find("at most two levels"), std::string::npos);
  auto own = c.Distribute(c.supplier.id, c.d1.id, {one->listing_ids[0]}, 5);
  ASSERT_EQ(own->errors.size(), 1u);
  EXPECT_NE(own->errors[0].message.find("your own product"), std::string::npos);
  EXPECT_EQ(c.Distribute(c.d1.id, c.d1.id, {}, 5).error(), svc_errc::invalid_argument);
  EXPECT_EQ(c.Distribute(c.d1.id, c.supplier.id, {}, -1).error(), svc_errc::invalid_argument);
  EXPECT_EQ(c.Distribute(c.d1.id, c.supplier.id, {}, 0, -5).error(), svc_errc::invalid_argument);
  EXPECT_EQ(c.Distribute("sel_nobody", c.supplier.id, {}, 5).error(), svc_errc::not_found);
  auto foreign = c.Distribute(c.d2.id, c.supplier.id, {one->listing_ids[0]}, 5);
  ASSERT_EQ(foreign->errors.size(), 1u);  // Not the supplier's product.
  EXPECT_EQ(c.p->store->head(), head);
  // The same markup again is unchanged; a listing itself cannot be edited.
  EXPECT_EQ(c.Distribute(c.d1.id, c.supplier.id, {c.product.id}, 0, 100)->unchanged, 1);
  auto edit = Await<catalog::Product>([&](auto done) {
    c.p->catalog->UpdateProduct(one->listing_ids[0],
                                testing::ProductIn(c.d1.id, "x", {{"500g", Fen(1), 1}}), c.d1.id,
                                done);
  });
  EXPECT_EQ(edit.error(), svc_errc::conflict);
  EXPECT_EQ(c.p->store->head(), head);
}

TEST(Distribution, SupplierChangesReachEveryListingAlsoAfterARestart) {
  Chain c;
  auto l1 = c.Distribute(c.d1.id, c.supplier.id, {}, 30)->listing_ids[0];
  auto l2 = c.Distribute(c.d2.id, c.d1.id, {l1}, 10)->listing_ids[0];
  auto update = [&](int64_t price, std::vector<catalog::SkuInput> extra = {}) {
    std::vector<catalog::SkuInput> skus = {{"500g", Fen(price), 10}, {"1kg", Fen(5600), 3}};
    skus.insert(skus.end(), extra.begin(), extra.end());
    auto in = testing::ProductIn(c.supplier.id, "沁州黄小米 新米", skus);
    return Await<catalog::Product>(
        [&](auto done) { c.p->catalog->UpdateProduct(c.product.id, in, c.supplier.id, done); });
  };
  ASSERT_TRUE(update(3190).ok());
  EXPECT_EQ(c.Get(l1).skus[0].price, Fen(4147));  // ceil(3190 × 1.3)
  EXPECT_EQ(c.Get(l2).skus[0].price, Fen(4562));  // ceil(4147 × 1.1)
  EXPECT_EQ(c.Get(l2).title, "沁州黄小米 新米");
  auto history = c.p->store->ReadStream(l2);
  EXPECT_EQ(history->back().type, "product.updated");
  // A new markup reprices the listing and its own listings.
  EXPECT_EQ(c.Distribute(c.d1.id, c.supplier.id, {c.product.id}, 10)->updated, 1);
  EXPECT_EQ(c.Get(l1).skus[0].price, Fen(3509));
  EXPECT_EQ(c.Get(l2).skus[0].price, Fen(3860));

  // Restart: the links are read back, and a new spec reaches both levels.
  c.p.reset();
  c.p = std::make_unique<testing::InProcess>(&c.kv, &c.clock);
  ASSERT_TRUE(update(3190, {{"2.5kg礼盒", Fen(12800), 5}}).ok());
  auto listing = c.Get(l2);
  ASSERT_EQ(listing.skus.size(), 3u);
  EXPECT_EQ(listing.skus[2].spec, "2.5kg礼盒");
  EXPECT_EQ(listing.skus[2].price, Fen(15488));  // 12800 × 1.1 × 1.1
  EXPECT_EQ(listing.skus[2].stock, 5);
  catalog::ProductQuery q;
  q.q = "新米";
  auto page = Await<catalog::ProductPage>([&](auto done) { c.p->catalog->ListProducts(q, done); });
  EXPECT_EQ(page->products.size(), 3u);  // The product and both listings.
}

TEST(Distribution, TinyCachesChangeNoAnswer) {
  // Caches dropped between nearly every transaction: stock, holds and listings still add up.
  testing::InProcessOptions options;
  options.catalog.cache_limit = 4;
  options.catalog.hold_cap = 3;
  testing::InProcess p(nullptr, nullptr, options);
  auto supplier = p.Seller();
  auto reseller = p.Seller("140430", "individual");
  auto product = p.Product(supplier.id, 1000, 50);
  auto listing = Await<catalog::DistributeReport>([&](auto done) {
                   p.catalog->Distribute({reseller.id, supplier.id, {}, 10, 0}, done);
                 })->listing_ids.at(0);
  const std::string listed_sku = p.Sku(listing).id;
  std::atomic<int> placed{0}, rejected{0};
  std::vector<std::thread> shoppers;
  for (int t = 0; t < 8; ++t) {
    shoppers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string sku = i % 2 ? listed_sku : product.skus[0].id;
        auto o = p.Order("shp_" + std::to_string(t * 100 + i % 5), {{sku, 1}});
        (o.ok() && ToString(o->status) == "pending_payment" ? placed : rejected)++;
      }
    });
  }
  for (auto& s : shoppers) s.join();
  EXPECT_EQ(placed.load(), 50);
  EXPECT_EQ(rejected.load(), 110);
  auto sku = p.Sku(product.id);
  EXPECT_EQ(sku.stock, 0);
  EXPECT_EQ(sku.reserved, 50);
  // Imports and searches across trims.
  std::string text;
  for (int i = 0; i < 30; ++i) {
    text += R"({"outer_id":"T)" + std::to_string(i) + R"(","title":"红枣 )" + std::to_string(i) +
            R"(","skus":[{"spec":"1kg","price_fen":900,"stock":3}]})" + "\n";
  }
  for (int round = 0; round < 2; ++round) {
    auto parsed = catalog::ParseNdjsonPack(text);
    auto report = Await<catalog::ImportReport>(
        [&](auto done) { p.catalog->ImportPack(supplier.id, std::move(parsed.rows), done); });
    EXPECT_EQ(round == 0 ? report->created : report->unchanged, 30);
  }
  catalog::ProductQuery q;
  q.q = "红枣";
  q.limit = 100;
  EXPECT_EQ(
      Await<catalog::ProductPage>([&](auto d) { p.catalog->ListProducts(q, d); })->products.size(),
      30u);
}

}  // namespace
}  // namespace pavilion

namespace pavilion {
namespace {

// Trace records belong to the supplier: a distributor cannot register a batch on its listing
// (it would appear as the producer), and neither can the operator; the supplier's own product
// takes batches as before.
TEST(Distribution, BatchesAreRegisteredOnTheSuppliersProductNeverOnAListing) {
  Chain c;
  auto one = c.Distribute(c.d1.id, c.supplier.id, {}, 20);
  ASSERT_TRUE(one.ok()) << one.message();
  const std::string listing = one->listing_ids[0];
  events::schema::TraceRecord record;
  record.production_base = "沁县次村村谷子基地";
  const uint64_t head = c.p->store->head();
  for (const std::string& acting : {c.d1.id, std::string()}) {
    auto batch = Await<catalog::Batch>([&](auto done) {
      c.p->catalog->RegisterBatch({listing, acting, record}, done);
    });
    ASSERT_FALSE(batch.ok()) << "acting as " << acting;
    EXPECT_EQ(batch.error(), svc_errc::invalid_argument);
    EXPECT_EQ(batch.message().rfind("product_id: ", 0), 0u) << batch.message();
    EXPECT_NE(batch.message().find(c.product.id), std::string::npos) << batch.message();
  }
  EXPECT_EQ(c.p->store->head(), head);
  auto own = Await<catalog::Batch>([&](auto done) {
    c.p->catalog->RegisterBatch({c.product.id, c.supplier.id, record}, done);
  });
  ASSERT_TRUE(own.ok()) << own.message();
  EXPECT_EQ(own->seller_id, c.supplier.id);
}

}  // namespace
}  // namespace pavilion
