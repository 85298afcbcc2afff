// Golden tests of the pack formats against the fixtures in tests/data/packs (made by
// make_fixtures.py there): the native zip, a 淘宝助理 zip in UTF-16LE and a bare GBK CSV, per-row
// errors, idempotent re-import, export round trips, and archives that attack the importer.
#include "pavilion/catalog/pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>

#include "../support/gated_write_kv_store.h"
#include "../support/in_process.h"
#include "pavilion/catalog/pack_file.h"
#include "pavilion/catalog/taobao_csv.h"

namespace pavilion {
namespace {

using catalog::PackFile;
using testing::Await;

std::string Fixture(const std::string& name) {
  return std::string(PAVILION_TEST_DATA) + "/packs/" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Importer {
  testing::InProcess p;
  catalog::Seller seller = p.Seller();

  Result<catalog::ImportReport> Import(Result<std::unique_ptr<PackFile>> file) {
    if (!file.ok()) return file.error_detail();
    return catalog::ImportPackFile(*p.catalog, **file, seller.id);
  }
  Result<catalog::ImportReport> ImportPath(const std::string& name) {
    return Import(PackFile::OpenPath(Fixture(name)));
  }
  catalog::Product ByTitle(const std::string& q) {
    catalog::ProductQuery query;
    query.q = q;
    auto page = Await<catalog::ProductPage>([&](auto d) { p.catalog->ListProducts(query, d); });
    EXPECT_EQ(page->products.size(), 1u) << q;
    return page->products.empty() ? catalog::Product{} : page->products[0];
  }
  std::string Image(const std::string& ref) {
    auto bytes = Await<std::string>([&](auto d) { p.catalog->GetImage(ref, d); });
    return bytes.ok() ? *bytes : "";
  }
};

TEST(NativePack, GoldenImportReportsRowsAndStoresImages) {
  Importer t;
  auto report = t.ImportPath("native.zip");
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(report->rows, 4);
  EXPECT_EQ(report->created, 2);
  ASSERT_EQ(report->errors.size(), 2u);
  EXPECT_EQ(report->errors[0].row, 3);
  EXPECT_EQ(report->errors[0].message, "skus[0].price_fen: expected an integer");
  EXPECT_EQ(report->errors[1].row, 4);
  EXPECT_NE(report->errors[1].message.find("images[0]: no stored image missing.jpg"),
            std::string::npos);

  auto tea = t.ByTitle("古丈毛尖");
  EXPECT_EQ(tea.category, "tea");
  ASSERT_EQ(tea.skus.size(), 2u);
  EXPECT_EQ(tea.skus[1].spec, "500g礼盒");
  EXPECT_EQ(tea.skus[1].price, Fen(16800));
  const auto& d = tea.details;
  EXPECT_EQ(d.subtitle, "明前手工");
  EXPECT_EQ(d.weight_grams, 600);
  EXPECT_EQ(d.barcode, "6901234567890");
  ASSERT_EQ(d.params.size(), 2u);
  EXPECT_EQ(d.params[0].name, "产地");
  // Both local images (named with or without images/) became refs to their stored bytes.
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].size(), 64u + 4u);  // sha256 hex + ".png"
  EXPECT_EQ(d.images[0].substr(64), ".png");
  EXPECT_EQ(t.Image(d.images[0]).substr(1, 3), "PNG");
  EXPECT_EQ(d.images[1].substr(64), ".jpg");
  EXPECT_EQ(t.ByTitle("鸡蛋").details.images[0], "https://img.example.com/egg.jpg");

  // The same pack again writes nothing.
  const uint64_t head = t.p.store->head();
  auto again = t.ImportPath("native.zip");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 2);
  EXPECT_EQ(again->created + again->updated, 0);
  EXPECT_EQ(t.p.store->head(), head);
}

TEST(NativePack, ExportRoundTripsThroughZipAndChangesNothing) {
  Importer t;
  ASSERT_TRUE(t.ImportPath("native.zip").ok());
  auto zip = catalog::ExportPackFile(*t.p.catalog, t.seller.id, catalog::PackFormat::kNative);
  ASSERT_TRUE(zip.ok()) << zip.message();
  const uint64_t head = t.p.store->head();
  auto again = t.Import(PackFile::OpenBytes(*zip));
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(again->unchanged, 2);
  EXPECT_TRUE(again->errors.empty());
  EXPECT_EQ(t.p.store->head(), head);

  // Another seller imports the exported zip: images travel with it.
  auto other = t.p.Seller("433126", "cooperative");
  auto file = PackFile::OpenBytes(*zip);
  ASSERT_TRUE(file.ok());
  auto copy = catalog::ImportPackFile(*t.p.catalog, **file, other.id);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->created, 2);
}

