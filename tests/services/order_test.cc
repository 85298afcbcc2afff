#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "../support/in_process.h"

namespace pavilion {
namespace {

using events::svc_errc;
using testing::InProcess;
namespace schema = events::schema;

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kDay = 24 * 60 * kMinute;

order::Actor Shopper(const std::string& id) { return {Role::kShopper, id}; }
order::Actor SellerActor(const std::string& id) { return {Role::kSeller, id}; }
const order::Actor kOperator{Role::kOperator, ""};

std::vector<std::string> History(InProcess& p, const std::string& id) {
  std::vector<std::string> types;
  auto events = p.store->ReadStream(id);
  for (const auto& e : events.value()) types.push_back(e.type);
  return types;
}

// Every order test: a manual clock and an in-memory store it may run the services on
// (Start), so timeouts are tested by advancing the clock, never by sleeping.
class Orders : public ::testing::Test {
 protected:
  InProcess& Start(testing::InProcessOptions opts = {}) {
    running_ = std::make_unique<InProcess>(&kv, &clock, opts);
    return *running_;
  }

  events::ManualClock clock;
  storage::MemoryKvStore kv;

 private:
  std::unique_ptr<InProcess> running_;
};

TEST_F(Orders, PlacedOrderWaitsForPaymentWithPricesAndTotal) {
  InProcess p;
  auto seller = p.Seller();
  auto a = p.Product(seller.id, 2990, 10);
  auto b = p.Product(seller.id, 1890, 10);
  auto o = p.Order("shp_1", {{a.sku_ids[0], 2}, {b.sku_ids[0], 1}});
  ASSERT_TRUE(o.ok()) << o.message();
  EXPECT_EQ(ToString(o->status), "pending_payment");
  EXPECT_EQ(o->total, Fen(2 * 2990 + 1890));
  ASSERT_EQ(o->sub_orders.size(), 1u);
  EXPECT_EQ(o->sub_orders[0].seller_id, seller.id);
  auto sku = p.Sku(a.id);
  EXPECT_EQ(sku.stock, 8);
  EXPECT_EQ(sku.reserved, 2);
  EXPECT_EQ(History(p, o->id), (std::vector<std::string>{"order.placed", "order.reserved"}));
}

TEST_F(Orders, CheckoutSplitsIntoOneSubOrderPerSeller) {
  InProcess p;
  auto qin = p.Seller("140430");
  auto guzhang = p.Seller("433126", "poor_household");
  auto millet = p.Product(qin.id, 2990, 10);
  auto tea = p.Product(guzhang.id, 16800, 10);
  auto vinegar = p.Product(qin.id, 1890, 10);
  auto o = p.Order("shp_1", {{millet.sku_ids[0], 1}, {tea.sku_ids[0], 1}, {vinegar.sku_ids[0], 2}});
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o->sub_orders.size(), 2u);
  EXPECT_EQ(o->sub_orders[0].seller_id, qin.id);
  EXPECT_EQ(o->sub_orders[0].total, Fen(2990 + 2 * 1890));
  EXPECT_EQ(o->sub_orders[0].lines, (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(o->sub_orders[1].total, Fen(16800));
  // Each sub-order ships and completes on its own.
  ASSERT_TRUE(p.Do([&](auto d) { p.orders->Pay(o->id, Shopper("shp_1"), d); }).ok());
  auto shipped = p.Do(
      [&](auto d) { p.orders->Ship(o->id, "", "顺丰", "SF1001", SellerActor(guzhang.id), d); });
  ASSERT_TRUE(shipped.ok()) << shipped.message();
  EXPECT_EQ(ToString(shipped->sub_orders[1].status), "shipped");
  EXPECT_EQ(ToString(shipped->sub_orders[0].status), "paid");
  // A seller cannot touch another seller's sub-order.
  auto other = p.Do([&](auto d) {
    p.orders->Ship(o->id, o->sub_orders[1].id, "顺丰", "X", SellerActor(qin.id), d);
  });
  EXPECT_EQ(other.error(), svc_errc::not_found);
  auto confirmed = p.Do([&](auto d) { p.orders->Confirm(o->id, "", Shopper("shp_1"), d); });
  ASSERT_TRUE(confirmed.ok());
  EXPECT_EQ(ToString(confirmed->sub_orders[1].status), "completed");
  EXPECT_EQ(ToString(confirmed->status), "paid");  // The other sub-order is still open.
}

// The state machine table runs against the rules themselves: order_lifecycle_test.cc.

TEST_F(Orders, CommandsAreIdempotent) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 10);
  auto o = p.Order("shp_1", {{product.sku_ids[0], 2}});
  ASSERT_TRUE(p.Do([&](auto d) { p.orders->Pay(o->id, Shopper("shp_1"), d); }).ok());
  const size_t events_after_pay = History(p, o->id).size();
  // The same shipment, delivery and confirmation twice change nothing the second time.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.Do([&](auto d) {
                   p.orders->Ship(o->id, "", "EMS", "E1", SellerActor(seller.id), d);
                 }).ok());
  }
  EXPECT_EQ(History(p, o->id).size(), events_after_pay + 1);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(p.Do([&](auto d) { p.orders->Deliver(o->id, "", kOperator, d); }).ok());
  }
  EXPECT_EQ(History(p, o->id).size(), events_after_pay + 2);
  p.Settle();  // The catalog turns reserved into sold when it handles order.paid.
  auto s = p.Sku(product.id);
  EXPECT_EQ(s.sold, 2);
  EXPECT_EQ(s.reserved, 0);
}

TEST_F(Orders, CancelReleasesStock) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 10);
  auto o = p.Order("shp_1", {{product.sku_ids[0], 4}});
  EXPECT_EQ(p.Do([&](auto d) { p.orders->Cancel(o->id, Shopper("shp_2"), d); }).error(),
            svc_errc::not_found);  // Someone else's order.
  auto c = p.Do([&](auto d) { p.orders->Cancel(o->id, Shopper("shp_1"), d); });
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ToString(c->status), "cancelled");
  p.Settle();
  auto s = p.Sku(product.id);
  EXPECT_EQ(s.stock, 10);
  EXPECT_EQ(s.reserved, 0);
}

TEST_F(Orders, UnpaidOrderIsCancelledAtTheTimeoutAndStockComesBack) {
  testing::InProcessOptions opts;
  opts.orders.payment_timeout_micros = 30 * kMinute;
  InProcess& p = Start(opts);
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 5);
  auto o = p.Order("shp_1", {{product.sku_ids[0], 5}});
  ASSERT_EQ(ToString(o->status), "pending_payment");
  clock.Advance(29 * kMinute);
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(ToString(p.Get(o->id)->status), "pending_payment");
  clock.Advance(2 * kMinute);
  p.orders->Tick();
  p.Settle();
  auto after = p.Get(o->id);
  EXPECT_EQ(ToString(after->status), "cancelled");
  EXPECT_EQ(after->cancel_reason, "payment_timeout");
  EXPECT_EQ(p.Sku(product.id).stock, 5);
  // A second tick finds nothing more to do.
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(History(p, o->id).back(), "order.cancelled");
}

// A backlog of due timeouts is worked off in passes (here 3 at a time) queued one behind the
// other, all from one Tick; an order paid before its deadline only loses its timeout.
TEST_F(Orders, ATickWorksOffEveryDueTimeoutInPasses) {
  testing::InProcessOptions opts;
  opts.orders.payment_timeout_micros = 30 * kMinute;
  opts.orders.timeouts_per_pass = 3;
  InProcess& p = Start(opts);
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 100);
  std::vector<std::string> unpaid;
  std::vector<order::Order> paid;
  for (int i = 0; i < 10; ++i) {
    auto o = p.Order("shp_" + std::to_string(i), {{product.sku_ids[0], 2}});
    ASSERT_TRUE(o.ok());
    unpaid.push_back(o->id);
  }
  for (int i = 0; i < 2; ++i) {
    auto o = p.Paid("shp_paid_" + std::to_string(i), {{product.sku_ids[0], 1}});
    ASSERT_EQ(ToString(o->status), "paid");
    paid.push_back(o.value());
  }
  p.Settle();
  EXPECT_EQ(p.Sku(product.id).stock, 100 - 20 - 2);
  clock.Advance(31 * kMinute);
  p.orders->Tick();
  p.Settle();
  for (const auto& id : unpaid) {
    auto o = p.Get(id);
    EXPECT_EQ(ToString(o->status), "cancelled") << id;
    EXPECT_EQ(o->updated_micros, clock.NowMicros()) << id;
  }
  for (const auto& before : paid) {
    auto o = p.Get(before.id);
    EXPECT_EQ(events::Encode(*o), events::Encode(before));  // Not even its time changed.
    EXPECT_EQ(History(p, before.id).back(), "order.paid");
  }
  EXPECT_EQ(p.Sku(product.id).stock, 98);
  EXPECT_EQ(p.Sku(product.id).sold, 2);
  std::string left;
  EXPECT_FALSE(kv.Scan("ord/due/", "ord/due0", [&](std::string_view k, std::string_view) {
    left.assign(k);
    return false;
  }));
  EXPECT_EQ(left, "");  // Every timeout applied and gone.
}

