// The WeChat Pay / Alipay profit-sharing profile: with a cap, settlement refuses fee rules and the
// catalog refuses distributions whose split away from the supplier (distributors' margins plus
// the platform fee on the supplier's price) could pass it, each learning the other's facts from
// the log; exactly at the cap both are accepted; without the profile nothing is checked; and the
// checks hold after a restart and after settlement rebuilds from the log.
#include <gtest/gtest.h>

#include "../support/in_process.h"

namespace pavilion {
namespace {

using events::svc_errc;
using testing::Await;

constexpr uint32_t kCap = 3000;  // WeChat Pay's and Alipay's 30 %.

testing::InProcessOptions Profile(uint32_t cap) {
  testing::InProcessOptions o;
  o.catalog.profit_sharing_cap_bps = cap;
  o.settlement.profit_sharing_cap_bps = cap;
  return o;
}

struct Pavilion {
  explicit Pavilion(uint32_t cap_bps) : cap(cap_bps) { Start(); }
  void Start() { p = std::make_unique<testing::InProcess>(&kv, &clock, Profile(cap)); }
  void Restart() {
    p.reset();
    Start();
  }

  Result<bool> Fees(settlement::FeeRulesInput rules) {
    auto r = Await<bool>([&](auto done) { p->settlement->SetFeeRules(rules, done); });
    p->Settle();  // The catalog reads the rules from the log.
    return r;
  }
  Result<catalog::DistributeReport> Distribute(const std::string& distributor,
                                               const std::string& from, const std::string& id,
                                               int64_t percent, int64_t fen) {
    auto r = Await<catalog::DistributeReport>([&](auto done) {
      p->catalog->Distribute({distributor, from, {id}, percent, fen}, done);
    });
    p->Settle();  // Settlement reads the listing from the log.
    return r;
  }

  uint32_t cap;
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  std::unique_ptr<testing::InProcess> p;
};

TEST(ProfitSharing, FeeRulesPastTheCapAreRefusedNamingTheFieldAndTheCap) {
  Pavilion v(kCap);
  auto coop = v.p->Seller("140430", "cooperative");
  EXPECT_TRUE(v.Fees({kCap, {{"tea", kCap}}, {{coop.id, kCap}}}).ok());  // At the cap.
  const std::pair<settlement::FeeRulesInput, std::string> refused[] = {
      {{kCap + 1, {}, {}}, "default_bps: 3001 bps passes the profit-sharing cap of 3000 bps"},
      {{0, {{"tea", 3500}}, {}}, "by_category.tea: 3500 bps passes the profit-sharing cap"},
      {{0, {}, {{coop.id, 3001}}}, "by_seller." + coop.id + ": 3001 bps passes"},
  };
  for (const auto& [rules, message] : refused) {
    auto r = v.Fees(rules);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), svc_errc::invalid_argument);
    EXPECT_EQ(r.message().rfind(message, 0), 0u) << r.message();
    EXPECT_NE(r.message().find("(WeChat Pay/Alipay, --profit-sharing-cap-bps)"), std::string::npos);
  }
  auto kept = Await<settlement::FeeRulesInput>([&](auto done) { v.p->settlement->FeeRules(done); });
  EXPECT_EQ(kept->default_bps, kCap);  // A refusal changes nothing.
}

// Supplier's SKU at 10000 fen; its fee 1000 bps (10 % of its price, the by_seller override).
// A listing at 12856 fen keeps 2856 of it for distributors: margin ceil(2221.5) = 2222 bps, fee
// part ceil(1000 × 7778 / 10000) = 778: 3000, at the cap (in fen: 3856 of 12856 = 29.99 %). One
// fen more (12857) splits 3001.
TEST(ProfitSharing, ADistributionPastTheCapIsRefusedAtBothLevels) {
  Pavilion v(kCap);
  auto coop = v.p->Seller("140430", "cooperative");
  auto d1 = v.p->Seller("140430", "individual");
  auto d2 = v.p->Seller("433126", "village_station");
  auto millet = v.p->Product(coop.id, 10000, 50);
  // The fee that applies is the supplier's override, not the default nor the distributors'.
  ASSERT_TRUE(v.Fees({0, {}, {{coop.id, 1000}, {d1.id, 0}}}).ok());

  auto over = v.Distribute(d1.id, coop.id, millet.id, 0, 2857);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error(), svc_errc::invalid_argument);
  EXPECT_EQ(over.message().rfind("markup_percent: 0 % and markup_fen 2857 would split 3001 bps "
                                 "of product " +
                                     millet.id,
                                 0),
            0u)
      << over.message();
  EXPECT_NE(over.message().find("profit-sharing cap of 3000 bps (WeChat Pay/Alipay"),
            std::string::npos);
  auto at = v.Distribute(d1.id, coop.id, millet.id, 0, 2856);
  ASSERT_TRUE(at.ok()) << at.message();
  ASSERT_EQ(at->created, 1);
  // Repricing the listing past the cap is refused too, and leaves it as it was.
  auto reprice = v.Distribute(d1.id, coop.id, millet.id, 30, 0);  // 13000: 2308 + 770.
  EXPECT_EQ(reprice.error(), svc_errc::invalid_argument);
  auto l1 = Await<catalog::Product>([&](auto done) {
              v.p->catalog->GetProduct(at->listing_ids[0], done);
            }).value();
  EXPECT_EQ(l1.skus[0].price, Fen(12856));

  // Level 2 on a level-1 listing at 11000: the split counts both margins against the
  // supplier's price and the supplier's fee (D1, the level-1 seller, has none).
  auto small = v.Distribute(d1.id, coop.id, millet.id, 10, 0);
  ASSERT_TRUE(small.ok()) << small.message();
  EXPECT_EQ(small->updated, 1);
  auto over2 = v.Distribute(d2.id, d1.id, l1.id, 0, 1857);  // 12857.
  EXPECT_EQ(over2.error(), svc_errc::invalid_argument);
  EXPECT_EQ(over2.message().rfind("markup_percent: 0 % and markup_fen 1857 would split 3001", 0),
            0u)
      << over2.message();
  auto at2 = v.Distribute(d2.id, d1.id, l1.id, 0, 1856);  // 12856.
  ASSERT_TRUE(at2.ok()) << at2.message();
  EXPECT_EQ(at2->created, 1);
}