TEST(TaobaoPack, GoldenUtf16ZipWithMappingAndImages) {
  Importer t;
  auto report = t.ImportPath("taobao_utf16.zip");
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(report->rows, 5);
  EXPECT_EQ(report->created, 1);
  ASSERT_EQ(report->errors.size(), 4u);
  // Rows are numbered by their first line in the file; the quoted description spans two lines.
  EXPECT_EQ(report->errors[0].row, 6);
  EXPECT_NE(report->errors[0].message.find("outer_id: required"), std::string::npos);
  EXPECT_EQ(report->errors[1].row, 7);
  EXPECT_NE(report->errors[1].message.find("price:"), std::string::npos);
  EXPECT_EQ(report->errors[2].row, 8);  // Mapped to tea, which needs an SC licence it lacks.
  EXPECT_NE(report->errors[2].message.find("SC licence"), std::string::npos);
  EXPECT_EQ(report->errors[3].row, 9);
  EXPECT_NE(report->errors[3].message.find("no stored image missing"), std::string::npos);

  auto tea = t.ByTitle("古丈毛尖");
  EXPECT_EQ(tea.category, "tea");
  ASSERT_EQ(tea.skus.size(), 2u);
  EXPECT_EQ(tea.skus[0].spec, "250g罐装");
  EXPECT_EQ(tea.skus[0].price, Fen(12800));
  EXPECT_EQ(tea.skus[0].stock, 100);
  EXPECT_EQ(tea.skus[1].spec, "500g礼盒");
  EXPECT_EQ(tea.skus[1].stock, 200);
  ASSERT_EQ(tea.certifications.size(), 1u);
  EXPECT_EQ(tea.certifications[0].number, "SC11443312600014");
  const auto& d = tea.details;
  EXPECT_EQ(d.description, "<p>高山云雾, \"明前\"</p>\n<p>手工炒制</p>");
  EXPECT_EQ(d.weight_grams, 600);
  ASSERT_EQ(d.images.size(), 2u);
  EXPECT_EQ(d.images[0].substr(64), ".jpg");  // tea/a1b2c3.tbi is a JPEG inside.
  EXPECT_EQ(d.images[1], "https://img.example.com/gz.jpg");
  ASSERT_EQ(d.params.size(), 2u);
  EXPECT_EQ(d.params[0].name, "产地");
  EXPECT_EQ(d.params[0].value, "湖南古丈");
  EXPECT_EQ(d.params[1].name, "品牌");

  auto again = t.ImportPath("taobao_utf16.zip");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 1);
}

TEST(TaobaoPack, GoldenGbkCsvCommaSeparated) {
  std::string encoding;
  auto text = catalog::DecodeCsvText(ReadAll(Fixture("taobao_gbk.csv")), &encoding);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(encoding, "GBK");
  auto mapping = catalog::TaobaoMapping::Default();
  ASSERT_TRUE(mapping.Merge(ReadAll(Fixture("mapping.tsv"))).ok());
  auto reader = catalog::TaobaoCsvReader::Open(*text, mapping);
  ASSERT_TRUE(reader.ok()) << reader.message();
  EXPECT_EQ(reader->delimiter(), ',');
  auto rows = reader->Next(100);
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_TRUE(rows.errors.empty());
  const auto& tea = rows.rows[0].product;
  EXPECT_EQ(tea.title, "古丈毛尖 明前特级");
  EXPECT_EQ(tea.category, "tea");
  EXPECT_EQ(tea.details.description, "<p>高山云雾, \"明前\"</p>\n<p>手工炒制</p>");
  const auto& millet = rows.rows[1].product;
  ASSERT_EQ(millet.skus.size(), 1u);
  EXPECT_EQ(millet.skus[0].spec, "白色 均码");  // Two properties of one SKU, named by the mapping.
  EXPECT_EQ(millet.skus[0].price, Fen(2990));
  EXPECT_TRUE(reader->Next(100).rows.empty());

  // The same file over the importer: a bare CSV has no image folder, so rows naming local
  // pictures are reported (row = the record's first line) instead of losing their images.
  Importer t;
  auto report = t.ImportPath("taobao_gbk.csv");
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(report->created, 0);
  ASSERT_EQ(report->errors.size(), 2u);
  EXPECT_EQ(report->errors[0].row, 4);
  EXPECT_NE(report->errors[0].message.find("images[0]: no stored image a1b2c3"), std::string::npos);
  EXPECT_EQ(report->errors[1].row, 6);
}

TEST(TaobaoPack, ExportIsUtf16TabSeparatedAndReadsBack) {
  Importer t;
  ASSERT_TRUE(t.ImportPath("native.zip").ok());
  auto zip = catalog::ExportPackFile(*t.p.catalog, t.seller.id, catalog::PackFormat::kTaobao);
  ASSERT_TRUE(zip.ok());
  const uint64_t head = t.p.store->head();
  auto again = t.Import(PackFile::OpenBytes(*zip));
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_TRUE(again->errors.empty()) << again->errors[0].message;
  // The Taobao form cannot carry brand or a validity date, so those products are updated once;
  // titles, specs, prices, stock and images survive the trip.
  EXPECT_EQ(again->created, 0);
  auto tea = t.ByTitle("古丈毛尖");
  ASSERT_EQ(tea.skus.size(), 2u);
  EXPECT_EQ(tea.skus[0].spec, "250g罐装");
  EXPECT_EQ(tea.skus[1].price, Fen(16800));
  EXPECT_EQ(tea.details.images.size(), 2u);
  EXPECT_GT(t.p.store->head(), head);
  auto csv = catalog::WriteTaobaoCsv({}, catalog::TaobaoMapping::Default());
  EXPECT_EQ(csv.substr(0, 2), "\xFF\xFE");
  auto header = catalog::DecodeCsvText(csv);
  EXPECT_EQ(header->substr(0, 20), "version 1.00\r\ntitle\t");
}

