#include "pavilion/catalog/catalog_service.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "pavilion/base/packed_string_map.h"
#include "search_index.h"

namespace pavilion::catalog {
namespace {

using events::svc_errc;
namespace schema = events::schema;

constexpr size_t kMaxSkusPerProduct = 200;
constexpr int64_t kMaxStock = 1'000'000'000;
constexpr int64_t kMaxPriceFen = 100'000'000'00;  // ¥100 million

std::string SellerKey(std::string_view id) { return "cat/seller/" + std::string(id); }
std::string ProductKey(std::string_view id) { return "cat/product/" + std::string(id); }
std::string SkuKey(std::string_view id) { return "cat/sku/" + std::string(id); }
std::string ReservationKey(std::string_view order_id, uint32_t line) {
  return "cat/res/" + std::string(order_id) + "/" + std::to_string(line);
}
std::string ImageKey(std::string_view ref) { return "cat/img/" + std::string(ref); }

bool IsUrl(std::string_view s) {
  return s.substr(0, 8) == "https://" || s.substr(0, 7) == "http://";
}

std::string BatchKey(std::string_view id) { return "cat/batch/" + std::string(id); }
std::string TraceKey(std::string_view code) { return "cat/trace/" + std::string(code); }


// Ten characters from an alphabet without look-alikes (no 0/O, 1/I): ~50 bits, printed under
// the QR code for people who type it.
std::string NewTraceCode() {
  static constexpr char kAlphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  std::random_device rd;
  std::string code;
  for (int i = 0; i < 10; ++i) code.push_back(kAlphabet[rd() % 32]);
  return code;
}

std::string HoldKey(std::string_view shopper, std::string_view sku) {
  std::string k = "cat/hold/" + std::string(shopper);
  k.push_back('\0');
  k.append(sku);
  return k;
}

bool ValidPlaceCode(std::string_view code) {
  // Administrative-division codes: 6 digits (province/city/county), 9 (town), 12 (village).
  if (code.size() != 6 && code.size() != 9 && code.size() != 12) return false;
  return std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ValidText(std::string_view s, size_t max) { return !s.empty() && s.size() <= max; }

}  // namespace

std::string_view ImageType(std::string_view b) {
  auto starts = [&](std::string_view magic, size_t at = 0) {
    return b.size() >= at + magic.size() && b.substr(at, magic.size()) == magic;
  };
  if (starts("\xFF\xD8\xFF")) return "jpg";
  if (starts("\x89PNG\r\n\x1A\n")) return "png";
  if (starts("GIF87a") || starts("GIF89a")) return "gif";
  if (starts("RIFF") && starts("WEBP", 8)) return "webp";
  return {};
}

const std::vector<Category>& Categories() {
  static const std::vector<Category> kCategories = {
      {"grain", "粮食加工品 grain products", true},  {"tea", "茶叶 tea", true},
      {"condiment", "调味品 condiments", true},     {"honey", "蜂产品 bee products", true},
      {"nuts", "炒货坚果 roasted nuts and seeds", true}, {"processed_food", "其他加工食品", true},
      {"fruit", "新鲜水果 fresh fruit", false},      {"vegetable", "蔬菜 vegetables", false},
      {"eggs", "鲜蛋 eggs", false},                  {"livestock", "畜禽 livestock", false},
      {"herbs", "中药材 medicinal herbs", false},    {"handicraft", "手工艺品 handicrafts", false},
      {"other", "其他 other", false}};
  return kCategories;
}

const std::vector<std::string>& CertificationTypes() {
  static const std::vector<std::string> kTypes = {"pollution_free", "green_food", "organic",
                                                  "geographic_indication", "sc_licence", "iso"};
  return kTypes;
}

bool CertificationValid(const events::schema::Certification& c, const std::string& day) {
  return (c.valid_from.empty() || c.valid_from <= day) && (c.valid_to.empty() || day <= c.valid_to);
}

const std::vector<std::string>& SupplierTypes() {
  static const std::vector<std::string> kTypes = {
      "poor_household", "cooperative",     "family_farm", "leading_enterprise",
      "individual",     "village_station", "enterprise"};
  return kTypes;
}

namespace {

// What is wrong with a product's details ("field: what to do"), or empty; images are checked
// for form only (a URL's length), not for being stored.
std::string ValidateDetails(const schema::ProductDetails& d) {
  if (d.subtitle.size() > 300) return "subtitle: at most 300 bytes";
  if (d.description.size() > 100'000) return "description: at most 100000 bytes";
  if (d.images.size() > kMaxImagesPerProduct) return "images: at most 20 images";
  for (size_t i = 0; i < d.images.size(); ++i) {
    if (IsUrl(d.images[i]) && d.images[i].size() > 1000) {
      return "images[" + std::to_string(i) + "]: URLs are at most 1000 bytes";
    }
  }
  if (d.params.size() > 100) return "params: at most 100 parameters";
  for (size_t i = 0; i < d.params.size(); ++i) {
    if (!ValidText(d.params[i].name, 60) || d.params[i].value.size() > 500) {
      return "params[" + std::to_string(i) +
             "]: give a name (1 to 60 bytes) and a value (at most 500 bytes)";
    }
  }
  if (d.weight_grams < 0 || d.weight_grams > 100'000'000) {
    return "weight_grams: give grams between 0 and 100000000";
  }
  if (d.barcode.size() > 32) return "barcode: at most 32 characters";
  return {};
}

// Checks a product as a seller would list it, from the product alone (any thread): everything but
// whether the images it names are stored (the catalog checks that). Returns its floor price.
Result<Fen> CheckProduct(const ProductInput& in, const Seller& seller, int64_t now_micros) {
  if (!ValidText(in.title, 300)) {
    return {svc_errc::invalid_argument, "title: give a title of 1 to 300 bytes"};
  }
  if (in.skus.empty() || in.skus.size() > kMaxSkusPerProduct) {
    return {svc_errc::invalid_argument, "skus: give 1 to 200 SKUs"};
  }
  for (size_t i = 0; i < in.skus.size(); ++i) {
    const auto& s = in.skus[i];
    std::string at = "skus[" + std::to_string(i) + "].";
    if (!ValidText(s.spec, 100)) {
      return {svc_errc::invalid_argument, at + "spec: give a spec such as \"500g\""};
    }
    if (s.price.value() <= 0 || s.price.value() > kMaxPriceFen) {
      return {svc_errc::invalid_argument,
              at + "price_fen: give a price in fen between 1 and 10000000000"};
    }
    if (s.stock < 0 || s.stock > kMaxStock) {
      return {svc_errc::invalid_argument, at + "stock: give a stock between 0 and 1000000000"};
    }
  }
  const auto& cats = Categories();
  auto cat = std::find_if(cats.begin(), cats.end(),
                          [&](const Category& c) { return c.code == in.category; });
  if (cat == cats.end()) {
    std::string list;
    for (const auto& c : cats) list += (list.empty() ? "" : ", ") + c.code;
    return {svc_errc::invalid_argument, "category: use one of " + list};
  }
  if (in.brand.size() > 100) return {svc_errc::invalid_argument, "brand: at most 100 bytes"};
  if (!in.place_code.empty() && !ValidPlaceCode(in.place_code)) {
    return {svc_errc::invalid_argument, "place_code: use a 6, 9 or 12-digit division code"};
  }
  const std::string today = in.certifications.empty()
                                ? std::string()
                                : events::BusinessDay(now_micros);
  bool has_sc = false;
  const auto& types = CertificationTypes();
  for (size_t i = 0; i < in.certifications.size(); ++i) {
    const auto& c = in.certifications[i];
    std::string at = "certifications[" + std::to_string(i) + "].";
    if (std::find(types.begin(), types.end(), c.type) == types.end()) {
      return {svc_errc::invalid_argument,
              at + "type: use pollution_free, green_food, organic, geographic_indication, "
                   "sc_licence or iso"};
    }
    if (!ValidText(c.number, 100)) return {svc_errc::invalid_argument, at + "number: required"};
    if ((!c.valid_from.empty() && !events::IsDay(c.valid_from)) ||
        (!c.valid_to.empty() && !events::IsDay(c.valid_to))) {
      return {svc_errc::invalid_argument, at + "valid_from/valid_to: use YYYY-MM-DD"};
    }
    has_sc = has_sc || (c.type == "sc_licence" && CertificationValid(c, today));
  }
  if (cat->needs_sc && !has_sc) {
    return {svc_errc::invalid_argument,
            "certifications: category " + cat->code +
                " is processed food and needs an SC licence (sc_licence) valid today"};
  }
  if (auto bad = ValidateDetails(in.details); !bad.empty()) {
    return {svc_errc::invalid_argument, std::move(bad)};
  }
  const bool poverty = seller.supplier_type == "poor_household";
  Fen lowest(INT64_MAX);
  for (const auto& s : in.skus) lowest = std::min(lowest, s.price);
  Fen floor = in.floor_price_fen >= 0 ? Fen(in.floor_price_fen) : poverty ? lowest : Fen(0);
  if (lowest < floor) {
    return {svc_errc::invalid_argument,
            "skus: no price may be below the protective floor price of " +
                std::to_string(floor.value()) + " fen"};
  }
  return floor;
}

// The seller's defaults a row takes before it is hashed or stored: the seller's place, and for
// a poor household the lowest SKU price as the protective floor.
void ApplySellerDefaults(ProductInput& in, const Seller& seller) {
  if (in.place_code.empty()) in.place_code = seller.place_code;
  if (in.floor_price_fen < 0 && seller.supplier_type == "poor_household" && !in.skus.empty()) {
    Fen lowest(INT64_MAX);
    for (const auto& sku : in.skus) lowest = std::min(lowest, sku.price);
    in.floor_price_fen = lowest.value();
  }
}

// What an import row hashes to (with the seller's defaults applied): equal hashes, equal content.
uint64_t ContentHash(const ProductInput& in) {
  std::string c;
  c.reserve(256 + in.title.size() + in.details.description.size());
  auto field = [&c](std::string_view f, char separator = '\x1f') {
    c.append(f);
    c.push_back(separator);
  };
  for (const auto* f : {&in.title, &in.brand, &in.category, &in.place_code}) field(*f);
  c += std::to_string(in.floor_price_fen);
  for (const auto& cert : in.certifications) {
    c.push_back('\x1e');
    for (const auto* f : {&cert.type, &cert.number, &cert.issuer, &cert.valid_from}) field(*f);
    c.append(cert.valid_to);
  }
  c.push_back('\x1c');
  events::Writer details(c);
  details(in.details);
  for (const auto& sku : in.skus) {
    c.push_back('\x1d');
    field(sku.spec);
    field(std::to_string(sku.price.value()));
    c.append(std::to_string(sku.stock));
  }
  return events::Fingerprint64(c);
}

}  // namespace

// A new product made ready to store: its records built and encoded, ids minted. Built on any
// thread (BuildProduct); the catalog's worker only commits it (Impl::CommitProduct).
struct PreparedProduct {
  std::string seller_id;      // The seller it was prepared for.
  uint64_t content_hash = 0;  // ContentHash of the row.
  std::string error;          // Why the row cannot be stored ("field: …"), or empty.
  Product product;
  std::vector<Sku> skus;
  std::vector<int64_t> prices;  // Of the SKUs, in fen, for the search index.
  std::string record, payload;  // The product's record and its product.created.
  std::vector<std::string> sku_records;
  bool local_images = false;  // Names images that must be stored (not URLs).
  // The row's outer_id key and what the store held under it when prepared, read after the
  // catalog's trim count was `outer_trims` (Impl::Outer decides whether that still holds).
  std::string outer_key, outer_stored;
  uint64_t outer_trims = UINT64_MAX;  // UINT64_MAX: not looked up.
};

namespace {

// Builds a valid product's records (validate first: CheckProduct).
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
  p.poverty_zone = seller.supplier_type == "poor_household";
  p.details = std::move(in.details);
  out.local_images = std::any_of(p.details.images.begin(), p.details.images.end(),
                                 [](const std::string& ref) { return !IsUrl(ref); });
  schema::ProductCreated created{p.id,       p.seller_id,        p.title,
                                 p.place_code, {},               p.brand,
                                 p.category, p.certifications,   p.floor_price,
                                 p.poverty_zone, p.details,          ""};
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

}  // namespace

class CatalogService::Impl final : public events::Processor {
 public:
  Impl(events::EventStore& store, CatalogOptions options) : store_(store), options_(options) {
    // Holds grow by one per new (shopper, SKU) pair, up to the cache limit: room for them all
    // from the start, so no order waits while a quarter of a million entries are rehashed (that
    // took 30 ms of the thread every order goes through, at 8,000 orders/s).
    if (options_.hold_cap > 0) holds_.Reserve(options_.cache_limit + options_.cache_limit / 4);
    BuildIndex();
    LoadListings();
  }

