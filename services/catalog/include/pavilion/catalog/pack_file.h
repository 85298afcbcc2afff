// PackFile: a product data pack as a file, read with libarchive, and the importer that feeds it
// to the catalog. Formats (docs/packs.md):
//   - the native pack: a zip with `manifest.json` ({"format":"pavilion-pack","version":1}),
//     `products.ndjson` (pack.h) and `images/`; rows name images by their path under `images/`;
//   - a 淘宝助理 pack (taobao_csv.h): a zip with `X.csv` and `X/<name>.tbi` images, optionally a
//     `mapping.tsv` (TaobaoMapping::Merge) of its category and property ids;
//   - a bare `products.ndjson` or `X.csv`.
// Archives are untrusted: entry names that climb out (`..`, absolute, backslashes), links,
// special and encrypted entries reject the pack; entries, bytes per entry and bytes in all are
// counted while reading (never trusting the sizes an archive declares), so a zip bomb stops at
// the limit. Nothing is ever written to disk by an entry's name. Products are streamed: memory
// stays bounded by one piece of rows whatever the pack's size.
//
// A PackFile is used by one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/catalog/taobao_csv.h"

namespace pavilion::catalog {

struct PackLimits {
  size_t max_entries = 100'000;
  uint64_t max_total_bytes = 4ull << 30;     // Uncompressed, every entry of every pass.
  uint64_t max_products_bytes = 2ull << 30;  // products.ndjson
  uint64_t max_csv_bytes = 512ull << 20;     // X.csv (decoded in memory)
  size_t max_image_bytes = kMaxImageBytes;
  size_t max_line_bytes = 1 << 20;  // One NDJSON row.
  size_t max_rows = 1'000'000;
};

enum class PackKind { kNative, kTaobao };

class PackFile {
 public:
  // Opens a pack on disk or in memory (an HTTP body) and checks its entries and manifest.
  static Result<std::unique_ptr<PackFile>> OpenPath(std::string path, PackLimits limits = {});
  static Result<std::unique_ptr<PackFile>> OpenBytes(std::string bytes, PackLimits limits = {});
  ~PackFile();

  PackKind kind() const;
  size_t image_count() const;
  // Calls `fn` with each image and the name rows use for it (native: its path under images/;
  // Taobao: its file name without extension). Stops early when `fn` returns false.
  Result<bool> ForEachImage(const std::function<bool(const std::string&, std::string)>& fn);
  // The next up to `max_rows` rows and per-row errors; `done` once the products are read.
  Result<ParsedPack> Next(size_t max_rows, bool* done);

  class Impl;

 private:
  explicit PackFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a pack should become: the seller's native pack or its 淘宝助理 CSV form, both zipped.
enum class PackFormat { kNative, kTaobao };

// Imports a pack into the catalog for a seller: stores its images, then applies its rows in
// pieces (each piece one atomic ImportPack; a row is never half-applied), four pieces in flight,
// each prepared on the calling thread (CatalogService::PrepareRows) before it is submitted.
// A row naming an image that is neither in the pack nor stored is reported. Blocks until done:
// call it on a thread of its own, never on the catalog's worker.
Result<ImportReport> ImportPackFile(CatalogService& catalog, PackFile& file,
                                    const std::string& seller_id, size_t piece_rows = 2'000);

// Writes a seller's catalogue as a zipped pack with its stored images; blocks until done.
Result<std::string> ExportPackFile(CatalogService& catalog, const std::string& seller_id,
                                   PackFormat format);

}  // namespace pavilion::catalog