// PrepareRows does off the catalog's thread what ImportPack would: the same products, defaults
// and errors result whether rows come prepared or not, and a row prepared for another seller is
// prepared again for the one importing it.
TEST(PackRows, PreparedRowsImportLikeUnpreparedOnes) {
  Importer t;
  const catalog::Seller poor = t.p.Seller("140430101", "poor_household");
  auto rows = [](const std::string& prefix) {
    std::vector<catalog::PackRow> out(3);
    for (int i = 0; i < 3; ++i) {
      out[i].row = i + 1;
      out[i].outer_id = prefix + std::to_string(i);
      out[i].product.title = prefix + " 小米 " + std::to_string(i);
      out[i].product.skus = {{"500g", Fen(1990 + i), 10}, {"1kg", Fen(3500), 5}};
    }
    out[1].product.skus[0].price = Fen(0);           // invalid
    out[2].product.details.images = {"absent.jpg"};  // names an image that is not stored
    return out;
  };
  auto import = [&](const catalog::Seller& seller, std::vector<catalog::PackRow> r) {
    return Await<catalog::ImportReport>(
        [&](auto done) { t.p.catalog->ImportPack(seller.id, std::move(r), done); });
  };
  auto plain = import(poor, rows("plain"));
  auto ready = rows("ready");
  t.p.catalog->PrepareRows(t.seller, ready);  // Prepared for another seller: prepared again.
  ASSERT_NE(ready[0].prepared, nullptr);
  auto prepared = import(poor, std::move(ready));
  ASSERT_TRUE(plain.ok() && prepared.ok());
  for (const auto* r : {&*plain, &*prepared}) {
    EXPECT_EQ(r->created, 1);
    ASSERT_EQ(r->errors.size(), 2u);
    EXPECT_EQ(r->errors[0].row, 2);
    EXPECT_NE(r->errors[0].message.find("skus[0].price_fen"), std::string::npos);
    EXPECT_EQ(r->errors[1].row, 3);
    EXPECT_NE(r->errors[1].message.find("images[0]: no stored image absent.jpg"),
              std::string::npos);
  }
  auto a = t.ByTitle("plain 小米 0"), b = t.ByTitle("ready 小米 0");
  for (const auto* p : {&a, &b}) {
    EXPECT_EQ(p->seller_id, poor.id);
    EXPECT_EQ(p->place_code, "140430101");  // The seller's place.
    EXPECT_TRUE(p->poverty_zone);
    EXPECT_EQ(p->floor_price, Fen(1990));  // A poor household's floor: its lowest price.
    ASSERT_EQ(p->skus.size(), 2u);
    EXPECT_EQ(p->skus[1].stock, 5);
  }
  // Prepared the right way, importing the same rows again changes nothing.
  auto again = rows("ready");
  t.p.catalog->PrepareRows(poor, again);
  auto unchanged = import(poor, std::move(again));
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->created, 0);
  EXPECT_EQ(unchanged->unchanged, 1);
}

// Rows 1…n: outer_id and title numbered from 0, one SKU each with stock 10, 11, 12…
std::vector<catalog::PackRow> NumberedRows(const std::string& outer_prefix,
                                           const std::string& title_prefix, int n) {
  std::vector<catalog::PackRow> rows(n);
  for (int i = 0; i < n; ++i) {
    rows[i].row = i + 1;
    rows[i].outer_id = outer_prefix + std::to_string(i);
    rows[i].product.title = title_prefix + std::to_string(i);
    rows[i].product.skus = {{"500g", Fen(1990), 10 + i}};
  }
  return rows;
}

