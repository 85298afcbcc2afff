// PackFile: a product data pack as a file, read with libarchive, and the importer that feeds it
// to the catalog. Formats (docs/packs.md):
//   - the native pack: a zip with `manifest.json` ({"format":"pavilion-pack","version":1}),
//     `products.ndjson` (pack.h) and `images/`; rows name images by their path under `images/`;
//   - a 淘宝助理 pack (taobao_csv.h): a zip with `X.csv` and `X/<name>.tbi` images, optionally a
//     `mapping.tsv` (TaobaoMapping::Merge) of its category and property ids;
//   - a bare `products.ndjson` or `X.csv`.
// Archives are untrusted: entry names that climb out (`..`, absolute, backslashes), links,
// special and encrypted entries reject the pack. Every byte decompressed is counted as it comes
// (never trusting the sizes an archive declares): entries are never skipped by the archive
// library, which would decompress a tar.gz's skipped entries unseen, but read and counted. Each
// reading of the pack (the first checks every entry; the rows, images and rows again follow)
// stops the moment one of PackLimits is passed — per entry, in all, or as a compression ratio —
// with a message naming the limit and what to send instead. Nothing is ever written to disk by an
// entry's name. Products are streamed: memory stays bounded by one piece of rows.
//
// A PackFile is used by one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/catalog/taobao_csv.h"

namespace pavilion::catalog {

// What one reading of a pack may decompress. A seller meets these limits (README.md).
struct PackLimits {
  size_t max_entries = 100'000;
  uint64_t max_total_bytes = 4ull << 30;     // Uncompressed, all entries of one reading.
  uint64_t max_products_bytes = 2ull << 30;  // products.ndjson (and any *.ndjson, *.jsonl, *.json)
  uint64_t max_csv_bytes = 512ull << 20;     // X.csv (decoded in memory)
  size_t max_image_bytes = kMaxImageBytes;   // Each image, and each entry of any other name.
  size_t max_line_bytes = 1 << 20;           // One NDJSON row.
  size_t max_rows = 1'000'000;
  // Uncompressed bytes may be at most this many times the archive's own size, once past
  // `ratio_free_bytes` (small packs of repetitive text compress well and are never bombs).
  // NDJSON and CSV compress 5 to 20 times, images hardly at all; bombs by a thousand and more.
  uint64_t max_ratio = 100;
  uint64_t ratio_free_bytes = 16ull << 20;
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
  // The names rows use for the pack's images (native: the path under images/; Taobao: the file
  // name without extension).
  std::vector<std::string> ImageNames() const;
  // Calls `fn` with each image `wanted` accepts (all when it is empty) and its name. Stops
  // early when `fn` returns false. Images not wanted are read past, counted, never kept.
  Result<bool> ForEachImage(const std::function<bool(const std::string&, std::string)>& fn,
                            const std::function<bool(const std::string&)>& wanted = {});
  // The next up to `max_rows` rows and per-row errors; `done` once the products are read.
  Result<ParsedPack> Next(size_t max_rows, bool* done);
  // Starts the rows again from the first (after a reading of them to the end, or part way).
  void Rewind();

  class Impl;

 private:
  explicit PackFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a pack should become: the seller's native pack or its 淘宝助理 CSV form, both zipped.
enum class PackFormat { kNative, kTaobao };

// Imports a pack into the catalog for a seller, all or nothing: first every row is read and
// parsed, writing nothing, so a pack refused whole (a limit passed, an unreadable archive, a
// line too long, too many rows) changes nothing and leaves nothing behind; then only the images
// some row names are stored (the others are counted in the report as ignored); then the rows are
// applied in pieces (each piece one atomic ImportPack; a row is never half-applied; invalid rows
// are reported and change nothing), four pieces in flight, each prepared on the calling thread
// (CatalogService::PrepareRows) before it is submitted. A row naming an image that is neither in
// the pack nor stored is reported. Blocks until done: call it on a thread of its own, never on
// the catalog's worker or an HTTP thread.
Result<ImportReport> ImportPackFile(CatalogService& catalog, PackFile& file,
                                    const std::string& seller_id, size_t piece_rows = 2'000);

// Writes a seller's catalogue as a zipped pack with its stored images; blocks until done.
Result<std::string> ExportPackFile(CatalogService& catalog, const std::string& seller_id,
                                   PackFormat format);

}  // namespace pavilion::catalog
