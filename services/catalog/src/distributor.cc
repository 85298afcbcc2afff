#include "distributor.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "distribution_rules.h"
#include "keys.h"
#include "product_store.h"

namespace pavilion::catalog {

using events::svc_errc;
namespace schema = events::schema;

Distributor::Distributor(events::EventStore& store, ProductStore& products,
                         uint32_t profit_sharing_cap_bps)
    : store_(store), products_(products), cap_bps_(profit_sharing_cap_bps) {
  const std::string_view prefix = keys::kListingsOfPrefix;
  auto ec = store_.kv().Scan(
      prefix, storage::PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
        auto rest = k.substr(prefix.size());
        size_t nul = rest.find('\0');
        listings_of_[std::string(rest.substr(0, nul))].emplace_back(rest.substr(nul + 1));
        return true;
      });
  if (ec) throw std::runtime_error("catalog: cannot read the listings: " + ec.message());
  std::string rules;
  if (auto get = store_.kv().Get(keys::kFeeRules, &rules); !get) {
    auto decoded = events::Decode<schema::FeeRulesSet>(rules);
    if (!decoded.ok()) throw std::runtime_error("catalog: the fee rules do not decode");
    fee_rules_ = std::move(*decoded);
  } else if (get != storage::errc::not_found) {
    throw std::runtime_error("catalog: cannot read the fee rules: " + get.message());
  }
}

void Distributor::FeeRulesSet(const schema::FeeRulesSet& rules, events::Transaction& tx) {
  tx.state().Put(keys::kFeeRules, events::Encode(rules));
  fee_rules_ = rules;
}

Result<DistributeReport> Distributor::Distribute(const DistributeInput& in,
                                                 events::Transaction& tx) {
  if (auto bad = CheckMarkup(in)) return *bad;
  const Seller* distributor = products_.LoadSeller(in.distributor_id);
  if (!distributor) return {svc_errc::not_found, "distributor_id: no seller " + in.distributor_id};
  const std::string distributor_id = distributor->id;
  if (!products_.LoadSeller(in.supplier_id)) {
    return {svc_errc::not_found, "supplier_id: no seller " + in.supplier_id};
  }
  std::vector<std::string> ids = in.product_ids;
  if (in.supplier_id != distributor_id && ids.empty()) {
    ids = products_.index().ProductsOf(in.supplier_id);  // The supplier's whole pack.
  }
  if (auto bad = CheckDistribute(in, ids.size())) return *bad;
  if (cap_bps_ > 0) {
    // The whole request or none of it: the markup is the request's, so is the refusal.
    for (const auto& id : ids) {
      const Product* source = products_.LoadProduct(id);
      if (source == nullptr || source->seller_id != in.supplier_id || source->level >= 2) continue;
      const Product copy = *source;
      const std::string root = RootSeller(copy);
      const uint32_t fee = FeeBps(fee_rules_, root, copy.category, copy.poverty_zone);
      const uint32_t margin = ListingMarginBps(copy, in.markup_percent, in.markup_fen);
      if (auto bad = CheckProfitSharing(cap_bps_, margin, fee, in, copy.id)) return *bad;
    }
  }
  DistributeReport report;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int row = static_cast<int>(i) + 1;
    const Product* found = products_.LoadProduct(ids[i]);
    if (found == nullptr || found->seller_id != in.supplier_id) {
      report.errors.push_back(
          {row, "product_ids[" + std::to_string(i) + "]: the supplier has no product " + ids[i]});
      continue;
    }
    const Product source = *found;
    const std::string root = source.level == 1 ? RootSeller(source) : std::string();
    if (auto bad = CheckDistributable(source, root, distributor_id, i); !bad.empty()) {
      report.errors.push_back({row, std::move(bad)});
      continue;
    }
    std::string listing_id = Listing(distributor_id, source.id);
    if (!listing_id.empty()) {
      Product* listing = products_.LoadProduct(listing_id);
      if (listing == nullptr) return {svc_errc::internal, "listing " + listing_id + " is missing"};
      const bool same =
          listing->markup_percent == in.markup_percent && listing->markup_fen == in.markup_fen;
      listing->markup_percent = in.markup_percent;
      listing->markup_fen = in.markup_fen;
      if (same) {
        ++report.unchanged;
      } else {
        SyncListing(*listing, source, tx);
        ++report.updated;
      }
      report.listing_ids.push_back(listing_id);
      continue;
    }
    Product listing;
    listing.id = events::NewId("prd");
    listing.seller_id = distributor_id;
    listing.created_micros = store_.clock().NowMicros();
    listing.source_product_id = source.id;
    listing.level = source.level + 1;
    listing.markup_percent = in.markup_percent;
    listing.markup_fen = in.markup_fen;
    Product& stored = products_.CacheProduct(listing);
    SyncListing(stored, source, tx, /*created=*/true);
    listings_[keys::Listing(distributor_id, source.id)] = listing.id;
    tx.state().Put(keys::Listing(distributor_id, source.id), listing.id);
    tx.state().Put(keys::ListingsOf(source.id, listing.id), "");
    listings_of_[source.id].push_back(listing.id);
    report.listing_ids.push_back(listing.id);
    ++report.created;
  }
  return report;
}

