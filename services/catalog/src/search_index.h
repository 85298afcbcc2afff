// SearchIndex: the catalogue's browse and search index, in memory.
//
// Every product is a document numbered in creation order, holding what the filters need (seller,
// place, brand, category, certificates, poverty zone, SKU prices) and its lower-cased title; each
// character and each pair of adjacent characters of a title points at the documents holding it
// (sorted posting lists). A query intersects the postings of its words' grams, checks the words
// really occur, filters, sorts and pages. Current stock is not indexed (it changes with every
// order): the caller's `in_stock` predicate is asked only for candidates that passed every other
// filter, in page order.
//
// The index is derived state: the catalog rebuilds it from the product records at start and
// updates it with each product it writes, so it costs no write per gram. Owned by the catalog
// worker; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

class SearchIndex {
 public:
  // A price-sorted query whose candidates number at least `walk_threshold` walks one
  // price-ordered list of every document (see Query) instead of sorting its candidates.
  explicit SearchIndex(size_t walk_threshold = 4096) : walk_threshold_(walk_threshold) {}

  // Adds a product or replaces what is indexed of it; `prices` are its SKUs' prices in fen.
  void Put(const Product& p, std::vector<int64_t> prices) { PutDoc(p, std::move(prices)); }
  // The same, taking the product's strings instead of copying them.
  void Put(Product&& p, std::vector<int64_t> prices) { PutDoc(std::move(p), std::move(prices)); }

  struct Hits {
    std::vector<std::string> product_ids;
    std::string next_cursor;
  };
  // `today` decides which certificates are valid; `in_stock(product id)` is asked only when the
  // query wants products in stock. Errors name the bad field.
  Result<Hits> Query(const ProductQuery& q, const std::string& today,
                     const std::function<bool(const std::string&)>& in_stock) const;

  // A seller's products (including its listings), oldest first.
  std::vector<std::string> ProductsOf(const std::string& seller_id) const;

  size_t size() const { return docs_.size(); }

 private:
  struct Doc {
    std::string id, seller_id, place_code, brand, category, title;  // title lower-cased
    std::vector<events::schema::Certification> certifications;
    std::vector<int64_t> prices;
    int64_t min_price = 0;
    bool poverty_zone = false;
    bool retitled = false;  // Postings of an older title still point here.
  };
  template <typename P>  // Product& or Product&&
  void PutDoc(P&& p, std::vector<int64_t> prices);

  // `words_indexed`: each word is one gram, so the postings alone prove it occurs (unless the
  // document was retitled).
  bool Matches(const Doc& d, const ProductQuery& q, const std::vector<std::string>& words,
               bool words_indexed, const std::string& today) const;

  // Visits documents by lowest price, ascending or descending (ties by document), until `fn`
  // returns false: the sorted list merged with the documents changed since it was sorted.
  void WalkByPrice(bool ascending, const std::function<bool(uint32_t)>& fn) const;

  size_t walk_threshold_;
  std::vector<Doc> docs_;
  // Every document by (lowest price, doc), sorted when too many changed since: changed ones are
  // flagged and visited from `changed_` instead. Mutable: a cache Query keeps.
  mutable std::vector<std::pair<int64_t, uint32_t>> by_price_;
  mutable std::vector<uint32_t> changed_;
  mutable std::vector<bool> is_changed_;
  std::unordered_map<std::string, uint32_t> doc_of_;                  // product id → doc
  std::unordered_map<std::string, std::vector<uint32_t>> by_seller_;  // seller → docs, ascending
  // gram → docs, ascending. A gram is at most two UTF-8 characters (≤ 8 bytes, never NUL), so
  // its bytes packed into a word name it exactly (GramKey).
  std::unordered_map<uint64_t, std::vector<uint32_t>> postings_;
};

}  // namespace pavilion::catalog
