// The settlement ledger end to end through the services: a distributor sale of a poor
// household's product and a direct sale followed fen by fen from payment to payable and back
// through refunds before and after the after-sale window, fee rules set through the log, and a
// rebuild from the log that finds the same books.
#include <gtest/gtest.h>

#include "../support/in_process.h"

namespace pavilion {
namespace {

using events::svc_errc;
using testing::Await;

constexpr int64_t kDay = 24ll * 3600 * 1'000'000;

struct Books {
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  std::unique_ptr<testing::InProcess> p = std::make_unique<testing::InProcess>(&kv, &clock);

  settlement::PartyBalances Balances(const std::string& party) {
    std::promise<settlement::PartyBalances> got;
    p->settlement->Balances(party, [&](settlement::PartyBalances b) { got.set_value(b); });
    return got.get_future().get();
  }
  settlement::OrderSettlement Order(const std::string& id) {
    return Await<settlement::OrderSettlement>(
               [&](auto done) { p->settlement->Settlement(id, done); })
        .value();
  }
  settlement::LedgerAudit Audit() {
    return Await<settlement::LedgerAudit>([&](auto done) { p->settlement->Audit(done); }).value();
  }
  void ShipAndConfirm(const order::Order& o, const std::string& shopper) {
    for (const auto& s : o.sub_orders) {
      ASSERT_TRUE(p->Do([&](auto done) {
                     p->orders->Ship(o.id, s.id, "sf", "SF1", {Role::kSeller, s.seller_id}, done);
                   }).ok());
      ASSERT_TRUE(p->Do([&](auto done) {
                     p->orders->Confirm(o.id, s.id, {Role::kShopper, shopper}, done);
                   }).ok());
    }
  }
  order::Order Refund(const order::Order& o, const std::string& shopper, int64_t fen,
                      bool approve = true) {
    auto asked = p->Do([&](auto done) {
      p->orders->RequestRefund({o.id, "", {}, fen, false, "broken"}, {Role::kShopper, shopper},
                               done);
    });
    EXPECT_TRUE(asked.ok()) << asked.message();
    if (!approve) return *asked;
    auto decided = p->Do([&](auto done) {
      p->orders->DecideRefund(asked->refunds.back().id, true, "", {Role::kOperator, ""}, done);
    });
    EXPECT_TRUE(decided.ok()) << decided.message();
    return *decided;
  }
};

const settlement::ShareView* Find(const settlement::OrderSettlement& s, std::string_view role) {
  for (const auto& sub : s.sub_orders) {
    for (const auto& l : sub.lines) {
      for (const auto& sh : l.shares) {
        if (sh.role == role) return &sh;
      }
    }
  }
  return nullptr;
}

TEST(SettlementLedger, ADistributorSaleIsFollowedFenByFenThroughRefunds) {
  Books b;
  auto& p = *b.p;
  ASSERT_TRUE(Await<bool>([&](auto done) {
                p.settlement->SetFeeRules({500, {{"other", 300}}, {}}, done);
              }).ok());
  EXPECT_EQ(Await<bool>([&](auto done) {
              p.settlement->SetFeeRules({10001, {}, {}}, done);
            }).error(),
            svc_errc::invalid_argument);
  auto household = p.Seller("433126", "poor_household");
  auto d1 = p.Seller("140430", "individual");
  auto d2 = p.Seller("433126", "village_station");
  auto coop = p.Seller("140430", "cooperative");
  auto honey = p.Product(household.id, 10000, 50);
  auto millet = p.Product(coop.id, 5000, 50);
  auto one = Await<catalog::DistributeReport>([&](auto done) {
    p.catalog->Distribute({d1.id, household.id, {honey.id}, 20, 0}, done);
  });
  ASSERT_TRUE(one.ok()) << one.message();
  auto two = Await<catalog::DistributeReport>([&](auto done) {
    p.catalog->Distribute({d2.id, d1.id, {one->listing_ids[0]}, 10, 0}, done);
  });
  ASSERT_TRUE(two.ok()) << two.message();
  auto l2 = p.Sku(two->listing_ids[0]);
  ASSERT_EQ(l2.price, Fen(13200));

  auto a = p.Paid("shp_a", {{l2.id, 2}});  // 26,400: supplier 20,000, D1 4,000, D2 2,400.
  ASSERT_TRUE(a.ok()) << a.message();
  auto direct = p.Paid("shp_b", {{millet.sku_ids[0], 1}});  // 5,000: fee 3 % = 150.
  ASSERT_TRUE(direct.ok());
  p.Settle();
  auto held = b.Order(a->id);
  EXPECT_EQ(held.paid, Fen(26400));
  EXPECT_EQ(held.held, Fen(26400));
  EXPECT_EQ(held.sub_orders.at(0).state, "held");
  EXPECT_TRUE(held.balanced);

  b.ShipAndConfirm(*a, "shp_a");
  b.ShipAndConfirm(*direct, "shp_b");
  p.Settle();
  auto pending = b.Order(a->id);
  EXPECT_EQ(pending.sub_orders.at(0).state, "pending");
  EXPECT_EQ(Find(pending, "supplier")->amount, Fen(20000));
  EXPECT_EQ(Find(pending, "distributor1")->amount, Fen(4000));
  EXPECT_EQ(Find(pending, "distributor2")->amount, Fen(2400));
  EXPECT_EQ(Find(pending, "platform")->amount, Fen(0));  // A poor household's product: no fee.
  EXPECT_EQ(b.Balances(household.id).pending, Fen(20000));
  EXPECT_EQ(b.Balances(household.id).payable, Fen(0));
  auto direct_pending = b.Order(direct->id);
  EXPECT_EQ(Find(direct_pending, "platform")->amount, Fen(150));
  EXPECT_EQ(direct_pending.sub_orders.at(0).lines.at(0).fee_bps, 300u);

  // A quarter refunded inside the window: every share gives back a quarter of itself.
  b.Refund(*a, "shp_a", 6600);
  // Asked inside the window, decided after it closed: reversed from what is payable then.
  b.Refund(*direct, "shp_b", 1000, /*approve=*/false);
  p.Settle();
  auto after = b.Order(a->id);
  EXPECT_EQ(after.refunded, Fen(6600));
  EXPECT_EQ(Find(after, "supplier")->reversed, Fen(5000));
  EXPECT_EQ(Find(after, "distributor1")->reversed, Fen(1000));
  EXPECT_EQ(Find(after, "distributor2")->reversed, Fen(600));
  EXPECT_TRUE(after.balanced);
  EXPECT_EQ(b.Balances(household.id).pending, Fen(15000));

  // The after-sale window closes: the order service says so, the shares post.
  b.clock.Advance(16 * kDay);
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(b.Order(a->id).sub_orders.at(0).state, "payable");
  EXPECT_EQ(b.Balances(household.id).payable, Fen(15000));
  EXPECT_EQ(b.Balances(household.id).pending, Fen(0));
  EXPECT_EQ(b.Balances(d1.id).payable, Fen(3000));
  EXPECT_EQ(b.Balances(d2.id).payable, Fen(1800));
  EXPECT_EQ(b.Balances(coop.id).payable, Fen(4850));

  auto refunds = p.Get(direct->id)->refunds;
  ASSERT_EQ(refunds.size(), 1u);
  ASSERT_TRUE(p.Do([&](auto done) {
                 p.orders->DecideRefund(refunds[0].id, true, "", {Role::kOperator, ""}, done);
               }).ok());
  p.Settle();
  auto reversed = b.Order(direct->id);
  EXPECT_EQ(Find(reversed, "supplier")->reversed, Fen(970));  // At the 3 % recorded then.
  EXPECT_EQ(Find(reversed, "platform")->reversed, Fen(30));
  EXPECT_TRUE(reversed.balanced);
  EXPECT_EQ(b.Balances(coop.id).payable, Fen(3880));

  auto audit = b.Audit();
  EXPECT_TRUE(audit.balanced);
  EXPECT_EQ(audit.order_violations, 0);
  EXPECT_EQ(audit.refused_chains, 0);
  EXPECT_GT(audit.transfers, 10);

  // Rebuilt from the log: the same books.
  p.Settle();
  b.p.reset();
  ASSERT_FALSE(settlement::SettlementService::Reset(b.kv));
  b.p = std::make_unique<testing::InProcess>(&b.kv, &b.clock);
  b.p->Settle();
  EXPECT_EQ(b.Balances(household.id).payable, Fen(15000));
  EXPECT_EQ(b.Balances(coop.id).payable, Fen(3880));
  auto again = b.Audit();
  EXPECT_TRUE(again.balanced);
  EXPECT_EQ(again.transfers, audit.transfers);
  EXPECT_EQ(again.debits_posted, audit.debits_posted);
  EXPECT_TRUE(b.Order(a->id).balanced);
}

}  // namespace
}  // namespace pavilion