void Distributor::SyncListing(Product& listing, const Product& source, events::Transaction& tx,
                              bool created) {
  listing.title = source.title;
  listing.place_code = source.place_code;
  listing.brand = source.brand;
  listing.category = source.category;
  listing.certifications = source.certifications;
  listing.floor_price = source.floor_price;  // The supplier's floor binds every reseller.
  listing.poverty_zone = source.poverty_zone;
  listing.details = source.details;
  schema::ProductCreated event{listing.id,
                               listing.seller_id,
                               listing.title,
                               listing.place_code,
                               {},
                               listing.brand,
                               listing.category,
                               listing.certifications,
                               listing.floor_price,
                               listing.poverty_zone,
                               listing.details,
                               listing.source_product_id,
                               {},
                               0};
  event.supplier_id = RootSeller(source);
  std::vector<int64_t> prices;
  for (const auto& source_sku_id : source.sku_ids) {
    const Sku* from = products_.LoadSku(source_sku_id);
    if (from == nullptr) continue;
    const std::optional<Fen> supply = SupplyPrice(*from);
    from = products_.LoadSku(source_sku_id);  // SupplyPrice may have loaded others.
    Sku* mine = nullptr;
    for (const auto& id : listing.sku_ids) {
      Sku* candidate = products_.LoadSku(id);
      if (candidate && candidate->source_sku_id == source_sku_id) mine = candidate;
    }
    if (mine == nullptr) {
      Sku fresh{events::NewId("sku"),
                listing.id,
                listing.seller_id,
                listing.place_code,
                from->spec,
                from->price,
                0,
                0,
                0,
                source_sku_id,
                0};
      listing.sku_ids.push_back(fresh.id);
      mine = &products_.CacheSku(std::move(fresh));
    }
    mine->spec = from->spec;
    mine->place_code = source.place_code;
    // A price past int64 is kept as the largest one, never wrapped: an order for it is
    // refused (the order service's kMaxOrderTotal), and nothing sums listing prices.
    mine->price =
        ListingPrice(from->price, listing).value_or(Fen(std::numeric_limits<int64_t>::max()));
    tx.state().Put(keys::Sku(mine->id), events::Encode(*mine));
    event.skus.push_back(
        schema::SkuSpec{mine->id, mine->spec, mine->price, 0, mine->source_sku_id});
    prices.push_back(mine->price.value());
    if (supply) event.margin_bps = std::max(event.margin_bps, MarginBps(mine->price, *supply));
  }
  tx.state().Put(keys::Product(listing.id), events::Encode(listing));
  if (created) {
    tx.Emit(listing.id, events::kFreshStream, event);
  } else {
    tx.EmitAs(schema::ProductCreated::kUpdated, listing.id, events::kAnyVersion, event);
  }
  products_.index().Put(listing, std::move(prices));
  SyncListingsOf(listing, tx);
}

void Distributor::SyncListingsOf(const Product& source, events::Transaction& tx) {
  auto it = listings_of_.find(source.id);
  if (it == listings_of_.end()) return;
  const std::vector<std::string> listings = it->second;  // SyncListing may add to the map.
  for (const auto& id : listings) {
    if (Product* listing = products_.LoadProduct(id)) SyncListing(*listing, source, tx);
  }
}

std::string Distributor::Listing(const std::string& distributor, const std::string& source) {
  std::string key = keys::Listing(distributor, source);
  if (auto it = listings_.find(key); it != listings_.end()) return it->second;
  std::string id;
  if (store_.kv().Get(key, &id)) return {};
  return listings_[key] = id;
}

std::optional<Fen> Distributor::SupplyPrice(const Sku& source_sku) {
  Fen price = source_sku.price;
  std::string next = source_sku.source_sku_id;
  for (int hops = 0; !next.empty() && hops < 2; ++hops) {
    const Sku* at = products_.LoadSku(next);
    if (at == nullptr) return std::nullopt;
    price = at->price;
    next = at->source_sku_id;
  }
  return price;
}

