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
  testing::InProcessOptions options;
  std::unique_ptr<testing::InProcess> p =
      std::make_unique<testing::InProcess>(&kv, &clock, options);
  Books() = default;
  explicit Books(size_t cache_limit) {
    options.settlement.cache_limit = cache_limit;
    p.reset();
    p = std::make_unique<testing::InProcess>(&kv, &clock, options);
  }
  size_t Cached() {
    std::promise<size_t> got;
    p->settlement->Cached([&](size_t n) { got.set_value(n); });
    return got.get_future().get();
  }

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

// Payouts: payable → in transit → paid out, or returned (payable again, never shown as paid); a
// refund after a payout leaves a receivable, recovered from the party's later earnings (and from
// a returned payout) before they are payable again; every step idempotent by payout id.
TEST(SettlementLedger, PayoutsRunConfirmReturnAndRecoverClawbacks) {
  Books b;
  settlement::BuiltinPayoutProvider provider;
  b.options.settlement.payout_minimum = Fen(500);
  b.options.settlement.payout_provider = &provider;
  b.p.reset();
  b.p = std::make_unique<testing::InProcess>(&b.kv, &b.clock, b.options);
  auto& p = *b.p;
  auto coop = p.Seller("140430", "cooperative");
  auto small = p.Seller("140430", "individual");
  auto millet = p.Product(coop.id, 1000, 50);
  auto nuts = p.Product(small.id, 300, 50);
  auto run = [&] {
    return Await<std::vector<settlement::PayoutView>>(
        [&](auto done) { p.settlement->RunPayouts(done); });
  };
  auto resolve = [&](const std::string& id, bool confirm) {
    return Await<settlement::PayoutView>([&](auto done) {
      if (confirm) {
        p.settlement->ConfirmPayout(id, done);
      } else {
        p.settlement->ReturnPayout(id, "account closed", done);
      }
    });
  };
  auto o1 = p.Paid("shp_1", {{millet.sku_ids[0], 1}});
  auto o2 = p.Paid("shp_2", {{millet.sku_ids[0], 1}});
  auto o3 = p.Paid("shp_3", {{nuts.sku_ids[0], 1}});
  ASSERT_TRUE(o1.ok() && o2.ok() && o3.ok());
  for (const auto* o : {&*o1, &*o2, &*o3}) b.ShipAndConfirm(*o, o->shopper_id);
  // Asked inside the after-sale window, decided after the payout: a clawback.
  b.Refund(*o1, "shp_1", 400, /*approve=*/false);
  b.Refund(*o2, "shp_2", 1000, /*approve=*/false);
  b.clock.Advance(16 * kDay);
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(b.Balances(coop.id).payable, Fen(2000));

  auto first = run();
  ASSERT_TRUE(first.ok()) << first.message();
  ASSERT_EQ(first->size(), 1u);  // The small seller's 300 is below the minimum.
  const settlement::PayoutView po = first->at(0);
  EXPECT_EQ(po.party_id, coop.id);
  EXPECT_EQ(po.amount, Fen(2000));
  EXPECT_EQ(po.state, "in_transit");
  p.Settle();
  EXPECT_EQ(b.Balances(coop.id).payable, Fen(0));
  EXPECT_EQ(b.Balances(coop.id).in_transit, Fen(2000));
  EXPECT_EQ(b.Balances(small.id).payable, Fen(300));
  ASSERT_EQ(provider.sent().size(), 1u);
  EXPECT_EQ(provider.sent()[0].payout_id, po.payout_id);
  EXPECT_TRUE(run()->empty());  // Nothing is paid twice.
  // It pays the two payable shares, the one posted first first (o1 and o2 completed at the same
  // moment: the sweep closed them in order-id order).
  ASSERT_EQ(po.parts.size(), 2u);
  const std::string front = std::min(o1->id, o2->id), back = std::max(o1->id, o2->id);
  EXPECT_EQ(po.parts[0].order_id, front);
  EXPECT_EQ(po.parts[1].order_id, back);
  EXPECT_EQ(po.parts[0].amount, Fen(1000));
  EXPECT_EQ(po.parts[1].amount, Fen(1000));
  EXPECT_LT(po.parts[0].sequence, po.parts[1].sequence);
  for (const auto* o : {&*o1, &*o2}) {
    const auto view = b.Order(o->id);
    const auto* share = Find(view, "supplier");
    ASSERT_NE(share, nullptr);
    EXPECT_EQ(share->state, "in_transit");
    EXPECT_EQ(share->in_transit, Fen(1000));
    EXPECT_EQ(share->payable, Fen(0));
    ASSERT_EQ(share->payouts.size(), 1u);
    EXPECT_EQ(share->payouts[0].payout_id, po.payout_id);
  }

  auto refunds = p.Get(o1->id)->refunds;
  ASSERT_TRUE(p.Do([&](auto done) {
                 p.orders->DecideRefund(refunds[0].id, true, "", {Role::kOperator, ""}, done);
               }).ok());
  p.Settle();
  EXPECT_EQ(b.Balances(coop.id).receivable, Fen(400));  // Owed, not lost.
  EXPECT_EQ(Find(b.Order(o1->id), "supplier")->state, "receivable");
  EXPECT_EQ(Find(b.Order(o1->id), "supplier")->receivable, Fen(400));
  EXPECT_EQ(Find(b.Order(o1->id), "supplier")->in_transit, Fen(1000));
  EXPECT_TRUE(b.Order(o1->id).balanced);

  // The bank returns it: payable again, less what the party owed; never shown as paid.
  auto returned = resolve(po.payout_id, false);
  ASSERT_TRUE(returned.ok()) << returned.message();
  EXPECT_EQ(returned->state, "returned");
  EXPECT_EQ(returned->reason, "account closed");
  // The recovery of what the party owed is one of its transfers (it was left out before: the
  // chain was read after it had been moved).
  ASSERT_EQ(returned->transfer_ids.size(), 3u);
  EXPECT_EQ(returned->transfer_ids[1], po.payout_id + "/return");
  EXPECT_EQ(returned->transfer_ids[2], po.payout_id + "/recover");
  p.Settle();
  auto after = b.Balances(coop.id);
  EXPECT_EQ(after.payable, Fen(1600));
  EXPECT_EQ(after.receivable, Fen(0));
  EXPECT_EQ(after.in_transit, Fen(0));
  EXPECT_EQ(after.paid_out, Fen(0));
  EXPECT_EQ(resolve(po.payout_id, false)->state, "returned");  // Idempotent.
  {
    // Both shares are payable again at their places; the 400 o1 owed was kept from the front.
    const auto front_view = b.Order(front), back_view = b.Order(back);
    const auto* first = Find(front_view, "supplier");
    const auto* second = Find(back_view, "supplier");
    EXPECT_EQ(first->offset, Fen(400));
    EXPECT_EQ(first->payable, Fen(600));
    EXPECT_EQ(second->payable, Fen(1000));
    EXPECT_EQ(Find(b.Order(o1->id), "supplier")->receivable, Fen(0));
    EXPECT_EQ(Find(b.Order(o1->id), "supplier")->state, "payable");
    ASSERT_EQ(first->payouts.size(), 1u);
    EXPECT_EQ(first->payouts[0].state, "returned");
  }
  EXPECT_EQ(resolve(po.payout_id, true).error(), svc_errc::conflict);
  EXPECT_EQ(resolve("po_none", true).error(), svc_errc::not_found);

  auto second = run();
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->at(0).amount, Fen(1600));
  auto paid = resolve(second->at(0).payout_id, true);
  ASSERT_TRUE(paid.ok()) << paid.message();
  EXPECT_EQ(paid->state, "paid_out");
  EXPECT_EQ(resolve(second->at(0).payout_id, true)->state, "paid_out");
  EXPECT_EQ(resolve(second->at(0).payout_id, false).error(), svc_errc::conflict);
  p.Settle();
  EXPECT_EQ(b.Balances(coop.id).paid_out, Fen(1600));
  EXPECT_EQ(b.Balances(coop.id).payable, Fen(0));
  EXPECT_EQ(Find(b.Order(front), "supplier")->paid_out, Fen(600));
  EXPECT_EQ(Find(b.Order(back), "supplier")->paid_out, Fen(1000));
  EXPECT_EQ(Find(b.Order(back), "supplier")->state, "paid_out");

  // A refund after this payout is owed again, and the next sale recovers it before it is
  // payable.
  auto o4 = p.Paid("shp_4", {{millet.sku_ids[0], 1}});
  b.ShipAndConfirm(*o4, "shp_4");
  p.Settle();
  auto r2 = p.Get(o2->id)->refunds;
  ASSERT_TRUE(p.Do([&](auto done) {
                 p.orders->DecideRefund(r2.back().id, true, "", {Role::kOperator, ""}, done);
               }).ok());
  p.Settle();
  EXPECT_EQ(b.Balances(coop.id).receivable, Fen(1000));
  b.clock.Advance(16 * kDay);
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(b.Balances(coop.id).receivable, Fen(0));
  EXPECT_EQ(b.Balances(coop.id).payable, Fen(0));  // 1,000 earned, 1,000 owed.
  // o4's share settled o2's debt: kept (offset), not payable; o2's share all reversed.
  EXPECT_EQ(Find(b.Order(o4->id), "supplier")->offset, Fen(1000));
  EXPECT_EQ(Find(b.Order(o4->id), "supplier")->state, "offset");
  EXPECT_EQ(Find(b.Order(o2->id), "supplier")->receivable, Fen(0));
  EXPECT_EQ(Find(b.Order(o2->id), "supplier")->state, "reversed");

  auto listed = Await<std::vector<settlement::PayoutView>>(
      [&](auto done) { p.settlement->Payouts(coop.id, 100, done); });
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  auto audit = b.Audit();
  EXPECT_TRUE(audit.balanced);
  EXPECT_EQ(audit.order_violations, 0);
  EXPECT_EQ(audit.refused_chains, 0);
  EXPECT_EQ(audit.queue_violations, 0);

  // Rebuilt from the log: the same balances (a fold of the log, payouts included), and the same
  // allocation of shares to payouts, key for key and byte for byte.
  p.Settle();
  auto allocation = [&] {
    std::vector<std::pair<std::string, std::string>> rows;
    for (std::string prefix : {"set/lg/sh/", "set/lg/pq/", "set/lg/rq/", "set/lg/po/"}) {
      EXPECT_FALSE(b.kv.Scan(prefix, storage::PrefixEnd(prefix),
                             [&](std::string_view k, std::string_view v) {
                               rows.emplace_back(k, v);
                               return true;
                             }));
    }
    return rows;
  };
  const auto allocated = allocation();
  EXPECT_GE(allocated.size(), 7u);  // 4 coop shares + small's, its queue entries, 2 payouts.
  b.p.reset();
  ASSERT_FALSE(settlement::SettlementService::Reset(b.kv));
  b.p = std::make_unique<testing::InProcess>(&b.kv, &b.clock, b.options);
  b.p->Settle();
  EXPECT_EQ(allocation(), allocated);
  EXPECT_EQ(b.Balances(coop.id).paid_out, Fen(1600));
  EXPECT_EQ(b.Balances(coop.id).receivable, Fen(0));
  EXPECT_EQ(b.Balances(small.id).payable, Fen(300));
  EXPECT_TRUE(b.Audit().balanced);
}