// The orders one batch of the catalog's answers leaves waiting for payment share one timeout key,
// and one entry in their seller's listing, written with their answers; the listing pages through
// the entry; the sweep cancels those still unpaid in one transaction and leaves the paid ones as
// they are. A store from before batches has a timeout key per order: still applied.
TEST_F(Orders, OrdersAnsweredInOneBatchShareOnePaymentTimeoutAndSellerEntry) {
  testing::InProcessOptions opts;
  opts.orders.payment_timeout_micros = 30 * kMinute;
  opts.orders.timeouts_per_pass = 3;  // A batch's key is taken whole, whatever it names.
  InProcess& p = Start(opts);
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 100);
  const std::string sku = product.sku_ids[0];
  // The order service stops reading the catalog's answers while ten orders are placed, then
  // reads them all in one batch.
  p.sources[1]->Stop();
  std::vector<std::promise<Result<order::Order>>> answers(10);
  for (int i = 0; i < 10; ++i) {
    p.orders->Place({"shp_" + std::to_string(i), {{sku, 1}}, ""},
                    [&answers, i](Result<order::Order> r) { answers[i].set_value(std::move(r)); });
  }
  // Until the catalog has answered all ten (InProcess::Settle would wait for the stopped source
  // too): the placements appended, written, handled by the catalog, its answers written.
  for (int round = 0; round < 1000 && p.Sku(product.id).reserved < 10; ++round) {
    for (auto* worker : {&p.orders->worker(), &p.catalog->worker()}) testing::RoundTrip(*worker);
    ASSERT_TRUE(p.store->AppendAndWait(events::AppendRequest{}).ok());
  }
  ASSERT_EQ(p.Sku(product.id).reserved, 10);
  ASSERT_TRUE(p.store->AppendAndWait(events::AppendRequest{}).ok());  // Its answers written.
  p.sources[1] =
      std::make_unique<events::EmbeddedSource>(*p.store, p.orders->worker(), p.orders->processor());
  p.sources[1]->Start();
  std::set<std::string> ids;
  for (auto& a : answers) {
    auto o = a.get_future().get();
    ASSERT_TRUE(o.ok()) << o.message();
    ASSERT_EQ(ToString(o->status), "pending_payment");
    ids.insert(o->id);
  }
  p.Settle();
  auto due = [&] {
    std::vector<std::pair<std::string, std::string>> out;
    EXPECT_FALSE(kv.Scan("ord/due/", "ord/due0", [&](std::string_view k, std::string_view v) {
      out.emplace_back(k, v);
      return true;
    }));
    return out;
  };
  // The seller's listing has one entry for the batch, its orders newest first (all placed at
  // the same instant here: by id, as entries of their own would list them), paged through it.
  const std::string listing = "ord/by-seller/" + seller.id + "/";
  int entries = 0;
  EXPECT_FALSE(
      kv.Scan(listing, storage::PrefixEnd(listing), [&](std::string_view, std::string_view) {
        ++entries;
        return true;
      }));
  EXPECT_EQ(entries, 1);
  const std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  // Every order of the seller's listing, `limit` a page; `inside` when every cursor points
  // inside an entry.
  const auto paged = [&](int limit, bool inside) {
    std::vector<std::string> out;
    order::ListQuery q{"", seller.id, "", "", limit};
    for (int page = 0; page < 20; ++page) {
      auto r = events::Await<order::OrderPage>([&](auto done) { p.orders->List(q, done); });
      EXPECT_TRUE(r.ok()) << r.message();
      if (!r.ok()) break;
      for (const auto& o : r->orders) out.push_back(o.id);
      if (r->next_cursor.empty()) break;
      if (inside) {
        EXPECT_NE(r->next_cursor.find('.'), std::string::npos);
      }
      q.cursor = r->next_cursor;
    }
    return out;
  };
  for (int limit : {3, 5, 10, 20}) {
    EXPECT_EQ(paged(limit, true), newest_first) << limit;
    order::ListQuery q{"", seller.id, "", "zz.1", limit};
    EXPECT_EQ(events::Await<order::OrderPage>([&](auto done) { p.orders->List(q, done); }).error(),
              svc_errc::invalid_argument);
  }
  auto pending = events::Await<order::OrderPage>([&](auto done) {
    p.orders->List({"", seller.id, "pending_payment", "", 100}, done);
  });
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->orders.size(), 10u);

  auto keys = due();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_NE(keys[0].first.find("/pays/"), std::string::npos);
  auto listed = events::Decode<std::vector<std::string>>(keys[0].second);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(std::set<std::string>(listed->begin(), listed->end()), ids);
  EXPECT_EQ(listed->size(), 10u);
  std::set<std::string> paid;
  for (const auto& id : ids) {
    if (paid.size() == 3) break;
    auto o = p.Get(id);
    auto r = p.Do([&](auto d) { p.orders->Pay(id, Shopper(o->shopper_id), d); });
    ASSERT_TRUE(r.ok()) << r.message();
    paid.insert(id);
  }
  clock.Advance(29 * kMinute);
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(due().size(), 1u);  // Not due yet.
  clock.Advance(2 * kMinute);
  p.orders->Tick();
  p.Settle();
  for (const auto& id : ids) {
    auto o = p.Get(id);
    EXPECT_EQ(ToString(o->status), paid.count(id) ? "paid" : "cancelled") << id;
    if (!paid.count(id)) {
      EXPECT_EQ(History(p, id).back(), "order.cancelled");
    }
  }
  EXPECT_TRUE(due().empty());
  EXPECT_EQ(p.Sku(product.id).stock, 97);
  EXPECT_EQ(p.Sku(product.id).reserved, 0);
  EXPECT_EQ(p.Sku(product.id).sold, 3);

  // A payment timeout as a store from before batches has it: one key per order.
  auto old = p.Order("shp_old", {{sku, 2}});
  ASSERT_EQ(ToString(old->status), "pending_payment");
  p.Settle();
  keys = due();
  ASSERT_EQ(keys.size(), 1u);
  storage::WriteBatch wb;
  wb.Delete(keys[0].first);
  std::string per_order = keys[0].first.substr(0, keys[0].first.find("/pays/")) + "/pay/" + old->id;
  wb.Put(per_order, "");
  ASSERT_FALSE(kv.Write(wb, true));
  clock.Advance(31 * kMinute);
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(ToString(p.Get(old->id)->status), "cancelled");
  EXPECT_TRUE(due().empty());
  EXPECT_EQ(p.Sku(product.id).stock, 97);
  // Pages across an entry of one order and the batch's entry: the later order first.
  std::vector<std::string> want{old->id};
  want.insert(want.end(), newest_first.begin(), newest_first.end());
  EXPECT_EQ(paged(4, false), want);
}

// Remembers where each scan of the due timeouts began.
class DueScanKvStore final : public storage::KvStore {
 public:
  std::error_code Get(std::string_view key, std::string* value) override {
    return inner_.Get(key, value);
  }
  std::error_code Write(const storage::WriteBatch& batch, bool sync) override {
    return inner_.Write(batch, sync);
  }
  std::error_code Sync() override { return inner_.Sync(); }
  std::error_code Scan(std::string_view begin, std::string_view end,
                       const storage::ScanFn& fn) override {
    if (begin.substr(0, 8) == "ord/due/") {
      std::lock_guard lock(mu_);
      begins_.emplace_back(begin);
    }
    return inner_.Scan(begin, end, fn);
  }
  std::error_code ScanReverse(std::string_view begin, std::string_view end,
                              const storage::ScanFn& fn) override {
    return inner_.ScanReverse(begin, end, fn);
  }
  std::string last_begin() {
    std::lock_guard lock(mu_);
    return begins_.empty() ? "" : begins_.back();
  }

 private:
  storage::MemoryKvStore inner_;
  std::mutex mu_;
  std::vector<std::string> begins_;
};

std::string DueAt(int64_t micros) {
  std::string k = "ord/due/";
  events::PutFixed64BE(k, static_cast<uint64_t>(micros));
  return k;
}

// A sweep starts where the last one ended: the timeouts it applied are deleted keys, which
// RocksDB keeps as tombstones until compaction, and a scan from the first due key would step
// over all of them at every tick. A timeout set below that start (already due when it is set)
// still applies.
TEST_F(Orders, ASweepStartsWhereTheLastEndedAndAppliesTimeoutsSetBelowIt) {
  DueScanKvStore kv;
  testing::InProcessOptions opts;
  opts.orders.payment_timeout_micros = 30 * kMinute;
  opts.orders.auto_confirm_micros = 0;  // A shipped sub-order's confirmation is due at once.
  InProcess p(&kv, &clock, opts);
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 100);
  auto unpaid = p.Order("shp_1", {{product.sku_ids[0], 2}});
  auto paid = p.Paid("shp_2", {{product.sku_ids[0], 1}});
  ASSERT_EQ(ToString(paid->status), "paid");
  clock.Advance(31 * kMinute);
  const int64_t first = clock.NowMicros();
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(kv.last_begin(), "ord/due/");  // The first sweep since start: from the first key.
  ASSERT_EQ(ToString(p.Get(unpaid->id)->status), "cancelled");
  clock.Advance(kMinute);
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(kv.last_begin(), DueAt(first + 1));  // Past the cancelled order's timeout.

  // Shipped with no auto-confirm delay: due now, below where the next sweep would start.
  auto shipped =
      p.Do([&](auto d) { p.orders->Ship(paid->id, "", "EMS", "E1", SellerActor(seller.id), d); });
  ASSERT_TRUE(shipped.ok()) << shipped.message();
  p.Settle();
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(ToString(p.Get(paid->id)->sub_orders[0].status), "completed");
  EXPECT_EQ(ToString(p.Get(paid->id)->status), "completed");
  // Completion set the after-sale timeout; once the window has passed it is applied too.
  clock.Advance(16 * 24 * 60 * kMinute);
  p.orders->Tick();
  p.Settle();
  std::string left;
  EXPECT_FALSE(kv.Scan("ord/due/", "ord/due0", [&](std::string_view k, std::string_view) {
    left.assign(k);
    return false;
  }));
  EXPECT_EQ(left, "");
}