TEST(PackRows, RowsPreparedBeforeAnImportOfTheSameIdsAreNotCreatedTwice) {
  // PrepareRows looks each outer_id up in the store; by the time the rows are imported, an
  // import of the same ids may have happened and its cache entries been dropped. Both with the
  // entries still cached and after they were dropped, the rows are recognised, not duplicated.
  for (size_t cache_limit : {size_t{1} << 18, size_t{1}}) {
    testing::InProcessOptions options;
    options.catalog.cache_limit = cache_limit;
    testing::InProcess p(nullptr, nullptr, options);
    const catalog::Seller seller = p.Seller();
    std::vector<catalog::PackRow> rows = NumberedRows("twice-", "小米 ", 3);
    auto early = rows;
    p.catalog->PrepareRows(seller, early);  // Looked up now: not imported yet.
    auto import = [&](std::vector<catalog::PackRow> r) {
      return Await<catalog::ImportReport>(
          [&](auto done) { p.catalog->ImportPack(seller.id, std::move(r), done); });
    };
    auto first = import(rows);
    ASSERT_TRUE(first.ok()) << first.message();
    EXPECT_EQ(first->created, 3);
    auto second = import(std::move(early));
    ASSERT_TRUE(second.ok()) << second.message();
    EXPECT_EQ(second->created, 0) << "cache_limit " << cache_limit;
    EXPECT_EQ(second->unchanged, 3) << "cache_limit " << cache_limit;
    catalog::ProductQuery q;
    q.q = "小米";
    auto page = Await<catalog::ProductPage>([&](auto d) { p.catalog->ListProducts(q, d); });
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->products.size(), 3u);
  }
}

TEST(PackRows, ImportedProductsAreReadBeforeTheirWriteIsDurable) {
  // An import does not cache the products it creates: a read that misses while they are still
  // queued for the store waits for them instead of answering "no such product".
  testing::GatedWriteKvStore kv;
  testing::InProcess p(&kv);
  const catalog::Seller seller = p.Seller();
  std::vector<catalog::PackRow> rows = NumberedRows("gate-", "闸门小米 ", 20);
  kv.Set(false);
  std::promise<Result<catalog::ImportReport>> imported;
  p.catalog->ImportPack(seller.id, std::move(rows),
                        [&](Result<catalog::ImportReport> r) { imported.set_value(std::move(r)); });
  std::promise<Result<catalog::ProductPage>> listed;
  catalog::ProductQuery query;
  query.q = "闸门小米";
  query.limit = 50;
  p.catalog->ListProducts(query,
                          [&](Result<catalog::ProductPage> r) { listed.set_value(std::move(r)); });
  auto page_future = listed.get_future();
  // Nothing is durable yet, so the list cannot be answered: it waits for the import's write.
  EXPECT_EQ(page_future.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  kv.Set(true);
  auto report = imported.get_future().get();
  ASSERT_TRUE(report.ok()) << report.message();
  EXPECT_EQ(report->created, 20);
  auto page = page_future.get();
  ASSERT_TRUE(page.ok()) << page.message();
  ASSERT_EQ(page->products.size(), 20u);
  int64_t stock = 0;
  for (const auto& product : page->products) {
    ASSERT_EQ(product.skus.size(), 1u) << product.id;
    stock += product.skus[0].stock;
  }
  EXPECT_EQ(stock, 20 * 10 + 190);
  // And the SKUs take orders at once.
  auto order = p.Order("shopper-1", {{page->products[0].skus[0].id, 2}});
  ASSERT_TRUE(order.ok()) << order.message();
  EXPECT_EQ(ToString(order->status), "pending_payment");
}

TEST(PackArchive, UnsafeArchivesAreRefusedWhole) {
  Importer t;
  for (const auto& [file, why] :
       std::vector<std::pair<std::string, std::string>>{{"traversal.zip", "climb out"},
                                                        {"absolute.zip", "absolute"},
                                                        {"symlink.zip", "links"},
                                                        {"version2.zip", "version 2"}}) {
    auto r = t.ImportPath(file);
    ASSERT_FALSE(r.ok()) << file;
    EXPECT_EQ(r.error(), events::svc_errc::invalid_argument);
    EXPECT_NE(r.message().find(why), std::string::npos) << file << ": " << r.message();
  }
  EXPECT_EQ(t.p.store->head(), 1u);  // Only the seller's registration.
}

TEST(PackArchive, BombsStopAtTheLimits) {
  Importer t;
  // 100 MiB of zeros behind a 100 KiB zip: stopped at the 8 MiB image limit.
  auto r = t.ImportPath("bomb.zip");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("images/bomb.png: larger than 8388608 bytes"), std::string::npos)
      << r.message();
  catalog::PackLimits tight;
  tight.max_total_bytes = 1 << 20;
  tight.max_image_bytes = 200 << 20;
  auto total = t.Import(PackFile::OpenPath(Fixture("bomb.zip"), tight));
  ASSERT_FALSE(total.ok());
  EXPECT_NE(total.message().find("more than 1048576 bytes uncompressed"), std::string::npos);
  catalog::PackLimits few;
  few.max_entries = 3;
  auto entries = PackFile::OpenPath(Fixture("native.zip"), few);
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.message().find("more than 3 entries"), std::string::npos);
  catalog::PackLimits short_lines;
  short_lines.max_line_bytes = 100;
  auto line = t.Import(PackFile::OpenPath(Fixture("native.zip"), short_lines));
  ASSERT_FALSE(line.ok());
  EXPECT_NE(line.message().find("line 1: longer than 100 bytes"), std::string::npos);
  EXPECT_EQ(t.p.store->head(), 1u);
  auto garbage = PackFile::OpenBytes("PK\x03\x04 not really a zip");
  EXPECT_FALSE(garbage.ok());
}

