#include <gtest/gtest.h>

#include "../support/in_process.h"

namespace pavilion {
namespace {

using testing::Await;
using testing::InProcess;

std::vector<settlement::SalesRow> Sales(InProcess& p, std::string group_by, bool by_day = false) {
  settlement::SalesQuery q;
  q.group_by = std::move(group_by);
  q.by_day = by_day;
  return Await<std::vector<settlement::SalesRow>>([&](auto done) { p.settlement->Sales(q, done); })
      .value();
}

TEST(Settlement, TotalsPerSellerAndPlace) {
  InProcess p;
  auto qin = p.Seller("140430");
  auto guzhang = p.Seller("433126", "poor_household");
  auto millet = p.Product(qin.id, 2990, 100);
  auto tea = p.Product(guzhang.id, 16800, 100);
  ASSERT_TRUE(p.Paid("a", {{millet.sku_ids[0], 2}, {tea.sku_ids[0], 1}}).ok());
  ASSERT_TRUE(p.Paid("b", {{millet.sku_ids[0], 1}}).ok());
  ASSERT_EQ(ToString(p.Order("c", {{millet.sku_ids[0], 1000}})->status), "rejected");
  ASSERT_EQ(ToString(p.Order("d", {{millet.sku_ids[0], 1}})->status),
            "pending_payment");  // Not paid.
  p.Settle();
  auto places = Sales(p, "place");
  ASSERT_EQ(places.size(), 2u);
  EXPECT_EQ(places[0].key, "140430");
  EXPECT_EQ(places[0].totals.amount, Fen(3 * 2990));
  EXPECT_EQ(places[0].totals.orders, 2);
  EXPECT_EQ(places[0].totals.units, 3);
  EXPECT_EQ(places[1].totals.amount, Fen(16800));
  auto sellers = Sales(p, "seller", true);
  ASSERT_EQ(sellers.size(), 2u);
  EXPECT_EQ(sellers[0].day.size(), 10u);
  auto bad = Await<std::vector<settlement::SalesRow>>([&](auto done) {
    p.settlement->Sales({"colour", "", "", false}, done);
  });
  EXPECT_EQ(bad.error(), events::svc_errc::invalid_argument);
}

TEST(Settlement, RefundsComeOffTheDayTheyArePaidBack) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 1000, 10);
  auto o = p.Paid("shp_1", {{product.sku_ids[0], 3}});
  ASSERT_TRUE(o.ok());
  auto asked = p.Do([&](auto done) {
    p.orders->RequestRefund({o->id, "", {{product.sku_ids[0], 1}}, -1, true, "broken"},
                            {Role::kShopper, "shp_1"}, done);
  });
  ASSERT_TRUE(asked.ok()) << asked.message();
  ASSERT_TRUE(
      p.Do([&](auto done) {
         p.orders->DecideRefund(asked->refunds[0].id, true, "", {Role::kSeller, seller.id}, done);
       }).ok());
  p.Settle();
  auto rows = Sales(p, "seller");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].totals.amount, Fen(2000));
  EXPECT_EQ(rows[0].totals.units, 2);
  EXPECT_EQ(rows[0].totals.orders, 1);
}

TEST(Settlement, RebuildFromTheLogIsIdentical) {
  storage::MemoryKvStore kv;
  events::ManualClock clock;
  std::vector<settlement::SalesRow> before;
  {
    InProcess p(&kv, &clock);
    auto seller = p.Seller();
    auto product = p.Product(seller.id, 990, 1000);
    for (int i = 0; i < 30; ++i) {
      if (i == 15) clock.Advance(24ll * 3600 * 1'000'000);  // The next business day.
      ASSERT_TRUE(p.Paid("shp", {{product.sku_ids[0], 1 + i % 3}}).ok());
    }
    p.Settle();
    before = Sales(p, "seller", true);
  }
  ASSERT_EQ(before.size(), 2u);
  ASSERT_FALSE(settlement::SettlementService::Reset(kv));
  InProcess p(&kv, &clock);
  p.Settle();
  auto after = Sales(p, "seller", true);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].key, before[i].key);
    EXPECT_EQ(after[i].day, before[i].day);
    EXPECT_EQ(after[i].totals.amount, before[i].totals.amount);
    EXPECT_EQ(after[i].totals.orders, before[i].totals.orders);
    EXPECT_EQ(after[i].totals.units, before[i].totals.units);
  }
}

}  // namespace
}  // namespace pavilion