// shp_1's order of 2 units (10.00 yuan) of a product with `stock` units, cancelled when its
// payment deadline passed; payments for it then arrive late.
class LatePayment : public Orders {
 protected:
  void CancelUnpaid(int64_t stock) {
    product = p.Product(seller.id, 500, stock);
    sku = product.sku_ids[0];
    late = p.Order("shp_1", {{sku, 2}}).value();
    clock.Advance(31 * kMinute);
    p.orders->Tick();
    p.Settle();
    ASSERT_EQ(ToString(p.Get(late.id)->status), "cancelled");
  }
  // A provider's notification of the full amount under transaction `txn`, then every reaction.
  order::Order PayLate(const std::string& txn) {
    auto r = p.Do([&](auto d) {
      p.orders->PaymentReceived({late.id, "alipay", txn, Fen(1000)}, d);
    });
    EXPECT_TRUE(r.ok()) << r.message();
    p.Settle();
    return p.Get(late.id).value();
  }

  InProcess& p = Start();
  catalog::Seller seller = p.Seller();
  catalog::Product product;
  std::string sku;
  order::Order late;
};

TEST_F(LatePayment, TakesTheStockAgainWhenItIsThere) {
  CancelUnpaid(5);
  auto after = PayLate("wx-1");
  EXPECT_EQ(ToString(after.status), "paid");
  EXPECT_EQ(ToString(after.payments[0].outcome), "applied");
  auto s = p.Sku(product.id);
  EXPECT_EQ(s.stock, 3);
  EXPECT_EQ(s.sold, 2);
}

TEST_F(LatePayment, WithoutStockIsOwedBackNeverOversold) {
  CancelUnpaid(2);
  // Someone else buys the released stock.
  ASSERT_TRUE(p.Paid("shp_2", {{sku, 2}}).ok());
  auto after = PayLate("ali-9");
  EXPECT_EQ(ToString(after.status), "cancelled");
  ASSERT_EQ(after.payments.size(), 1u);
  EXPECT_EQ(ToString(after.payments[0].outcome), "refund_due");
  EXPECT_EQ(History(p, late.id).back(), "payment.refund_due");
  auto s = p.Sku(product.id);
  EXPECT_EQ(s.sold, 2);
  EXPECT_EQ(s.stock, 0);
}

// Every late payment is answered, not only the first: another one (another transaction) while
// the stock is still gone is owed back too, and one after the stock came back buys it.
TEST_F(LatePayment, EveryOneIsAnsweredAndBuysStockThatCameBack) {
  CancelUnpaid(2);
  auto other = p.Paid("shp_2", {{sku, 2}});
  ASSERT_TRUE(other.ok());
  PayLate("ali-1");
  auto owed = PayLate("ali-2");
  ASSERT_EQ(owed.payments.size(), 2u);
  EXPECT_EQ(ToString(owed.payments[0].outcome), "refund_due");
  EXPECT_EQ(ToString(owed.payments[1].outcome), "refund_due");
  // The other shopper sends the goods back: the stock returns.
  ASSERT_TRUE(p.Do([&](auto d) {
                 p.orders->Ship(other->id, "", "EMS", "E1", SellerActor(seller.id), d);
               }).ok());
  auto asked = p.Do([&](auto d) {
    p.orders->RequestRefund({other->id, "", {{sku, 2}}, -1, true, ""}, Shopper("shp_2"), d);
  });
  ASSERT_TRUE(asked.ok()) << asked.message();
  ASSERT_TRUE(p.Do([&](auto d) {
                 p.orders->DecideRefund(asked->refunds[0].id, true, "", SellerActor(seller.id), d);
               }).ok());
  p.Settle();
  EXPECT_EQ(p.Sku(product.id).stock, 2);
  auto bought = PayLate("ali-3");
  EXPECT_EQ(ToString(bought.status), "paid");
  ASSERT_EQ(bought.payments.size(), 3u);
  EXPECT_EQ(ToString(bought.payments[2].outcome), "applied");
  EXPECT_EQ(p.Sku(product.id).stock, 0);
  EXPECT_EQ(p.Sku(product.id).sold, 2);
}

TEST_F(Orders, PaymentNotificationsAreIdempotent) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 5);
  auto o = p.Order("shp_1", {{product.sku_ids[0], 1}});
  for (int i = 0; i < 3; ++i) {
    auto r = p.Do([&](auto d) {
      p.orders->PaymentReceived({o->id, "wechat", "wx-7", Fen(500)}, d);
    });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(ToString(r->status), "paid");
    EXPECT_EQ(r->payments.size(), 1u);
  }
  // Another payment for a paid order is owed back, not lost.
  auto twice = p.Do([&](auto d) {
    p.orders->PaymentReceived({o->id, "wechat", "wx-8", Fen(500)}, d);
  });
  ASSERT_EQ(twice->payments.size(), 2u);
  EXPECT_EQ(ToString(twice->payments[1].outcome), "refund_due");
  // A wrong amount never pays an order.
  auto other = p.Order("shp_1", {{product.sku_ids[0], 1}});
  auto wrong = p.Do([&](auto d) {
    p.orders->PaymentReceived({other->id, "wechat", "wx-9", Fen(1)}, d);
  });
  EXPECT_EQ(ToString(wrong->status), "pending_payment");
  EXPECT_EQ(ToString(wrong->payments[0].outcome), "refund_due");
  p.Settle();
  EXPECT_EQ(p.Sku(product.id).sold, 1);
}

TEST_F(Orders, ConcurrentPayAndCancelLeaveOneOutcome) {
  for (int round = 0; round < 20; ++round) {
    InProcess p;
    auto seller = p.Seller();
    auto product = p.Product(seller.id, 500, 5);
    auto o = p.Order("shp_1", {{product.sku_ids[0], 1}});
    Result<order::Order> paid = svc_errc::internal, cancelled = svc_errc::internal;
    std::thread a([&] { paid = p.Do([&](auto d) { p.orders->Pay(o->id, Shopper("shp_1"), d); }); });
    std::thread b(
        [&] { cancelled = p.Do([&](auto d) { p.orders->Cancel(o->id, Shopper("shp_1"), d); }); });
    a.join();
    b.join();
    EXPECT_NE(paid.ok(), cancelled.ok());  // Exactly one wins; the other gets 409.
    p.Settle();
    auto s = p.Sku(product.id);
    EXPECT_EQ(s.stock + s.reserved + s.sold, 5);
    EXPECT_EQ(s.sold, paid.ok() ? 1 : 0);
  }
}

TEST_F(Orders, ShippedOrdersAreConfirmedAutomatically) {
  InProcess& p = Start();
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 5);
  auto o = p.Paid("shp_1", {{product.sku_ids[0], 1}});
  ASSERT_TRUE(p.Do([&](auto d) {
                 p.orders->Ship(o->id, "", "EMS", "E1", SellerActor(seller.id), d);
               }).ok());
  clock.Advance(9 * kDay);
  p.orders->Tick();
  p.Settle();
  EXPECT_EQ(ToString(p.Get(o->id)->sub_orders[0].status), "shipped");
  clock.Advance(kDay + kMinute);
  p.orders->Tick();
  p.Settle();
  auto done = p.Get(o->id);
  EXPECT_EQ(ToString(done->sub_orders[0].status), "completed");
  EXPECT_EQ(ToString(done->status), "completed");
}

TEST_F(Orders, RefundWithReturnRestocksAndClosesAfterTheWindow) {
  testing::InProcessOptions opts;
  opts.orders.after_sale_micros = 7 * kDay;
  InProcess& p = Start(opts);
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 1000, 10);
  auto o = p.Paid("shp_1", {{product.sku_ids[0], 4}});
  ASSERT_TRUE(p.Do([&](auto d) {
                 p.orders->Ship(o->id, "", "EMS", "E1", SellerActor(seller.id), d);
               }).ok());
  ASSERT_TRUE(p.Do([&](auto d) { p.orders->Confirm(o->id, "", Shopper("shp_1"), d); }).ok());
  // More than was bought is refused.
  auto too_much = p.Do([&](auto d) {
    p.orders->RequestRefund({o->id, "", {{product.sku_ids[0], 5}}, -1, true, ""}, Shopper("shp_1"),
                            d);
  });
  EXPECT_EQ(too_much.error(), svc_errc::invalid_argument);
  auto asked = p.Do([&](auto d) {
    p.orders->RequestRefund({o->id, "", {{product.sku_ids[0], 2}}, -1, true, "坏了"},
                            Shopper("shp_1"), d);
  });
  ASSERT_TRUE(asked.ok()) << asked.message();
  ASSERT_EQ(asked->refunds.size(), 1u);
  EXPECT_EQ(asked->refunds[0].amount, Fen(2000));
  // The shopper cannot approve its own refund; the seller can.
  std::string rid = asked->refunds[0].id;
  EXPECT_EQ(
      p.Do([&](auto d) { p.orders->DecideRefund(rid, true, "", Shopper("shp_1"), d); }).error(),
      svc_errc::forbidden);
  auto approved =
      p.Do([&](auto d) { p.orders->DecideRefund(rid, true, "", SellerActor(seller.id), d); });
  ASSERT_TRUE(approved.ok()) << approved.message();
  EXPECT_EQ(ToString(approved->refunds[0].status), "refunded");
  EXPECT_EQ(approved->sub_orders[0].refunded, Fen(2000));
  // Deciding again changes nothing; rejecting a refunded refund is a conflict.
  EXPECT_TRUE(p.Do([&](auto d) { p.orders->DecideRefund(rid, true, "", kOperator, d); }).ok());
  EXPECT_EQ(p.Do([&](auto d) { p.orders->DecideRefund(rid, false, "", kOperator, d); }).error(),
            svc_errc::conflict);
  p.Settle();
  auto s = p.Sku(product.id);
  EXPECT_EQ(s.sold, 2);
  EXPECT_EQ(s.stock, 8);
  // A second refund for the rest, rejected by the seller.
  auto second = p.Do([&](auto d) {
    p.orders->RequestRefund({o->id, "", {}, 500, false, "少了"}, Shopper("shp_1"), d);
  });
  ASSERT_TRUE(second.ok()) << second.message();
  auto rejected = p.Do([&](auto d) {
    p.orders->DecideRefund(second->refunds[1].id, false, "已发全", SellerActor(seller.id), d);
  });
  EXPECT_EQ(ToString(rejected->refunds[1].status), "rejected");
  clock.Advance(8 * kDay);
  auto late = p.Do([&](auto d) {
    p.orders->RequestRefund({o->id, "", {}, 100, false, ""}, Shopper("shp_1"), d);
  });
  EXPECT_EQ(late.error(), svc_errc::conflict);
  EXPECT_NE(late.message().find("after-sale window"), std::string::npos);
}