TEST(PackArchive, LargeNdjsonIsImportedInPieces) {
  Importer t;
  std::string text;
  for (int i = 0; i < 5'000; ++i) {
    text += R"({"outer_id":"N-)" + std::to_string(i) + R"(","title":"小米 )" + std::to_string(i) +
            R"(","skus":[{"spec":"500g","price_fen":100,"stock":1}]})" + "\n";
  }
  text += R"({"outer_id":"N-7","title":"dup","skus":[{"spec":"1","price_fen":1,"stock":1}]})";
  auto file = PackFile::OpenBytes(text);
  ASSERT_TRUE(file.ok());
  auto r = catalog::ImportPackFile(*t.p.catalog, **file, t.seller.id, 1'000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows, 5'001);
  EXPECT_EQ(r->created, 5'000);
  ASSERT_EQ(r->errors.size(), 1u);  // A duplicate outer_id across pieces is still caught.
  EXPECT_EQ(r->errors[0].row, 5'001);
  EXPECT_NE(r->errors[0].message.find("appears twice"), std::string::npos);
}

// Archives built in the test, so that bombs need no big files in the repository.
la_ssize_t AppendTo(archive*, void* out, const void* data, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), n);
  return static_cast<la_ssize_t>(n);
}

// One gzip member holding `data`; members concatenated are one gzip stream to a reader.
std::string Gzip(std::string_view data) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_raw(a);
  archive_write_set_bytes_in_last_block(a, 1);  // No zero padding after the member.
  archive_write_open(a, &out, nullptr, &AppendTo, nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "data");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// A ustar header declaring `size` bytes; the data (padded to 512) is the caller's to send.
std::string TarHeader(const std::string& name, uint64_t size) {
  std::string h(512, '\0');
  std::memcpy(&h[0], name.data(), name.size());
  std::snprintf(&h[100], 8, "%07o", 0644);
  std::snprintf(&h[108], 8, "%07o", 0);
  std::snprintf(&h[116], 8, "%07o", 0);
  std::snprintf(&h[124], 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(&h[136], 12, "%011o", 0);
  std::memset(&h[148], ' ', 8);
  h[156] = '0';
  std::memcpy(&h[257],
              "ustar\0"
              "00",
              8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

std::string TarFile(const std::string& name, std::string_view data) {
  std::string out = TarHeader(name, data.size());
  out.append(data);
  out.append((512 - data.size() % 512) % 512, '\0');
  return out;
}

constexpr std::string_view kManifest = R"({"format":"pavilion-pack","version":1})";

// A tar.gz of a manifest, one product row and then `name` holding `size` zero bytes, written
// as gzip members of 1 MiB each (about 1 KiB apiece): a 6 GiB entry costs 6 MB.
std::string TarGzBomb(const std::string& name, uint64_t size) {
  const std::string row =
      R"({"outer_id":"B-1","title":"小米","skus":[{"spec":"1","price_fen":100,"stock":1}]})"
      "\n";
  std::string out = Gzip(TarFile("manifest.json", kManifest) + TarFile("products.ndjson", row) +
                         TarHeader(name, size));
  const std::string mib = Gzip(std::string(1 << 20, '\0'));
  for (uint64_t left = size; left > 0; left -= std::min<uint64_t>(left, 1 << 20)) {
    out += left >= (1 << 20) ? mib : Gzip(std::string(left, '\0'));
  }
  // The entry's padding, then the tar's end.
  return out + Gzip(std::string((512 - size % 512) % 512 + 1024, '\0'));
}

// A zip of the given entries, in order.
std::string Zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_open(a, &out, nullptr, &AppendTo, nullptr);
  for (const auto& [name, data] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// A PNG that differs by `n` (the bytes after the signature are not checked).
std::string Png(int n) { return "\x89PNG\r\n\x1A\n" + std::string(64, 'a') + std::to_string(n); }

size_t StoredImages(storage::KvStore& kv) {
  size_t n = 0;
  (void)kv.Scan("cat/img/", storage::PrefixEnd("cat/img/"),
                [&](std::string_view, std::string_view) {
                  ++n;
                  return true;
                });
  return n;
}

TEST(PackArchive, EveryDecompressedByteCountsEvenInEntriesNobodyReads) {
  // The issue's bomb: a 6 MB tar.gz with a 6 GiB entry the importer has no use for. Skipping it
  // decompressed all 6 GiB uncounted; now it is read and counted, and stops at its limit.
  const std::string bomb = TarGzBomb("padding.bin", 6ull << 30);
  ASSERT_LT(bomb.size(), 8u << 20);
  auto opened = PackFile::OpenBytes(bomb);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("padding.bin: larger than 8388608 bytes uncompressed"),
            std::string::npos)
      << opened.message();
  EXPECT_NE(opened.message().find("leave out files the pack does not use"), std::string::npos);

  // An entry that may be large (the products) stops at the compression ratio instead: here
  // 10 times the archive, past the first MiB.
  catalog::PackLimits ratio;
  ratio.max_ratio = 10;
  ratio.ratio_free_bytes = 1 << 20;
  const std::string rows = TarGzBomb("more.ndjson", 256ull << 20);
  auto expanded = PackFile::OpenBytes(rows, ratio);
  ASSERT_FALSE(expanded.ok());
  EXPECT_NE(expanded.message().find("expands to more than 10 times its " +
                                    std::to_string(rows.size()) + " bytes"),
            std::string::npos)
      << expanded.message();
  EXPECT_NE(expanded.message().find("compression-ratio limit"), std::string::npos);

  // And in all: the total of one reading.
  catalog::PackLimits total;
  total.max_total_bytes = 4 << 20;
  auto all = PackFile::OpenBytes(TarGzBomb("more.ndjson", 64ull << 20), total);
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.message().find("more than 4194304 bytes uncompressed; split it"), std::string::npos)
      << all.message();

  // A tar.gz within the limits imports as before.
  Importer t;
  auto small = t.Import(PackFile::OpenBytes(TarGzBomb("notes.txt", 1000)));
  ASSERT_TRUE(small.ok()) << small.message();
  EXPECT_EQ(small->created, 1);
}

TEST(PackArchive, ARefusedPackAppliesNothing) {
  // 2,500 valid rows (more than one piece), images the rows name, then a 2 MiB line: the pack is
  // refused, and nothing of it is visible or stored, not even the images.
  Importer t;
  std::string ndjson;
  for (int i = 0; i < 2'500; ++i) {
    ndjson += R"({"outer_id":"R-)" + std::to_string(i) + R"(","title":"整包小米 )" +
              std::to_string(i) +
              R"(","images":["a.png"],"skus":[{"spec":"1","price_fen":100,"stock":1}]})" + "\n";
  }
  ndjson += R"({"outer_id":"LONG","title":")" + std::string(2 << 20, 'x') + "\"}\n";
  const uint64_t head = t.p.store->head();
  for (const std::string& body : {ndjson, Zip({{"manifest.json", std::string(kManifest)},
                                               {"images/a.png", Png(1)},
                                               {"products.ndjson", ndjson}})}) {
    auto r = t.Import(PackFile::OpenBytes(body));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), events::svc_errc::invalid_argument);
    EXPECT_NE(r.message().find("line 2501: longer than 1048576 bytes"), std::string::npos)
        << r.message();
  }
  EXPECT_EQ(t.p.store->head(), head);
  catalog::ProductQuery query;
  query.q = "整包小米";
  auto page = Await<catalog::ProductPage>([&](auto d) { t.p.catalog->ListProducts(query, d); });
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->products.empty());
  EXPECT_EQ(StoredImages(t.p.kv()), 0u);
}

