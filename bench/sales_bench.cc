// The operators' figures (issue 25) on a store the size the issue names: ten million orders over
// 2,000 villages in 20 counties, two years of business days (2025 and 2026).
//
//   sales_bench [--benchmark_filter=…]                      # SALES_BENCH_ORDERS=10000000
//
// The first run writes the log into SALES_BENCH_DIR (default: a directory under the temporary
// one named by the order count): 2,000 sellers (one per village), 10,000 products over 200
// brands and the default categories, the orders (a fifth with two lines of one seller, a tenth
// bought through the listing of one of the two distributors, of 50, that resell the product), and
// 1 % of them refunded three days later,
// each event at its business time (a manual clock). Then the sales projection folds the whole
// log through its own processor and worker, as the server runs it: BM_Fold is that one pass
// (events and paid orders per second). Later runs reuse the store and its folded projection.
//
// Then, each through SettlementService as the routes call it (the worker hop included, HTTP
// not): BM_Stats — random GET /v1/stats/sales queries: any grouping, any place level, within a
// county or the pavilion, a year by month (and quarters, and a range of days), filters,
// comparisons, top N; BM_Report — a county's quarterly report (GET /v1/reports/sales);
// BM_ReportAsOf / BM_StatsAsOf — the same as of a moment six months before the last event. Each
// reports p50, p99 and max in milliseconds as counters.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pavilion/events/codec.h"
#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/settlement/settlement_service.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion {
namespace {

namespace schema = events::schema;

constexpr int kCounties = 20, kTowns = 10, kVillages = 10, kProductsPerSeller = 5;
constexpr int kBrands = 200, kDistributors = 50;
constexpr int kFirstDay = 20089;  // 2025-01-01 (days since 1970-01-01).
constexpr int kDays = 730;        // To 2026-12-31.

int64_t Orders() {
  const char* n = std::getenv("SALES_BENCH_ORDERS");
  return n ? std::atoll(n) : 10'000'000;
}

std::string County(int c) {
  char b[8];
  std::snprintf(b, sizeof b, "1404%02d", c + 1);
  return b;
}
// Village v (0 … 1999): county v / 100, town (v / 10) % 10, village v % 10; rural codes.
std::string Village(int v) {
  char b[16];
  std::snprintf(b, sizeof b, "%s1%02d2%02d", County(v / 100).c_str(), (v / 10) % 10 + 1,
                v % 10 + 1);
  return b;
}
std::string Seller(int v) { return "sel_v" + std::to_string(v); }
std::string Product(int p) { return "prd_" + std::to_string(p); }
// A day's moment (UTC+8 business day `day`, at `micros` into it).
int64_t At(int day, int64_t micros) {
  return int64_t{day} * events::kMicrosPerDay - events::kCstOffsetMicros + micros;
}

struct Store {
  std::unique_ptr<storage::KvStore> kv;
  events::ManualClock clock{At(kFirstDay, 0)};
  std::unique_ptr<events::EventStore> store;
  std::unique_ptr<settlement::SettlementService> settlement;
  std::unique_ptr<events::EmbeddedSource> source;
  double fold_seconds = 0;
  uint64_t events = 0, folded = 0;
  int64_t last_micros = 0;
};

template <typename P>
void Add(events::AppendRequest& r, std::string stream, const P& p,
         std::string_view type = P::kType) {
  r.events.push_back(events::NewEvent{std::move(stream), events::kAnyVersion, std::string(type),
                                      events::Encode(p), "", "", 1});
}

void Flush(Store& s, events::AppendRequest& r) {
  if (r.events.empty()) return;
  s.events += r.events.size();
  if (!s.store->AppendAndWait(std::move(r)).ok()) std::abort();
  r = {};
}

// The log: sellers and products, then each day's orders and the refunds of three days before.
void Write(Store& s, int64_t orders) {
  std::mt19937_64 rng(25);
  const auto& categories = schema::DefaultCategories();
  const char* types[] = {"enterprise", "cooperative", "poor_household", "village_station"};
  events::AppendRequest r;
  const int villages = kCounties * kTowns * kVillages;
  for (int v = 0; v < villages; ++v) {
    Add(r, Seller(v),
        schema::SellerRegistered{Seller(v), "卖家" + std::to_string(v), Village(v), types[v % 4]});
    for (int k = 0; k < kProductsPerSeller; ++k) {
      schema::ProductCreated p;
      p.product_id = Product(v * kProductsPerSeller + k);
      p.seller_id = Seller(v);
      p.title = "特产" + p.product_id;
      p.place_code = Village(v);
      p.brand = "品牌" + std::to_string((v * kProductsPerSeller + k) % kBrands);
      p.category = categories[size_t(v + k) % categories.size()].code;
      p.skus.push_back({"sku_" + p.product_id, "1件", Fen(1000 + (v % 50) * 100), 1'000'000, ""});
      Add(r, p.product_id, p);
    }
    if (r.events.size() >= 1024) Flush(s, r);
  }
  Flush(s, r);
  const int64_t per_day = orders / kDays;
  std::vector<std::vector<schema::RefundChanged>> refunds(kDays + 4);
  int64_t n = 0;
  for (int d = 0; d < kDays; ++d) {
    const int64_t today = d == kDays - 1 ? orders - n : per_day;
    for (int64_t i = 0; i < today; ++i, ++n) {
      s.clock.Set(At(kFirstDay + d, i * (events::kMicrosPerDay / (today + 1))));
      for (const auto& refund : refunds[size_t(d)]) {
        Add(r, refund.order_id, refund, schema::RefundChanged::kCompleted);
      }
      refunds[size_t(d)].clear();
      const int v = int(rng() % villages);
      schema::OrderPaid o;
      o.order_id = "ord_" + std::to_string(n);
      o.shopper_id = "shp_" + std::to_string(rng() % 200'000);
      o.provider = "builtin";
      const int lines = rng() % 5 == 0 ? 2 : 1;
      const bool distributed = rng() % 10 == 0;
      for (int l = 0; l < lines; ++l) {
        const int p = v * kProductsPerSeller + int(rng() % kProductsPerSeller);
        schema::PricedLine line;
        line.line = uint32_t(l);
        line.product_id = Product(p);
        line.sku_id = "sku_" + line.product_id;
        line.seller_id = Seller(v);
        line.place_code = Village(v);
        line.quantity = 1 + int64_t(rng() % 3);
        line.unit_price = Fen(1000 + (v % 50) * 100);
        line.amount = Fen(line.unit_price.value() * line.quantity);
        if (distributed) {
          // Each product is resold by two distributors of the fifty.
          const int64_t which = rng() % 2 == 0 ? p % kDistributors : (p * 7 + 3) % kDistributors;
          line.distribution.listing_seller_id = "sel_d" + std::to_string(which);
          line.distribution.supply_price = line.unit_price;
        }
        o.amount = o.amount + line.amount;
        o.lines.push_back(std::move(line));
      }
      if (rng() % 100 == 0) {
        schema::RefundChanged refund;
        refund.order_id = o.order_id;
        refund.refund_id = "rfd_" + std::to_string(n);
        refund.seller_id = Seller(v);
        refund.place_code = Village(v);
        refund.amount = o.lines[0].amount;
        refund.items.push_back({0, o.lines[0].sku_id, o.lines[0].quantity, "破损"});
        refunds[size_t(d) + 3].push_back(std::move(refund));
      }
      Add(r, o.order_id, o);
      if (r.events.size() >= 4096) Flush(s, r);
    }
    Flush(s, r);
  }
  s.last_micros = s.clock.NowMicros();
}

Store& Open() {
  static Store s;
  static bool opened = false;
  if (opened) return s;
  opened = true;
  const int64_t orders = Orders();
  const char* env = std::getenv("SALES_BENCH_DIR");
  const std::filesystem::path dir = env ? env
                                        : std::filesystem::temp_directory_path() /
                                              ("pavilion-sales-bench-" + std::to_string(orders));
  const std::filesystem::path marker = dir / "WRITTEN";
  const bool fresh = !std::filesystem::exists(marker);
  if (fresh) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  s.kv = storage::OpenRocksDb(dir.string()).value();
  s.store = events::EventStore::Open(*s.kv, s.clock, events::EventStoreOptions{false}).value();
  if (fresh) {
    const auto start = std::chrono::steady_clock::now();
    Write(s, orders);
    std::fprintf(stderr, "wrote %llu events in %.1f s\n", (unsigned long long)s.events,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::ofstream(marker) << s.last_micros << "\n";
  } else {
    std::ifstream(marker) >> s.last_micros;
  }
  s.clock.Set(s.last_micros + 3'600'000'000);
  s.settlement = std::make_unique<settlement::SettlementService>(*s.store);
  s.source = std::make_unique<events::EmbeddedSource>(*s.store, s.settlement->sales_worker(),
                                                      s.settlement->sales_processor());
  const auto start = std::chrono::steady_clock::now();
  s.folded = s.source->lag();
  s.source->Start();
  while (s.source->lag() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  s.fold_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "folded %llu events in %.1f s\n", (unsigned long long)s.folded,
               s.fold_seconds);
  return s;
}

template <typename T, typename Call>
T Wait(Call call) {
  std::promise<T> p;
  call([&p](T v) { p.set_value(std::move(v)); });
  return p.get_future().get();
}

// Runs `one(i)` per iteration, timing each; p50, p99 and max as counters.
template <typename One>
void Timed(benchmark::State& state, One one) {
  std::vector<double> ms;
  int64_t i = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    if (!one(i++)) {
      state.SkipWithError("a query failed");
      return;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&ms](double q) { return ms[std::min(ms.size() - 1, size_t(q * ms.size()))]; };
  state.counters["p50_ms"] = at(0.5);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = ms.back();
}

void BM_Fold(benchmark::State& state) {
  Store& s = Open();
  for (auto _ : state) {
  }
  state.counters["events"] = double(s.folded);
  state.counters["seconds"] = s.fold_seconds;
  state.counters["events_per_s"] = s.fold_seconds > 0 ? double(s.folded) / s.fold_seconds : 0;
}
BENCHMARK(BM_Fold)->Iterations(1)->Unit(benchmark::kMillisecond);

// A random query of the kinds the plans ask.
settlement::SalesQuery RandomQuery(std::mt19937_64& rng, int64_t as_of) {
  static const char* groupings[] = {"place",   "place",    "seller",       "supplier_type",
                                    "brand",   "category", "agricultural", "product",
                                    "channel", "poverty",  "total"};
  static const char* levels[] = {"province", "city", "county", "town", "village"};
  settlement::SalesQuery q(groupings[rng() % std::size(groupings)]);
  if (q.group_by == "place") q.level = levels[rng() % std::size(levels)];
  switch (rng() % 4) {
    case 0:  // 2026 by month
      q.from_day = "2026-01-01", q.to_day = "2026-12-31", q.period = "month";
      break;
    case 1:  // 2026 by quarter
      q.from_day = "2026-01-01", q.to_day = "2026-12-31", q.period = "quarter";
      break;
    case 2:  // A month by day
      q.from_day = "2026-05-01", q.to_day = "2026-05-31", q.period = "day";
      break;
    default:  // Both years, one total each
      q.from_day = "2025-01-01", q.to_day = "2026-12-31", q.period = "year";
  }
  if (rng() % 4 != 0) q.filter.within = County(int(rng() % kCounties));
  if (rng() % 4 == 0) q.filter.agricultural = true;
  if (rng() % 3 == 0) q.compare_year = true;
  if (q.group_by == "seller" || q.group_by == "product" || q.group_by == "brand") q.top = 10;
  q.as_of_micros = as_of;
  return q;
}

bool Stats(std::mt19937_64& rng, int64_t as_of) {
  Store& s = Open();
  auto rows = Wait<Result<std::vector<settlement::SalesRow>>>(
      [&](auto done) { s.settlement->Sales(RandomQuery(rng, as_of), done); });
  return rows.ok();
}

void BM_Stats(benchmark::State& state) {
  std::mt19937_64 rng(7);
  Timed(state, [&](int64_t) { return Stats(rng, 0); });
}
BENCHMARK(BM_Stats)->Iterations(200)->Unit(benchmark::kMillisecond);

// Six months before the last event: 2026-06-30 as it closed.
int64_t SixMonthsBack() { return At(kFirstDay + 545, events::kMicrosPerDay) - 1; }

void BM_StatsAsOf(benchmark::State& state) {
  std::mt19937_64 rng(8);
  Timed(state, [&](int64_t) { return Stats(rng, SixMonthsBack()); });
}
BENCHMARK(BM_StatsAsOf)->Iterations(50)->Unit(benchmark::kMillisecond);

bool Report(int64_t i, const char* period, int64_t as_of) {
  Store& s = Open();
  settlement::ReportQuery q;
  q.place_code = County(int(i % kCounties));
  q.period = period;
  q.as_of_micros = as_of;
  auto report =
      Wait<Result<settlement::SalesReport>>([&](auto done) { s.settlement->SalesReport(q, done); });
  return report.ok() && !report->sections.empty();
}

void BM_Report(benchmark::State& state) {
  Timed(state, [](int64_t i) { return Report(i, "2026-Q4", 0); });
}
BENCHMARK(BM_Report)->Iterations(20)->Unit(benchmark::kMillisecond);

void BM_ReportAsOf(benchmark::State& state) {
  Timed(state, [](int64_t i) { return Report(i, "2026-Q2", SixMonthsBack()); });
}
BENCHMARK(BM_ReportAsOf)->Iterations(20)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pavilion

BENCHMARK_MAIN();