  std::string_view name() const override { return "catalog"; }
  void BeforeBatch() override { TrimCaches(); }

  std::vector<std::string> event_types() const override { return handlers_.types(); }
  void Handle(const events::Envelope& event, events::Transaction& tx) override {
    handlers_.Handle(event, tx);
  }

  const events::Handlers handlers_ =
      events::Handlers()
          .On<schema::OrderPlaced>([this](const schema::OrderPlaced& placed, const auto&,
                                          events::Transaction& tx) { Reserve(placed, tx); })
          .On<schema::OrderRejected>([this](const schema::OrderRejected& r, const auto&,
                                            events::Transaction& tx) {
            Release(r.order_id, r.shopper_id, r.release, tx);
          })
          .On<schema::OrderCancelled>([this](const schema::OrderCancelled& c, const auto&,
                                             events::Transaction& tx) {
            Release(c.order_id, c.shopper_id, c.release, tx);
          })
          .On<schema::OrderPaid>([this](const schema::OrderPaid& paid, const auto&,
                                        events::Transaction& tx) { Sell(paid, tx); })
          .On<schema::ReinstateRequested>(
              [this](const schema::ReinstateRequested& req, const events::Envelope& e,
                     events::Transaction& tx) { Reinstate(req, e.event_id, tx); })
          .On<schema::RefundChanged>(schema::RefundChanged::kCompleted,
                                     [this](const schema::RefundChanged& refund, const auto&,
                                            events::Transaction& tx) {
                                       if (refund.with_return) Restock(refund, tx);
                                     });

