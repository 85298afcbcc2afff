// Money arithmetic is checked: an order worth more than one order may be is refused whole (its
// stock goes back), and sums over orders cannot wrap to the other sign.
#include <gtest/gtest.h>

#include <limits>

#include "../support/in_process.h"

namespace pavilion {
namespace {

using testing::InProcess;
namespace schema = events::schema;

TEST(Money, AnOrderOverTheCeilingIsRejectedAndHoldsNothing) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 100'000'000'00, 10);  // ¥100 million a unit.
  auto one = p.Order("shp_1", {{product.sku_ids[0], 1}});
  ASSERT_TRUE(one.ok()) << one.message();
  EXPECT_EQ(ToString(one->status), "pending_payment");  // Exactly the ceiling: fine.
  EXPECT_EQ(one->total, order::kMaxOrderTotal);
  auto two = p.Order("shp_2", {{product.sku_ids[0], 2}});
  ASSERT_TRUE(two.ok()) << two.message();
  EXPECT_EQ(ToString(two->status), "rejected");
  EXPECT_EQ(two->lines[0].reason, order::kAmountTooLarge);
  p.Settle();
  auto sku = p.Sku(product.id);
  EXPECT_EQ(sku.stock, 9);  // Only the first order holds a unit.
}

// One line alone over the ceiling (a million units of the dearest price, 1e16 fen) is refused.
// (Past int64 a line cannot go: prices and quantities are bounded; a sum of lines can, and
// tests/gateway/auth_test.cc places the order worth 1.94e19 fen.)
TEST(Money, ALineOverTheCeilingIsRefused) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 100'000'000'00, 1'000'000'000);
  auto huge = p.Order("shp_1", {{product.sku_ids[0], 1'000'000}});
  ASSERT_TRUE(huge.ok()) << huge.message();
  EXPECT_EQ(ToString(huge->status), "rejected");
  EXPECT_EQ(huge->lines[0].reason, order::kAmountTooLarge);
}

// The second case: paid orders whose amounts summed past int64 made a seller's sales
// negative. Written here as events (orders this version cannot take any more), the sales stop at
// the largest amount instead of wrapping.
TEST(Money, SalesSumsDoNotWrapNegative) {
  InProcess p;
  for (int i = 0; i < 3; ++i) {
    schema::PricedLine line;
    line.line = 0;
    line.sku_id = "sku_gone";
    line.seller_id = "sel_big";
    line.place_code = "140430";
    line.quantity = 1'000'000;
    line.unit_price = Fen(4'000'000'000'000);
    line.amount = Fen(4'000'000'000'000'000'000);
    events::Transaction tx;
    const std::string id = "ord_big" + std::to_string(i);
    tx.Emit(id, events::kAnyVersion,
            schema::OrderPaid{
                id, "shp_1", "instant", "pay_" + std::to_string(i), line.amount, {line}, false});
    tx.Commit(*p.store, /*fatal_on_error=*/true);
  }
  p.Settle();
  auto rows = events::Await<std::vector<settlement::SalesRow>>([&](auto done) {
                p.settlement->Sales({"seller", "", "", false}, done);
              }).value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "sel_big");
  EXPECT_GT(rows[0].totals.amount.value(), 0);
  EXPECT_EQ(rows[0].totals.amount.value(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(rows[0].totals.orders, 3);
}

}  // namespace
}  // namespace pavilion
