#include <gtest/gtest.h>

#include "../support/in_process.h"

namespace pavilion {
namespace {

using events::svc_errc;
using testing::InProcess;
namespace schema = events::schema;

TEST(Orders, ConfirmedOrderCarriesPricesAndTotal) {
  InProcess p;
  auto seller = p.Seller();
  auto a = p.Product(seller.id, 2990, 10);
  auto b = p.Product(seller.id, 1890, 10);
  auto o = p.Order("shp_1", {{a.sku_ids[0], 2}, {b.sku_ids[0], 1}});
  ASSERT_TRUE(o.ok()) << o.message();
  EXPECT_EQ(o->status, "confirmed");
  EXPECT_EQ(o->total, Fen(2 * 2990 + 1890));
  EXPECT_EQ(o->lines[0].seller_id, seller.id);
  EXPECT_EQ(p.Sku(a.id).stock, 8);
  // The whole flow is in the log, correlated by the order id.
  auto history = p.store->ReadStream(o->id);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].type, schema::OrderPlaced::kType);
  EXPECT_EQ((*history)[1].type, schema::OrderConfirmed::kType);
  EXPECT_EQ((*history)[1].correlation_id, o->id);
}

TEST(Orders, RejectedOrderGivesReasonsAndReleasesWhatItReserved) {
  InProcess p;
  auto seller = p.Seller();
  auto plenty = p.Product(seller.id, 100, 10);
  auto scarce = p.Product(seller.id, 100, 1);
  auto o = p.Order("shp_1", {{plenty.sku_ids[0], 3}, {scarce.sku_ids[0], 2}, {"sku_ghost", 1}});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->status, "rejected");
  EXPECT_EQ(o->lines[0].status, "reserved");
  EXPECT_EQ(o->lines[1].reason, "insufficient_stock");
  EXPECT_EQ(o->lines[2].reason, "unknown_sku");
  EXPECT_EQ(o->total, Fen(0));
  p.Settle();
  auto s = p.Sku(plenty.id);
  EXPECT_EQ(s.stock, 10);
  EXPECT_EQ(s.reserved, 0);
  EXPECT_EQ(p.Sku(scarce.id).stock, 1);
}

TEST(Orders, InvalidOrdersWriteNothing) {
  InProcess p;
  uint64_t head = p.store->head();
  EXPECT_EQ(p.Order("shp_1", {}).error(), svc_errc::invalid_argument);
  EXPECT_EQ(p.Order("shp_1", {{"sku_a", 0}}).error(), svc_errc::invalid_argument);
  auto dup = p.Order("shp_1", {{"sku_a", 1}, {"sku_a", 2}});
  EXPECT_NE(dup.message().find("appears twice"), std::string::npos);
  EXPECT_EQ(p.store->head(), head);
}

TEST(Orders, IdempotencyKeyReturnsTheSameOrderAndRefusesAnotherBody) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 10);
  auto first = p.Order("shp_1", {{product.sku_ids[0], 2}}, "key-1");
  auto again = p.Order("shp_1", {{product.sku_ids[0], 2}}, "key-1");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id, again->id);
  EXPECT_EQ(again->status, "confirmed");
  EXPECT_EQ(p.Sku(product.id).stock, 8);  // Reserved once.
  EXPECT_EQ(p.Order("shp_1", {{product.sku_ids[0], 3}}, "key-1").error(), svc_errc::conflict);
  // The same key from another shopper is another order.
  auto other = p.Order("shp_2", {{product.sku_ids[0], 2}}, "key-1");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->id, first->id);
}

TEST(Orders, ConcurrentRetriesWithOneKeyMakeOneOrder) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 100);
  std::vector<std::thread> retries;
  std::vector<std::string> ids(6);
  for (int i = 0; i < 6; ++i) {
    retries.emplace_back([&, i] {
      auto o = p.Order("shp_1", {{product.sku_ids[0], 1}}, "same");
      ASSERT_TRUE(o.ok());
      ids[i] = o->id;
    });
  }
  for (auto& t : retries) t.join();
  for (const auto& id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(p.Sku(product.id).stock, 99);
}

TEST(Orders, RestartFinishesOrdersInFlight) {
  storage::MemoryKvStore kv;
  events::ManualClock clock;
  const std::string order_id = "ord_inflight";
  std::string product_id, sku_id;
  {
    testing::InProcess p(&kv, &clock);
    auto product = p.Product(p.Seller().id, 100, 5);
    product_id = product.id;
    sku_id = product.sku_ids[0];
  }
  {
    // The process died right after writing order.placed: no service has seen it.
    auto store = events::EventStore::Open(kv, clock).value();
    events::AppendRequest r;
    order::Order o;
    o.id = order_id;
    o.shopper_id = "shp_1";
    o.lines.push_back({sku_id, "", "", "", 2, Fen(), Fen(), "pending", ""});
    r.events.push_back({order_id, events::kNoStream, std::string(schema::OrderPlaced::kType),
                        events::Encode(schema::OrderPlaced{order_id, "shp_1", {{sku_id, 2}}}),
                        "", "", 1});
    r.state.Put("ord/o/" + order_id, events::Encode(o));
    ASSERT_TRUE(store->AppendAndWait(std::move(r)).ok());
  }
  testing::InProcess p(&kv, &clock);
  p.Settle();
  auto o = testing::Await<order::Order>([&](auto done) { p.orders->Get(order_id, done); });
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->status, "confirmed");
  EXPECT_EQ(p.Sku(product_id).stock, 3);
}

}  // namespace
}  // namespace pavilion
