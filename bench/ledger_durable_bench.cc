// Durable transfers per second: the settlement ledger (LedgerBook: the posting rules, the pure
// core, the payout queues) posting through the real store — RocksDB, synced writes — in
// batches as the settlement processor commits them: a batch of N orders paid (one transfer
// each), then the same N completed (four pending shares each: supplier, two distributors, the
// platform's fee), then their after-sale windows closed (four posts each, and each share queued
// for payout); every batch one write, waited for until it is durable. 9 transfers per order.
//
//   ledger_durable_bench --benchmark_filter=Durable --benchmark_min_time=2s
//
// Memory is dropped as the service drops it (past a bound, once everything written is durable).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "../services/settlement/src/ledger_book.h"
#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::settlement {
namespace {

namespace schema = events::schema;

constexpr size_t kCacheLimit = 1 << 18;  // SettlementOptions' default order of magnitude.

schema::OrderPaid Order(int64_t n) {
  schema::OrderPaid o;
  o.order_id = "ord_" + std::to_string(n);
  o.shopper_id = "shp_" + std::to_string(n % 1000);
  o.provider = "builtin";
  schema::PricedLine l;
  l.line = 0;
  l.sku_id = "sku_1";
  l.product_id = "prd_1";
  l.seller_id = "sel_sup";
  l.place_code = "140430";
  l.quantity = 2;
  l.unit_price = Fen(13200);
  l.amount = Fen(26400);
  l.distribution.listing_seller_id = "sel_d2";
  l.distribution.supply_price = Fen(10000);
  l.distribution.commissions = {{"sel_d1", Fen(2000)}, {"sel_d2", Fen(1200)}};
  o.amount = l.amount;
  o.lines.push_back(std::move(l));
  return o;
}

schema::SubOrderChanged Sub(int64_t n) {
  return {"ord_" + std::to_string(n), "sub_" + std::to_string(n), "sel_sup", "", "", true};
}

void Commit(LedgerBook& book, events::Transaction& tx, events::EventStore& store) {
  book.Flush(tx);
  std::promise<std::error_code> durable;
  tx.OnDurable([&](std::error_code ec) { durable.set_value(ec); });
  tx.Commit(store, /*fatal_on_error=*/true);
  if (auto ec = durable.get_future().get()) std::abort();
}

void BM_DurableTransfers(benchmark::State& state) {
  const int64_t batch = state.range(0);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("pavilion-ledger-bench-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto kv = storage::OpenRocksDb(dir);
    if (!kv.ok()) {
      state.SkipWithError("cannot open RocksDB");
      return;
    }
    events::EventStoreOptions options;
    options.sync = true;
    auto store = events::EventStore::Open(**kv, events::SystemClock::Instance(), options);
    if (!store.ok()) {
      state.SkipWithError("cannot open the event store");
      return;
    }
    LedgerBook book(**kv);
    {
      events::Transaction tx;
      book.FeeRulesSet({500, {}, {}}, tx);
      Commit(book, tx, **store);
    }
    int64_t next = 0;
    for (auto _ : state) {
      const int64_t first = next;
      next += batch;
      events::Transaction paid, completed, closed;
      for (int64_t n = first; n < next; ++n) book.Paid(Order(n), n, paid);
      Commit(book, paid, **store);
      for (int64_t n = first; n < next; ++n) book.Completed(Sub(n), n, completed);
      Commit(book, completed, **store);
      for (int64_t n = first; n < next; ++n) book.AfterSaleClosed(Sub(n), n, closed);
      Commit(book, closed, **store);
      if (book.cached() > kCacheLimit) book.DropCaches();  // Everything written is durable.
    }
    auto audit = book.Audit();
    state.counters["balanced"] = audit.ok() && audit->balanced && audit->order_violations == 0 &&
                                 audit->refused_chains == 0 && audit->queue_violations == 0;
    state.counters["transfers/s"] =
        benchmark::Counter(static_cast<double>(next * 9), benchmark::Counter::kIsRate);
    state.counters["orders/s"] =
        benchmark::Counter(static_cast<double>(next), benchmark::Counter::kIsRate);
    store->reset();
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DurableTransfers)
    ->Arg(1)
    ->Arg(64)
    ->Arg(1024)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pavilion::settlement
