// CatalogService: sellers, products and the stock of every SKU.
//
// Commands (RegisterSeller, CreateProduct) and queries run on the catalog's Worker (a lane of
// the store's writer worker when it has one: EventStore::writer_worker()), as does its
// Processor, which keeps every SKU's stock as three numbers: available (`stock`), `reserved` by
// unpaid orders, and `sold`. It answers each order.placed line with stock.reserved or
// stock.rejected (unknown_sku, insufficient_stock, hold_limit: a shopper may hold at most
// `hold_cap` unpaid units of one SKU), turns reserved into sold on order.paid, gives reserved
// units back on order.rejected and order.cancelled, takes stock again all-or-nothing for a late
// payment (order.reinstate_requested → stock.reinstated), and restocks returned goods on
// refund.completed. Each reservation is a record that is consumed once, so a redelivered event
// never moves stock twice. One thread owns all stock, so it never goes negative whatever the
// concurrency. State lives under "cat/" and is written in the same batch as its events; a stock
// move writes no SKU record: its event on the SKU's stream carries the stock (Sku::stream_version).
//
// Batches (lots) carry a trace record and an unguessable trace code (二维码溯源).
//
// Distributors resell suppliers' products as listings (Distribute): a listing's SKUs sell the
// supplier's stock, so an order on a listing reserves the supplier's SKU, names the supplier as
// the seller who ships, and carries how the price divides (schema::Distribution).
//
// Reads: order.placed, order.rejected, order.cancelled, order.paid, order.reinstate_requested,
// refund.completed, and a SKU's stock from the last event on its stream. Writes:
// seller.registered, product.created, product.updated, batch.registered, stock.reserved,
// stock.rejected, stock.released, stock.sold, stock.reinstated, stock.restocked.
// Thread-safety: every public method may be called from any thread; callbacks run on the
// catalog worker or the store's sync thread and must not block.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pavilion/catalog/kinds.h"
#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/events/schema.h"
#include "pavilion/places/place_directory.h"