TEST(PackArchive, OnlyImagesSomeRowNamesAreStored) {
  Importer t;
  std::vector<std::pair<std::string, std::string>> entries = {
      {"manifest.json", std::string(kManifest)},
      {"products.ndjson",
       R"({"outer_id":"U-1","title":"图片小米","images":["used.png","images/also.png"],)"
       R"("skus":[{"spec":"1","price_fen":100,"stock":1}]})"
       "\n"},
      {"images/used.png", Png(1)},
      {"images/also.png", Png(2)}};
  for (int i = 0; i < 30; ++i)
    entries.push_back({"images/spare-" + std::to_string(100 + i) + ".png", Png(100 + i)});
  auto r = t.Import(PackFile::OpenBytes(Zip(entries)));
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->created, 1);
  EXPECT_EQ(StoredImages(t.p.kv()), 2u);
  EXPECT_EQ(r->ignored_images, 30);
  ASSERT_EQ(r->ignored_image_names.size(), catalog::ImportReport::kMaxListedIgnoredImages);
  EXPECT_EQ(r->ignored_image_names.front(), "spare-100.png");
  EXPECT_EQ(r->ignored_image_names.back(), "spare-119.png");
  EXPECT_EQ(t.ByTitle("图片小米").details.images.size(), 2u);
}

