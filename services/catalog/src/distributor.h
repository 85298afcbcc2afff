// Distributor: one-click distribution (一键分销). Creates and reprices a distributor's listings
// of a supplier's products, and carries every change of a source product to its listings in the
// same transaction (product.updated). Owns the keys "cat/listing/<distributor>\0<source>" (a
// distributor's listing of a source, cached) and "cat/listings-of/<source>\0<listing>" (every
// listing of a source, all kept in memory: a source's change must find them without a scan).
// The rules (markups, chain depth, prices) are in distribution_rules.h.
//
// Owned by the catalog worker; not thread-safe.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

class ProductStore;

class Distributor {
 public:
  // Loads which products resell which; throws when they cannot be read.
  Distributor(events::EventStore& store, ProductStore& products);

  Result<DistributeReport> Distribute(const DistributeInput& in, events::Transaction& tx);
  // Carries a product's change to the listings that resell it (two levels at most).
  void SyncListingsOf(const Product& source, events::Transaction& tx);

  size_t cached() const { return listings_.size(); }
  void DropCache() { listings_.clear(); }

 private:
  // Makes a listing show its source as it is now, priced with the listing's markup; emits
  // product.created (new) or product.updated, then carries the change to its own listings.
  void SyncListing(Product& listing, const Product& source, events::Transaction& tx,
                   bool created = false);
  // The listing a distributor has of a source product, or empty.
  std::string Listing(const std::string& distributor, const std::string& source);
  // The seller at the end of a product's chain.
  std::string RootSeller(const Product& p);

  events::EventStore& store_;
  ProductStore& products_;
  // Which products resell a product (all of them), and a cache of (distributor, source) →
  // listing.
  std::unordered_map<std::string, std::vector<std::string>> listings_of_;
  std::unordered_map<std::string, std::string> listings_;
};

}  // namespace pavilion::catalog
