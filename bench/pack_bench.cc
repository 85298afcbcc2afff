// pavilion-pack-bench: the catalog's pack and search figures of bench/RESULTS.md.
//
//   pavilion-pack-bench [--dir DIR] [--skus N] [--skus-per-product K] [--csv-rows N]
//                       [--queries N]
//
// 1. Writes a synthetic native pack (zip: manifest.json, products.ndjson) of N SKUs, K per
//    product, with realistic Chinese titles, and imports it through PackFile + ImportPackFile
//    into a fresh RocksDB store with synced group commits — exactly what `pavilion pack import`
//    does. Reports SKUs/s and the process's peak RSS.
// 2. Writes a 淘宝助理 CSV (UTF-16LE, tab-separated) of N rows and imports it the same way.
// 3. Runs N title searches against the catalogue now holding both packs and reports latency
//    percentiles of CatalogService::ListProducts (the work behind GET /v1/products).
#include <archive.h>
#include <archive_entry.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/catalog/pack.h"
#include "pavilion/catalog/pack_file.h"
#include "pavilion/catalog/taobao_csv.h"
#include "pavilion/events/clock.h"
#include "pavilion/events/processor.h"
#include "pavilion/storage/kv_store.h"

namespace {

using namespace pavilion;
using Clock = std::chrono::steady_clock;

const char* const kPlaces[] = {"沁县", "古丈", "永川", "武乡", "襄垣", "平顺", "黎城", "壶关"};
const char* const kGoods[] = {"小米", "毛尖",   "秀芽", "核桃",   "红枣", "土鸡蛋", "蜂蜜", "香菇",
                              "木耳", "黄花菜", "花椒", "南瓜籽", "荞麦", "莜面",   "党参", "连翘"};
const char* const kSpecs[] = {"250g", "500g", "1kg", "2.5kg礼盒", "5kg", "散装", "罐装", "袋装"};

std::string Title(size_t i) {
  return std::string(kPlaces[i % 8]) + kGoods[(i / 8) % 16] + " 第" + std::to_string(i) + "号";
}

int64_t PeakRssKib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// CPU seconds (user + system) the process has used: every thread of the import pipeline.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds of each of the process's threads by name (/proc/self/task/*/stat), summed over
// threads of the same name: where an import's time goes (parser, catalog worker, store writer).
std::map<std::string, double> ThreadCpu() {
  std::map<std::string, double> out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; rest >> field; ++i) {  // Fields 14 and 15: utime, stime (clock ticks).
      if (i == 14) utime = std::stod(field);
      if (i == 15) {
        stime = std::stod(field);
        break;
      }
    }
    std::string name = stat.substr(open + 1, close - open - 1);
    if (task.path().filename() == std::to_string(getpid())) name = "main (parser)";
    out[name] += (utime + stime) / tick;
  }
  return out;
}

std::string ThreadCpuSince(const std::map<std::string, double>& before) {
  std::string text;
  for (const auto& [name, secs] : ThreadCpu()) {
    auto it = before.find(name);
    const double used = secs - (it == before.end() ? 0 : it->second);
    if (used < 0.01) continue;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s %.2f", text.empty() ? "" : ", ", name.c_str(), used);
    text += buf;
  }
  return text;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void WriteNativePack(const std::string& path, size_t products, size_t per_product) {
  const std::string ndjson = path + ".ndjson";
  {
    std::ofstream out(ndjson, std::ios::binary);
    for (size_t i = 0; i < products; ++i) {
      catalog::PackRow row;
      row.outer_id = "P";  // Appended, not "P" + …: GCC 12 at -O3 warns falsely (-Wrestrict).
      row.outer_id += std::to_string(i);
      row.product.title = Title(i);
      row.product.brand = kPlaces[i % 8];
      row.product.details.params = {{"产地", kPlaces[i % 8]}};
      for (size_t k = 0; k < per_product; ++k) {
        row.product.skus.push_back({kSpecs[k % 8] + std::string(k >= 8 ? std::to_string(k) : ""),
                                    Fen(static_cast<int64_t>(1000 + (i * 7 + k * 300) % 20000)),
                                    static_cast<int64_t>(100 + k)});
      }
      out << catalog::PackRowJson(row) << '\n';
    }
  }
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open_filename(a, path.c_str());
  auto add = [&](const std::string& name, const std::string& file, const std::string& text) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(
        e, static_cast<la_int64_t>(file.empty() ? text.size() : std::filesystem::file_size(file)));
    archive_write_header(a, e);
    if (file.empty()) {
      archive_write_data(a, text.data(), text.size());
    } else {
      std::ifstream in(file, std::ios::binary);
      std::vector<char> buf(1 << 20);
      while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
        archive_write_data(a, buf.data(), static_cast<size_t>(in.gcount()));
      }
    }
    archive_entry_free(e);
  };
  add("manifest.json", "", R"({"format":"pavilion-pack","version":1})");
  add("products.ndjson", ndjson, "");
  archive_write_close(a);
  archive_write_free(a);
  std::filesystem::remove(ndjson);
}

void WriteTaobaoCsv(const std::string& path, size_t rows) {
  std::vector<catalog::PackRow> all;
  all.reserve(rows);
  for (size_t i = 0; i < rows; ++i) {
    catalog::PackRow row;
    row.outer_id = "TB" + std::to_string(i);
    row.product.title = Title(i) + " 淘宝";
    row.product.details.description = "<p>" + Title(i) + "，产地直发，当季新货。</p>";
    row.product.details.weight_grams = 500;
    row.product.skus = {{"500g", Fen(2990), 100}, {"1kg", Fen(5600), 50}};
    all.push_back(std::move(row));
  }
  std::ofstream(path, std::ios::binary)
      << catalog::WriteTaobaoCsv(all, catalog::TaobaoMapping::Default());
}