  Result<Seller> RegisterSeller(const SellerInput& in, events::Transaction& tx) {
    if (!ValidText(in.name, 200)) {
      return {svc_errc::invalid_argument, "name: give the seller's name (1 to 200 bytes)"};
    }
    if (!ValidPlaceCode(in.place_code)) {
      return {svc_errc::invalid_argument,
              "place_code: use an administrative-division code of 6, 9 or 12 digits, e.g. "
              "\"140430\" for 沁县"};
    }
    const auto& types = SupplierTypes();
    if (std::find(types.begin(), types.end(), in.supplier_type) == types.end()) {
      std::string list;
      for (const auto& t : types) list += (list.empty() ? "" : ", ") + t;
      return {svc_errc::invalid_argument, "supplier_type: use one of " + list};
    }
    Seller s{events::NewId("sel"), in.name, in.place_code, in.supplier_type,
             store_.clock().NowMicros()};
    tx.Emit(s.id, events::kFreshStream,
            schema::SellerRegistered{s.id, s.name, s.place_code, s.supplier_type});
    tx.state().Put(SellerKey(s.id), events::Encode(s));
    sellers_[s.id] = s;
    return s;
  }

  // Checks a product as a seller would list it (CheckProduct, then that the images it names
  // are stored); returns its floor price.
  Result<Fen> ValidateProduct(const ProductInput& in, const Seller& seller) {
    auto floor = CheckProduct(in, seller, store_.clock().NowMicros());
    if (!floor.ok()) return floor;
    if (auto bad = MissingImage(in.details); !bad.empty()) {
      return {svc_errc::invalid_argument, std::move(bad)};
    }
    return floor;
  }

  // "images[i]: no stored image …" for the first image that is neither a URL nor stored, or empty.
  std::string MissingImage(const schema::ProductDetails& d) {
    for (size_t i = 0; i < d.images.size(); ++i) {
      const std::string& ref = d.images[i];
      if (!IsUrl(ref) && !images_.count(ref) && !Stored(ImageKey(ref))) {
        return "images[" + std::to_string(i) + "]: no stored image " + ref +
               "; give an http(s) URL or an image in the pack";
      }
    }
    return {};
  }

  // Stores an image by its content under its SHA-256; the ref names the content and its type.
  Result<std::string> StoreImage(const std::string& bytes, events::Transaction& tx) {
    std::string_view type = ImageType(bytes);
    if (type.empty()) {
      return {svc_errc::invalid_argument, "image: send a JPEG, PNG, GIF or WebP image"};
    }
    if (bytes.size() > kMaxImageBytes) {
      return {svc_errc::invalid_argument, "image: at most 8 MiB"};
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    std::string ref =
        events::HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest)) +
        "." + std::string(type);
    if (images_.count(ref) || Stored(ImageKey(ref))) return ref;
    tx.state().Put(ImageKey(ref), bytes);
    images_.insert(ref);
    if (images_.size() > 1'000'000) images_.clear();  // A cache of refs; the store has them all.
    return ref;
  }

  Result<std::string> GetImage(const std::string& ref) {
    std::string bytes;
    if (ref.size() > 80 || store_.kv().Get(ImageKey(ref), &bytes)) {
      return {svc_errc::not_found, "no image " + ref};
    }
    return bytes;
  }

  Result<Product> EditProduct(const std::string& id, const ProductInput& in,
                              const std::string& acting_seller, events::Transaction& tx) {
    TrimCaches();
    const Product* p = LoadProduct(id);
    if (p == nullptr) return {svc_errc::not_found, "no product " + id};
    if (!acting_seller.empty() && acting_seller != p->seller_id) {
      return {svc_errc::forbidden, "a seller may edit only its own products"};
    }
    const Seller* seller = LoadSeller(p->seller_id);
    if (seller == nullptr) return {svc_errc::internal, "the product's seller is missing"};
    auto updated = UpdateProduct(id, in, Seller(*seller), tx);
    if (!updated.ok()) return updated.error_detail();
    return GetProduct(id);
  }

  Result<Product> CreateProduct(const ProductInput& in, events::Transaction& tx) {
    auto id = AddProduct(in, tx);
    if (!id.ok()) return id.error_detail();
    return GetProduct(*id);
  }

  // Creates a product and its SKUs; returns its id.
  Result<std::string> AddProduct(ProductInput in, events::Transaction& tx) {
    auto seller = LoadSeller(in.seller_id);
    if (!seller) {
      return {svc_errc::not_found, "seller_id: no seller " + in.seller_id + "; register it first"};
    }
    auto floor = ValidateProduct(in, *seller);
    if (!floor.ok()) return floor.error_detail();
    PreparedProduct prepared;
    BuildProduct(std::move(in), *seller, *floor, store_.clock().NowMicros(), prepared);
    return CommitProduct(prepared, tx, /*cache=*/true);
  }

  // Stores a prepared product in the transaction. With `cache` its records also go into the
  // caches (moved, not copied), so the same transaction can read them back; an import does not
  // cache the thousands of products it creates (they would only push out what is read), and a
  // later miss waits for them to reach the store instead (GetRecord).
  Result<std::string> CommitProduct(PreparedProduct& prepared, events::Transaction& tx,
                                    bool cache) {
    if (!prepared.error.empty()) return {svc_errc::invalid_argument, prepared.error};
    if (prepared.local_images) {
      if (auto bad = MissingImage(prepared.product.details); !bad.empty()) {
        return {svc_errc::invalid_argument, std::move(bad)};
      }
    }
    const std::string id = prepared.product.id;
    for (size_t i = 0; i < prepared.skus.size(); ++i) {
      tx.state().Put(SkuKey(prepared.skus[i].id), std::move(prepared.sku_records[i]));
      if (cache) {
        std::string sku_id = prepared.skus[i].id;
        skus_[std::move(sku_id)] = std::move(prepared.skus[i]);
      }
    }
    tx.Emit(id, events::kFreshStream, std::string(schema::ProductCreated::kType),
            std::move(prepared.payload));
    tx.state().Put(ProductKey(id), std::move(prepared.record));
    if (cache) {
      index_.Put(prepared.product, std::move(prepared.prices));
      products_[id] = std::move(prepared.product);
    } else {
      index_.Put(std::move(prepared.product), std::move(prepared.prices));
      written_uncached_ = true;
    }
    return id;
  }

  // ImportPack's work that needs no catalog state, for any thread (see PrepareRows).
  // The row itself is left as it is (ImportPack applies the importing seller's defaults).
  void Prepare(const Seller& seller, PackRow& row) const {
    std::string key = OuterKey(seller.id, row.outer_id);
    const uint64_t trims = outer_trims_.load(std::memory_order_acquire);  // Before the read.
    std::string stored;
    auto ec = store_.kv().Get(key, &stored);
    Prepare(seller, row, {std::move(key), std::move(stored), trims, ec});
  }
  // Many rows: their outer keys looked up in one batch.
  void PrepareAll(const Seller& seller, std::vector<PackRow>& rows) const {
    std::vector<std::string> keys;
    keys.reserve(rows.size());
    for (const auto& row : rows) keys.push_back(OuterKey(seller.id, row.outer_id));
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::string> stored;
    std::vector<std::error_code> results;
    const uint64_t trims = outer_trims_.load(std::memory_order_acquire);  // Before the reads.
    store_.kv().MultiGet(views, &stored, &results);
    for (size_t i = 0; i < rows.size(); ++i) {
      Prepare(seller, rows[i], {std::move(keys[i]), std::move(stored[i]), trims, results[i]});
    }
  }

  // What the store held under a row's outer key when it was read.
  struct OuterLookup {
    std::string key, stored;
    uint64_t trims;      // outer_trims_ before the read.
    std::error_code ec;  // Of the read: not_found, another error, or none.
  };
  void Prepare(const Seller& seller, PackRow& row, OuterLookup outer) const {
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
    auto floor = CheckProduct(in, seller, now);
    if (floor.ok()) {
      BuildProduct(std::move(in), seller, *floor, now, *prepared);
    } else {
      prepared->error = floor.message();
    }
    row.prepared = std::move(prepared);
  }