TEST(TaobaoCsv, FormulasAreNeutralisedAndTheExportReadsBackUnchanged) {
  // Cells a spreadsheet would run (OWASP CSV injection) get a leading quote; reading our own
  // export drops exactly that quote, so the text round-trips and the quotes never grow.
  EXPECT_EQ(catalog::CsvCell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
  for (std::string text : {"=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tx", "\rx", "'=x",
                           "''", "'", "'a", "plain", "", "1-2", "沁州黄"}) {
    EXPECT_EQ(catalog::CsvCellText(catalog::CsvCell(text)), text) << text;
  }
  EXPECT_EQ(catalog::CsvCell("plain"), "plain");
  EXPECT_EQ(catalog::CsvCell("'a"), "'a");
  Importer t;
  std::vector<catalog::PackRow> rows(1);
  rows[0].row = 1;
  rows[0].outer_id = "-1";
  rows[0].product.title = "=HYPERLINK(\"http://evil.example\",\"点击\")";
  rows[0].product.details.subtitle = "@SUM(A1:A9)";
  rows[0].product.details.description = "+cmd|' /C calc'!A0";
  rows[0].product.details.barcode = "'=already quoted";
  rows[0].product.skus = {{"=2+5", Fen(100), 1}};
  auto imported =
      Await<catalog::ImportReport>([&](auto d) { t.p.catalog->ImportPack(t.seller.id, rows, d); });
  ASSERT_TRUE(imported.ok() && imported->created == 1)
      << imported.message() << (imported.ok() ? imported->errors.at(0).message : "");
  auto first = catalog::ExportPackFile(*t.p.catalog, t.seller.id, catalog::PackFormat::kTaobao);
  ASSERT_TRUE(first.ok()) << first.message();
  auto csv_of = [](const std::string& zip) {
    std::string text;
    archive* a = archive_read_new();
    archive_read_support_format_zip(a);
    archive_read_open_memory(a, zip.data(), zip.size());
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      if (std::string(archive_entry_pathname(e)) != "pavilion.csv") continue;
      char buf[4096];
      for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof buf)) > 0;) text.append(buf, n);
    }
    archive_read_free(a);
    return catalog::DecodeCsvText(text).value();
  };
  const std::string csv = csv_of(*first);
  for (const char* cell :
       {"\"'=HYPERLINK(", "\"'@SUM(A1:A9)\"", "\"'+cmd|", "\"''=already quoted\"", "\"'-1\""}) {
    const size_t at = csv.find(cell);  // A whole cell: after a separator or a line break.
    ASSERT_NE(at, std::string::npos) << cell << "\n" << csv;
    EXPECT_TRUE(csv[at - 1] == '\t' || csv[at - 1] == '\n') << cell;
  }
  for (const char* raw :
       {"\t=", "\t+", "\t-", "\t@", "\t\"=", "\t\"+", "\t\"-", "\t\"@", "\n=", "\n\"="}) {
    EXPECT_EQ(csv.find(raw), std::string::npos) << raw;
  }
  auto again = t.Import(PackFile::OpenBytes(*first));
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_TRUE(again->errors.empty()) << again->errors.at(0).message;
  EXPECT_EQ(again->created, 0);
  auto exported = Await<std::vector<catalog::PackRow>>(
      [&](auto d) { t.p.catalog->ExportPack(t.seller.id, d); });
  ASSERT_TRUE(exported.ok());
  ASSERT_EQ(exported->size(), 1u);
  const auto& back = (*exported)[0];
  EXPECT_EQ(back.outer_id, "-1");
  EXPECT_EQ(back.product.title, rows[0].product.title);
  EXPECT_EQ(back.product.details.subtitle, "@SUM(A1:A9)");
  EXPECT_EQ(back.product.details.description, "+cmd|' /C calc'!A0");
  EXPECT_EQ(back.product.details.barcode, "'=already quoted");
  EXPECT_EQ(back.product.skus.at(0).spec, "=2+5");
  auto second = catalog::ExportPackFile(*t.p.catalog, t.seller.id, catalog::PackFormat::kTaobao);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(csv_of(*second), csv);  // No quote grew.
}

TEST(TaobaoCsv, DecodingAndParsingRules) {
  int64_t fen = 0;
  EXPECT_TRUE(catalog::ParseYuan("29.9", &fen));
  EXPECT_EQ(fen, 2990);
  EXPECT_TRUE(catalog::ParseYuan("128", &fen));
  EXPECT_EQ(fen, 12800);
  EXPECT_FALSE(catalog::ParseYuan("1.234", &fen));
  EXPECT_FALSE(catalog::ParseYuan("-1", &fen));
  EXPECT_FALSE(catalog::ParseYuan("", &fen));
  std::string enc;
  EXPECT_EQ(*catalog::DecodeCsvText("\xEF\xBB\xBFversion", &enc), "version");
  EXPECT_EQ(enc, "UTF-8");
  EXPECT_EQ(*catalog::DecodeCsvText(std::string("\xFF\xFEv\0", 4), &enc), "v");
  EXPECT_EQ(enc, "UTF-16LE");
  // 米 (U+7C73), é (U+00E9) and 𝄞 (U+1D11E, a surrogate pair), in both byte orders.
  EXPECT_EQ(*catalog::DecodeCsvText(std::string("\xFF\xFE\x73\x7C\xE9\x00\x34\xD8\x1E\xDD", 10)),
            "米é𝄞");
  EXPECT_EQ(
      *catalog::DecodeCsvText(std::string("\xFE\xFF\x7C\x73\x00\xE9\xD8\x34\xDD\x1E", 10), &enc),
      "米é𝄞");
  EXPECT_EQ(enc, "UTF-16BE");
  auto lone = catalog::DecodeCsvText(std::string("\xFF\xFEv\0\x34\xD8v\0", 8));  // high, no low
  EXPECT_NE(lone.message().find("byte 2 is not valid UTF-16LE"), std::string::npos)
      << lone.message();
  EXPECT_FALSE(catalog::DecodeCsvText(std::string("\xFF\xFEv\0v", 5)).ok());      // odd length
  EXPECT_FALSE(catalog::DecodeCsvText(std::string("\xFF\xFE\x1E\xDD", 4)).ok());  // low alone
  EXPECT_EQ(*catalog::DecodeCsvText("\xC3\xD7", &enc), "米");                     // GBK
  EXPECT_FALSE(catalog::DecodeCsvText("\xEF\xBB\xBF\xFF").ok());
  auto mapping = catalog::TaobaoMapping::Default();
  EXPECT_FALSE(mapping.Merge("category\t1").ok());
  auto no_header = catalog::TaobaoCsvReader::Open("title,price\n", mapping);
  EXPECT_NE(no_header.message().find("version"), std::string::npos);
  auto no_keys = catalog::TaobaoCsvReader::Open("version 1.00\nname,cost\nx\n", mapping);
  EXPECT_NE(no_keys.message().find("no column title"), std::string::npos);
  std::string unclosed = "version 1.00\ntitle,price,num,outer_id\nl\n\"x,1,1,A\n";
  auto reader = catalog::TaobaoCsvReader::Open(unclosed, mapping);
  ASSERT_TRUE(reader.ok());
  auto rows = reader->Next(10);
  ASSERT_EQ(rows.errors.size(), 1u);
  EXPECT_EQ(rows.errors[0].row, 4);
  EXPECT_NE(rows.errors[0].message.find("never closed"), std::string::npos);
}

