// Distributor: one-click distribution (一键分销). Creates and reprices a distributor's listings
// of a supplier's products, and carries every change of a source product to its listings in the
// same transaction (product.updated). Owns the keys "cat/listing/<distributor>\0<source>" (a
// distributor's listing of a source, cached) and "cat/listings-of/<source>\0<listing>" (every
// listing of a source, all kept in memory: a source's change must find them without a scan).
// The rules (markups, chain depth, prices) are in distribution_rules.h. Under the WeChat Pay /
// Alipay profit-sharing profile it also keeps the last fee rules settlement wrote
// ("cat/fee-rules", folded by the catalog's processor) and refuses a distribution whose split
// could pass the cap; every listing event carries its supplier and margin share for settlement.
//
// Owned by the catalog worker; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

class ProductStore;

class Distributor {
 public:
  // Loads which products resell which, and the fee rules; throws when they cannot be read.
  // `profit_sharing_cap_bps`: CatalogOptions' (0: no profile).
  Distributor(events::EventStore& store, ProductStore& products,
              uint32_t profit_sharing_cap_bps = 0);

  Result<DistributeReport> Distribute(const DistributeInput& in, events::Transaction& tx);
  // Carries a product's change to the listings that resell it (two levels at most).
  void SyncListingsOf(const Product& source, events::Transaction& tx);
  // Under the profit-sharing profile: whether a supplier's product may take these SKU prices,
  // category and floor (an update, before anything changes). Its listings keep their markups,
  // so a price cut raises a fixed markup_fen's share of a listing's price: nullopt when every
  // listing (both levels) still splits at most the cap under the fee rules read last, else the
  // 422 naming the SKU's field, the listings past the cap and the cap.
  std::optional<Error> CheckRepricing(const Product& source, const ProductInput& in, Fen floor);
  // settlement.fee_rules_set, folded by the catalog's processor.
  void FeeRulesSet(const events::schema::FeeRulesSet& rules, events::Transaction& tx);

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
  // The supplier's price of a source SKU: its own, or the SKU at the end of its chain.
  std::optional<Fen> SupplyPrice(const Sku& source_sku);
  // The largest margin share (MarginBps) of a listing of `source` with these markups.
  uint32_t ListingMarginBps(const Product& source, int64_t markup_percent, int64_t markup_fen);

  events::EventStore& store_;
  ProductStore& products_;
  // Which products resell a product (all of them), and a cache of (distributor, source) →
  // listing.
  std::unordered_map<std::string, std::vector<std::string>> listings_of_;
  std::unordered_map<std::string, std::string> listings_;
  const uint32_t cap_bps_;
  events::schema::FeeRulesSet fee_rules_;
};

}  // namespace pavilion::catalog
