#include "product_commands.h"

#include <algorithm>

#include "category_tree.h"
#include "distributor.h"
#include "image_store.h"
#include "keys.h"
#include "product_rules.h"
#include "product_store.h"

namespace pavilion::catalog {

using events::svc_errc;
namespace schema = events::schema;

void BuildProduct(ProductInput in, const Seller& seller, Fen floor, int64_t now_micros,
                  PreparedProduct& out) {
  Product& p = out.product;
  p.id = events::NewId("prd");
  p.seller_id = seller.id;
  p.title = std::move(in.title);
  p.place_code = in.place_code.empty() ? seller.place_code : std::move(in.place_code);
  p.created_micros = now_micros;
  p.brand = std::move(in.brand);
  p.category = std::move(in.category);
  p.certifications = std::move(in.certifications);
  p.floor_price = floor;
  p.poverty_zone = InPovertyZone(seller);
  p.details = std::move(in.details);
  out.local_images = std::any_of(p.details.images.begin(), p.details.images.end(),
                                 [](const std::string& ref) { return !IsUrl(ref); });
  schema::ProductCreated created{p.id,
                                 p.seller_id,
                                 p.title,
                                 p.place_code,
                                 {},
                                 p.brand,
                                 p.category,
                                 p.certifications,
                                 p.floor_price,
                                 p.poverty_zone,
                                 p.details,
                                 "",
                                 "",
                                 0};
  out.skus.reserve(in.skus.size());
  out.sku_records.reserve(in.skus.size());
  out.prices.reserve(in.skus.size());
  p.sku_ids.reserve(in.skus.size());
  created.skus.reserve(in.skus.size());
  for (auto& s : in.skus) {
    Sku& sku = out.skus.emplace_back(Sku{events::NewId("sku"), p.id, p.seller_id, p.place_code,
                                         std::move(s.spec), s.price, s.stock, 0, 0, "", 0});
    p.sku_ids.push_back(sku.id);
    created.skus.push_back(schema::SkuSpec{sku.id, sku.spec, sku.price, sku.stock, ""});
    out.sku_records.push_back(events::Encode(sku));
    out.prices.push_back(sku.price.value());
  }
  out.payload = events::Encode(created);
  out.record = events::Encode(p);
}

Result<Fen> ProductCommands::Validate(const ProductInput& in, const Seller& seller) {
  auto floor = CheckProduct(in, seller, *categories_.Current(), store_.clock().NowMicros());
  if (!floor.ok()) return floor;
  if (auto bad = UnknownPlace(places_, in.place_code); !bad.empty()) {
    return {svc_errc::invalid_argument, std::move(bad)};
  }
  if (auto bad = images_.Missing(in.details); !bad.empty()) {
    return {svc_errc::invalid_argument, std::move(bad)};
  }
  return floor;
}

Result<Product> ProductCommands::Create(const ProductInput& input, events::Transaction& tx) {
  ProductInput in = input;
  const Seller* seller = products_.LoadSeller(in.seller_id);
  if (!seller) {
    return {svc_errc::not_found, "seller_id: no seller " + in.seller_id + "; register it first"};
  }
  auto floor = Validate(in, *seller);
  if (!floor.ok()) return floor.error_detail();
  PreparedProduct prepared;
  BuildProduct(std::move(in), *seller, *floor, store_.clock().NowMicros(), prepared);
  auto id = Commit(prepared, tx, /*cache=*/true);
  if (!id.ok()) return id.error_detail();
  return products_.GetProduct(*id);
}

Result<Product> ProductCommands::Edit(const std::string& id, const ProductInput& in,
                                      const std::string& acting_seller, events::Transaction& tx) {
  const Product* p = products_.LoadProduct(id);
  if (p == nullptr) return {svc_errc::not_found, "no product " + id};
  if (!acting_seller.empty() && acting_seller != p->seller_id) {
    return {svc_errc::forbidden, "a seller may edit only its own products"};
  }
  const Seller* seller = products_.LoadSeller(p->seller_id);
  if (seller == nullptr) return {svc_errc::internal, "the product's seller is missing"};
  auto updated = Update(id, in, Seller(*seller), tx);
  if (!updated.ok()) return updated.error_detail();
  return products_.GetProduct(id);
}

Result<std::string> ProductCommands::Commit(PreparedProduct& prepared, events::Transaction& tx,
                                            bool cache) {
  if (!prepared.error.empty()) return {svc_errc::invalid_argument, prepared.error};
  if (prepared.local_images) {
    if (auto bad = images_.Missing(prepared.product.details); !bad.empty()) {
      return {svc_errc::invalid_argument, std::move(bad)};
    }
  }
  const std::string id = prepared.product.id;
  for (size_t i = 0; i < prepared.skus.size(); ++i) {
    tx.state().Put(keys::Sku(prepared.skus[i].id), std::move(prepared.sku_records[i]));
    if (cache) products_.CacheSku(std::move(prepared.skus[i]));
  }
  tx.Emit(id, events::kFreshStream, std::string(schema::ProductCreated::kType),
          std::move(prepared.payload));
  tx.state().Put(keys::Product(id), std::move(prepared.record));
  if (cache) {
    products_.index().Put(prepared.product, std::move(prepared.prices));
    products_.CacheProduct(std::move(prepared.product));
  } else {
    products_.index().Put(std::move(prepared.product), std::move(prepared.prices));
    products_.WroteUncached();
  }
  return id;
}

Result<bool> ProductCommands::Update(const std::string& id, const ProductInput& in,
                                     const Seller& seller, events::Transaction& tx) {
  Product* p = products_.LoadProduct(id);
  if (p == nullptr) return Result<bool>(svc_errc::not_found, "no product " + id);
  if (p->level > 0) {
    return Result<bool>(svc_errc::conflict,
                        "product " + id + " is a listing of " + p->source_product_id +
                            " and follows it; change its markup with POST /v1/distributions");
  }
  auto floor = Validate(in, seller);
  if (!floor.ok()) return floor.error_detail();
  // A price cut raises a listing's fixed markup's share: under the profit-sharing profile it
  // may not push a listing past the cap.
  if (auto bad = distributor_.CheckRepricing(*p, in, *floor)) return *bad;
  p->title = in.title;
  p->brand = in.brand;
  p->category = in.category;
  if (!in.place_code.empty()) p->place_code = in.place_code;
  p->certifications = in.certifications;
  p->floor_price = *floor;
  p->details = in.details;
  schema::ProductCreated updated{p->id,
                                 p->seller_id,
                                 p->title,
                                 p->place_code,
                                 {},
                                 p->brand,
                                 p->category,
                                 p->certifications,
                                 p->floor_price,
                                 p->poverty_zone,
                                 p->details,
                                 "",
                                 "",
                                 0};
  for (const auto& s : in.skus) {
    Sku* sku = nullptr;
    for (const auto& sku_id : p->sku_ids) {
      Sku* candidate = products_.LoadSku(sku_id);
      if (candidate && candidate->spec == s.spec) sku = candidate;
    }
    if (sku == nullptr) {  // A new spec: a new SKU.
      Sku fresh{events::NewId("sku"),
                p->id,
                p->seller_id,
                p->place_code,
                s.spec,
                s.price,
                0,
                0,
                0,
                "",
                0};
      p->sku_ids.push_back(fresh.id);
      sku = &products_.CacheSku(std::move(fresh));
    }
    // The pack's stock is what is available now; what orders hold or bought stays theirs.
    sku->price = s.price;
    sku->stock = s.stock;
    tx.state().Put(keys::Sku(sku->id), events::Encode(*sku));
    updated.skus.push_back(schema::SkuSpec{sku->id, sku->spec, sku->price, sku->stock, ""});
  }
  tx.state().Put(keys::Product(p->id), events::Encode(*p));
  tx.EmitAs(schema::ProductCreated::kUpdated, p->id, events::kAnyVersion, updated);
  std::vector<int64_t> prices;
  for (const auto& sku_id : p->sku_ids) {
    if (const Sku* sku = products_.LoadSku(sku_id)) prices.push_back(sku->price.value());
  }
  products_.index().Put(*p, std::move(prices));
  distributor_.SyncListingsOf(*p, tx);
  return true;
}

}  // namespace pavilion::catalog