TEST(ProfitSharing, FeeRulesAreRefusedWhenAListedMarginLeavesNoRoom) {
  Pavilion v(kCap);
  auto coop = v.p->Seller("140430", "cooperative");
  auto d1 = v.p->Seller("140430", "individual");
  auto millet = v.p->Product(coop.id, 10000, 50);
  ASSERT_TRUE(v.Fees({0, {}, {{coop.id, 1000}}}).ok());
  ASSERT_TRUE(v.Distribute(d1.id, coop.id, millet.id, 0, 2856).ok());  // Margin 2222 bps.

  auto r = v.Fees({0, {}, {{coop.id, 1001}}});  // 2222 + 779 = 3001.
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), svc_errc::invalid_argument);
  EXPECT_EQ(r.message().rfind("by_seller." + coop.id + ": 1001 bps on listing ", 0), 0u)
      << r.message();
  EXPECT_NE(r.message().find("keep up to 2222 bps of its price, splits 3001 bps away from the "
                             "supplier, past the profit-sharing cap of 3000 bps (WeChat "
                             "Pay/Alipay, --profit-sharing-cap-bps); give at most 1000 bps"),
            std::string::npos)
      << r.message();
  // The fee lookup mirrors posting's: the seller's override wins over the category and default.
  EXPECT_TRUE(v.Fees({3000, {{"other", 3000}}, {{coop.id, 1000}}}).ok());
  // Without the override the category applies, then the default.
  auto cat = v.Fees({0, {{"other", 1001}}, {}});
  EXPECT_EQ(cat.message().rfind("by_category.other: 1001 bps on listing", 0), 0u) << cat.message();
  auto def = v.Fees({1001, {}, {}});
  EXPECT_EQ(def.message().rfind("default_bps: 1001 bps on listing", 0), 0u) << def.message();
  EXPECT_TRUE(v.Fees({1000, {}, {}}).ok());
}

// A listing keeps its markup when its supplier reprices: a fixed markup_fen then keeps a larger
// share of a lower price. Supplier's SKU at 10000, its fee 1000 bps; D1 lists it at +1000 fen
// (11000), D2 resells that at +1000 (12000: 2000 of 12000 to distributors, 1667 + 834 = 2501
// bps). At 6000 the level-2 listing (8000) would split 2500 + 750 = 3250: refused, naming it and
// the cap, nothing changed; at 7100 (9100: 2198 + 781 = 2979) accepted.
TEST(ProfitSharing, ASupplierPriceCutThatPushesAListingPastTheCapIsRefused) {
  for (const uint32_t cap : {kCap, 0u}) {
    SCOPED_TRACE("cap " + std::to_string(cap));
    Pavilion v(cap);
    auto coop = v.p->Seller("140430", "cooperative");
    auto d1 = v.p->Seller("140430", "individual");
    auto d2 = v.p->Seller("433126", "village_station");
    auto millet = v.p->Product(coop.id, 10000, 50);
    ASSERT_TRUE(v.Fees({0, {}, {{coop.id, 1000}}}).ok());
    auto l1 = v.Distribute(d1.id, coop.id, millet.id, 0, 1000);
    ASSERT_TRUE(l1.ok()) << l1.message();
    auto l2 = v.Distribute(d2.id, d1.id, l1->listing_ids[0], 0, 1000);
    ASSERT_TRUE(l2.ok()) << l2.message();
    auto reprice = [&](int64_t fen) {
      auto r = Await<catalog::Product>([&](auto done) {
        v.p->catalog->UpdateProduct(
            millet.id, testing::ProductIn(coop.id, "沁州黄小米", {{"500g", Fen(fen), 50}}), coop.id,
            done);
      });
      v.p->Settle();
      return r;
    };
    auto cut = reprice(6000);
    if (cap == 0) {  // Without the profile nothing is checked.
      EXPECT_TRUE(cut.ok()) << cut.message();
      EXPECT_EQ(v.p->Sku(l2->listing_ids[0]).price, Fen(8000));
      continue;
    }
    ASSERT_FALSE(cut.ok());
    EXPECT_EQ(cut.error(), svc_errc::invalid_argument);
    EXPECT_EQ(cut.message().rfind("skus[0].price: the new price would split 3250 bps", 0), 0u)
        << cut.message();
    EXPECT_NE(cut.message().find("past the profit-sharing cap of 3000 bps (WeChat Pay/Alipay, "
                                 "--profit-sharing-cap-bps); listings past it: " +
                                 l2->listing_ids[0] + ";"),
              std::string::npos)
        << cut.message();
    // Nothing changed: the supplier's price and both listings'.
    EXPECT_EQ(v.p->Sku(millet.id).price, Fen(10000));
    EXPECT_EQ(v.p->Sku(l1->listing_ids[0]).price, Fen(11000));
    EXPECT_EQ(v.p->Sku(l2->listing_ids[0]).price, Fen(12000));
    auto fits = reprice(7100);
    ASSERT_TRUE(fits.ok()) << fits.message();
    EXPECT_EQ(v.p->Sku(l2->listing_ids[0]).price, Fen(9100));
  }
}

