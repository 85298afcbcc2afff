// ProductStore: the catalog's records of sellers, products and SKUs as the catalog knows them
// now — the store's "cat/seller/", "cat/product/" and "cat/sku/" records behind caches — and
// the search index derived from them. Commands change the cached records in place and put them
// in their transaction; this class only reads and caches.
//
// A SKU read from the store is its record, or, when its stream has gone past the version the
// record names (Sku::stream_version), its last stock event's numbers: stock moves write no
// record. Records an import wrote without caching may still be queued for the store; a miss
// then waits for them (GetRecord). The caches are dropped only by the catalog's TrimCaches,
// between transactions, once every queued write is durable.
//
// Owned by the catalog worker; not thread-safe.
#pragma once

#include <string>
#include <system_error>
#include <unordered_map>

#include "pavilion/catalog/catalog_service.h"
#include "search_index.h"
#include "stock_rules.h"

namespace pavilion::catalog {

class ProductStore {
 public:
  // Rebuilds the search index from the stored records; throws when they cannot be read.
  explicit ProductStore(events::EventStore& store);

  const Seller* LoadSeller(const std::string& id);
  Result<Seller> GetSeller(const std::string& id);
  // The product record (without SKUs), or null.
  Product* LoadProduct(const std::string& id);
  // The product with its SKUs; a listing's SKUs show the stock they can sell.
  Result<Product> GetProduct(const std::string& id);
  // The SKU as the catalog knows it now (cached, or read and caught up), or null. Inline: every
  // order line starts here.
  Sku* LoadSku(const std::string& id) {
    if (auto it = skus_.find(id); it != skus_.end()) return &it->second;
    return ReadSku(id);
  }

  // The SKU and the SKUs it resells, up to the one whose stock it sells.
  SkuChain ChainOf(Sku* sku) {
    SkuChain c;
    for (Sku* at = sku; at != nullptr && c.size < c.skus.size();) {
      c.skus[c.size++] = at;
      if (at->source_sku_id.empty()) return c;
      at = LoadSku(at->source_sku_id);
    }
    return {};
  }
  // The SKU whose stock a SKU sells: itself, or the end of its listing chain.
  Sku* StockOf(Sku* sku) { return ChainOf(sku).stock(); }

  // Browse and search (the index), asking for stock only for what would be shown.
  Result<ProductPage> ListProducts(const ProductQuery& q);

  // Records a command has put in its transaction, cached so the same transaction reads them back.
  void CacheSeller(Seller s) { sellers_[s.id] = std::move(s); }
  Product& CacheProduct(Product p) {
    std::string id = p.id;
    return products_[std::move(id)] = std::move(p);
  }
  Sku& CacheSku(Sku s) {
    std::string id = s.id;
    return skus_[std::move(id)] = std::move(s);
  }
  // Records were written without caching them: a miss must wait for the store (GetRecord).
  void WroteUncached() { written_uncached_ = true; }

  SearchIndex& index() { return index_; }

  // Entries counted against CatalogOptions::cache_limit (sellers are few and not counted).
  size_t cached() const { return skus_.size() + products_.size(); }
  // Drops the caches; the caller has made every queued write durable.
  void DropCaches() {
    written_uncached_ = false;
    skus_.clear();
    products_.clear();
    sellers_.clear();
  }

 private:
  Sku* ReadSku(const std::string& id);
  std::error_code GetRecord(const std::string& key, std::string* bytes);
  bool CatchUp(Sku& sku);
  void BuildIndex();

  events::EventStore& store_;
  std::unordered_map<std::string, Seller> sellers_;
  std::unordered_map<std::string, Product> products_;
  std::unordered_map<std::string, Sku> skus_;
  bool written_uncached_ = false;  // Since the last wait for the store (see GetRecord).
  SearchIndex index_;
};

// Whether the store holds `key` (durable or written).
inline bool Stored(events::EventStore& store, const std::string& key) {
  std::string value;
  return !store.kv().Get(key, &value);
}

}  // namespace pavilion::catalog
