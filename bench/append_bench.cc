// Google Benchmark: EventStore appends on RocksDB with group commit.
//
// BM_AppendSync/threads:N — N writers, each appending one ~200-byte event and waiting until it
// is durable (sync). Group commit turns concurrent appends into one fsync; items/s is the figure.
// BM_AppendPipelined/depth — one writer keeping `depth` appends in flight (how a service
// worker uses the store).
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "pavilion/events/event_store.h"

namespace pavilion::events {
namespace {

struct Db {
  Db(bool sync) {
    dir = std::filesystem::temp_directory_path() / ("pavilion-bench-" + NewId("db"));
    kv = storage::OpenRocksDb(dir.string()).value();
    store = EventStore::Open(*kv, SystemClock::Instance(), EventStoreOptions{sync}).value();
  }
  ~Db() {
    store.reset();
    kv.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  std::unique_ptr<storage::KvStore> kv;
  std::unique_ptr<EventStore> store;
};

AppendRequest OneEvent(int i) {
  AppendRequest r;
  r.events.push_back(NewEvent{"sku_" + std::to_string(i % 1000), kAnyVersion, "bench.event",
                              std::string(120, 'x'), "", "", 1});
  return r;
}

Db* shared_db = nullptr;

void BM_AppendSync(benchmark::State& state) {
  if (state.thread_index() == 0) shared_db = new Db(/*sync=*/true);
  int i = state.thread_index() * 1'000'000;
  for (auto _ : state) {
    auto r = shared_db->store->AppendAndWait(OneEvent(i++));
    if (!r.ok()) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["batches"] = static_cast<double>(shared_db->store->batches_written());
    delete shared_db;
    shared_db = nullptr;
  }
}
BENCHMARK(BM_AppendSync)->Threads(1)->Threads(16)->Threads(64)->UseRealTime();

void BM_AppendPipelined(benchmark::State& state) {
  Db db(/*sync=*/state.range(1) != 0);
  const int64_t depth = state.range(0);
  std::mutex mu;
  std::condition_variable cv;
  int64_t in_flight = 0;
  int i = 0;
  for (auto _ : state) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < depth; });
      ++in_flight;
    }
    db.store->Append(OneEvent(i++), [&](std::error_code, const AppendResult&) {
      std::lock_guard lock(mu);
      --in_flight;
      cv.notify_one();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_batch"] =
      static_cast<double>(db.store->events_appended()) /
      static_cast<double>(std::max<uint64_t>(1, db.store->batches_written()));
}
BENCHMARK(BM_AppendPipelined)->Args({256, 1})->Args({4096, 1})->Args({4096, 0})->UseRealTime();

}  // namespace
}  // namespace pavilion::events