  // The product record (without SKUs), as the catalog knows it now.
  Product* LoadProduct(const std::string& id) {
    if (auto it = products_.find(id); it != products_.end()) return &it->second;
    std::string bytes;
    if (GetRecord(ProductKey(id), &bytes)) return nullptr;
    auto p = events::Decode<Product>(bytes);
    if (!p.ok()) return nullptr;
    return &(products_[id] = std::move(p).value());
  }

  Result<Product> GetProductRecord(const std::string& id) {
    if (const Product* p = LoadProduct(id)) return *p;
    return {svc_errc::not_found, "no product " + id};
  }

  Result<Product> GetProduct(const std::string& id) {
    auto p = GetProductRecord(id);
    if (!p.ok()) return p;
    for (const auto& sku_id : p->sku_ids) {
      Sku* sku = LoadSku(sku_id);
      if (sku == nullptr) continue;
      p->skus.push_back(*sku);
      if (const Sku* stock = StockOf(sku); stock != sku && stock != nullptr) {
        p->skus.back().stock = stock->stock;  // What can be ordered through the listing.
      }
    }
    return p;
  }

  Result<ProductPage> ListProducts(const ProductQuery& q) {
    TrimCaches();
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

  // The search index is derived from the product and SKU records: rebuilt here at start, in
  // creation order, and kept current by every product write.
  void BuildIndex() {
    std::unordered_map<std::string, int64_t> price_of;
    auto ec = store_.kv().Scan("cat/sku/", storage::PrefixEnd("cat/sku/"),
                               [&](std::string_view, std::string_view v) {
                                 auto sku = events::Decode<Sku>(v);
                                 if (sku.ok()) price_of[sku->id] = sku->price.value();
                                 return true;
                               });
    std::vector<Product> products;
    if (!ec) {
      ec = store_.kv().Scan("cat/product/", storage::PrefixEnd("cat/product/"),
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

  // A product or SKU record from the store. Records an import wrote without caching them may
  // still be queued for the store: a miss then waits until everything queued is durable (the
  // current transaction is not queued yet: it reads only what it caches) and looks again.
  std::error_code GetRecord(const std::string& key, std::string* bytes) {
    auto ec = store_.kv().Get(key, bytes);
    if (ec == storage::errc::not_found && written_uncached_) {
      (void)store_.AppendAndWait(events::AppendRequest{});
      written_uncached_ = false;
      ec = store_.kv().Get(key, bytes);
    }
    return ec;
  }

  // The caches of records (SKUs, products, sellers, holds, import keys) are bounded: past
  // CatalogOptions::cache_limit entries they are dropped, once every write queued so far is durable (until then
  // the store would show older versions of what the cache holds). Called only between
  // transactions: at the start of commands and queries.
  void TrimCaches() {
    if (skus_.size() + products_.size() + outer_.size() + holds_.size() + listings_.size() <
        options_.cache_limit) {
      return;
    }
    (void)store_.AppendAndWait(events::AppendRequest{});
    written_uncached_ = false;
    skus_.clear();
    products_.clear();
    outer_.clear();
    outer_trims_.fetch_add(1, std::memory_order_release);
    holds_.Clear();
    sellers_.clear();
    listings_.clear();
  }

  Result<ImportReport> ImportPack(const std::string& seller_id, std::vector<PackRow>& rows,
                                  events::Transaction& tx) {
    TrimCaches();
    const Seller* seller = LoadSeller(seller_id);
    if (!seller) return {svc_errc::not_found, "seller_id: no seller " + seller_id};
    const Seller seller_copy = *seller;
    ImportReport report;
    report.rows = static_cast<int>(rows.size());
    std::unordered_set<std::string_view> in_pack;  // Views of the rows' own outer_ids.
    in_pack.reserve(rows.size());
    for (auto& row : rows) {
      row.product.seller_id = seller_id;
      if (!in_pack.insert(row.outer_id).second) {
        report.errors.push_back({row.row, "outer_id: " + row.outer_id + " appears twice in the pack"});
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
        const Product* own = LoadProduct(row.outer_id);
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
        if (const Product* now = LoadProduct(product_id); now && SameContent(*now, row.product)) {
          outer_[key] = product_id + "\n" + hash;
          tx.state().Put(key, outer_[key]);
          ++report.unchanged;
          continue;
        }
        auto updated = UpdateProduct(product_id, row.product, seller_copy, tx);
        if (!updated.ok()) {
          report.errors.push_back({row.row, updated.message()});
          continue;
        }
        ++report.updated;
      } else {
        auto created = CommitProduct(*row.prepared, tx, /*cache=*/false);
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

  Result<bool> UpdateProduct(const std::string& id, const ProductInput& in, const Seller& seller,
                             events::Transaction& tx) {
    Product* p = LoadProduct(id);
    if (p == nullptr) return Result<bool>(svc_errc::not_found, "no product " + id);
    if (p->level > 0) {
      return Result<bool>(svc_errc::conflict,
                          "product " + id + " is a listing of " + p->source_product_id +
                              " and follows it; change its markup with POST /v1/distributions");
    }
    auto floor = ValidateProduct(in, seller);
    if (!floor.ok()) return floor.error_detail();
    p->title = in.title;
    p->brand = in.brand;
    p->category = in.category;
    if (!in.place_code.empty()) p->place_code = in.place_code;
    p->certifications = in.certifications;
    p->floor_price = *floor;
    p->details = in.details;
    schema::ProductCreated updated{p->id,          p->seller_id,      p->title,
                                   p->place_code,  {},                p->brand,
                                   p->category,    p->certifications, p->floor_price,
                                   p->poverty_zone, p->details,       ""};
    for (const auto& s : in.skus) {
      Sku* sku = nullptr;
      for (const auto& sku_id : p->sku_ids) {
        Sku* candidate = LoadSku(sku_id);
        if (candidate && candidate->spec == s.spec) sku = candidate;
      }
      if (sku == nullptr) {  // A new spec: a new SKU.
        Sku fresh{events::NewId("sku"), p->id, p->seller_id, p->place_code, s.spec, s.price, 0, 0,
                  0,                    "", 0};
        p->sku_ids.push_back(fresh.id);
        sku = &(skus_[fresh.id] = std::move(fresh));
      }
      // The pack's stock is what is available now; what orders hold or bought stays theirs.
      sku->price = s.price;
      sku->stock = s.stock;
      tx.state().Put(SkuKey(sku->id), events::Encode(*sku));
      updated.skus.push_back(schema::SkuSpec{sku->id, sku->spec, sku->price, sku->stock, ""});
    }
    tx.state().Put(ProductKey(p->id), events::Encode(*p));
    tx.EmitAs(schema::ProductCreated::kUpdated, p->id, events::kAnyVersion, updated);
    std::vector<int64_t> prices;
    for (const auto& id : p->sku_ids) {
      if (const Sku* sku = LoadSku(id)) prices.push_back(sku->price.value());
    }
    index_.Put(*p, std::move(prices));
    SyncListingsOf(*p, tx);
    return true;
  }

  bool SameContent(const Product& p, const ProductInput& in) {
    if (p.title != in.title || p.brand != in.brand || p.category != in.category ||
        (!in.place_code.empty() && p.place_code != in.place_code) ||
        (in.floor_price_fen >= 0 && p.floor_price.value() != in.floor_price_fen) ||
        p.certifications != in.certifications || !(p.details == in.details) ||
        p.sku_ids.size() != in.skus.size()) {
      return false;
    }
    for (size_t i = 0; i < in.skus.size(); ++i) {
      Sku* sku = LoadSku(p.sku_ids[i]);
      const Sku* stock = StockOf(sku);
      if (!sku || !stock || sku->spec != in.skus[i].spec || sku->price != in.skus[i].price ||
          stock->stock != in.skus[i].stock) {
        return false;
      }
    }
    return true;
  }

  static std::string OuterKey(const std::string& seller, const std::string& outer_id) {
    std::string k = "cat/outer/" + seller;
    k.push_back('\0');
    return k + outer_id;
  }

  // "<product id>\n<content hash>" of an imported outer_id, or empty. Every write of an outer
  // key goes through outer_, which keeps it until a trim (TrimCaches) after it is durable; so
  // what the store held when the row was prepared is still the truth unless a trim has
  // happened since: the lookup was then made off this thread.
  std::string Outer(const std::string& key, const PreparedProduct& prepared) {
    if (auto it = outer_.find(key); it != outer_.end()) return it->second;
    if (prepared.outer_trims == outer_trims_.load(std::memory_order_relaxed)) {
      return prepared.outer_stored;
    }
    std::string v;
    if (store_.kv().Get(key, &v)) return {};  // Not cached: the caller stores what it imports.
    return outer_[key] = v;
  }

  // A seller's catalogue as pack rows: each product with its outer_id (its product id when it
  // was never imported), so importing the export changes nothing.
  Result<std::vector<PackRow>> ExportPack(const std::string& seller_id) {
    if (!LoadSeller(seller_id)) return {svc_errc::not_found, "no seller " + seller_id};
    const std::vector<std::string> ids = index_.ProductsOf(seller_id);
    std::unordered_map<std::string, std::string> outer_of;
    std::string outer_prefix = "cat/outer/" + seller_id;
    outer_prefix.push_back('\0');
    auto ec = store_.kv().Scan(outer_prefix, storage::PrefixEnd(outer_prefix),
                          [&](std::string_view k, std::string_view v) {
                            outer_of[std::string(v.substr(0, v.find('\n')))] =
                                std::string(k.substr(outer_prefix.size()));
                            return true;
                          });
    if (ec) return {svc_errc::internal, "reading the catalogue failed"};
    std::vector<PackRow> rows;
    for (const auto& id : ids) {
      const Product* p = LoadProduct(id);
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
        Sku* sku = LoadSku(sku_id);
        if (const Sku* stock = StockOf(sku)) in.skus.push_back({sku->spec, sku->price, stock->stock});
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // --- One-click distribution (一键分销) ---

  static std::string ListingKey(const std::string& distributor, const std::string& source) {
    std::string k = "cat/listing/" + distributor;
    k.push_back('\0');
    return k + source;
  }
  static std::string ListingsOfKey(const std::string& source, const std::string& listing) {
    std::string k = "cat/listings-of/" + source;
    k.push_back('\0');
    return k + listing;
  }

  // ceil(price × (100 + percent) / 100) + fen: a listing never rounds a price down.
  static Fen MarkedUp(Fen price, int64_t percent, int64_t fen) {
    const int64_t scaled = price.value() * (100 + percent);  // ≤ 1e10 × 1100: no overflow.
    return Fen((scaled + 99) / 100 + fen);
  }

  Result<DistributeReport> Distribute(const DistributeInput& in, events::Transaction& tx) {
    TrimCaches();
    if (in.markup_percent < 0 || in.markup_percent > 1000) {
      return {svc_errc::invalid_argument, "markup_percent: give 0 to 1000"};
    }
    if (in.markup_fen < 0 || in.markup_fen > 100'000'000) {
      return {svc_errc::invalid_argument, "markup_fen: give 0 to 100000000"};
    }
    const Seller* distributor = LoadSeller(in.distributor_id);
    if (!distributor) return {svc_errc::not_found, "distributor_id: no seller " + in.distributor_id};
    const std::string distributor_id = distributor->id;
    if (!LoadSeller(in.supplier_id)) {
      return {svc_errc::not_found, "supplier_id: no seller " + in.supplier_id};
    }
    if (in.supplier_id == distributor_id) {
      return {svc_errc::invalid_argument, "supplier_id: a seller does not distribute its own products"};
    }
    std::vector<std::string> ids = in.product_ids;
    if (ids.empty()) ids = index_.ProductsOf(in.supplier_id);  // The supplier's whole pack.
    if (ids.size() > kMaxDistribute) {
      return {svc_errc::invalid_argument, "product_ids: at most 100000 products at once"};
    }
    DistributeReport report;
    for (size_t i = 0; i < ids.size(); ++i) {
      const int row = static_cast<int>(i) + 1;
      const Product* found = LoadProduct(ids[i]);
      if (found == nullptr || found->seller_id != in.supplier_id) {
        report.errors.push_back({row, "product_ids[" + std::to_string(i) + "]: the supplier has no product " + ids[i]});
        continue;
      }
      const Product source = *found;
      if (source.level >= 2) {
        report.errors.push_back({row, "product_ids[" + std::to_string(i) + "]: " + source.id +
                                          " is already a second-level listing; commission chains "
                                          "are at most two levels"});
        continue;
      }
      if (source.level == 1 && RootSeller(source) == distributor_id) {
        report.errors.push_back({row, "product_ids[" + std::to_string(i) + "]: " + source.id +
                                          " resells your own product"});
        continue;
      }
      std::string listing_id = Listing(distributor_id, source.id);
      if (!listing_id.empty()) {
        Product* listing = LoadProduct(listing_id);
        if (listing == nullptr) return {svc_errc::internal, "listing " + listing_id + " is missing"};
        const bool same = listing->markup_percent == in.markup_percent &&
                          listing->markup_fen == in.markup_fen;
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
      products_[listing.id] = listing;
      Product& stored = products_[listing.id];
      SyncListing(stored, source, tx, /*created=*/true);
      listings_[ListingKey(distributor_id, source.id)] = listing.id;
      tx.state().Put(ListingKey(distributor_id, source.id), listing.id);
      tx.state().Put(ListingsOfKey(source.id, listing.id), "");
      listings_of_[source.id].push_back(listing.id);
      report.listing_ids.push_back(listing.id);
      ++report.created;
    }
    return report;
  }

  // Makes a listing show its source as it is now, priced with the listing's markup; emits
  // product.created (new) or product.updated, then carries the change to its own listings.
  void SyncListing(Product& listing, const Product& source, events::Transaction& tx,
                   bool created = false) {
    listing.title = source.title;
    listing.place_code = source.place_code;
    listing.brand = source.brand;
    listing.category = source.category;
    listing.certifications = source.certifications;
    listing.floor_price = source.floor_price;  // The supplier's floor binds every reseller.
    listing.poverty_zone = source.poverty_zone;
    listing.details = source.details;
    schema::ProductCreated event{listing.id,       listing.seller_id,       listing.title,
                                 listing.place_code, {},                    listing.brand,
                                 listing.category, listing.certifications, listing.floor_price,
                                 listing.poverty_zone, listing.details,     listing.source_product_id};
    std::vector<int64_t> prices;
    for (const auto& source_sku_id : source.sku_ids) {
      const Sku* from = LoadSku(source_sku_id);
      if (from == nullptr) continue;
      Sku* mine = nullptr;
      for (const auto& id : listing.sku_ids) {
        Sku* candidate = LoadSku(id);
        if (candidate && candidate->source_sku_id == source_sku_id) mine = candidate;
      }
      if (mine == nullptr) {
        Sku fresh{events::NewId("sku"), listing.id, listing.seller_id, listing.place_code,
                  from->spec, from->price, 0, 0, 0, source_sku_id, 0};
        listing.sku_ids.push_back(fresh.id);
        mine = &(skus_[fresh.id] = std::move(fresh));
      }
      mine->spec = from->spec;
      mine->place_code = source.place_code;
      // Markups are not negative, so a listing never undercuts its source, whose prices already
      // respect the floor; the check stays as the rule's last word.
      mine->price = std::max(MarkedUp(from->price, listing.markup_percent, listing.markup_fen),
                             listing.floor_price);
      tx.state().Put(SkuKey(mine->id), events::Encode(*mine));
      event.skus.push_back(
          schema::SkuSpec{mine->id, mine->spec, mine->price, 0, mine->source_sku_id});
      prices.push_back(mine->price.value());
    }
    tx.state().Put(ProductKey(listing.id), events::Encode(listing));
    if (created) {
      tx.Emit(listing.id, events::kFreshStream, event);
    } else {
      tx.EmitAs(schema::ProductCreated::kUpdated, listing.id, events::kAnyVersion, event);
    }
    index_.Put(listing, std::move(prices));
    SyncListingsOf(listing, tx);
  }

  // Carries a product's change to the listings that resell it (two levels at most).
  void SyncListingsOf(const Product& source, events::Transaction& tx) {
    auto it = listings_of_.find(source.id);
    if (it == listings_of_.end()) return;
    const std::vector<std::string> listings = it->second;  // SyncListing may add to the map.
    for (const auto& id : listings) {
      if (Product* listing = LoadProduct(id)) SyncListing(*listing, source, tx);
    }
  }

  // The listing a distributor has of a source product, or empty.
  std::string Listing(const std::string& distributor, const std::string& source) {
    std::string key = ListingKey(distributor, source);
    if (auto it = listings_.find(key); it != listings_.end()) return it->second;
    std::string id;
    if (store_.kv().Get(key, &id)) return {};
    return listings_[key] = id;
  }

  std::string RootSeller(const Product& p) {
    const Product* at = &p;
    for (int hops = 0; at && at->level > 0 && hops < 2; ++hops) at = LoadProduct(at->source_product_id);
    return at ? at->seller_id : "";
  }

  // A SKU and the SKUs it resells, listing first, the supplier's last (two levels at most); empty
  // when a link is missing.
  struct Chain {
    std::array<Sku*, 3> skus{};
    size_t size = 0;
    Sku* stock() const { return size == 0 ? nullptr : skus[size - 1]; }  // What it sells.
  };
  Chain ChainOf(Sku* sku) {
    Chain c;
    for (Sku* at = sku; at != nullptr && c.size < c.skus.size();) {
      c.skus[c.size++] = at;
      if (at->source_sku_id.empty()) return c;
      at = LoadSku(at->source_sku_id);
    }
    return {};
  }

  // The SKU whose stock a SKU sells: itself, or the end of its listing chain.
  Sku* StockOf(Sku* sku) { return ChainOf(sku).stock(); }

  // How a unit sold through the chain's first SKU divides between supplier and distributors.
  static schema::Distribution DistributionOf(const Chain& chain) {
    schema::Distribution d;
    if (chain.size < 2) return d;
    d.listing_seller_id = chain.skus[0]->seller_id;
    d.supply_price = chain.stock()->price;
    for (size_t i = chain.size - 1; i-- > 0;) {  // Supplier side first.
      d.commissions.push_back(
          {chain.skus[i]->seller_id, chain.skus[i]->price - chain.skus[i + 1]->price});
    }
    return d;
  }

  void LoadListings() {
    const std::string prefix = "cat/listings-of/";
    auto ec = store_.kv().Scan(prefix, storage::PrefixEnd(prefix),
                               [&](std::string_view k, std::string_view) {
                                 auto rest = k.substr(prefix.size());
                                 size_t nul = rest.find('\0');
                                 listings_of_[std::string(rest.substr(0, nul))].emplace_back(
                                     rest.substr(nul + 1));
                                 return true;
                               });
    if (ec) throw std::runtime_error("catalog: cannot read the listings: " + ec.message());
  }

  Result<Batch> RegisterBatch(const BatchInput& in, events::Transaction& tx) {
    auto product = GetProduct(in.product_id);
    if (!product.ok()) return product.error_detail();
    if (!in.acting_seller_id.empty() && in.acting_seller_id != product->seller_id) {
      return {svc_errc::forbidden, "a seller may register batches only of its own products"};
    }
    const auto& r = in.record;
    if (!ValidText(r.production_base, 200)) {
      return {svc_errc::invalid_argument, "production_base: name the production base (1 to 200 bytes)"};
    }
    for (const auto& [field, value] : {std::pair{"harvest_date", &r.harvest_date},
                                       std::pair{"packing_date", &r.packing_date}}) {
      if (!value->empty() && !events::IsDay(*value)) {
        return {svc_errc::invalid_argument, std::string(field) + ": use YYYY-MM-DD"};
      }
    }
    if (!r.harvest_date.empty() && !r.packing_date.empty() && r.packing_date < r.harvest_date) {
      return {svc_errc::invalid_argument, "packing_date: cannot be before harvest_date"};
    }
    if (r.farming.size() > 100) return {svc_errc::invalid_argument, "farming: at most 100 steps"};
    for (size_t i = 0; i < r.farming.size(); ++i) {
      if (!events::IsDay(r.farming[i].date) || !ValidText(r.farming[i].operation, 200)) {
        return {svc_errc::invalid_argument, "farming[" + std::to_string(i) +
                                                "]: give a date (YYYY-MM-DD) and an operation"};
      }
    }
    for (const auto* text : {&r.soil_water_inspection, &r.inspection_report}) {
      if (text->size() > 2000) {
        return {svc_errc::invalid_argument, "inspection texts: at most 2000 bytes each"};
      }
    }
    Batch b;
    b.id = events::NewId("bat");
    b.product_id = product->id;
    b.seller_id = product->seller_id;
    std::string existing;
    do {
      b.trace_code = NewTraceCode();
    } while (!store_.kv().Get(TraceKey(b.trace_code), &existing) || codes_.count(b.trace_code));
    codes_.insert(b.trace_code);
    b.record = r;
    b.created_micros = store_.clock().NowMicros();
    tx.Emit(b.id, events::kFreshStream,
            schema::BatchRegistered{b.id, b.product_id, b.seller_id, b.trace_code, b.record});
    tx.state().Put(BatchKey(b.id), events::Encode(b));
    tx.state().Put(TraceKey(b.trace_code), b.id);
    return b;
  }

  Result<Trace> GetTrace(const std::string& code) {
    std::string batch_id, bytes;
    if (code.size() > 32 || store_.kv().Get(TraceKey(code), &batch_id) ||
        store_.kv().Get(BatchKey(batch_id), &bytes)) {
      return {svc_errc::not_found, "no batch with trace code " + code};
    }
    auto batch = events::Decode<Batch>(bytes);
    if (!batch.ok()) return {svc_errc::internal, "stored batch is corrupt"};
    auto product = GetProduct(batch->product_id);
    if (!product.ok()) return product.error_detail();
    auto seller = GetSeller(batch->seller_id);
    if (!seller.ok()) return seller.error_detail();
    return Trace{std::move(batch).value(), std::move(product).value(), std::move(seller).value()};
  }

  Result<Seller> GetSeller(const std::string& id) {
    if (const Seller* s = LoadSeller(id)) return *s;
    return {svc_errc::not_found, "no seller " + id};
  }

 private:
  const Seller* LoadSeller(const std::string& id) {
    if (auto it = sellers_.find(id); it != sellers_.end()) return &it->second;
    std::string bytes;
    if (store_.kv().Get(SellerKey(id), &bytes)) return nullptr;
    auto s = events::Decode<Seller>(bytes);
    if (!s.ok()) return nullptr;
    return &(sellers_[id] = std::move(s).value());
  }

  Sku* LoadSku(const std::string& id) {
    if (auto it = skus_.find(id); it != skus_.end()) return &it->second;
    std::string bytes;
    if (GetRecord(SkuKey(id), &bytes)) return nullptr;
    auto s = events::Decode<Sku>(bytes);
    if (!s.ok() || !CatchUp(*s)) return nullptr;
    return &(skus_[id] = std::move(s).value());
  }

  // Brings a SKU read from its record up to date: if its stream has gone past the record's
  // version, the last stock event holds the stock. Written events count (every one the catalog
  // emitted is written before its SKU can leave the cache: TrimCaches waits for them).
  bool CatchUp(Sku& sku) {
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

  // The stock a SKU's stream event leaves.
  static Result<schema::StockLevels> LevelsOf(const events::Envelope& e) {
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

  // Emits an event on a stock SKU's stream, with the stock it leaves, at the version after the
  // one the catalog knows: the catalog is the stream's only writer, and the store refuses the
  // batch (a fatal error for the processor) rather than let a record name the wrong version.
  template <typename E>
  void EmitStock(std::string_view type, Sku& sku, E event, events::Transaction& tx) {
    if constexpr (requires { event.stock_after; }) {
      event.stock_after = sku.stock;
    } else {
      event.available = sku.stock;  // stock.rejected
    }
    event.reserved_after = sku.reserved;
    event.sold_after = sku.sold;
    tx.EmitAs(type, sku.id, sku.stream_version, event);
    ++sku.stream_version;
  }

  void Reserve(const schema::OrderPlaced& order, events::Transaction& tx) {
    for (uint32_t line = 0; line < order.items.size(); ++line) {
      const auto& item = order.items[line];
      Sku* listed = LoadSku(item.sku_id);
      const Chain chain = ChainOf(listed);
      Sku* sku = chain.stock();  // A listing sells its supplier's stock.
      const char* reason = sku == nullptr                          ? "unknown_sku"
                           : item.quantity <= 0 || sku->stock < item.quantity ? "insufficient_stock"
                                                                              : nullptr;
      std::optional<Hold> hold;  // Its key built and hashed once, for the check and the count.
      if (reason == nullptr && options_.hold_cap > 0) {
        hold = HoldOf(order.shopper_id, sku->id);
        if (Held(*hold) + item.quantity > options_.hold_cap) reason = "hold_limit";
      }
      if (reason != nullptr) {
        schema::StockRejected r{order.order_id, line, item.sku_id, item.quantity, reason};
        if (sku == nullptr) {
          tx.Emit("sku_unknown", events::kAnyVersion, r);
        } else {
          EmitStock(r.kType, *sku, std::move(r), tx);
        }
        continue;
      }
      sku->stock -= item.quantity;
      sku->reserved += item.quantity;
      if (hold) AddHold(std::move(*hold), item.quantity, tx);
      std::string qty;
      events::PutVarint(qty, static_cast<uint64_t>(item.quantity));
      tx.state().Put(ReservationKey(order.order_id, line), qty);
      // The supplier ships (its sub-order); the shopper pays the listing's price.
      EmitStock(schema::StockReserved::kType, *sku,
                schema::StockReserved{order.order_id, line, listed->id, listed->product_id,
                                      sku->seller_id, sku->place_code, item.quantity,
                                      listed->price, 0, DistributionOf(chain)},
                tx);
    }
  }

  // Consumes the reservation record of one order line, once: a redelivered event finds it gone.
  // Records are durable here: the order service acted on stock.reserved only after the batch
  // that wrote the record was on disk. `consumed_` covers batches not yet durable.
  bool TakeReservation(const std::string& order_id, uint32_t line, events::Transaction& tx) {
    std::string key = ReservationKey(order_id, line);
    if (consumed_.count(key) || !Stored(key)) return false;
    tx.state().Delete(key);
    Consumed(key, tx);
    return true;
  }

  bool Stored(const std::string& key) {
    std::string value;
    return !store_.kv().Get(key, &value);
  }

  // Remembers a once-only key this batch changes until the batch is durable (the store still
  // shows the old state until then).
  void Consumed(const std::string& key, events::Transaction& tx) {
    consumed_.insert(key);
    tx.OnDurable([this, key](std::error_code) {
      worker_->Post([this, key] { consumed_.erase(key); });
    });
  }

  void Release(const std::string& order_id, const std::string& shopper,
               const std::vector<schema::LineRef>& lines, events::Transaction& tx) {
    for (const auto& ref : lines) {
      Sku* sku = StockOf(LoadSku(ref.sku_id));
      if (sku == nullptr || !TakeReservation(order_id, ref.line, tx)) continue;
      sku->stock += ref.quantity;
      sku->reserved -= ref.quantity;
      AddHold(shopper, sku->id, -ref.quantity, tx);
      EmitStock(schema::StockReleased::kType, *sku,
                schema::StockReleased{order_id, ref.line, sku->id, ref.quantity}, tx);
    }
  }

  void Sell(const schema::OrderPaid& paid, events::Transaction& tx) {
    for (const auto& line : paid.lines) {
      Sku* sku = StockOf(LoadSku(line.sku_id));
      if (sku == nullptr || !TakeReservation(paid.order_id, line.line, tx)) continue;
      sku->reserved -= line.quantity;
      sku->sold += line.quantity;
      AddHold(paid.shopper_id, sku->id, -line.quantity, tx);
      EmitStock(schema::StockSold::kType, *sku,
                schema::StockSold{paid.order_id, line.line, sku->id, line.quantity, false}, tx);
    }
  }

  void Reinstate(const schema::ReinstateRequested& req, const std::string& event_id,
                 events::Transaction& tx) {
    // All or nothing: a late payment buys the whole order again or none of it. Each request is
    // answered once (a redelivery of the same event is not): a second late payment after a first
    // found no stock asks again, and is answered, rather than waiting forever.
    const std::string done_key = "cat/reinstated/" + event_id;
    if (consumed_.count(done_key) || Stored(done_key)) return;
    schema::StockReinstated answer{req.order_id, true, ""};
    for (const auto& line : req.lines) {
      Sku* sku = StockOf(LoadSku(line.sku_id));
      if (sku == nullptr || sku->stock < line.quantity) {
        answer = {req.order_id, false, "insufficient_stock"};
        break;
      }
    }
    if (answer.ok) {
      for (const auto& line : req.lines) {
        Sku* sku = StockOf(LoadSku(line.sku_id));
        sku->stock -= line.quantity;
        sku->sold += line.quantity;
        EmitStock(schema::StockSold::kType, *sku,
                  schema::StockSold{req.order_id, line.line, sku->id, line.quantity, true}, tx);
      }
    }
    tx.state().Put(done_key, answer.ok ? "1" : "0");
    Consumed(done_key, tx);
    tx.Emit(req.order_id + "-stock", events::kAnyVersion, answer);
  }

  void Restock(const schema::RefundChanged& refund, events::Transaction& tx) {
    const std::string done_key = "cat/restocked/" + refund.refund_id;
    if (consumed_.count(done_key) || Stored(done_key)) return;
    for (const auto& item : refund.items) {
      Sku* sku = StockOf(LoadSku(item.sku_id));
      if (sku == nullptr) continue;
      int64_t units = std::min(item.quantity, sku->sold);
      sku->sold -= units;
      sku->stock += units;
      EmitStock(schema::StockReleased::kRestocked, *sku,
                schema::StockReleased{refund.order_id, item.line, sku->id, units}, tx);
    }
    tx.state().Put(done_key, "1");
    Consumed(done_key, tx);
  }

  struct Hold {
    std::string key;
    size_t hash;
  };
  static Hold HoldOf(const std::string& shopper, const std::string& sku) {
    std::string key = HoldKey(shopper, sku);
    const size_t hash = base::PackedStringMap::Hash(key);
    return {std::move(key), hash};
  }

  int64_t Held(const Hold& hold) {
    if (const uint64_t* cached = holds_.Find(hold.key, hold.hash)) {
      return static_cast<int64_t>(*cached);
    }
    std::string v;
    int64_t held = 0;
    if (!store_.kv().Get(hold.key, &v)) held = std::max<int64_t>(0, std::stoll(v));
    holds_.Set(hold.key, hold.hash, static_cast<uint64_t>(held));
    return held;
  }

  void AddHold(const std::string& shopper, const std::string& sku, int64_t delta,
               events::Transaction& tx) {
    if (options_.hold_cap > 0) AddHold(HoldOf(shopper, sku), delta, tx);
  }

  void AddHold(Hold hold, int64_t delta, events::Transaction& tx) {
    const int64_t held = std::max<int64_t>(0, Held(hold) + delta);
    holds_.Set(hold.key, hold.hash, static_cast<uint64_t>(held));  // 0: holds nothing.
    if (held == 0) {
      tx.state().Delete(hold.key);
    } else {
      tx.state().Put(std::move(hold.key), std::to_string(held));
    }
  }

 public:
  events::EventStore& store() { return store_; }
  events::Worker* worker_ = nullptr;

 private:
  events::EventStore& store_;
  CatalogOptions options_;
  std::unordered_map<std::string, Seller> sellers_;
  std::unordered_map<std::string, Sku> skus_;
  base::PackedStringMap holds_;  // Units each (shopper, SKU) holds unpaid; 0 for none.
  std::unordered_set<std::string> codes_;  // Trace codes handed out by this process.
  std::unordered_set<std::string> images_;  // Refs of stored images (a cache).
  std::unordered_map<std::string, Product> products_;
  bool written_uncached_ = false;  // Since the last wait for the store (see GetRecord).
  std::unordered_map<std::string, std::string> outer_;  // Imported outer ids.
  std::atomic<uint64_t> outer_trims_{0};  // Times outer_ was dropped (see Outer).
  SearchIndex index_;
  static constexpr size_t kMaxDistribute = 100'000;
  // Listings: which products resell a product (all of them, kept in memory), and a cache of
  // (distributor, source) → listing.
  std::unordered_map<std::string, std::vector<std::string>> listings_of_;
  std::unordered_map<std::string, std::string> listings_;
  // Once-only records consumed by a batch that is not yet durable (the store still shows them).
  std::unordered_set<std::string> consumed_;
};

CatalogService::CatalogService(events::EventStore& store, CatalogOptions options)
    : worker_("catalog", store.writer_worker()), impl_(std::make_unique<Impl>(store, options)) {
  impl_->worker_ = &worker_;
}

CatalogService::~CatalogService() {
  worker_.Stop();
  // Commits still queued in the store call back into this service: let them run first.
  (void)impl_->store().AppendAndWait(events::AppendRequest{});
}

events::Processor& CatalogService::processor() { return *impl_; }


void CatalogService::RegisterSeller(SellerInput input, std::function<void(Result<Seller>)> done) {
  events::RunCommand<Seller>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        return impl_->RegisterSeller(input, tx);
      },
      std::move(done));
}

void CatalogService::CreateProduct(ProductInput input, std::function<void(Result<Product>)> done) {
  events::RunCommand<Product>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        return impl_->CreateProduct(input, tx);
      },
      std::move(done));
}

void CatalogService::UpdateProduct(std::string product_id, ProductInput input,
                                   std::string acting_seller_id,
                                   std::function<void(Result<Product>)> done) {
  events::RunCommand<Product>(
      worker_, impl_->store(),
      [this, id = std::move(product_id), input = std::move(input),
       acting = std::move(acting_seller_id)](events::Transaction& tx) {
        return impl_->EditProduct(id, input, acting, tx);
      },
      std::move(done));
}

void CatalogService::Distribute(DistributeInput input,
                                std::function<void(Result<DistributeReport>)> done) {
  events::RunCommand<DistributeReport>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        return impl_->Distribute(input, tx);
      },
      std::move(done));
}

void CatalogService::StoreImage(std::string bytes, std::function<void(Result<std::string>)> done) {
  events::RunCommand<std::string>(
      worker_, impl_->store(),
      [this, bytes = std::move(bytes)](events::Transaction& tx) {
        return impl_->StoreImage(bytes, tx);
      },
      std::move(done));
}

void CatalogService::GetImage(std::string ref, std::function<void(Result<std::string>)> done) {
  worker_.Post([this, ref = std::move(ref), done = std::move(done)] { done(impl_->GetImage(ref)); });
}

void CatalogService::ListProducts(ProductQuery query,
                                  std::function<void(Result<ProductPage>)> done) {
  worker_.Post([this, q = std::move(query), done = std::move(done)] { done(impl_->ListProducts(q)); });
}

void CatalogService::PrepareRows(const Seller& seller, std::vector<PackRow>& rows) const {
  impl_->PrepareAll(seller, rows);
}

void CatalogService::ImportPack(std::string seller_id, std::vector<PackRow> rows,
                                std::function<void(Result<ImportReport>)> done) {
  events::RunCommand<ImportReport>(
      worker_, impl_->store(),
      [this, seller_id = std::move(seller_id), rows = std::move(rows)](
          events::Transaction& tx) mutable { return impl_->ImportPack(seller_id, rows, tx); },
      std::move(done));
}

void CatalogService::ExportPack(std::string seller_id,
                                std::function<void(Result<std::vector<PackRow>>)> done) {
  worker_.Post([this, id = std::move(seller_id), done = std::move(done)] {
    done(impl_->ExportPack(id));
  });
}

void CatalogService::RegisterBatch(BatchInput input, std::function<void(Result<Batch>)> done) {
  events::RunCommand<Batch>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        return impl_->RegisterBatch(input, tx);
      },
      std::move(done));
}

void CatalogService::GetTrace(std::string code, std::function<void(Result<Trace>)> done) {
  worker_.Post([this, code = std::move(code), done = std::move(done)] { done(impl_->GetTrace(code)); });
}

void CatalogService::GetSeller(std::string id, std::function<void(Result<Seller>)> done) {
  worker_.Post([this, id = std::move(id), done = std::move(done)] { done(impl_->GetSeller(id)); });
}

void CatalogService::GetProduct(std::string id, std::function<void(Result<Product>)> done) {
  worker_.Post([this, id = std::move(id), done = std::move(done)] { done(impl_->GetProduct(id)); });
}

}  // namespace pavilion::catalog