// shp_1's paid order of 3 units (10.00 yuan each) of a product with 10; refunds asked for and
// approved on it.
class Refunds : public ::testing::Test {
 protected:
  void SetUp() override {
    auto paid = p.Paid("shp_1", {{sku, 3}});
    ASSERT_TRUE(paid.ok()) << paid.message();
    order = *paid;
  }
  Result<order::Order> Ask(std::vector<events::schema::OrderItem> items, bool with_return,
                           int64_t amount = -1) {
    return p.Do([&](auto d) {
      p.orders->RequestRefund({order.id, "", items, amount, with_return, ""}, Shopper("shp_1"), d);
    });
  }
  // Approves the refund `asked` made, as the seller.
  Result<order::Order> Approve(const Result<order::Order>& asked) {
    EXPECT_TRUE(asked.ok()) << asked.message();
    if (!asked.ok()) return asked;
    return p.Do([&](auto d) {
      p.orders->DecideRefund(asked->refunds.back().id, true, "", SellerActor(seller.id), d);
    });
  }

  InProcess p;
  catalog::Seller seller = p.Seller();
  catalog::Product product = p.Product(seller.id, 1000, 10);
  std::string sku = product.sku_ids[0];
  order::Order order;
};

// A unit is refunded once: later refunds of a sub-order cover only the units earlier ones did
// not — by items, or the whole sub-order with a return — so returns never put more back into
// stock than the order took out, and the sales lose each unit once.
TEST_F(Refunds, NeverCoverAUnitTwice) {
  ASSERT_TRUE(Approve(Ask({{sku, 1}}, true, 500)).ok());  // One unit back, half its price paid.
  // Two units are left: asking for three, or for two twice in one request, is refused.
  auto too_many = Ask({{sku, 3}}, true);
  EXPECT_EQ(too_many.error(), svc_errc::invalid_argument);
  EXPECT_NE(too_many.message().find("1 to 2"), std::string::npos) << too_many.message();
  EXPECT_EQ(Ask({{sku, 2}, {sku, 2}}, true).error(), svc_errc::invalid_argument);
  // The whole sub-order with a return brings back the two units not refunded yet.
  auto rest = Ask({}, true, 2000);
  ASSERT_TRUE(rest.ok()) << rest.message();
  ASSERT_EQ(rest->refunds.back().items.size(), 1u);
  EXPECT_EQ(rest->refunds.back().items[0].quantity, 2);
  ASSERT_TRUE(Approve(rest).ok());
  p.Settle();
  auto s = p.Sku(product.id);
  EXPECT_EQ(s.sold, 0);
  EXPECT_EQ(s.stock, 10);
  // 5.00 of the 30.00 is not refunded yet, but no unit is left to return.
  auto unit = Ask({{sku, 1}}, true);
  EXPECT_EQ(unit.error(), svc_errc::invalid_argument);
  EXPECT_NE(unit.message().find("refunded already"), std::string::npos) << unit.message();
  EXPECT_EQ(Ask({}, true).error(), svc_errc::invalid_argument);
  EXPECT_EQ(p.Sku(product.id).stock, 10);
  // Money without goods can still be asked for, up to what is left.
  ASSERT_TRUE(Approve(Ask({}, false, 500)).ok());
  EXPECT_EQ(p.Get(order.id)->sub_orders[0].refunded, Fen(3000));
  p.Settle();
  EXPECT_EQ(p.Sku(product.id).stock, 10);
}

// Before a sub-order ships, refunded units are still in the warehouse: they go back to stock even
// when the shopper asked for money only, and a later refund that empties the sub-order returns
// just the rest — so the sales lose each unit once.
TEST_F(Refunds, UnitsRefundedBeforeShippingGoBackToStockOnce) {
  auto two = Approve(Ask({{sku, 2}}, false));
  ASSERT_TRUE(two.ok()) << two.message();
  EXPECT_TRUE(two->refunds[0].with_return);
  p.Settle();
  EXPECT_EQ(p.Sku(product.id).stock, 9);  // 7 left after the sale, 2 back.
  auto rest = Approve(Ask({}, false));
  ASSERT_TRUE(rest.ok()) << rest.message();
  EXPECT_EQ(ToString(rest->sub_orders[0].status), "cancelled");
  ASSERT_EQ(rest->refunds[1].items.size(), 1u);
  EXPECT_EQ(rest->refunds[1].items[0].quantity, 1);
  p.Settle();
  auto s = p.Sku(product.id);
  EXPECT_EQ(s.stock, 10);
  EXPECT_EQ(s.sold, 0);
  auto sales = events::Await<std::vector<settlement::SalesRow>>([&](auto done) {
    p.settlement->Sales({"seller", "", "", false}, done);
  });
  ASSERT_TRUE(sales.ok());
  ASSERT_EQ(sales->size(), 1u);
  EXPECT_EQ((*sales)[0].totals.units, 0);
  EXPECT_EQ((*sales)[0].totals.amount, Fen(0));
}

TEST_F(Orders, SellersSeeOnlyTheirSubOrders) {
  InProcess p;
  auto qin = p.Seller("140430");
  auto guzhang = p.Seller("433126");
  auto millet = p.Product(qin.id, 2990, 10);
  auto tea = p.Product(guzhang.id, 16800, 10);
  auto o = p.Paid("shp_1", {{millet.sku_ids[0], 1}, {tea.sku_ids[0], 1}});
  ASSERT_TRUE(o.ok());
  auto seen = testing::Await<order::Order>(
      [&](auto d) { p.orders->Get(o->id, SellerActor(guzhang.id), d); });
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->sub_orders.size(), 1u);
  EXPECT_EQ(seen->sub_orders[0].seller_id, guzhang.id);
  EXPECT_EQ(seen->total, Fen(16800));
  EXPECT_EQ(ToString(seen->lines[0].status), "hidden");
  EXPECT_EQ(seen->lines[0].sku_id, "");
  EXPECT_TRUE(seen->payments.empty());
  auto listed = testing::Await<order::OrderPage>([&](auto d) {
    p.orders->List({"", qin.id, "", "", 10}, d);
  });
  ASSERT_EQ(listed->orders.size(), 1u);
  EXPECT_EQ(listed->orders[0].total, Fen(2990));
}

TEST_F(Orders, WholeOrderRefundCoversEverySubOrder) {
  InProcess p;
  auto qin = p.Seller("140430");
  auto guzhang = p.Seller("433126");
  auto millet = p.Product(qin.id, 2990, 10);
  auto tea = p.Product(guzhang.id, 16800, 10);
  auto o = p.Paid("shp_1", {{millet.sku_ids[0], 1}, {tea.sku_ids[0], 1}});
  auto asked = p.Do([&](auto d) {
    p.orders->RequestRefund({o->id, "", {}, -1, false, "不要了"}, Shopper("shp_1"), d);
  });
  ASSERT_TRUE(asked.ok()) << asked.message();
  ASSERT_EQ(asked->refunds.size(), 2u);
  EXPECT_EQ(asked->refunds[0].amount, Fen(2990));
  EXPECT_EQ(asked->refunds[1].amount, Fen(16800));
  // Each seller decides its own.
  for (const auto& [refund, seller] :
       {std::pair{asked->refunds[0].id, qin.id}, std::pair{asked->refunds[1].id, guzhang.id}}) {
    ASSERT_TRUE(p.Do([&](auto d) {
                   p.orders->DecideRefund(refund, true, "", SellerActor(seller), d);
                 }).ok());
  }
  auto done = p.Get(o->id);
  EXPECT_EQ(ToString(done->status), "completed");
  EXPECT_EQ(ToString(done->sub_orders[0].status), "cancelled");
  EXPECT_EQ(ToString(done->sub_orders[1].status), "cancelled");
}

TEST_F(Orders, ConcurrentRefundDecisionsHaveOneOutcome) {
  for (int round = 0; round < 10; ++round) {
    InProcess p;
    auto seller = p.Seller();
    auto product = p.Product(seller.id, 700, 5);
    auto o = p.Paid("shp_1", {{product.sku_ids[0], 2}});
    auto asked = p.Do([&](auto d) {
      p.orders->RequestRefund({o->id, "", {{product.sku_ids[0], 1}}, -1, true, ""},
                              Shopper("shp_1"), d);
    });
    ASSERT_TRUE(asked.ok());
    const std::string rid = asked->refunds[0].id;
    Result<order::Order> approve = svc_errc::internal, reject = svc_errc::internal;
    std::thread a([&] {
      approve = p.Do([&](auto d) { p.orders->DecideRefund(rid, true, "", kOperator, d); });
    });
    std::thread b([&] {
      reject = p.Do(
          [&](auto d) { p.orders->DecideRefund(rid, false, "no", SellerActor(seller.id), d); });
    });
    a.join();
    b.join();
    EXPECT_NE(approve.ok(), reject.ok());
    p.Settle();
    auto final_state = p.Get(o->id);
    EXPECT_EQ(ToString(final_state->refunds[0].status), approve.ok() ? "refunded" : "rejected");
    EXPECT_EQ(p.Sku(product.id).sold, approve.ok() ? 1 : 2);
  }
}

