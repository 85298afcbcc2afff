// pavilion-order-bench: the order path without HTTP — what the services cost per order.
//
//   pavilion-order-bench [--dir DIR] [--inflight N] [--seconds S] [--skus N] [--shoppers N]
//                        [--hold-cap N]   (default 100, as `pavilion serve`; 0: no cap)
//                        [--service-threads own|shared]   (as `pavilion serve`; default own)
//
// Wires the catalog, order and settlement services on a fresh RocksDB store with synced group
// commits and embedded sources, exactly as `pavilion serve` does, creates one seller with
// `--skus` SKUs, then keeps `--inflight` orders of one line each in flight through
// OrderService::Place for `--seconds`. Reports orders/s, the outcome counts, and latency
// percentiles from Place to its answer. Comparing this with pavilion-load against the server
// separates what the HTTP exchange costs from what the order itself costs.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/events/clock.h"
#include "pavilion/events/processor.h"
#include "pavilion/order/order_service.h"
#include "pavilion/settlement/settlement_service.h"
#include "pavilion/storage/kv_store.h"

namespace {

using namespace pavilion;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string dir;
  int inflight = 256;
  double seconds = 10;
  int skus = 1000;
  int shoppers = 5120;
  int64_t hold_cap = 100;
  bool shared_thread = false;  // The services and the store's writer on one thread; off, as in
                               // `pavilion serve`: a thread each.
};

[[noreturn]] void Die(const std::string& m) {
  std::fprintf(stderr, "pavilion-order-bench: %s\n", m.c_str());
  std::exit(2);
}

// Forwards to RocksDB and counts what the writes carry, by key family, to report keys and bytes
// per order.
class CountingKvStore final : public storage::KvStore {
 public:
  explicit CountingKvStore(std::unique_ptr<storage::KvStore> inner) : inner_(std::move(inner)) {}
  std::error_code Get(std::string_view key, std::string* value) override {
    return inner_->Get(key, value);
  }
  void MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                std::vector<std::error_code>* results) override {
    inner_->MultiGet(keys, values, results);
  }
  std::error_code Write(const storage::WriteBatch& batch, bool sync) override {
    if (counting_.load(std::memory_order_relaxed)) {
      std::lock_guard lock(mu_);
      for (const auto& op : batch.ops()) {
        auto& f = families_[Family(op.key)];
        ++f.keys;
        f.bytes += op.key.size() + op.value.size();
      }
    }
    return inner_->Write(batch, sync);
  }
  std::error_code Sync() override { return inner_->Sync(); }
  std::error_code Scan(std::string_view begin, std::string_view end,
                       const storage::ScanFn& fn) override {
    return inner_->Scan(begin, end, fn);
  }
  std::error_code ScanReverse(std::string_view begin, std::string_view end,
                              const storage::ScanFn& fn) override {
    return inner_->ScanReverse(begin, end, fn);
  }

  void StartCounting() { counting_ = true; }
  void StopCounting() { counting_ = false; }
  void Report(size_t orders) const {
    std::lock_guard lock(mu_);
    double keys = 0, bytes = 0;
    for (const auto& [name, f] : families_) {
      std::printf("  %-16s %6.2f keys/order %8.1f bytes/order\n", name.c_str(),
                  static_cast<double>(f.keys) / orders, static_cast<double>(f.bytes) / orders);
      keys += f.keys;
      bytes += f.bytes;
    }
    std::printf("  %-16s %6.2f keys/order %8.1f bytes/order\n", "total", keys / orders,
                bytes / orders);
  }

 private:
  // "cat/sku", "ord/o", ...; the event store's own keys by their first byte ("b": blocks of
  // events, "s": the stream index, "c": checkpoints).
  static std::string Family(const std::string& key) {
    const size_t first = key.find('/');
    if (first != 3) return key.substr(0, 1);
    const size_t second = key.find('/', first + 1);
    return key.substr(0, second == std::string::npos ? first : second);
  }
  struct Counts {
    uint64_t keys = 0, bytes = 0;
  };
  std::unique_ptr<storage::KvStore> inner_;
  std::atomic<bool> counting_{false};
  mutable std::mutex mu_;
  std::map<std::string, Counts> families_;
};

