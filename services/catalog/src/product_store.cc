#include "product_store.h"

#include <algorithm>
#include <stdexcept>

#include "keys.h"

namespace pavilion::catalog {
namespace {

using events::svc_errc;
namespace schema = events::schema;

// The stock a SKU's stream event leaves.
Result<schema::StockLevels> LevelsOf(const events::Envelope& e) {
  auto levels = [&]<typename E>() -> Result<schema::StockLevels> {
    auto payload = events::Decode<E>(e.payload);
    if (!payload.ok()) return payload.error_detail();
    return payload->levels();
  };
  if (e.type == schema::StockReserved::kType) return levels.operator()<schema::StockReserved>();
  if (e.type == schema::StockRejected::kType) return levels.operator()<schema::StockRejected>();
  if (e.type == schema::StockSold::kType) return levels.operator()<schema::StockSold>();
  if (e.type == schema::StockReleased::kType || e.type == schema::StockReleased::kRestocked) {
    return levels.operator()<schema::StockReleased>();
  }
  return {svc_errc::internal, "SKU stream " + e.stream_id + " holds a " + e.type + " event"};
}

}  // namespace

ProductStore::ProductStore(events::EventStore& store) : store_(store) { BuildIndex(); }

const Seller* ProductStore::LoadSeller(const std::string& id) {
  if (auto it = sellers_.find(id); it != sellers_.end()) return &it->second;
  std::string bytes;
  if (store_.kv().Get(keys::Seller(id), &bytes)) return nullptr;
  auto s = events::Decode<Seller>(bytes);
  if (!s.ok()) return nullptr;
  return &(sellers_[id] = std::move(s).value());
}

Result<Seller> ProductStore::GetSeller(const std::string& id) {
  if (const Seller* s = LoadSeller(id)) return *s;
  return {svc_errc::not_found, "no seller " + id};
}

Product* ProductStore::LoadProduct(const std::string& id) {
  if (auto it = products_.find(id); it != products_.end()) return &it->second;
  std::string bytes;
  if (GetRecord(keys::Product(id), &bytes)) return nullptr;
  auto p = events::Decode<Product>(bytes);
  if (!p.ok()) return nullptr;
  return &(products_[id] = std::move(p).value());
}

Result<Product> ProductStore::GetProduct(const std::string& id) {
  const Product* record = LoadProduct(id);
  if (record == nullptr) return {svc_errc::not_found, "no product " + id};
  Product p = *record;
  for (const auto& sku_id : p.sku_ids) {
    Sku* sku = LoadSku(sku_id);
    if (sku == nullptr) continue;
    p.skus.push_back(*sku);
    if (const Sku* stock = StockOf(sku); stock != sku && stock != nullptr) {
      p.skus.back().stock = stock->stock;  // What can be ordered through the listing.
    }
  }
  return p;
}

Result<ProductPage> ProductStore::ListProducts(const ProductQuery& q) {
  auto in_stock = [this](const std::string& id) {
    const Product* p = LoadProduct(id);
    if (p == nullptr) return false;
    return std::any_of(p->sku_ids.begin(), p->sku_ids.end(), [this](const std::string& sku_id) {
      const Sku* sku = StockOf(LoadSku(sku_id));
      return sku != nullptr && sku->stock > 0;
    });
  };
  auto hits = index_.Query(q, events::BusinessDay(store_.clock().NowMicros()), in_stock);
  if (!hits.ok()) return hits.error_detail();
  ProductPage page;
  for (const auto& id : hits->product_ids) {
    auto p = GetProduct(id);
    if (p.ok()) page.products.push_back(std::move(p).value());
  }
  page.next_cursor = std::move(hits->next_cursor);
  return page;
}

Sku* ProductStore::ReadSku(const std::string& id) {
  std::string bytes;
  if (GetRecord(keys::Sku(id), &bytes)) return nullptr;
  auto s = events::Decode<Sku>(bytes);
  if (!s.ok() || !CatchUp(*s)) return nullptr;
  return &(skus_[id] = std::move(s).value());
}

// A product or SKU record from the store. Records an import wrote without caching them may still
// be queued for the store: a miss then waits until everything queued is durable (the current
// transaction is not queued yet: it reads only what it caches) and looks again.
std::error_code ProductStore::GetRecord(const std::string& key, std::string* bytes) {
  auto ec = store_.kv().Get(key, bytes);
  if (ec == storage::errc::not_found && written_uncached_) {
    (void)store_.AppendAndWait(events::AppendRequest{});
    written_uncached_ = false;
    ec = store_.kv().Get(key, bytes);
  }
  return ec;
}

// Brings a SKU read from its record up to date: if its stream has gone past the record's
// version, the last stock event holds the stock. Written events count (every one the catalog
// emitted is written before its SKU can leave the cache: TrimCaches waits for them).
bool ProductStore::CatchUp(Sku& sku) {
  const bool known = sku.stream_version != Sku::kVersionUnknown;
  auto last = store_.ReadLast(sku.id, events::Upto::kWritten, known ? sku.stream_version : 0);
  if (!last.ok()) return false;
  if (!last->has_value()) {
    if (!known) sku.stream_version = 0;
    return true;  // Its stream has not gone past the record.
  }
  const uint64_t version = (*last)->stream_version;
  // A record from before versions was rewritten with every move an older Pavilion made: it is
  // the stock unless a move since, which carries the stock, came after it.
  if (!known && (*last)->schema_version < schema::kStockLevelsSchema) {
    sku.stream_version = version;
    return true;
  }
  auto levels = LevelsOf(**last);
  if (!levels.ok()) return false;
  sku.stock = levels->stock;
  sku.reserved = levels->reserved;
  sku.sold = levels->sold;
  sku.stream_version = version;
  return true;
}

// The search index is derived from the product and SKU records: rebuilt here at start, in
// creation order, and kept current by every product write.
void ProductStore::BuildIndex() {
  std::unordered_map<std::string, int64_t> price_of;
  auto ec = store_.kv().Scan(keys::kSkuPrefix, storage::PrefixEnd(keys::kSkuPrefix),
                             [&](std::string_view, std::string_view v) {
                               auto sku = events::Decode<Sku>(v);
                               if (sku.ok()) price_of[sku->id] = sku->price.value();
                               return true;
                             });
  std::vector<Product> products;
  if (!ec) {
    ec = store_.kv().Scan(keys::kProductPrefix, storage::PrefixEnd(keys::kProductPrefix),
                          [&](std::string_view, std::string_view v) {
                            auto p = events::Decode<Product>(v);
                            if (p.ok()) products.push_back(std::move(p).value());
                            return true;
                          });
  }
  if (ec) throw std::runtime_error("catalog: cannot read the products to index: " + ec.message());
  std::stable_sort(products.begin(), products.end(), [](const Product& a, const Product& b) {
    return a.created_micros < b.created_micros;
  });
  for (const auto& p : products) {
    std::vector<int64_t> prices;
    for (const auto& id : p.sku_ids) {
      if (auto it = price_of.find(id); it != price_of.end()) prices.push_back(it->second);
    }
    index_.Put(p, std::move(prices));
  }
}

}  // namespace pavilion::catalog