TEST_F(Orders, FullRefundBeforeShippingCancelsTheSubOrder) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 700, 5);
  auto o = p.Paid("shp_1", {{product.sku_ids[0], 1}});
  auto asked = p.Do([&](auto d) {
    p.orders->RequestRefund({o->id, "", {}, -1, false, "不想要了"}, Shopper("shp_1"), d);
  });
  ASSERT_TRUE(asked.ok());
  auto done =
      p.Do([&](auto d) { p.orders->DecideRefund(asked->refunds[0].id, true, "", kOperator, d); });
  EXPECT_EQ(ToString(done->sub_orders[0].status), "cancelled");
  EXPECT_EQ(ToString(done->status), "completed");
  p.Settle();
  auto s = p.Sku(product.id);  // Never shipped: the unit is back on sale.
  EXPECT_EQ(s.stock, 5);
  EXPECT_EQ(s.sold, 0);
  EXPECT_EQ(p.Do([&](auto d) {
               p.orders->Ship(o->id, "", "EMS", "E", SellerActor(seller.id), d);
             }).error(),
            svc_errc::conflict);
}

TEST_F(Orders, HoldCapStopsOneShopperFromLockingStock) {
  testing::InProcessOptions opts;
  opts.catalog.hold_cap = 3;
  InProcess p(nullptr, nullptr, opts);
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 100, 100);
  const std::string sku = product.sku_ids[0];
  EXPECT_EQ(ToString(p.Order("hoarder", {{sku, 2}})->status), "pending_payment");
  auto over = p.Order("hoarder", {{sku, 2}});
  EXPECT_EQ(ToString(over->status), "rejected");
  EXPECT_EQ(over->lines[0].reason, "hold_limit");
  EXPECT_EQ(ToString(p.Order("someone_else", {{sku, 3}})->status), "pending_payment");
  // Paying frees the hold: paid units are no longer "held".
  auto first = p.Order("hoarder", {{sku, 1}});
  ASSERT_EQ(ToString(first->status), "pending_payment");
  ASSERT_TRUE(p.Do([&](auto d) { p.orders->Pay(first->id, Shopper("hoarder"), d); }).ok());
  p.Settle();
  EXPECT_EQ(ToString(p.Order("hoarder", {{sku, 1}})->status), "pending_payment");
}

TEST_F(Orders, RejectedOrderGivesReasonsAndReleasesWhatItReserved) {
  InProcess p;
  auto seller = p.Seller();
  auto plenty = p.Product(seller.id, 100, 10);
  auto scarce = p.Product(seller.id, 100, 1);
  auto o = p.Order("shp_1", {{plenty.sku_ids[0], 3}, {scarce.sku_ids[0], 2}, {"sku_ghost", 1}});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(ToString(o->status), "rejected");
  EXPECT_EQ(ToString(o->lines[0].status), "reserved");
  EXPECT_EQ(o->lines[1].reason, "insufficient_stock");
  EXPECT_EQ(o->lines[2].reason, "unknown_sku");
  p.Settle();
  auto s = p.Sku(plenty.id);
  EXPECT_EQ(s.stock, 10);
  EXPECT_EQ(s.reserved, 0);
}

TEST_F(Orders, InvalidOrdersWriteNothing) {
  InProcess p;
  uint64_t head = p.store->head();
  EXPECT_EQ(p.Order("shp_1", {}).error(), svc_errc::invalid_argument);
  EXPECT_EQ(p.Order("shp_1", {{"sku_a", 0}}).error(), svc_errc::invalid_argument);
  auto dup = p.Order("shp_1", {{"sku_a", 1}, {"sku_a", 2}});
  EXPECT_NE(dup.message().find("appears twice"), std::string::npos);
  EXPECT_EQ(p.store->head(), head);
}

TEST_F(Orders, IdempotencyKeyReturnsTheSameOrderAndRefusesAnotherBody) {
  InProcess p;
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 500, 10);
  auto first = p.Order("shp_1", {{product.sku_ids[0], 2}}, "key-1");
  auto again = p.Order("shp_1", {{product.sku_ids[0], 2}}, "key-1");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id, again->id);
  EXPECT_EQ(ToString(again->status), "pending_payment");
  EXPECT_EQ(p.Sku(product.id).stock, 8);  // Reserved once.
  EXPECT_EQ(p.Order("shp_1", {{product.sku_ids[0], 3}}, "key-1").error(), svc_errc::conflict);
  auto other = p.Order("shp_2", {{product.sku_ids[0], 2}}, "key-1");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->id, first->id);
}

TEST_F(Orders, ConcurrentRetriesWithOneKeyMakeOneOrder) {
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

TEST_F(Orders, ListsByShopperAndSellerWithCursorPagination) {
  InProcess& p = Start();
  auto seller = p.Seller();
  auto product = p.Product(seller.id, 100, 100);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    clock.Advance(1000);
    ids.push_back(p.Order("shp_1", {{product.sku_ids[0], 1}})->id);
  }
  ASSERT_TRUE(p.Do([&](auto d) { p.orders->Pay(ids[1], Shopper("shp_1"), d); }).ok());
  ASSERT_TRUE(p.Order("shp_2", {{product.sku_ids[0], 1}}).ok());
  auto list = [&](order::ListQuery q) {
    return testing::Await<order::OrderPage>([&](auto d) { p.orders->List(q, d); }).value();
  };
  auto page1 = list({"shp_1", "", "", "", 2});
  ASSERT_EQ(page1.orders.size(), 2u);
  EXPECT_EQ(page1.orders[0].id, ids[4]);  // Newest first.
  ASSERT_FALSE(page1.next_cursor.empty());
  auto page2 = list({"shp_1", "", "", page1.next_cursor, 2});
  ASSERT_EQ(page2.orders.size(), 2u);
  EXPECT_EQ(page2.orders[0].id, ids[2]);
  auto page3 = list({"shp_1", "", "", page2.next_cursor, 2});
  ASSERT_EQ(page3.orders.size(), 1u);
  EXPECT_TRUE(page3.next_cursor.empty());
  auto paid = list({"shp_1", "", "paid", "", 20});
  ASSERT_EQ(paid.orders.size(), 1u);
  EXPECT_EQ(paid.orders[0].id, ids[1]);
  EXPECT_EQ(list({"", seller.id, "", "", 20}).orders.size(), 6u);
  auto bad = testing::Await<order::OrderPage>([&](auto d) {
    p.orders->List({"shp_1", seller.id, "", "", 5}, d);
  });
  EXPECT_EQ(bad.error(), svc_errc::invalid_argument);
  // "shipped" is a sub-order's status: the answer says which statuses there are.
  auto shipped = testing::Await<order::OrderPage>([&](auto d) {
    p.orders->List({"shp_1", "", "shipped", "", 5}, d);
  });
  EXPECT_EQ(shipped.error(), svc_errc::invalid_argument);
  EXPECT_NE(shipped.message().find("give one of pending, pending_payment, paid"),
            std::string::npos);
}

// With neither owner, the operator's directory: every order the catalog answered, newest first,
// in a place (a code prefix) and a period; a store from before it gets its entries at start.
TEST_F(Orders, PavilionListsEveryOrderByPlaceAndPeriod) {
  constexpr int64_t kDay = 24ll * 3600 * 1'000'000;
  std::vector<std::string> qin, xian;  // Orders of a seller in Qin County, one in Xi'an.
  std::string rejected, qin_seller_id;
  {
    InProcess p(&kv, &clock);
    auto qin_seller = p.Seller("140430106");
    qin_seller_id = qin_seller.id;
    auto xian_seller = p.Seller("610100");
    auto millet = p.Product(qin_seller.id, 100, 100);
    auto kiwi = p.Product(xian_seller.id, 300, 2);
    for (int day = 0; day < 3; ++day) {
      clock.Advance(kDay);
      qin.push_back(p.Order("shp_1", {{millet.sku_ids[0], 1}})->id);
      clock.Advance(1000);  // Placed after: listed before (newest first).
      xian.push_back(p.Order("shp_2", {{kiwi.sku_ids[0], 1}})->id);
    }
    ASSERT_TRUE(p.Do([&](auto d) { p.orders->Pay(qin[0], Shopper("shp_1"), d); }).ok());
    rejected = xian.back();  // Two units in stock: the third order is refused.
  }
  const auto ids = [](const order::OrderPage& page) {
    std::vector<std::string> out;
    for (const auto& o : page.orders) out.push_back(o.id);
    return out;
  };
  const auto check = [&](InProcess& p) {
    auto list = [&](order::ListQuery q) {
      return testing::Await<order::OrderPage>([&](auto d) { p.orders->List(q, d); }).value();
    };
    EXPECT_EQ(ids(list({"", "", "", "", 100})),
              (std::vector<std::string>{xian[2], qin[2], xian[1], qin[1], xian[0], qin[0]}));
    EXPECT_EQ(p.Get(rejected)->status, order::OrderStatus::kRejected);
    order::ListQuery in_qin{"", "", "", "", 100};
    in_qin.place_code = "1404";
    EXPECT_EQ(ids(list(in_qin)), (std::vector<std::string>{qin[2], qin[1], qin[0]}));
    // Pages of two, within the place, follow the cursor to the end.
    in_qin.limit = 2;
    auto first = list(in_qin);
    EXPECT_EQ(ids(first), (std::vector<std::string>{qin[2], qin[1]}));
    in_qin.cursor = first.next_cursor;
    EXPECT_EQ(ids(list(in_qin)), (std::vector<std::string>{qin[0]}));
    // The second day only: from its start, to the third's.
    const auto placed = [&](const std::string& id) { return p.Get(id)->created_micros; };
    order::ListQuery day2{"", "", "", "", 100};
    day2.from_micros = placed(qin[1]);
    day2.to_micros = placed(qin[2]);
    EXPECT_EQ(ids(list(day2)), (std::vector<std::string>{xian[1], qin[1]}));
    // A seller's listing over the same day (its entries are per batch: checked per order).
    order::ListQuery seller_day2{"", qin_seller_id, "", "", 100};
    seller_day2.from_micros = day2.from_micros;
    seller_day2.to_micros = day2.to_micros;
    EXPECT_EQ(ids(list(seller_day2)), (std::vector<std::string>{qin[1]}));
    order::ListQuery paid{"", "", "paid", "", 100};
    EXPECT_EQ(ids(list(paid)), (std::vector<std::string>{qin[0]}));
  };
  {
    InProcess p(&kv, &clock);
    check(p);
  }
  // As a store from before the pavilion's listing: no entries, no marker.
  storage::WriteBatch forget;
  ASSERT_FALSE(kv.Scan("ord/by-all", storage::PrefixEnd("ord/by-all"),
                       [&](std::string_view k, std::string_view) {
                         forget.Delete(k);
                         return true;
                       }));
  ASSERT_GT(forget.size(), 1u);
  ASSERT_FALSE(kv.Write(forget, true));
  InProcess p(&kv, &clock);
  check(p);
}

