// The three services wired on one EventStore with embedded sources, for unit tests: what
// `pavilion serve` does, minus HTTP and RocksDB (the KvStore is in memory unless given). As in
// `pavilion serve`, the services and the store's writer share one thread (lanes of one Worker);
// with PAVILION_TEST_SERVICE_THREADS=own in the environment each has a thread of its own, and
// ctest runs the suites that use this class both ways.
#pragma once

#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/events/worker.h"
#include "pavilion/order/order_service.h"
#include "pavilion/settlement/settlement_service.h"
#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::testing {

// Calls an async service method and waits for its answer.
using events::Await;

// Returns once every task posted to `worker` before the call has run.
inline void RoundTrip(events::Worker& worker) {
  std::promise<void> ran;
  worker.Post([&ran] { ran.set_value(); });
  ran.get_future().wait();
}

// A product of category "other" (no SC licence needed) with the given SKUs.
inline catalog::ProductInput ProductIn(std::string seller_id, std::string title,
                                       std::vector<catalog::SkuInput> skus) {
  catalog::ProductInput in;
  in.seller_id = std::move(seller_id);
  in.title = std::move(title);
  in.skus = std::move(skus);
  return in;
}

struct InProcessOptions {
  catalog::CatalogOptions catalog;
  order::OrderOptions orders;
  settlement::SettlementOptions settlement;
  // The payment provider; null: the instant one, so a test's "pay" pays (tests of the prepay
  // flow give a PrepayPaymentProvider).
  order::PaymentProvider* payments = nullptr;
};

class InProcess {
 public:
  explicit InProcess(storage::KvStore* kv = nullptr, events::Clock* clock = nullptr,
                     InProcessOptions options = {})
      : kv_(kv ? kv : &own_kv_), clock_(clock ? clock : &own_clock_) {
    events::EventStoreOptions store_options;
    const char* threads = std::getenv("PAVILION_TEST_SERVICE_THREADS");
    if (threads == nullptr || std::strcmp(threads, "own") != 0) {
      engine_ = events::ShareWriterThread(store_options);
    }
    store = events::EventStore::Open(*kv_, *clock_, store_options).value();
    catalog = std::make_unique<catalog::CatalogService>(*store, options.catalog);
    orders = std::make_unique<order::OrderService>(*store, options.orders,
                                                   options.payments ? options.payments : &instant_);
    settlement = std::make_unique<settlement::SettlementService>(*store, options.settlement);
    sources.push_back(
        std::make_unique<events::EmbeddedSource>(*store, catalog->worker(), catalog->processor()));
    sources.push_back(
        std::make_unique<events::EmbeddedSource>(*store, orders->worker(), orders->processor()));
    sources.push_back(std::make_unique<events::EmbeddedSource>(*store, settlement->worker(),
                                                               settlement->processor()));
    sources.push_back(std::make_unique<events::EmbeddedSource>(*store, settlement->sales_worker(),
                                                               settlement->sales_processor()));
    for (auto& s : sources) s->Start();
  }

  ~InProcess() {
    for (auto& s : sources) s->Stop();
    catalog.reset();
    orders.reset();
    settlement.reset();
    store.reset();
    engine_.reset();
  }

  catalog::Seller Seller(std::string place = "140430", std::string type = "cooperative") {
    return Await<catalog::Seller>([&](auto done) {
             catalog->RegisterSeller({"沁州黄合作社", place, type}, done);
           })
        .value();
  }

  catalog::Product Product(const std::string& seller_id, int64_t price, int64_t stock) {
    return Await<catalog::Product>([&](auto done) {
             catalog->CreateProduct(
                 ProductIn(seller_id, "沁州黄小米", {{"500g", Fen(price), stock}}), done);
           })
        .value();
  }

  Result<order::Order> Order(const std::string& shopper,
                             std::vector<events::schema::OrderItem> items, std::string key = "") {
    return Await<order::Order>([&](auto done) {
      orders->Place({shopper, std::move(items), std::move(key)}, done);
    });
  }

  // Places an order and pays for it with the instant provider.
  Result<order::Order> Paid(const std::string& shopper,
                            std::vector<events::schema::OrderItem> items) {
    auto o = Order(shopper, std::move(items));
    if (!o.ok() || o->status != order::OrderStatus::kPendingPayment) return o;
    return Await<order::Order>([&](auto done) {
      orders->Pay(o->id, {Role::kShopper, shopper}, done);
    });
  }

  // Runs a lifecycle command and waits for its answer.
  template <typename Call>
  Result<order::Order> Do(Call call) {
    return Await<order::Order>(call);
  }

  Result<order::Order> Get(const std::string& id) {
    return Await<order::Order>([&](auto done) { orders->Get(id, {Role::kOperator, ""}, done); });
  }

  catalog::Sku Sku(const std::string& product_id) {
    return Await<catalog::Product>([&](auto done) { catalog->GetProduct(product_id, done); })
        .value()
        .skus.at(0);
  }

  // Waits until every processor has handled everything in the log.
  void Settle() {
    const int64_t deadline = events::SystemClock::Instance().MonotonicMicros() + 30'000'000;
    while (events::SystemClock::Instance().MonotonicMicros() < deadline) {
      bool idle = true;
      for (auto& s : sources) idle = idle && s->lag() == 0;
      if (idle && catalog->worker().queued() == 0 && orders->worker().queued() == 0 &&
          settlement->worker().queued() == 0 && settlement->sales_worker().queued() == 0) {
        // One more round trip through each worker so in-flight tasks finish.
        for (auto* w : {&catalog->worker(), &orders->worker(), &settlement->worker(),
                        &settlement->sales_worker()}) {
          RoundTrip(*w);
        }
        // Commits the workers queued are written in order: an empty append flushes them.
        (void)store->AppendAndWait(events::AppendRequest{});
        if (store->head() == head_seen_) return;
        head_seen_ = store->head();
      }
      std::this_thread::yield();
    }
  }

  storage::KvStore& kv() { return *kv_; }
  // The clock the services read when none was given (a ManualClock the test may move).
  events::ManualClock& own_clock() { return own_clock_; }

  std::unique_ptr<events::EventStore> store;
  std::unique_ptr<catalog::CatalogService> catalog;
  std::unique_ptr<order::OrderService> orders;
  std::unique_ptr<settlement::SettlementService> settlement;
  std::vector<std::unique_ptr<events::EventSource>> sources;

 private:
  order::InstantPaymentProvider instant_;
  storage::MemoryKvStore own_kv_;
  events::ManualClock own_clock_;
  storage::KvStore* kv_;
  events::Clock* clock_;
  uint64_t head_seen_ = UINT64_MAX;
  std::unique_ptr<events::Worker> engine_;  // The services' shared thread, unless "own".
};

}  // namespace pavilion::testing