namespace pavilion::catalog {

struct SellerInput {
  std::string name, place_code, supplier_type;
};

struct Seller {
  std::string id, name, place_code, supplier_type;
  int64_t created_micros = 0;
  template <class V>
  void Fields(V& v) {
    v(id), v(name), v(place_code), v(supplier_type), v(created_micros);
  }
};

struct SkuInput {
  std::string spec;
  Fen price;
  int64_t stock = 0;
};

struct ProductInput {
  std::string seller_id, title;
  std::vector<SkuInput> skus;
  std::string brand;  // A regional public brand (沁州黄, 滋味永川) or the seller's own.
  std::string category = "other";  // A code of CatalogService::Categories().
  std::string place_code;          // Origin, any level; default: the seller's place.
  std::vector<events::schema::Certification> certifications;
  int64_t floor_price_fen = -1;  // Protective price; -1: none (poor households: lowest SKU).
  events::schema::ProductDetails details;  // Subtitle, description, images, 参数, weight, barcode.
};

struct PreparedProduct;  // A row's product made ready off the catalog's thread (PrepareRows).

struct PackRow {
  int row = 0;
  std::string outer_id;
  ProductInput product;                       // seller_id is filled by the importer.
  std::shared_ptr<PreparedProduct> prepared;  // Set by CatalogService::PrepareRows, or null.
};

struct PackError {
  int row = 0;
  std::string message;  // Starts with the field: "skus[0].price_fen: expected an integer".
};

struct ParsedPack {
  std::vector<PackRow> rows;
  std::vector<PackError> errors;
};

struct ImportReport {
  int rows = 0, created = 0, updated = 0, unchanged = 0;
  std::vector<PackError> errors;
  // Images in the pack that no row names: not stored. Their names, sorted, the first
  // kMaxListedIgnoredImages of them.
  int ignored_images = 0;
  std::vector<std::string> ignored_image_names;
  static constexpr size_t kMaxListedIgnoredImages = 20;
};

// A category of the catalog's tree: the built-in defaults (county specialties, each with its
// agricultural flag) and what operators add or change (SetCategory, event category.set).
struct Category {
  std::string code, name, parent;  // parent: empty for a top-level category.
  bool agricultural = false;  // Counted in 农产品网络零售额 (agricultural online retail).
  bool needs_sc = false;      // Processed food: listed only with a valid SC licence.
  int depth = 0;              // 0 for a top-level category.
};

// What an operator sends to add a category or change one. Left out (nullopt) on a change: kept
// as it is; on a new category: name is required, parent is top-level, and the flags are the
// parent's (false at the top).
struct CategoryInput {
  std::string code;
  std::optional<std::string> name, parent;
  std::optional<bool> agricultural, needs_sc;
};
const std::vector<std::string>& CertificationTypes();

struct Sku {
  std::string id, product_id, seller_id, place_code, spec;
  Fen price;
  int64_t stock = 0;     // Available to reserve.
  int64_t reserved = 0;  // Held by unpaid orders.
  int64_t sold = 0;      // Paid for.
  // A listing's SKU sells the stock of this one (its supplier's, or the listing it resells);
  // its own stock numbers stay 0.
  std::string source_sku_id;
  // The events the SKU's stream (its stock events) had when this was recorded. Stock moves
  // write no record: each stock event carries the three numbers (schema::StockLevels), so a
  // record's numbers hold until its stream goes past this version, and the last event's after.
  // kVersionUnknown in records stored before the field, which were rewritten with every move.
  static constexpr uint64_t kVersionUnknown = UINT64_MAX;
  uint64_t stream_version = kVersionUnknown;
  template <class V>
  void Fields(V& v) {
    v(id), v(product_id), v(seller_id), v(place_code), v(spec), v(price), v(stock), v(reserved),
        v(sold), v(source_sku_id), v(events::Added(stream_version));
  }
};

struct Product {
  std::string id, seller_id, title, place_code;
  int64_t created_micros = 0;
  std::vector<std::string> sku_ids;
  std::string brand, category;
  std::vector<events::schema::Certification> certifications;
  Fen floor_price;            // 0: none.
  bool poverty_zone = false;  // Supplied by a registered poor household (扶贫专区).
  events::schema::ProductDetails details;
  // A distributor's listing (分销): the product it resells, how far from the supplier (1: the
  // supplier's own product, 2: another distributor's listing), and the markup on the source's
  // prices. Level 0 is a seller's own product.
  std::string source_product_id;
  int64_t level = 0;
  int64_t markup_percent = 0, markup_fen = 0;
  std::vector<Sku> skus;  // Filled by queries, not stored.
  template <class V>
  void Fields(V& v) {
    v(id), v(seller_id), v(title), v(place_code), v(created_micros), v(sku_ids), v(brand),
        v(category), v(certifications), v(floor_price), v(poverty_zone), v(details),
        v(source_product_id), v(level), v(markup_percent), v(markup_fen);
  }
};

// Whether a certificate is in force on `day` (YYYY-MM-DD): expired ones are not claims.
bool CertificationValid(const events::schema::Certification& c, const std::string& day);

struct BatchInput {
  std::string product_id;
  std::string acting_seller_id;  // The seller asking; empty when the operator asks.
  events::schema::TraceRecord record;
};

struct Batch {
  std::string id, product_id, seller_id, trace_code;
  events::schema::TraceRecord record;
  int64_t created_micros = 0;
  template <class V>
  void Fields(V& v) {
    v(id), v(product_id), v(seller_id), v(trace_code), v(record), v(created_micros);
  }
};

// What a trace code shows: the batch, its product and its seller.
struct Trace {
  Batch batch;
  Product product;
  Seller seller;
};

struct ProductQuery {
  std::string q;           // Words of the title (Chinese or not); every one must appear.
  std::string place_code;  // A prefix: "14" Shanxi, "1404" Changzhi, "140430" Qin County.
  std::string seller_id;
  bool in_stock = false;
  int64_t min_price_fen = -1, max_price_fen = -1;  // Some SKU priced within.
  std::string brand, category, certification;      // certification: a type valid today
  bool poverty_zone = false;
  std::string sort = "newest";  // newest | price_asc | price_desc
  std::string cursor;
  int limit = 20;
};

struct ProductPage {
  std::vector<Product> products;
  std::string next_cursor;
};

// The operator's directory of sellers, by id, filtered: a place code prefix (140430 takes its
// towns and villages), a supplier type, text the name contains. A page reads at most
// kMaxSellersScanned records; `next_after` then says where the next page starts, even when this
// page found fewer than `limit`.
struct SellerQuery {
  std::string place_code, supplier_type, name;
  std::string after;  // The previous page's next_after.
  size_t limit = 50;
};
struct SellerPage {
  std::vector<Seller> sellers;
  std::string next_after;  // Empty: no more.
};
inline constexpr size_t kMaxSellersScanned = 10'000;

// The accepted supplier types as strings (SupplierType in kinds.h), in the order messages list
// them; CertificationTypes() likewise lists CertificationKind's strings.
const std::vector<std::string>& SupplierTypes();

inline constexpr size_t kMaxImageBytes = 8 << 20;
inline constexpr size_t kMaxImagesPerProduct = 20;
// The image's type from its first bytes ("jpg", "png", "gif", "webp"), or empty.
std::string_view ImageType(std::string_view bytes);

// One-click distribution (一键分销): a distributor resells a supplier's products as listings of
// its own. A listing shares its source's stock (the supplier ships), copies its content, and is
// priced at the source price plus the markup: ceil(price × (100 + percent) / 100) + fen. Chains
// are at most two levels (supplier → distributor → distributor); distributing again with another
// markup reprices the listings; supplier changes reach every listing as product.updated.
struct DistributeInput {
  std::string distributor_id;            // The seller who resells.
  std::string supplier_id;               // Whose products (or listings) it resells.
  std::vector<std::string> product_ids;  // Empty: every product of the supplier (its pack).
  int64_t markup_percent = 0;            // 0 to 1000.
  int64_t markup_fen = 0;                // 0 to 100000000, after the percent.
};

struct DistributeReport {
  int created = 0, updated = 0, unchanged = 0;
  std::vector<std::string> listing_ids;  // In the order of the supplier's products.
  std::vector<PackError> errors;         // row: the product's position (1-based), or 0.
};

struct CatalogOptions {
  // The divisions a seller's or product's place code must name, once loaded (services/places);
  // null or not loaded: a code is checked for its form only.
  places::PlaceDirectory* places = nullptr;
  // Anti-hoarding: the most unpaid units one shopper may hold of one SKU (0: no cap).
  int64_t hold_cap = 0;
  // Anti-hoarding by free identities: the most unpaid units of one SKU that all new shoppers
  // together may hold, and that new shoppers placing orders from one client address
  // (OrderPlaced::client) together may hold (0: no cap). A shopper is new until its first paid
  // order, however long ago it registered (an identity made and left to age is still free);
  // ids not minted by NewId (shoppers the operator names) are never new. The cap per client is
  // what keeps a few addresses from taking the whole of the first: filling it takes as many
  // addresses as it holds times the cap per client.
  int64_t new_shopper_hold_cap = 0;
  int64_t new_client_hold_cap = 0;
  // Records cached in memory (SKUs, products, sellers, holds, import keys) before the caches are
  // dropped, between transactions, once every earlier write is durable.
  size_t cache_limit = 1 << 18;
  // The WeChat Pay / Alipay profit-sharing profile: the most of a sale, in basis points of its
  // price, that may be split away from the supplier (distributors' margins plus the platform
  // fee, schema::ProfitSharingSplitBps). A distribution that could split more under the largest
  // fee that may apply to the product (the last settlement.fee_rules_set read) is refused.
  // 0: no profile, no check.
  uint32_t profit_sharing_cap_bps = 0;
};

class CatalogService {
 public:
  explicit CatalogService(events::EventStore& store, CatalogOptions options = {});
  ~CatalogService();