// Listing by a status past payment reads the status index; a store whose orders were recorded
// before it gets its entries when the order service starts.
TEST_F(Orders, StatusIndexIsBuiltForOrdersRecordedBeforeIt) {
  std::string seller_id;
  std::vector<std::string> ids;
  {
    InProcess p(&kv, &clock);
    auto seller = p.Seller();
    seller_id = seller.id;
    auto product = p.Product(seller.id, 100, 100);
    for (int i = 0; i < 4; ++i) {
      clock.Advance(1000);
      ids.push_back(p.Order("shp_1", {{product.sku_ids[0], 1}})->id);
    }
    ASSERT_TRUE(p.Do([&](auto d) { p.orders->Pay(ids[0], Shopper("shp_1"), d); }).ok());
    ASSERT_TRUE(p.Do([&](auto d) { p.orders->Pay(ids[2], Shopper("shp_1"), d); }).ok());
    ASSERT_TRUE(p.Do([&](auto d) { p.orders->Cancel(ids[1], Shopper("shp_1"), d); }).ok());
  }
  const auto index_keys = [&] {
    std::vector<std::string> keys;
    EXPECT_FALSE(kv.Scan("ord/st-", storage::PrefixEnd("ord/st-"),
                         [&](std::string_view k, std::string_view) {
                           keys.emplace_back(k);
                           return true;
                         }));
    return keys;
  };
  // Paid twice and cancelled once, each listed by the shopper and by the seller (by its
  // sub-orders' statuses, the same here); and the marker.
  auto keys = index_keys();
  EXPECT_EQ(keys.size(), 7u);
  // As a store from before the index, or from the first one (its marker, and a seller's entry by
  // the order's status where the seller's sub-order is in another).
  storage::WriteBatch forget;
  for (const auto& k : keys) forget.Delete(k);
  forget.Put("ord/st-built", "1");
  forget.Put("ord/st-seller/" + seller_id + "/paid/00000000" + ids[1], "");
  ASSERT_FALSE(kv.Write(forget, true));

  InProcess p(&kv, &clock);
  EXPECT_EQ(index_keys(), keys);
  auto list = [&](order::ListQuery q) {
    std::vector<std::string> listed;
    for (int page = 0; page < 10; ++page) {
      auto r = testing::Await<order::OrderPage>([&](auto d) { p.orders->List(q, d); }).value();
      for (const auto& o : r.orders) listed.push_back(o.id);
      if (r.next_cursor.empty()) break;
      q.cursor = r.next_cursor;
    }
    return listed;
  };
  const std::vector<std::string> paid = {ids[2], ids[0]};  // Newest first, a page each.
  EXPECT_EQ(list({"shp_1", "", "paid", "", 1}), paid);
  EXPECT_EQ(list({"", seller_id, "paid", "", 1}), paid);
  EXPECT_EQ(list({"shp_1", "", "cancelled", "", 5}), std::vector<std::string>{ids[1]});
  EXPECT_EQ(list({"shp_1", "", "pending_payment", "", 5}), std::vector<std::string>{ids[3]});
  // Moving on moves the entries: shipped, the order is still paid to its shopper and shipped to
  // its seller (who lists by its sub-order); confirmed, it is completed to both.
  ASSERT_TRUE(p.Do([&](auto d) {
                 p.orders->Ship(ids[0], "", "顺丰", "SF1", SellerActor(seller_id), d);
               }).ok());
  EXPECT_EQ(list({"shp_1", "", "paid", "", 5}), paid);
  EXPECT_EQ(list({"", seller_id, "paid", "", 5}), std::vector<std::string>{ids[2]});
  EXPECT_EQ(list({"", seller_id, "shipped", "", 5}), std::vector<std::string>{ids[0]});
  ASSERT_TRUE(p.Do([&](auto d) { p.orders->Confirm(ids[0], "", Shopper("shp_1"), d); }).ok());
  EXPECT_EQ(list({"shp_1", "", "paid", "", 5}), std::vector<std::string>{ids[2]});
  EXPECT_EQ(list({"shp_1", "", "completed", "", 5}), std::vector<std::string>{ids[0]});
  EXPECT_EQ(list({"", seller_id, "shipped", "", 5}), std::vector<std::string>{});
  EXPECT_EQ(list({"", seller_id, "completed", "", 5}), std::vector<std::string>{ids[0]});
  // A shopper's orders have no "shipped" status; a seller's sub-orders no "rejected".
  auto shopper_shipped = testing::Await<order::OrderPage>([&](auto d) {
    p.orders->List({"shp_1", "", "shipped", "", 5}, d);
  });
  EXPECT_EQ(shopper_shipped.error(), svc_errc::invalid_argument);
  auto seller_rejected = testing::Await<order::OrderPage>([&](auto d) {
    p.orders->List({"", seller_id, "rejected", "", 5}, d);
  });
  EXPECT_EQ(seller_rejected.error(), svc_errc::invalid_argument);
  EXPECT_NE(seller_rejected.message().find("shipped, delivered"), std::string::npos);
}

TEST_F(Orders, RestartFinishesOrdersInFlight) {
  const std::string order_id = "ord_inflight";
  std::string product_id, sku_id;
  {
    InProcess p(&kv, &clock);
    auto product = p.Product(p.Seller().id, 100, 5);
    product_id = product.id;
    sku_id = product.sku_ids[0];
  }
  {
    // The process died right after writing order.placed: no service has seen it.
    auto store = events::EventStore::Open(kv, clock).value();
    events::AppendRequest r;
    r.events.push_back({order_id, events::kNoStream, std::string(schema::OrderPlaced::kType),
                        events::Encode(schema::OrderPlaced{order_id, "shp_1", {{sku_id, 2}}}), "",
                        "", 1});
    // What Place writes with the event: the shopper's index entry, no record of the order.
    ASSERT_TRUE(store->AppendAndWait(std::move(r)).ok());
  }
  InProcess p(&kv, &clock);
  p.Settle();
  auto o = p.Get(order_id);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(ToString(o->status), "pending_payment");
  EXPECT_EQ(p.Sku(product_id).stock, 3);
}

TEST_F(Orders, PlacedOrderIsItsEventUntilTheCatalogAnswers) {
  std::string product_id, sku_id, id;
  {
    InProcess p(&kv, &clock);
    auto product = p.Product(p.Seller().id, 100, 5);
    product_id = product.id;
    sku_id = product.sku_ids[0];
  }
  {
    // Only the order service runs: nothing answers the order.
    auto store = events::EventStore::Open(kv, clock).value();
    order::OrderService orders(*store, {});
    id = orders.Place({"shp_1", {{sku_id, 2}}, "key-1"}, [](Result<order::Order>) {});
    auto get = [&] {
      return testing::Await<order::Order>([&](auto d) { orders.Get(id, kOperator, d); });
    };
    (void)get();  // Runs after Place on the worker: its append is queued by now...
    ASSERT_TRUE(store->AppendAndWait({}).ok());  // ...and durable once this later one is.
    auto got = get();
    ASSERT_TRUE(got.ok()) << got.message();
    EXPECT_EQ(ToString(got->status), "pending");
    EXPECT_EQ(got->shopper_id, "shp_1");
    ASSERT_EQ(got->lines.size(), 1u);
    EXPECT_EQ(ToString(got->lines[0].status), "pending");
    EXPECT_EQ(got->lines[0].quantity, 2);
    std::string record;
    EXPECT_EQ(kv.Get("ord/o/" + id, &record), storage::errc::not_found);  // Only the event.
    auto listed = testing::Await<order::OrderPage>([&](auto d) {
      orders.List({"shp_1", "", "", "", 10}, d);
    });
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->orders.size(), 1u);
    EXPECT_EQ(listed->orders[0].id, id);
    EXPECT_EQ(ToString(listed->orders[0].status), "pending");
  }
  // After a restart the catalog answers; a retry with the key joins the order, another body
  // under the key is still refused.
  InProcess p(&kv, &clock);
  EXPECT_EQ(p.Order("shp_1", {{sku_id, 3}}, "key-1").error(), svc_errc::conflict);
  auto again = p.Order("shp_1", {{sku_id, 2}}, "key-1");
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(again->id, id);
  EXPECT_EQ(ToString(again->status), "pending_payment");
  EXPECT_EQ(p.Sku(product_id).stock, 3);
  EXPECT_EQ(History(p, id), (std::vector<std::string>{"order.placed", "order.reserved"}));
}