// CPU time (user + system, in clock ticks) of each thread of this process, by thread name;
// threads of one name (RocksDB's pools) add up.
std::map<std::string, long> ThreadCpuTicks() {
  std::map<std::string, long> ticks;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm"), stat(task.path() / "stat");
    std::string name, line;
    std::getline(comm, name);
    std::getline(stat, line);
    // Fields after the parenthesised name: state is the 3rd field, utime the 14th, stime 15th.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stol(field);
      if (i == 15) stime = std::stol(field);
    }
    ticks[name] += utime + stime;
  }
  return ticks;
}

class Driver {
 public:
  Driver(order::OrderService& orders, const Options& o, std::vector<std::string> skus)
      : orders_(orders), o_(o), skus_(std::move(skus)) {}

  // Returns the number of orders answered.
  size_t Run() {
    deadline_ = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(o_.seconds * 1e6));
    const auto start = Clock::now();
    for (int i = 0; i < o_.inflight; ++i) Next(static_cast<uint64_t>(i));
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return finished_ == o_.inflight; });
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies_us_.begin(), latencies_us_.end());
    auto pct = [&](double p) {
      return latencies_us_.empty()
                 ? 0.0
                 : latencies_us_[std::min(latencies_us_.size() - 1,
                                          static_cast<size_t>(p * latencies_us_.size()))] /
                       1000.0;
    };
    std::printf(
        "inflight=%d orders=%zu seconds=%.2f orders_per_s=%.0f p50_ms=%.3f p99_ms=%.3f "
        "placed=%llu rejected=%llu errors=%llu\n",
        o_.inflight, latencies_us_.size(), secs, latencies_us_.size() / secs, pct(0.5), pct(0.99),
        static_cast<unsigned long long>(placed_), static_cast<unsigned long long>(rejected_),
        static_cast<unsigned long long>(errors_));
    return latencies_us_.size();
  }

 private:
  void Next(uint64_t n) {
    if (Clock::now() >= deadline_) {
      std::lock_guard lock(mu_);
      ++finished_;
      cv_.notify_all();
      return;
    }
    order::PlaceOrderInput in;
    in.shopper_id = "shp_bench" + std::to_string(n % static_cast<uint64_t>(o_.shoppers));
    in.items.push_back({skus_[(n * 7919) % skus_.size()], 1});
    const auto started = Clock::now();
    orders_.Place(std::move(in), [this, n, started](Result<order::Order> r) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
      {
        std::lock_guard lock(mu_);
        latencies_us_.push_back(static_cast<uint32_t>(us.count()));
        if (!r.ok()) {
          ++errors_;
        } else if (r->status == order::OrderStatus::kPendingPayment) {
          ++placed_;
        } else {
          ++rejected_;
        }
      }
      Next(n + static_cast<uint64_t>(o_.inflight));
    });
  }

  order::OrderService& orders_;
  const Options& o_;
  std::vector<std::string> skus_;
  Clock::time_point deadline_;
  std::mutex mu_;
  std::condition_variable cv_;
  int finished_ = 0;
  std::vector<uint32_t> latencies_us_;
  uint64_t placed_ = 0, rejected_ = 0, errors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") {
      o.dir = v;
    } else if (k == "--inflight") {
      o.inflight = std::stoi(v);
    } else if (k == "--seconds") {
      o.seconds = std::stod(v);
    } else if (k == "--skus") {
      o.skus = std::stoi(v);
    } else if (k == "--hold-cap") {
      o.hold_cap = std::stoll(v);
    } else if (k == "--service-threads") {
      if (v != "shared" && v != "own") Die("--service-threads takes shared or own");
      o.shared_thread = v == "shared";
    } else if (k == "--shoppers") {
      o.shoppers = std::stoi(v);
    } else {
      Die("unknown flag " + k);
    }
  }
  if (o.inflight < 1 || o.skus < 1 || o.shoppers < 1) Die("counts must be positive");
  const bool own_dir = o.dir.empty();
  if (own_dir) {
    o.dir = (std::filesystem::temp_directory_path() /
             ("pavilion-order-bench-" + std::to_string(::getpid())))
                .string();
  }
  std::filesystem::remove_all(o.dir);
  std::filesystem::create_directories(o.dir);
  {
    auto rocks = storage::OpenRocksDb(o.dir);
    if (!rocks.ok()) Die("cannot open RocksDB: " + rocks.message());
    CountingKvStore kv(std::move(rocks).value());
    std::unique_ptr<events::Worker> engine;
    events::EventStoreOptions store_options;
    if (o.shared_thread) engine = events::ShareWriterThread(store_options);
    auto store = events::EventStore::Open(kv, events::SystemClock::Instance(), store_options);
    if (!store.ok()) Die("cannot open the event store: " + store.message());
    catalog::CatalogOptions copts;
    copts.hold_cap = o.hold_cap;
    auto catalog = std::make_unique<catalog::CatalogService>(**store, copts);
    auto orders = std::make_unique<order::OrderService>(**store, order::OrderOptions{});
    auto settlement = std::make_unique<settlement::SettlementService>(**store);
    std::vector<std::unique_ptr<events::EmbeddedSource>> sources;
    sources.push_back(
        std::make_unique<events::EmbeddedSource>(**store, catalog->worker(), catalog->processor()));
    sources.push_back(
        std::make_unique<events::EmbeddedSource>(**store, orders->worker(), orders->processor()));
    sources.push_back(std::make_unique<events::EmbeddedSource>(**store, settlement->worker(),
                                                               settlement->processor()));
    sources.push_back(std::make_unique<events::EmbeddedSource>(**store, settlement->sales_worker(),
                                                               settlement->sales_processor()));
    for (auto& s : sources) s->Start();

    auto seller = events::Await<catalog::Seller>([&](auto done) {
      catalog->RegisterSeller({"压测合作社", "140430", "cooperative"}, std::move(done));
    });
    if (!seller.ok()) Die("cannot register the seller: " + seller.message());
    std::vector<std::string> skus;
    for (int made = 0; made < o.skus;) {
      catalog::ProductInput in;
      in.seller_id = seller->id;
      in.title = "沁州黄小米";
      in.category = "other";
      const int n = std::min(o.skus - made, 200);
      for (int i = 0; i < n; ++i) {
        in.skus.push_back({"规格" + std::to_string(made + i), Fen(2990), 1'000'000'000});
      }
      auto p = events::Await<catalog::Product>(
          [&](auto done) { catalog->CreateProduct(std::move(in), std::move(done)); });
      if (!p.ok()) Die("cannot create products: " + p.message());
      for (const auto& id : p->sku_ids) skus.push_back(id);
      made += n;
    }
    kv.StartCounting();
    const auto cpu_before = ThreadCpuTicks();
    const size_t answered = Driver(*orders, o, std::move(skus)).Run();
    const auto cpu_after = ThreadCpuTicks();
    kv.StopCounting();
    std::printf("CPU per order, by thread:\n");
    const double us_per_tick = 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
    double total = 0;
    for (const auto& [name, after] : cpu_after) {
      auto before = cpu_before.find(name);
      const double us =
          static_cast<double>(after - (before == cpu_before.end() ? 0 : before->second)) *
          us_per_tick / static_cast<double>(std::max<size_t>(answered, 1));
      total += us;
      if (us > 0) std::printf("  %-20s %7.1f us\n", name.c_str(), us);
    }
    std::printf("  %-20s %7.1f us\n", "total", total);
    std::printf("written per order (while placing; checkpoints and settlement included):\n");
    kv.Report(std::max<size_t>(answered, 1));
    for (auto& s : sources) s->Stop();
    settlement.reset();
    orders.reset();
    catalog.reset();
    store->reset();
  }
  if (own_dir) std::filesystem::remove_all(o.dir);
  return 0;
}