  void RegisterSeller(SellerInput input, std::function<void(Result<Seller>)> done);
  void CreateProduct(ProductInput input, std::function<void(Result<Product>)> done);
  // Replaces a product's content (as a pack row would): SKUs are matched by spec, a new spec is a
  // new SKU, a row's stock sets the available stock. `acting_seller_id` must own the product
  // (empty: the operator). Emits product.updated.
  void UpdateProduct(std::string product_id, ProductInput input, std::string acting_seller_id,
                     std::function<void(Result<Product>)> done);
  // Creates or reprices a distributor's listings of a supplier's products; see DistributeInput.
  void Distribute(DistributeInput input, std::function<void(Result<DistributeReport>)> done);
  // Stores an image (JPEG, PNG, GIF or WebP, at most kMaxImageBytes) by its content; returns its
  // ref "<sha256 hex>.<ext>", which products list in details.images. Storing it again is a no-op.
  void StoreImage(std::string bytes, std::function<void(Result<std::string>)> done);
  // Reads a stored image by its ref, answering on the calling thread (not the catalog's, which
  // reserves stock for every order: bulk image reads must not hold orders up).
  void GetImage(std::string ref, std::function<void(Result<std::string>)> done);
  void GetSeller(std::string id, std::function<void(Result<Seller>)> done);
  void GetProduct(std::string id, std::function<void(Result<Product>)> done);
  // The sellers, for operators (SellerQuery); reads what is durable.
  void ListSellers(SellerQuery query, std::function<void(Result<SellerPage>)> done);
  // Browse and search, from the catalog's own indexes (title n-grams, creation time).
  void ListProducts(ProductQuery query, std::function<void(Result<ProductPage>)> done);
  // Imports pack rows for a seller in one atomic write: valid rows are created (new outer_id) or
  // updated (changed content), unchanged rows write nothing, invalid rows are reported with
  // their row and change nothing. Importing the same pack again changes nothing.
  void ImportPack(std::string seller_id, std::vector<PackRow> rows,
                  std::function<void(Result<ImportReport>)> done);
  // Does on the calling thread the part of importing `rows` for `seller` that needs no catalog
  // state — the seller's defaults, validation, content hash, ids, encoded records — so that
  // ImportPack on the catalog's worker only looks rows up and stores them. Thread-safe; optional
  // (ImportPack prepares what is not). ImportPackFile prepares each piece while the catalog
  // imports the one before.
  void PrepareRows(const Seller& seller, std::vector<PackRow>& rows) const;
  // The seller's catalogue as pack rows; ImportPack of them changes nothing.
  void ExportPack(std::string seller_id, std::function<void(Result<std::vector<PackRow>>)> done);
  // The category tree, parents before their children (siblings by code). Thread-safe and
  // answered on the calling thread: a copy of the tree as it stands.
  std::vector<Category> Categories() const;
  // Adds a category or changes one (CategoryInput); emits category.set. A parent must exist and
  // must not be the category or below it; the tree is at most kMaxCategoryDepth deep.
  void SetCategory(CategoryInput input, std::function<void(Result<Category>)> done);
  static constexpr int kMaxCategoryDepth = 4;
  static constexpr size_t kMaxCategories = 1000;
  // Traceability: registers a batch with its trace record and gives it a trace code.
  void RegisterBatch(BatchInput input, std::function<void(Result<Batch>)> done);
  void GetTrace(std::string code, std::function<void(Result<Trace>)> done);

  events::Processor& processor();
  events::Worker& worker() { return worker_; }

 private:
  class Impl;
  events::Worker worker_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::catalog