// A reserved order is its two events (order.placed, order.reserved) until it next changes: no
// record is written, and what is read back — after a restart too — is exactly the order the
// placement answered with. The first change writes the record.
TEST_F(Orders, ReservedOrderIsItsEventsUntilItNextChanges) {
  clock.Set(1'700'000'000'000'000);
  auto record = [&](const std::string& id) {
    std::string bytes;
    return !kv.Get("ord/o/" + id, &bytes);
  };
  std::string id, rejected_id, qin_id;
  std::string answered;  // The placement's answer, encoded: every field.
  {
    InProcess p(&kv, &clock);
    auto qin = p.Seller("140430");
    auto guzhang = p.Seller("433126", "poor_household");
    qin_id = qin.id;
    auto millet = p.Product(qin.id, 2990, 10);
    auto tea = p.Product(guzhang.id, 16800, 10);
    auto vinegar = p.Product(qin.id, 1890, 10);
    clock.Advance(1234);
    auto o =
        p.Order("shp_1", {{millet.sku_ids[0], 1}, {tea.sku_ids[0], 1}, {vinegar.sku_ids[0], 2}});
    ASSERT_TRUE(o.ok()) << o.message();
    ASSERT_EQ(ToString(o->status), "pending_payment");
    ASSERT_EQ(o->sub_orders.size(), 2u);
    id = o->id;
    answered = events::Encode(*o);
    auto no = p.Order("shp_1", {{tea.sku_ids[0], 11}});
    ASSERT_TRUE(no.ok());
    ASSERT_EQ(ToString(no->status), "rejected");
    rejected_id = no->id;
    p.Settle();
    EXPECT_FALSE(record(id));
    EXPECT_TRUE(record(rejected_id));  // order.rejected does not carry the lines' details.
    EXPECT_EQ(events::Encode(p.Get(id).value()), answered);
  }
  clock.Advance(kMinute);
  {
    InProcess p(&kv, &clock);
    auto got = p.Get(id);
    ASSERT_TRUE(got.ok()) << got.message();
    EXPECT_EQ(events::Encode(*got), answered);
    auto listed = testing::Await<order::OrderPage>([&](auto d) {
      p.orders->List({"shp_1", "", "pending_payment", "", 10}, d);
    });
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->orders.size(), 1u);
    EXPECT_EQ(events::Encode(listed->orders[0]), answered);
    auto mine = testing::Await<order::OrderPage>([&](auto d) {
      p.orders->List({"", qin_id, "", "", 10}, d);
    });
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->orders.size(), 1u);
    EXPECT_EQ(mine->orders[0].sub_orders.size(), 1u);
    EXPECT_EQ(mine->orders[0].total, Fen(2990 + 2 * 1890));
    auto paid = p.Do([&](auto d) { p.orders->Pay(id, Shopper("shp_1"), d); });
    ASSERT_TRUE(paid.ok()) << paid.message();
    EXPECT_EQ(ToString(paid->status), "paid");
    p.Settle();
    EXPECT_TRUE(record(id));
    answered = events::Encode(*paid);
  }
  InProcess p(&kv, &clock);
  EXPECT_EQ(events::Encode(p.Get(id).value()), answered);
  EXPECT_EQ(History(p, id),
            (std::vector<std::string>{"order.placed", "order.reserved", "order.paid"}));
}

// The catalog's answers to one order's lines may reach the order service in two batches: the
// first writes a record of the lines answered so far, the decision removes it again.
TEST_F(Orders, RecordOfSomeLinesGoesWhenTheOrderIsReserved) {
  auto store = events::EventStore::Open(kv, clock).value();
  order::OrderService orders(*store, {});
  events::EmbeddedSource source(*store, orders.worker(), orders.processor());
  source.Start();
  const std::string id =
      orders.Place({"shp_1", {{"sku_a", 1}, {"sku_b", 2}}, ""}, [](Result<order::Order>) {});
  auto answer = [&](uint32_t line, std::string sku, std::string seller, int64_t price) {
    events::AppendRequest request;
    request.events.push_back(
        {sku, events::kAnyVersion, std::string(schema::StockReserved::kType),
         events::Encode(schema::StockReserved{
             id, line, sku, "prd_" + sku, seller, "140430", line + 1, Fen(price), 5, {}}),
         id, "", 1});
    ASSERT_TRUE(store->AppendAndWait(std::move(request)).ok());
  };
  // Until the order service has handled every event in the log and its commits are durable.
  // Idle is judged before the round trip: a pump moves its cursor after queueing its commit, so
  // once nothing is left to handle that commit is ahead of the empty append, which waits for
  // it. (Judged after, a pump that ran meanwhile left its commit unwritten behind the append.)
  auto settle = [&] {
    const int64_t deadline = events::SystemClock::Instance().MonotonicMicros() + 30'000'000;
    bool idle = false;
    do {
      idle = source.lag() == 0 && orders.worker().queued() == 0;
      testing::RoundTrip(orders.worker());
      ASSERT_TRUE(store->AppendAndWait({}).ok());  // Writes what the handlers queued.
    } while (!idle && events::SystemClock::Instance().MonotonicMicros() < deadline);
  };
  auto get = [&] {
    return testing::Await<order::Order>([&](auto d) { orders.Get(id, kOperator, d); });
  };
  auto has_record = [&] {
    std::string bytes;
    return !kv.Get("ord/o/" + id, &bytes);
  };
  settle();
  ASSERT_TRUE(get().ok());
  answer(0, "sku_a", "sel_1", 100);
  settle();
  ASSERT_TRUE(has_record());
  EXPECT_EQ(ToString(get()->lines[0].status), "reserved");
  EXPECT_EQ(ToString(get()->status), "pending");
  answer(1, "sku_b", "sel_2", 250);
  settle();
  EXPECT_FALSE(has_record());
  auto decided = get();
  ASSERT_EQ(ToString(decided->status), "pending_payment");
  EXPECT_EQ(decided->total, Fen(100 + 2 * 250));
  ASSERT_EQ(decided->sub_orders.size(), 2u);
  EXPECT_EQ(decided->sub_orders[1].seller_id, "sel_2");
  EXPECT_EQ(decided->sub_orders[1].lines, (std::vector<uint32_t>{1}));
  source.Stop();
  // Rebuilt from its events by another service on the same store: the same order.
  order::OrderService again(*store, {});
  auto rebuilt = testing::Await<order::Order>([&](auto d) { again.Get(id, kOperator, d); });
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.message();
  EXPECT_EQ(events::Encode(*rebuilt), events::Encode(*decided));
}

// ---- Refunds through a provider that pays back later (prepay) ----

// shp_1's order of 3 units (10.00 yuan each) of a product with 10, paid by the provider's
// notification; services on the fixture's store, so a test may restart them.
class ProviderRefunds : public Orders {
 protected:
  void SetUp() override {
    InProcess& p = Up();
    seller = p.Seller();
    product = p.Product(seller.id, 1000, 10);
    auto placed = p.Order("shp_1", {{product.sku_ids[0], 3}});
    ASSERT_TRUE(placed.ok()) << placed.message();
    auto paid = p.Do([&](auto d) {
      p.orders->PaymentReceived({placed->id, "prepay", "wx-1", placed->total}, d);
    });
    ASSERT_TRUE(paid.ok()) << paid.message();
    ASSERT_EQ(paid->status, order::OrderStatus::kPaid);
    id = paid->id;
  }
  // Starts the services, after stopping those running (a restart).
  InProcess& Up() {
    running_.reset();
    testing::InProcessOptions opts;
    opts.payments = &prepay_;
    running_ = std::make_unique<InProcess>(&kv, &clock, opts);
    return *running_;
  }
  InProcess& p() { return *running_; }
  Result<order::Order> Ask(std::vector<schema::OrderItem> items, int64_t amount = -1,
                           bool with_return = false) {
    return p().Do([&](auto d) {
      p().orders->RequestRefund({id, "", items, amount, with_return, ""}, Shopper("shp_1"), d);
    });
  }
  Result<order::Order> Approve(const std::string& rid) {
    return p().Do(
        [&](auto d) { p().orders->DecideRefund(rid, true, "", SellerActor(seller.id), d); });
  }
  Result<order::Order> Notify(const std::string& provider_refund_id, bool succeeded, int64_t amount,
                              std::string reason = "") {
    return p().Do([&](auto d) {
      p().orders->RefundNotified({id, provider_refund_id, succeeded, Fen(amount), reason}, d);
    });
  }
  Result<order::Order> Retry(const std::string& rid, order::Actor who) {
    return p().Do([&](auto d) { p().orders->RetryRefund(rid, who, d); });
  }
  std::vector<std::string> RefundEvents() {
    std::vector<std::string> out;
    for (auto& t : History(p(), id)) {
      if (t.starts_with("refund.")) out.push_back(t);
    }
    return out;
  }
  settlement::OrderSettlement Books() {
    p().Settle();
    return testing::Await<settlement::OrderSettlement>(
               [&](auto done) { p().settlement->Settlement(id, done); })
        .value();
  }
  settlement::LedgerAudit Audit() {
    return testing::Await<settlement::LedgerAudit>([&](auto done) { p().settlement->Audit(done); })
        .value();
  }