// A server runs for months: what the ledger keeps in memory is a cache over the store, dropped
// past its bound once everything written is durable, and the books read back from the store
// are the same.
TEST(SettlementLedger, MemoryStaysBoundedAndTheBooksStayRight) {
  constexpr size_t kLimit = 40;
  Books b(kLimit);
  auto& p = *b.p;
  auto coop = p.Seller("140430", "cooperative");
  auto millet = p.Product(coop.id, 1000, 500);
  std::vector<order::Order> orders;
  size_t most = 0;
  for (int i = 0; i < 30; ++i) {
    auto o = p.Paid("shp_" + std::to_string(i), {{millet.sku_ids[0], 1}});
    ASSERT_TRUE(o.ok()) << o.message();
    b.ShipAndConfirm(*o, "shp_" + std::to_string(i));
    orders.push_back(*o);
    p.Settle();
    // A query trims first and then loads the three accounts it reads.
    (void)b.Balances(coop.id);
    most = std::max(most, b.Cached());
  }
  EXPECT_LE(most, kLimit + 3);
  b.Refund(orders[0], "shp_0", 400, /*approve=*/false);
  b.clock.Advance(16 * kDay);
  p.orders->Tick();
  p.Settle();
  auto refunds = p.Get(orders[0].id)->refunds;
  ASSERT_TRUE(p.Do([&](auto done) {
                 p.orders->DecideRefund(refunds[0].id, true, "", {Role::kOperator, ""}, done);
               }).ok());
  p.Settle();
  EXPECT_EQ(b.Balances(coop.id).payable, Fen(30 * 1000 - 400));
  EXPECT_LE(b.Cached(), kLimit + 3);
  auto audit = b.Audit();
  EXPECT_TRUE(audit.balanced);
  EXPECT_EQ(audit.order_violations, 0);
  EXPECT_EQ(audit.refused_chains, 0);
  // Far more was written than memory holds: the books came back from the store.
  EXPECT_GT(audit.transfers, int64_t(2 * kLimit));
  EXPECT_TRUE(b.Order(orders[0].id).balanced);
  EXPECT_EQ(b.Order(orders[0].id).refunded, Fen(400));
}