struct Timed {
  double seconds, cpu_seconds;
  std::string threads;  // CPU seconds by thread
  catalog::ImportReport report;
};

Timed Import(catalog::CatalogService& catalog, const std::string& path, const std::string& seller) {
  auto start = Clock::now();
  const double cpu = CpuSeconds();
  const auto threads = ThreadCpu();
  auto file = catalog::PackFile::OpenPath(path);
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", file.message().c_str());
    std::exit(1);
  }
  auto report = catalog::ImportPackFile(catalog, **file, seller);
  if (!report.ok()) {
    std::fprintf(stderr, "%s\n", report.message().c_str());
    std::exit(1);
  }
  return {Seconds(start), CpuSeconds() - cpu, ThreadCpuSince(threads), std::move(report).value()};
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/pavilion-pack-bench";
  size_t skus = 1'000'000, per_product = 4, csv_rows = 100'000, queries = 10'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--dir")
      dir = value;
    else if (flag == "--skus")
      skus = std::stoul(value);
    else if (flag == "--skus-per-product")
      per_product = std::stoul(value);
    else if (flag == "--csv-rows")
      csv_rows = std::stoul(value);
    else if (flag == "--queries")
      queries = std::stoul(value);
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string pack = dir + "/pack.zip", csv = dir + "/taobao.csv";
  auto t0 = Clock::now();
  WriteNativePack(pack, skus / per_product, per_product);
  WriteTaobaoCsv(csv, csv_rows);
  std::printf(
      "generated %zu SKUs (%zu per product, %.1f MB zip) and %zu CSV rows (%.1f MB) in %.1f s\n",
      skus, per_product, std::filesystem::file_size(pack) / 1e6, csv_rows,
      std::filesystem::file_size(csv) / 1e6, Seconds(t0));
  const int64_t rss_before = PeakRssKib();

  auto kv = storage::OpenRocksDb(dir + "/db");
  if (!kv.ok()) return 1;
  auto store = events::EventStore::Open(**kv, events::SystemClock::Instance());
  if (!store.ok()) return 1;
  catalog::CatalogService catalog(**store);
  auto seller = events::Await<catalog::Seller>([&](auto done) {
    catalog.RegisterSeller({"沁州黄小米合作社", "140430", "cooperative"}, std::move(done));
  });

  auto native = Import(catalog, pack, seller->id);
  std::printf(
      "native pack: %d rows, %d created, %zu errors, %.2f s: %.0f SKUs/s (%.0f products/s); "
      "%.2f CPU s (%s); peak RSS %.0f MiB (%.0f MiB before the import)\n",
      native.report.rows, native.report.created, native.report.errors.size(), native.seconds,
      skus / native.seconds, native.report.rows / native.seconds, native.cpu_seconds,
      native.threads.c_str(), PeakRssKib() / 1024.0, rss_before / 1024.0);
  auto taobao = Import(catalog, csv, seller->id);
  std::printf("taobao csv: %d rows, %d created, %zu errors, %.2f s: %.0f rows/s; %.2f CPU s (%s)\n",
              taobao.report.rows, taobao.report.created, taobao.report.errors.size(),
              taobao.seconds, taobao.report.rows / taobao.seconds, taobao.cpu_seconds,
              taobao.threads.c_str());

  // Searches: a good, a place and a good, a good by price, two words in stock.
  const char* const kKinds[] = {"good (newest)", "place+good (newest)", "good (price_asc)",
                                "place good (in stock)"};
  std::mt19937 rng(7);
  std::vector<double> micros, by_kind[4];
  micros.reserve(queries);
  size_t hits = 0;
  for (size_t i = 0; i < queries; ++i) {
    catalog::ProductQuery q;
    switch (i % 4) {
      case 0:
        q.q = kGoods[rng() % 16];
        break;
      case 1:
        q.q = std::string(kPlaces[rng() % 8]) + kGoods[rng() % 16];
        break;
      case 2:
        q.q = kGoods[rng() % 16];
        q.sort = "price_asc";
        break;
      default:
        q.q = std::string(kPlaces[rng() % 8]) + " " + kGoods[rng() % 16];
        q.in_stock = true;
    }
    auto start = Clock::now();
    auto page = events::Await<catalog::ProductPage>(
        [&](auto done) { catalog.ListProducts(q, std::move(done)); });
    double us = Seconds(start) * 1e6;
    micros.push_back(us);
    by_kind[i % 4].push_back(us);
    hits += page.ok() ? page->products.size() : 0;
  }
  auto pct = [](std::vector<double>& v, double p) {  // 0 for no samples (--queries below 4)
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * v.size()))];
  };
  const double p50 = pct(micros, 0.50), p99 = pct(micros, 0.99);
  const double max = micros.empty() ? 0.0 : micros.back();
  std::printf(
      "search over %zu SKUs: %zu queries, %zu results, p50 %.0f us, p99 %.0f us, max %.0f us\n",
      skus + 2 * csv_rows, queries, hits, p50, p99, max);
  for (int k = 0; k < 4; ++k) {
    std::printf("  %-22s p50 %.0f us, p99 %.0f us\n", kKinds[k], pct(by_kind[k], 0.5),
                pct(by_kind[k], 0.99));
  }
  std::printf("peak RSS %.0f MiB\n", PeakRssKib() / 1024.0);
  return 0;
}