TEST(TaobaoCsv, LargeUtf16IsDecodedInHalvesLikeWhole) {
  // Past 4 MiB the decoder works on two halves at once: a surrogate pair across the middle and
  // an error after it come out as from one pass.
  const size_t units = (5u << 20) / 2;
  std::string body(units * 2, '\0');
  for (size_t i = 0; i < units; ++i) body[2 * i] = 'a';
  const size_t mid = body.size() / 4 * 2;        // Where the halves would meet.
  body.replace(mid - 2, 4, "\x34\xD8\x1E\xDD");  // 𝄞: its low unit right at the middle.
  auto text = catalog::DecodeCsvText("\xFF\xFE" + body);
  ASSERT_TRUE(text.ok()) << text.message();
  EXPECT_EQ(text->size(), units - 2 + 4);
  EXPECT_EQ(text->substr(mid / 2 - 1, 5), "𝄞a");
  EXPECT_EQ(text->find_first_not_of('a', mid / 2 + 3), std::string::npos);
  // A low surrogate alone, in the second half.
  body.replace(mid + 100, 2, std::string("\x00\xDC", 2));
  auto bad = catalog::DecodeCsvText("\xFF\xFE" + body);
  EXPECT_NE(bad.message().find("byte " + std::to_string(mid + 100) + " is not valid UTF-16LE"),
            std::string::npos)
      << bad.message();
}

TEST(Products, SellersEditOnlyTheirOwn) {
  testing::InProcess p;
  auto owner = p.Seller();
  auto other = p.Seller("433126");
  auto product = p.Product(owner.id, 2990, 10);
  auto in = testing::ProductIn(owner.id, "沁州黄小米 新米",
                               {{"500g", Fen(3290), 8}, {"1kg", Fen(5990), 4}});
  in.details.subtitle = "当季新米";
  auto denied = Await<catalog::Product>(
      [&](auto d) { p.catalog->UpdateProduct(product.id, in, other.id, d); });
  EXPECT_EQ(denied.error(), events::svc_errc::forbidden);
  auto bad = in;
  bad.details.images = {"nothing.jpg"};
  auto invalid = Await<catalog::Product>(
      [&](auto d) { p.catalog->UpdateProduct(product.id, bad, owner.id, d); });
  EXPECT_NE(invalid.message().find("images[0]"), std::string::npos);
  const uint64_t head = p.store->head();
  auto edited = Await<catalog::Product>(
      [&](auto d) { p.catalog->UpdateProduct(product.id, in, owner.id, d); });
  ASSERT_TRUE(edited.ok()) << edited.message();
  EXPECT_EQ(edited->title, "沁州黄小米 新米");
  EXPECT_EQ(edited->details.subtitle, "当季新米");
  ASSERT_EQ(edited->skus.size(), 2u);
  EXPECT_EQ(edited->skus[0].id, product.skus[0].id);  // Same spec, same SKU.
  EXPECT_EQ(edited->skus[0].price, Fen(3290));
  EXPECT_EQ(p.store->head(), head + 1);
  auto history = p.store->ReadStream(product.id);
  EXPECT_EQ(history->back().type, "product.updated");
  // The operator (no acting seller) may edit any product.
  auto by_operator =
      Await<catalog::Product>([&](auto d) { p.catalog->UpdateProduct(product.id, in, "", d); });
  EXPECT_TRUE(by_operator.ok());
}

}  // namespace
}  // namespace pavilion
