// PackImporter: a seller's data pack in and out of the catalog. ImportPack applies rows keyed by
// outer_id ("cat/outer/<seller>\0<outer_id>" → "<product id>\n<content hash>"): new rows create,
// changed rows update, unchanged rows (or rows equal to an edited product) write nothing.
// ExportPack gives the catalogue back as rows that import to no change.
//
// Preparing rows (Prepare, PrepareAll) needs no catalog state and runs on the importer's own
// thread, looking every row's outer key up in one read; the worker then trusts that lookup unless
// the outer-key cache was dropped since (outer_trims_). That holds because every outer key
// written stays in outer_ until a trim, and a trim comes only after those writes are durable.
//
// Import and export run on the catalog worker; Prepare/PrepareAll are thread-safe (they read
// only the store and outer_trims_).
#pragma once

#include <atomic>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

class ProductCommands;
class ProductStore;

class PackImporter {
 public:
  PackImporter(events::EventStore& store, ProductStore& products, ProductCommands& commands)
      : store_(store), products_(products), commands_(commands) {}

  Result<ImportReport> Import(const std::string& seller_id, std::vector<PackRow>& rows,
                              events::Transaction& tx);
  Result<std::vector<PackRow>> Export(const std::string& seller_id);

  // Makes rows ready for Import off the catalog's thread: one row, or many in one batch read.
  void Prepare(const Seller& seller, PackRow& row) const;
  void PrepareAll(const Seller& seller, std::vector<PackRow>& rows) const;

  size_t cached() const { return outer_.size(); }
  void DropCache() {
    outer_.clear();
    outer_trims_.fetch_add(1, std::memory_order_release);
  }

 private:
  // What the store held under a row's outer key when it was read.
  struct OuterLookup {
    std::string key, stored;
    uint64_t trims;      // outer_trims_ before the read.
    std::error_code ec;  // Of the read: not_found, another error, or none.
  };
  void Prepare(const Seller& seller, PackRow& row, OuterLookup outer) const;
  // "<product id>\n<content hash>" of an imported outer_id, or empty.
  std::string Outer(const std::string& key, const PreparedProduct& prepared);
  // Whether a stored product already shows what a row says.
  bool SameContent(const Product& p, const ProductInput& in);

  events::EventStore& store_;
  ProductStore& products_;
  ProductCommands& commands_;
  std::unordered_map<std::string, std::string> outer_;  // Imported outer ids.
  std::atomic<uint64_t> outer_trims_{0};                // Times outer_ was dropped.
};

}  // namespace pavilion::catalog