  catalog::Seller seller;
  catalog::Product product;
  std::string id;

 private:
  order::PrepayPaymentProvider prepay_;
  std::unique_ptr<InProcess> running_;
};

// Approval asks the provider and nothing moves until it says the money is back: then exactly
// what an instant approval does (refunded total, stock returned, the sale reversed), once.
TEST_F(ProviderRefunds, ApprovalWaitsForTheProvidersNotification) {
  const std::string sku = product.sku_ids[0];
  auto asked = Ask({{sku, 2}});
  ASSERT_TRUE(asked.ok()) << asked.message();
  const std::string rid = asked->refunds[0].id;
  auto approved = Approve(rid);
  ASSERT_TRUE(approved.ok()) << approved.message();
  EXPECT_EQ(approved->refunds[0].status, order::RefundStatus::kRefunding);
  ASSERT_EQ(approved->refund_attempts.size(), 1u);
  const std::string provider_id = approved->refund_attempts[0].provider_refund_id;
  EXPECT_EQ(provider_id, "rfd_" + rid);
  EXPECT_EQ(approved->sub_orders[0].refunded, Fen(0));
  EXPECT_EQ(approved->sub_orders[0].status, order::SubOrderStatus::kPaid);
  EXPECT_EQ(RefundEvents(), (std::vector<std::string>{"refund.requested", "refund.approved"}));
  auto approved_event = p().store->ReadStream(id).value().back();
  EXPECT_EQ(events::Decode<schema::RefundChanged>(approved_event.payload)->provider_refund_id,
            provider_id);
  // Approving again is no change; rejecting what the provider was asked to pay is a conflict.
  EXPECT_TRUE(Approve(rid).ok());
  EXPECT_EQ(p().Do([&](auto d) { p().orders->DecideRefund(rid, false, "", kOperator, d); }).error(),
            svc_errc::conflict);
  // The units going back to stock do not ship meanwhile, and no second refund is opened.
  auto ship =
      p().Do([&](auto d) { p().orders->Ship(id, "", "EMS", "E1", SellerActor(seller.id), d); });
  EXPECT_EQ(ship.error(), svc_errc::conflict);
  EXPECT_NE(ship.message().find("refunding"), std::string::npos) << ship.message();
  EXPECT_EQ(Ask({}, 100).error(), svc_errc::conflict);
  {
    auto books = Books();
    EXPECT_EQ(books.refunded, Fen(0));
    EXPECT_EQ(books.held, Fen(3000));
    EXPECT_EQ(p().Sku(product.id).stock, 7);
  }

  // Wrong amounts and requests the order never made change nothing.
  auto wrong = Notify(provider_id, true, 1999);
  EXPECT_EQ(wrong.error(), svc_errc::conflict);
  EXPECT_EQ(wrong.message().rfind("amount_fen: ", 0), 0u) << wrong.message();
  EXPECT_EQ(Notify("rfd_other", true, 2000).error(), svc_errc::not_found);
  EXPECT_EQ(RefundEvents().size(), 2u);

  auto done = Notify(provider_id, true, 2000);
  ASSERT_TRUE(done.ok()) << done.message();
  EXPECT_EQ(done->refunds[0].status, order::RefundStatus::kRefunded);
  EXPECT_EQ(done->sub_orders[0].refunded, Fen(2000));
  EXPECT_EQ(RefundEvents(),
            (std::vector<std::string>{"refund.requested", "refund.approved", "refund.completed"}));
  // The provider repeats itself: the same answer, nothing appended; then it contradicts itself.
  auto again = Notify(provider_id, true, 2000);
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(again->sub_orders[0].refunded, Fen(2000));
  EXPECT_EQ(Notify(provider_id, false, 2000).error(), svc_errc::conflict);
  EXPECT_EQ(RefundEvents().size(), 3u);
  auto books = Books();
  EXPECT_EQ(books.refunded, Fen(2000));
  EXPECT_EQ(books.held, Fen(1000));
  EXPECT_TRUE(books.balanced);
  EXPECT_EQ(p().Sku(product.id).stock, 9);  // The two units came back, once.
  EXPECT_TRUE(Audit().balanced);
  // Now the last unit ships.
  EXPECT_TRUE(
      p().Do([&](auto d) { p().orders->Ship(id, "", "EMS", "E1", SellerActor(seller.id), d); })
          .ok());
}

// The provider could not pay back: the refund is failed with its reason and the money still
// owed (nothing reversed); a retry is a new request, and its success completes the refund.
TEST_F(ProviderRefunds, AFailedRefundIsOwedUntilARetrySucceeds) {
  auto asked = Ask({});  // The whole sub-order, before it ships.
  ASSERT_TRUE(asked.ok()) << asked.message();
  const std::string rid = asked->refunds[0].id;
  ASSERT_TRUE(Approve(rid).ok());
  auto failed = Notify("rfd_" + rid, false, 3000, "收款银行卡已注销");
  ASSERT_TRUE(failed.ok()) << failed.message();
  EXPECT_EQ(failed->refunds[0].status, order::RefundStatus::kFailed);
  EXPECT_EQ(failed->refund_attempts.back().failure, "收款银行卡已注销");
  EXPECT_EQ(failed->refunds[0].amount, Fen(3000));  // Still owed.
  EXPECT_EQ(failed->sub_orders[0].refunded, Fen(0));
  EXPECT_EQ(failed->sub_orders[0].status, order::SubOrderStatus::kPaid);
  auto failed_event = p().store->ReadStream(id).value().back();
  EXPECT_EQ(failed_event.type, "refund.failed");
  EXPECT_EQ(events::Decode<schema::RefundChanged>(failed_event.payload)->reason,
            "收款银行卡已注销");
  EXPECT_TRUE(Notify("rfd_" + rid, false, 3000, "收款银行卡已注销").ok());  // A repeat.
  EXPECT_EQ(RefundEvents(),
            (std::vector<std::string>{"refund.requested", "refund.approved", "refund.failed"}));
  // Nothing ships and nothing new is asked for while the money is owed.
  EXPECT_EQ(
      p().Do([&](auto d) { p().orders->Ship(id, "", "EMS", "E1", SellerActor(seller.id), d); })
          .error(),
      svc_errc::conflict);
  EXPECT_EQ(Ask({}, 100).error(), svc_errc::conflict);
  EXPECT_EQ(Books().refunded, Fen(0));
  EXPECT_EQ(p().Sku(product.id).stock, 7);

  // What was recorded survives a restart.
  Up();
  auto read = p().Get(id);
  ASSERT_TRUE(read.ok()) << read.message();
  EXPECT_EQ(read->refunds[0].status, order::RefundStatus::kFailed);
  ASSERT_EQ(read->refund_attempts.size(), 1u);
  EXPECT_EQ(read->refund_attempts[0].failure, "收款银行卡已注销");

  // Only the seller who decides it or the operator retries.
  EXPECT_EQ(Retry(rid, Shopper("shp_1")).error(), svc_errc::forbidden);
  EXPECT_EQ(Retry(rid, SellerActor("sel_other")).error(), svc_errc::not_found);
  auto retried = Retry(rid, kOperator);
  ASSERT_TRUE(retried.ok()) << retried.message();
  EXPECT_EQ(retried->refunds[0].status, order::RefundStatus::kRefunding);
  ASSERT_EQ(retried->refund_attempts.size(), 2u);
  EXPECT_EQ(retried->refund_attempts[1].provider_refund_id, "rfd_" + rid + "-2");
  EXPECT_TRUE(Retry(rid, SellerActor(seller.id)).ok());  // Already on its way: no change.
  EXPECT_EQ(RefundEvents().back(), "refund.retried");
  EXPECT_EQ(RefundEvents().size(), 4u);
  // The first request was reported failed: it cannot succeed now.
  EXPECT_EQ(Notify("rfd_" + rid, true, 3000).error(), svc_errc::conflict);

  auto done = Notify("rfd_" + rid + "-2", true, 3000);
  ASSERT_TRUE(done.ok()) << done.message();
  EXPECT_EQ(done->refunds[0].status, order::RefundStatus::kRefunded);
  EXPECT_EQ(done->sub_orders[0].refunded, Fen(3000));
  EXPECT_EQ(done->sub_orders[0].status, order::SubOrderStatus::kCancelled);
  EXPECT_EQ(done->status, order::OrderStatus::kCompleted);
  EXPECT_EQ(RefundEvents().back(), "refund.completed");
  EXPECT_TRUE(Retry(rid, kOperator).ok());  // Refunded: nothing to retry, no change.
  EXPECT_EQ(RefundEvents().size(), 5u);
  auto books = Books();
  EXPECT_EQ(books.refunded, Fen(3000));
  EXPECT_EQ(books.held, Fen(0));
  EXPECT_TRUE(books.balanced);
  EXPECT_TRUE(Audit().balanced);
  EXPECT_EQ(p().Sku(product.id).stock, 10);  // Every unit back, once.
}

// A retry is only for a failed refund: one not approved yet, or rejected, is a conflict.
TEST_F(ProviderRefunds, OnlyAFailedRefundIsRetried) {
  auto asked = Ask({}, 100);
  ASSERT_TRUE(asked.ok()) << asked.message();
  const std::string rid = asked->refunds[0].id;
  EXPECT_EQ(Retry(rid, kOperator).error(), svc_errc::conflict);
  EXPECT_EQ(Retry(id + "-r9", kOperator).error(), svc_errc::not_found);
  ASSERT_TRUE(
      p().Do([&](auto d) { p().orders->DecideRefund(rid, false, "no", kOperator, d); }).ok());
  EXPECT_EQ(Retry(rid, kOperator).error(), svc_errc::conflict);
}

}  // namespace
}  // namespace pavilion