// The per-order check reads the order's held money from the store when a chain posts nothing
// and memory was dropped: a sub-order refunded in full and then confirmed completes with no
// transfer, while the other sub-order's money is still held.
TEST(SettlementLedger, AnEventThatPostsNothingAfterACacheDropIsNoViolation) {
  Books b(1);  // Every batch past one record drops the caches.
  auto& p = *b.p;
  auto coop = p.Seller("140430", "cooperative");
  auto other = p.Seller("140430", "individual");
  auto millet = p.Product(coop.id, 1000, 50);
  auto nuts = p.Product(other.id, 300, 50);
  auto o = p.Paid("shp_1", {{millet.sku_ids[0], 1}, {nuts.sku_ids[0], 1}});
  ASSERT_TRUE(o.ok()) << o.message();
  const auto& sub = o->sub_orders[0].seller_id == coop.id ? o->sub_orders[0] : o->sub_orders[1];
  ASSERT_TRUE(p.Do([&](auto done) {
                 p.orders->Ship(o->id, sub.id, "sf", "SF1", {Role::kSeller, coop.id}, done);
               }).ok());
  auto asked = p.Do([&](auto done) {
    p.orders->RequestRefund({o->id, sub.id, {}, -1, false, "broken"}, {Role::kShopper, "shp_1"},
                            done);
  });
  ASSERT_TRUE(asked.ok()) << asked.message();
  ASSERT_TRUE(
      p.Do([&](auto done) {
         p.orders->DecideRefund(asked->refunds.back().id, true, "", {Role::kOperator, ""}, done);
       }).ok());
  p.Settle();
  (void)b.Balances(coop.id);  // Past the bound: the caches are dropped.
  ASSERT_TRUE(p.Do([&](auto done) {
                 p.orders->Confirm(o->id, sub.id, {Role::kShopper, "shp_1"}, done);
               }).ok());
  p.Settle();
  auto audit = b.Audit();
  EXPECT_EQ(audit.order_violations, 0);
  EXPECT_TRUE(audit.balanced);
  auto view = b.Order(o->id);
  EXPECT_EQ(view.held, Fen(300));
  EXPECT_TRUE(view.balanced);
}

}  // namespace
}  // namespace pavilion