uint32_t Distributor::ListingMarginBps(const Product& source, int64_t markup_percent,
                                       int64_t markup_fen) {
  Product listing;
  listing.markup_percent = markup_percent;
  listing.markup_fen = markup_fen;
  listing.floor_price = source.floor_price;
  uint32_t margin = 0;
  for (const auto& sku_id : source.sku_ids) {
    const Sku* from = products_.LoadSku(sku_id);
    if (from == nullptr) continue;
    const Fen source_price = from->price;
    const std::optional<Fen> supply = SupplyPrice(*from);
    const Fen price =
        ListingPrice(source_price, listing).value_or(Fen(std::numeric_limits<int64_t>::max()));
    if (supply) margin = std::max(margin, MarginBps(price, *supply));
  }
  return margin;
}

std::optional<Error> Distributor::CheckRepricing(const Product& source, const ProductInput& in,
                                                 Fen floor) {
  if (cap_bps_ == 0 || source.level != 0) return std::nullopt;
  auto it = listings_of_.find(source.id);
  if (it == listings_of_.end()) return std::nullopt;
  const std::vector<std::string> level1 = it->second;
  // The SKUs as they would be: the input's by spec, the others as they are.
  std::vector<std::pair<Fen, int>> prices;  // Price, index in in.skus (-1: unchanged).
  for (size_t i = 0; i < in.skus.size(); ++i) prices.emplace_back(in.skus[i].price, int(i));
  for (const auto& sku_id : source.sku_ids) {
    const Sku* sku = products_.LoadSku(sku_id);
    if (sku == nullptr) continue;
    const bool named = std::any_of(in.skus.begin(), in.skus.end(),
                                   [&](const SkuInput& s) { return s.spec == sku->spec; });
    if (!named) prices.emplace_back(sku->price, -1);
  }
  const uint32_t fee = FeeBps(fee_rules_, source.seller_id, in.category, source.poverty_zone);
  std::vector<std::string> past;
  uint32_t worst = 0, worst_margin = 0;
  int field = -1;
  auto check = [&](const Product& listing, Fen price, Fen supply, int index) {
    const uint32_t margin = MarginBps(price, supply);
    const uint32_t split = events::schema::ProfitSharingSplitBps(margin, fee);
    if (split <= cap_bps_) return;
    if (std::find(past.begin(), past.end(), listing.id) == past.end()) past.push_back(listing.id);
    if (split > worst) {
      worst = split;
      worst_margin = margin;
      field = index;
    }
  };
  for (const auto& id1 : level1) {
    const Product* found1 = products_.LoadProduct(id1);
    if (found1 == nullptr) continue;
    Product l1 = *found1;
    l1.floor_price = floor;  // The supplier's floor binds every reseller.
    std::vector<std::string> level2;
    if (auto l2s = listings_of_.find(l1.id); l2s != listings_of_.end()) level2 = l2s->second;
    std::vector<Product> l2;
    for (const auto& id2 : level2) {
      if (const Product* found2 = products_.LoadProduct(id2)) {
        l2.push_back(*found2);
        l2.back().floor_price = floor;
      }
    }
    for (const auto& [price, index] : prices) {
      const Fen p1 = ListingPrice(price, l1).value_or(Fen(std::numeric_limits<int64_t>::max()));
      check(l1, p1, price, index);
      for (const Product& listing2 : l2) {
        const Fen p2 =
            ListingPrice(p1, listing2).value_or(Fen(std::numeric_limits<int64_t>::max()));
        check(listing2, p2, price, index);
      }
    }
  }
  if (past.empty()) return std::nullopt;
  std::string listings;
  for (const auto& id : past) listings += (listings.empty() ? "" : ", ") + id;
  const std::string at = field >= 0 ? "skus[" + std::to_string(field) + "].price" : "category";
  return Error{
      make_error_code(svc_errc::invalid_argument),
      at + ": the new price would split " + std::to_string(worst) +
          " bps of a listing's price away from the supplier (" + std::to_string(worst_margin) +
          " bps to distributors, a platform fee of " + std::to_string(fee) +
          " bps), past the profit-sharing cap of " + std::to_string(cap_bps_) +
          " bps (WeChat Pay/Alipay, --profit-sharing-cap-bps); listings past it: " + listings +
          "; keep the price or ask their distributors to lower the markup"};
}

std::string Distributor::RootSeller(const Product& p) {
  const Product* at = &p;
  for (int hops = 0; at && at->level > 0 && hops < 2; ++hops) {
    at = products_.LoadProduct(at->source_product_id);
  }
  return at ? at->seller_id : "";
}

}  // namespace pavilion::catalog