TEST(ProfitSharing, APoorHouseholdsProductPaysNoFeeUnlessItsSellerHasAnOverride) {
  Pavilion v(kCap);
  auto household = v.p->Seller("433126", "poor_household");
  auto d1 = v.p->Seller("140430", "individual");
  auto honey = v.p->Product(household.id, 10000, 50);
  ASSERT_TRUE(v.Fees({1000, {{"other", 1000}}, {}}).ok());
  // No fee: the margin alone may reach the cap (4285 of 14285: ceil(2999.6) = 3000).
  EXPECT_EQ(v.Distribute(d1.id, household.id, honey.id, 0, 4286).error(),
            svc_errc::invalid_argument);
  ASSERT_TRUE(v.Distribute(d1.id, household.id, honey.id, 0, 4285).ok());
  // Any fee on it now passes the cap: only a seller override could set one.
  EXPECT_TRUE(v.Fees({2000, {{"other", 2000}}, {}}).ok());
  auto r = v.Fees({0, {}, {{household.id, 1}}});
  EXPECT_EQ(r.message().rfind("by_seller." + household.id + ": 1 bps on listing", 0), 0u)
      << r.message();
}

TEST(ProfitSharing, WithoutTheProfileNothingIsChecked) {
  Pavilion v(0);
  auto coop = v.p->Seller("140430", "cooperative");
  auto d1 = v.p->Seller("140430", "individual");
  auto d2 = v.p->Seller("433126", "village_station");
  auto millet = v.p->Product(coop.id, 10000, 50);
  ASSERT_TRUE(v.Fees({9000, {{"other", 9000}}, {{coop.id, 9000}}}).ok());
  auto l1 = v.Distribute(d1.id, coop.id, millet.id, 500, 0);
  ASSERT_TRUE(l1.ok()) << l1.message();
  ASSERT_TRUE(v.Distribute(d2.id, d1.id, l1->listing_ids[0], 500, 0).ok());
  EXPECT_TRUE(v.Fees({10000, {}, {{coop.id, 10000}}}).ok());
}

TEST(ProfitSharing, TheChecksHoldAfterARestartAndARebuildFromTheLog) {
  Pavilion v(kCap);
  auto coop = v.p->Seller("140430", "cooperative");
  auto d1 = v.p->Seller("140430", "individual");
  auto millet = v.p->Product(coop.id, 10000, 50);
  ASSERT_TRUE(v.Fees({0, {}, {{coop.id, 1000}}}).ok());
  ASSERT_TRUE(v.Distribute(d1.id, coop.id, millet.id, 0, 2856).ok());
  auto both_hold = [&] {
    // The catalog still knows the fee; settlement still knows the listing's margin.
    auto d = v.Distribute(d1.id, coop.id, millet.id, 0, 2857);
    EXPECT_EQ(d.error(), svc_errc::invalid_argument) << d.message();
    auto f = v.Fees({0, {}, {{coop.id, 1001}}});
    EXPECT_EQ(f.error(), svc_errc::invalid_argument) << f.message();
  };
  v.Restart();
  both_hold();
  // Settlement's records deleted: rebuilt from the log, the margin is known again.
  v.p.reset();
  ASSERT_FALSE(settlement::SettlementService::Reset(v.kv));
  v.Start();
  v.p->Settle();
  both_hold();
}

}  // namespace
}  // namespace pavilion
