#include "pack_importer.h"

#include <unordered_set>

#include "category_tree.h"
#include "keys.h"
#include "product_commands.h"
#include "product_rules.h"
#include "product_store.h"

namespace pavilion::catalog {

using events::svc_errc;

void PackImporter::Prepare(const Seller& seller, PackRow& row) const {
  std::string key = keys::Outer(seller.id, row.outer_id);
  const uint64_t trims = outer_trims_.load(std::memory_order_acquire);  // Before the read.
  std::string stored;
  auto ec = store_.kv().Get(key, &stored);
  Prepare(seller, row, {std::move(key), std::move(stored), trims, ec});
}

void PackImporter::PrepareAll(const Seller& seller, std::vector<PackRow>& rows) const {
  std::vector<std::string> outer_keys;
  outer_keys.reserve(rows.size());
  for (const auto& row : rows) outer_keys.push_back(keys::Outer(seller.id, row.outer_id));
  std::vector<std::string_view> views(outer_keys.begin(), outer_keys.end());
  std::vector<std::string> stored;
  std::vector<std::error_code> results;
  const uint64_t trims = outer_trims_.load(std::memory_order_acquire);  // Before the reads.
  store_.kv().MultiGet(views, &stored, &results);
  for (size_t i = 0; i < rows.size(); ++i) {
    Prepare(seller, rows[i], {std::move(outer_keys[i]), std::move(stored[i]), trims, results[i]});
  }
}

void PackImporter::Prepare(const Seller& seller, PackRow& row, OuterLookup outer) const {
  ProductInput in = row.product;
  in.seller_id = seller.id;
  ApplySellerDefaults(in, seller);
  auto prepared = std::make_shared<PreparedProduct>();
  prepared->seller_id = seller.id;
  prepared->outer_key = std::move(outer.key);
  if (!outer.ec || outer.ec == storage::errc::not_found) {
    prepared->outer_stored = std::move(outer.stored);
    prepared->outer_trims = outer.trims;
  }
  prepared->content_hash = ContentHash(in);
  const int64_t now = store_.clock().NowMicros();
  auto floor = CheckProduct(in, seller, *commands_.categories().Current(), now);
  if (floor.ok()) {
    if (auto bad = UnknownPlace(commands_.places(), in.place_code); !bad.empty()) {
      floor = Result<Fen>(svc_errc::invalid_argument, std::move(bad));
    }
  }
  if (floor.ok()) {
    BuildProduct(std::move(in), seller, *floor, now, *prepared);
  } else {
    prepared->error = floor.message();
  }
  row.prepared = std::move(prepared);
}

Result<ImportReport> PackImporter::Import(const std::string& seller_id, std::vector<PackRow>& rows,
                                          events::Transaction& tx) {
  const Seller* seller = products_.LoadSeller(seller_id);
  if (!seller) return {svc_errc::not_found, "seller_id: no seller " + seller_id};
  const Seller seller_copy = *seller;
  ImportReport report;
  report.rows = static_cast<int>(rows.size());
  std::unordered_set<std::string_view> in_pack;  // Views of the rows' own outer_ids.
  in_pack.reserve(rows.size());
  for (auto& row : rows) {
    row.product.seller_id = seller_id;
    if (auto bad = ControlCharacter("outer_id", row.outer_id); !bad.empty()) {
      report.errors.push_back({row.row, std::move(bad)});
      continue;
    }
    if (!in_pack.insert(row.outer_id).second) {
      report.errors.push_back(
          {row.row, "outer_id: " + row.outer_id + " appears twice in the pack"});
      continue;
    }
    // One path for every row: prepared here unless PrepareRows did it for this seller. The
    // hash is of the row as it will be stored, so a pack and its own export hash alike.
    if (!row.prepared || row.prepared->seller_id != seller_id) Prepare(seller_copy, row);
    ApplySellerDefaults(row.product, seller_copy);  // What an update stores.
    const std::string hash = events::Hex64(row.prepared->content_hash);
    const std::string& key = row.prepared->outer_key;
    std::string known = Outer(key, *row.prepared);
    if (known.empty() && row.outer_id.rfind("prd_", 0) == 0) {
      // An exported product that was never imported carries its product id as outer_id.
      const Product* own = products_.LoadProduct(row.outer_id);
      if (own != nullptr && own->seller_id == seller_id) {
        known = own->id + "\n";
        if (SameContent(*own, row.product)) {  // Remember it; nothing else changes.
          outer_[key] = own->id + "\n" + hash;
          tx.state().Put(key, outer_[key]);
          ++report.unchanged;
          continue;
        }
      }
    }
    std::string product_id;
    if (!known.empty()) {
      product_id = known.substr(0, known.find('\n'));
      if (known.substr(known.find('\n') + 1) == hash) {
        ++report.unchanged;
        continue;
      }
      // Edited since its last import (PUT /v1/products) to what the row says: remember it.
      if (const Product* now = products_.LoadProduct(product_id);
          now && SameContent(*now, row.product)) {
        outer_[key] = product_id + "\n" + hash;
        tx.state().Put(key, outer_[key]);
        ++report.unchanged;
        continue;
      }
      auto updated = commands_.Update(product_id, row.product, seller_copy, tx);
      if (!updated.ok()) {
        report.errors.push_back({row.row, updated.message()});
        continue;
      }
      ++report.updated;
    } else {
      auto created = commands_.Commit(*row.prepared, tx, /*cache=*/false);
      if (!created.ok()) {
        report.errors.push_back({row.row, created.message()});
        continue;
      }
      product_id = std::move(created).value();
      ++report.created;
    }
    outer_[key] = product_id + "\n" + hash;
    tx.state().Put(key, outer_[key]);
  }
  return report;
}

bool PackImporter::SameContent(const Product& p, const ProductInput& in) {
  if (p.title != in.title || p.brand != in.brand || p.category != in.category ||
      (!in.place_code.empty() && p.place_code != in.place_code) ||
      (in.floor_price_fen >= 0 && p.floor_price.value() != in.floor_price_fen) ||
      p.certifications != in.certifications || !(p.details == in.details) ||
      p.sku_ids.size() != in.skus.size()) {
    return false;
  }
  for (size_t i = 0; i < in.skus.size(); ++i) {
    Sku* sku = products_.LoadSku(p.sku_ids[i]);
    const Sku* stock = products_.StockOf(sku);
    if (!sku || !stock || sku->spec != in.skus[i].spec || sku->price != in.skus[i].price ||
        stock->stock != in.skus[i].stock) {
      return false;
    }
  }
  return true;
}

// Every write of an outer key goes through outer_, which keeps it until a trim after it is
// durable; so what the store held when the row was prepared is still the truth unless a trim has
// happened since: the lookup was then made off this thread.
std::string PackImporter::Outer(const std::string& key, const PreparedProduct& prepared) {
  if (auto it = outer_.find(key); it != outer_.end()) return it->second;
  if (prepared.outer_trims == outer_trims_.load(std::memory_order_relaxed)) {
    return prepared.outer_stored;
  }
  std::string v;
  if (store_.kv().Get(key, &v)) return {};  // Not cached: the caller stores what it imports.
  return outer_[key] = v;
}

// A seller's catalogue as pack rows: each product with its outer_id (its product id when it was
// never imported), so importing the export changes nothing.
Result<std::vector<PackRow>> PackImporter::Export(const std::string& seller_id) {
  if (!products_.LoadSeller(seller_id)) return {svc_errc::not_found, "no seller " + seller_id};
  const std::vector<std::string> ids = products_.index().ProductsOf(seller_id);
  std::unordered_map<std::string, std::string> outer_of;
  const std::string outer_prefix = keys::OuterPrefix(seller_id);
  auto ec = store_.kv().Scan(outer_prefix, storage::PrefixEnd(outer_prefix),
                             [&](std::string_view k, std::string_view v) {
                               outer_of[std::string(v.substr(0, v.find('\n')))] =
                                   std::string(k.substr(outer_prefix.size()));
                               return true;
                             });
  if (ec) return {svc_errc::internal, "reading the catalogue failed"};
  std::vector<PackRow> rows;
  for (const auto& id : ids) {
    const Product* p = products_.LoadProduct(id);
    if (p == nullptr) continue;
    PackRow row;
    row.row = static_cast<int>(rows.size()) + 1;
    row.outer_id = outer_of.count(id) ? outer_of[id] : id;
    ProductInput& in = row.product;
    in.seller_id = seller_id;
    in.title = p->title;
    in.brand = p->brand;
    in.category = p->category;
    in.place_code = p->place_code;
    in.certifications = p->certifications;
    in.floor_price_fen = p->floor_price.value() > 0 ? p->floor_price.value() : -1;
    in.details = p->details;
    for (const auto& sku_id : p->sku_ids) {
      Sku* sku = products_.LoadSku(sku_id);
      if (const Sku* stock = products_.StockOf(sku)) {
        in.skus.push_back({sku->spec, sku->price, stock->stock});
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pavilion::catalog
