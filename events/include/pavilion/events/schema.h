// The event contract between services: every event type, its payload, and the money type.
//
// Services never include each other's headers; this file is all they share. Each event type is
// declared once, beside the payload it carries: a payload's `kType`, or for a payload several
// types share (ProductCreated, StockReleased, SubOrderChanged, RefundChanged) one constant per
// type. A type string is never renamed once released. `kEventTypes` at the end lists every
// type with its stream and its payload's fields; docs/events.md documents the same list (writer,
// readers, what each field means) and tests/events/contract_test.cc keeps the two in step.
//
// Each payload names its fields in its Fields() visitor, `v("order_id", order_id)`: the binary
// codec (codec.h) ignores the names, FieldNames<T>() collects them. Adding a field at the end
// (`v("x", Added(x))`) is a compatible change; a field a reader must tell apart from its
// default also raises the payload's kSchemaVersion (kMaxSchemaVersion in envelope.h).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "pavilion/events/codec.h"

namespace pavilion {

// Money in fen (分), the smallest unit of the yuan. Never a floating-point number.
class Fen {
 public:
  constexpr Fen() = default;
  constexpr explicit Fen(int64_t fen) : fen_(fen) {}
  constexpr int64_t value() const { return fen_; }
  constexpr Fen operator+(Fen o) const { return Fen(fen_ + o.fen_); }
  constexpr Fen operator-(Fen o) const { return Fen(fen_ - o.fen_); }
  constexpr Fen operator*(int64_t n) const { return Fen(fen_ * n); }
  constexpr Fen& operator+=(Fen o) {
    fen_ += o.fen_;
    return *this;
  }
  // Checked arithmetic: nullopt when the result cannot be represented, so money is refused
  // rather than wrapped. The operators above are for sums already known to fit.
  constexpr std::optional<Fen> CheckedAdd(Fen o) const {
    int64_t r;
    if (__builtin_add_overflow(fen_, o.fen_, &r)) return std::nullopt;
    return Fen(r);
  }
  constexpr std::optional<Fen> CheckedSub(Fen o) const {
    int64_t r;
    if (__builtin_sub_overflow(fen_, o.fen_, &r)) return std::nullopt;
    return Fen(r);
  }
  // Saturating sums, for folds and reports that cannot refuse an event already written: a sum
  // that cannot be represented stops at int64's end instead of wrapping to the other sign.
  constexpr Fen SaturatingAdd(Fen o) const {
    int64_t r;
    if (__builtin_add_overflow(fen_, o.fen_, &r)) return Fen(o.fen_ > 0 ? INT64_MAX : INT64_MIN);
    return Fen(r);
  }
  constexpr Fen SaturatingSub(Fen o) const {
    int64_t r;
    if (__builtin_sub_overflow(fen_, o.fen_, &r)) return Fen(o.fen_ < 0 ? INT64_MAX : INT64_MIN);
    return Fen(r);
  }
  constexpr std::optional<Fen> CheckedMul(int64_t n) const {
    int64_t r;
    if (__builtin_mul_overflow(fen_, n, &r)) return std::nullopt;
    return Fen(r);
  }
  constexpr auto operator<=>(const Fen&) const = default;
  template <class V>
  void Fields(V& v) {
    v(fen_);
  }

 private:
  int64_t fen_ = 0;
};

}  // namespace pavilion

namespace pavilion::events {

// Error codes of the services' commands, shared so the gateway maps them to HTTP in one place.
enum class svc_errc {
  ok = 0,
  invalid_argument,  // 422: the request is well-formed but a value is not acceptable
  not_found,         // 404
  forbidden,         // 403
  conflict,          // 409
  timed_out,         // 504
  internal,          // 500
};
const std::error_category& svc_category() noexcept;
std::error_code make_error_code(svc_errc e) noexcept;

}  // namespace pavilion::events

template <>
struct std::is_error_code_enum<pavilion::events::svc_errc> : std::true_type {};

namespace pavilion::events::schema {

struct SellerRegistered {
  static constexpr std::string_view kType = "seller.registered";
  std::string seller_id, name, place_code, supplier_type;
  template <class V>
  void Fields(V& v) {
    v("seller_id", seller_id), v("name", name), v("place_code", place_code),
        v("supplier_type", supplier_type);
  }
};

// category.set: the operator adds a category to the catalog's tree or changes one (the default
// tree is built in: services/catalog/README.md). The whole category after the change.
struct CategorySet {
  static constexpr std::string_view kType = "category.set";
  std::string code, name, parent;  // parent: empty for a top-level category.
  bool agricultural = false;  // Counted in 农产品网络零售额 (agricultural online retail).
  bool needs_sc = false;      // Processed food: listed only with a valid SC licence.
  template <class V>
  void Fields(V& v) {
    v("code", code), v("name", name), v("parent", parent), v("agricultural", agricultural),
        v("needs_sc", needs_sc);
  }
};

// The category tree every service starts from (the catalog checks products against it, the sales
// projection counts agricultural sales by it); category.set events change it from there.
const std::vector<CategorySet>& DefaultCategories();

struct SkuSpec {
  std::string sku_id, spec;
  Fen price;
  int64_t stock = 0;
  std::string source_sku_id;  // A distributor's listing: the SKU whose stock it sells.
  template <class V>
  void Fields(V& v) {
    v("sku_id", sku_id), v("spec", spec), v("price", price), v("stock", stock),
        v("source_sku_id", source_sku_id);
  }
};

// A distributor's margin on one unit of a line sold through its listing (分销).
struct Commission {
  std::string seller_id;
  Fen unit;
  template <class V>
  void Fields(V& v) {
    v("seller_id", seller_id), v("unit", unit);
  }
  bool operator==(const Commission&) const = default;
};

// How a line sold through listings divides: the supplier (who ships) gets the supply price per
// unit, each distributor of the chain (at most two) its margin; they sum to the unit price.
// Empty for a product sold by its own seller.
struct Distribution {
  std::string listing_seller_id;  // The distributor whose listing the shopper bought.
  Fen supply_price;
  std::vector<Commission> commissions;  // Supplier side first.
  template <class V>
  void Fields(V& v) {
    v("listing_seller_id", listing_seller_id), v("supply_price", supply_price),
        v("commissions", commissions);
  }
};

// 三品一标 and licences: 无公害 pollution_free, 绿色食品 green_food, 有机 organic, 地理标志
// geographic_indication, SC food-production licence sc_licence, iso.
struct Certification {
  std::string type, number, issuer, valid_from, valid_to;  // Dates YYYY-MM-DD, inclusive.
  template <class V>
  void Fields(V& v) {
    v("type", type), v("number", number), v("issuer", issuer), v("valid_from", valid_from),
        v("valid_to", valid_to);
  }
  bool operator==(const Certification&) const = default;
};

struct Param {
  std::string name, value;  // 参数: "净含量" "500g", "保质期" "12个月".
  template <class V>
  void Fields(V& v) {
    v("name", name), v("value", value);
  }
  bool operator==(const Param&) const = default;
};

// What a listing shows beyond title and price.
struct ProductDetails {
  std::string subtitle, description;  // description: text or simple HTML.
  // Stored images ("<sha256 hex>.jpg", served at /v1/images/{ref}) or http(s) URLs.
  std::vector<std::string> images;
  std::vector<Param> params;
  int64_t weight_grams = 0;
  std::string barcode;
  template <class V>
  void Fields(V& v) {
    v("subtitle", subtitle), v("description", description), v("images", images),
        v("params", params), v("weight_grams", weight_grams), v("barcode", barcode);
  }
  bool operator==(const ProductDetails&) const = default;
};

// product.created, and product.updated (the product's whole content after an edit, an import's
// update, or a change carried from a supplier to a listing).
struct ProductCreated {
  static constexpr std::string_view kType = "product.created";
  static constexpr std::string_view kUpdated = "product.updated";
  std::string product_id, seller_id, title, place_code;
  std::vector<SkuSpec> skus;
  std::string brand, category;
  std::vector<Certification> certifications;
  Fen floor_price;
  bool poverty_zone = false;
  ProductDetails details;
  std::string source_product_id;  // A distributor's listing: the product it resells.
  // A listing: the supplier at the end of its chain, and the largest share of a SKU's price
  // that goes to its distributors, (price - supply price) / price in basis points rounded up
  // (ProfitSharingSplitBps). Added later: 0 and empty for a supplier's own product.
  std::string supplier_id;
  uint32_t margin_bps = 0;
  template <class V>
  void Fields(V& v) {
    v("product_id", product_id), v("seller_id", seller_id), v("title", title),
        v("place_code", place_code), v("skus", skus), v("brand", brand), v("category", category),
        v("certifications", certifications), v("floor_price", floor_price),
        v("poverty_zone", poverty_zone), v("details", details),
        v("source_product_id", source_product_id), v("supplier_id", Added(supplier_id)),
        v("margin_bps", Added(margin_bps));
  }
};

struct OrderItem {
  std::string sku_id;
  int64_t quantity = 0;
  template <class V>
  void Fields(V& v) {
    v("sku_id", sku_id), v("quantity", quantity);
  }
};

struct OrderPlaced {
  static constexpr std::string_view kType = "order.placed";
  std::string order_id, shopper_id;
  std::vector<OrderItem> items;
  // Who placed it, as limits count clients: a keyed hash of the client's address (its /64 for
  // IPv6), never the address itself; empty when not placed over HTTP. Added later.
  std::string client = {};
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("shopper_id", shopper_id), v("items", items),
        v("client", Added(client));
  }
};

// A SKU's three stock numbers after a stock event: available (`stock`), `reserved` by unpaid
// orders, `sold`. Every event on a SKU's stream carries them, so the last one is the SKU's stock
// (the catalog writes no SKU record when stock moves). `reserved` and `sold` were added later:
// the events that carry them say so in their envelope's schema_version (kStockLevelsSchema, the
// payloads' kSchemaVersion, which Transaction::Emit stamps); older ones decode with 0 there and
// are never read for them.
inline constexpr uint32_t kStockLevelsSchema = 2;  // kMaxSchemaVersion (envelope.h) accepts it.
struct StockLevels {
  int64_t stock = 0, reserved = 0, sold = 0;
  bool operator==(const StockLevels&) const = default;
};

// Catalog's answer for one order line that could be reserved.
struct StockReserved {
  static constexpr std::string_view kType = "stock.reserved";
  static constexpr uint32_t kSchemaVersion = kStockLevelsSchema;
  std::string order_id;
  uint32_t line = 0;
  std::string sku_id, product_id, seller_id, place_code;
  int64_t quantity = 0;
  Fen unit_price;
  int64_t stock_after = 0;
  Distribution distribution;  // Sold through a listing: seller_id is the supplier, who ships.
  int64_t reserved_after = 0, sold_after = 0;  // See StockLevels.
  StockLevels levels() const { return {stock_after, reserved_after, sold_after}; }
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("line", line), v("sku_id", sku_id), v("product_id", product_id),
        v("seller_id", seller_id), v("place_code", place_code), v("quantity", quantity),
        v("unit_price", unit_price), v("stock_after", stock_after), v("distribution", distribution),
        v("reserved_after", Added(reserved_after)), v("sold_after", Added(sold_after));
  }
};

// Catalog's answer for one order line that could not be reserved.
struct StockRejected {
  static constexpr std::string_view kType = "stock.rejected";
  static constexpr uint32_t kSchemaVersion = kStockLevelsSchema;
  std::string order_id;
  uint32_t line = 0;
  std::string sku_id;
  int64_t quantity = 0;
  std::string reason;  // unknown_sku | insufficient_stock | hold_limit | new_shopper_limit
  int64_t available = 0;
  // The SKU's other numbers, unchanged by a rejection (zeros for an unknown SKU).
  int64_t reserved_after = 0, sold_after = 0;
  StockLevels levels() const { return {available, reserved_after, sold_after}; }
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("line", line), v("sku_id", sku_id), v("quantity", quantity),
        v("reason", reason), v("available", available), v("reserved_after", Added(reserved_after)),
        v("sold_after", Added(sold_after));
  }
};

// Reserved units given back (stock.released), or returned goods back on sale (stock.restocked,
// `order_id` then names the refund's order).
struct StockReleased {
  static constexpr std::string_view kType = "stock.released";
  static constexpr uint32_t kSchemaVersion = kStockLevelsSchema;
  static constexpr std::string_view kRestocked = "stock.restocked";
  std::string order_id;
  uint32_t line = 0;
  std::string sku_id;
  int64_t quantity = 0;
  int64_t stock_after = 0;
  int64_t reserved_after = 0, sold_after = 0;
  StockLevels levels() const { return {stock_after, reserved_after, sold_after}; }
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("line", line), v("sku_id", sku_id), v("quantity", quantity),
        v("stock_after", stock_after), v("reserved_after", Added(reserved_after)),
        v("sold_after", Added(sold_after));
  }
};

// Units of an order line sold: reserved units an order paid for (`from_stock` false), or
// available units a late payment took again (stock.reinstated; `from_stock` true).
struct StockSold {
  static constexpr std::string_view kType = "stock.sold";
  static constexpr uint32_t kSchemaVersion = kStockLevelsSchema;
  std::string order_id;
  uint32_t line = 0;
  std::string sku_id;
  int64_t quantity = 0;
  bool from_stock = false;
  int64_t stock_after = 0, reserved_after = 0, sold_after = 0;
  StockLevels levels() const { return {stock_after, reserved_after, sold_after}; }
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("line", line), v("sku_id", sku_id), v("quantity", quantity),
        v("from_stock", from_stock), v("stock_after", stock_after),
        v("reserved_after", reserved_after), v("sold_after", sold_after);
  }
};

// One order line once its SKU is known: who sells it, from where, at what price.
struct PricedLine {
  uint32_t line = 0;
  std::string sku_id, product_id, seller_id, place_code;
  int64_t quantity = 0;
  Fen unit_price, amount;
  Distribution distribution;
  template <class V>
  void Fields(V& v) {
    v("line", line), v("sku_id", sku_id), v("product_id", product_id), v("seller_id", seller_id),
        v("place_code", place_code), v("quantity", quantity), v("unit_price", unit_price),
        v("amount", amount), v("distribution", distribution);
  }
};

struct SubOrderInfo {
  std::string sub_id, seller_id;
  Fen total;
  template <class V>
  void Fields(V& v) {
    v("sub_id", sub_id), v("seller_id", seller_id), v("total", total);
  }
};

// Every line is reserved: the order waits for payment until `pay_deadline_micros`.
struct OrderReserved {
  static constexpr std::string_view kType = "order.reserved";
  std::string order_id, shopper_id;
  Fen total;
  std::vector<PricedLine> lines;
  std::vector<SubOrderInfo> sub_orders;
  int64_t pay_deadline_micros = 0;
  // When the order was placed and when it was decided (the order's created_micros and
  // updated_micros): with order.placed, this event is the order until it next changes (the
  // order service writes no record before that). 0 in events from before these fields.
  int64_t placed_micros = 0, reserved_micros = 0;
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("shopper_id", shopper_id), v("total", total), v("lines", lines),
        v("sub_orders", sub_orders), v("pay_deadline_micros", pay_deadline_micros),
        v("placed_micros", Added(placed_micros)), v("reserved_micros", Added(reserved_micros));
  }
};

struct LineRef {
  uint32_t line = 0;
  std::string sku_id;
  int64_t quantity = 0;
  std::string reason;
  template <class V>
  void Fields(V& v) {
    v("line", line), v("sku_id", sku_id), v("quantity", quantity), v("reason", reason);
  }
};

struct OrderRejected {
  static constexpr std::string_view kType = "order.rejected";
  std::string order_id, shopper_id;
  std::vector<LineRef> rejected;  // The lines that failed, with their reasons.
  std::vector<LineRef> release;   // The lines that had been reserved and must be released.
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("shopper_id", shopper_id), v("rejected", rejected),
        v("release", release);
  }
};

// Payment received and accepted: reserved stock becomes sold.
struct OrderPaid {
  static constexpr std::string_view kType = "order.paid";
  std::string order_id, shopper_id, provider, txn_id;
  Fen amount;
  std::vector<PricedLine> lines;
  bool late = false;  // Paid after an automatic cancel; the stock was taken again.
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("shopper_id", shopper_id), v("provider", provider),
        v("txn_id", txn_id), v("amount", amount), v("lines", lines), v("late", late);
  }
};

// Cancelled before payment: the reserved lines go back to stock.
struct OrderCancelled {
  static constexpr std::string_view kType = "order.cancelled";
  std::string order_id, shopper_id, reason;  // reason: shopper | operator | payment_timeout
  std::vector<LineRef> release;
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("shopper_id", shopper_id), v("reason", reason),
        v("release", release);
  }
};

// A payment for an order that can no longer be honoured as placed (cancelled and out of stock,
// rejected, wrong amount): the money is owed back to the shopper.
struct RefundDue {
  static constexpr std::string_view kType = "payment.refund_due";
  std::string order_id, shopper_id, provider, txn_id, reason;
  Fen amount;
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("shopper_id", shopper_id), v("provider", provider),
        v("txn_id", txn_id), v("reason", reason), v("amount", amount);
  }
};

// A late payment arrived for a cancelled order: take the stock again if it is there.
struct ReinstateRequested {
  static constexpr std::string_view kType = "order.reinstate_requested";
  std::string order_id, shopper_id;
  std::vector<LineRef> lines;
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("shopper_id", shopper_id), v("lines", lines);
  }
};

// The catalog's all-or-nothing answer to ReinstateRequested; when ok the units are sold.
struct StockReinstated {
  static constexpr std::string_view kType = "stock.reinstated";
  std::string order_id;
  bool ok = false;
  std::string reason;
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("ok", ok), v("reason", reason);
  }
};

// Shipped, delivered, completed and the after-sale window's close share one payload.
struct SubOrderChanged {
  static constexpr std::string_view kShipped = "suborder.shipped";
  static constexpr std::string_view kDelivered = "suborder.delivered";
  static constexpr std::string_view kCompleted = "suborder.completed";
  // The after-sale window of a completed sub-order closed: settlement posts its shares.
  static constexpr std::string_view kAfterSaleClosed = "suborder.after_sale_closed";
  std::string order_id, sub_id, seller_id, carrier, tracking_no;
  bool automatic = false;
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("sub_id", sub_id), v("seller_id", seller_id), v("carrier", carrier),
        v("tracking_no", tracking_no), v("automatic", automatic);
  }
};

// After-sale: requested, approved or rejected, then refunded. One payload for all of them. A
// provider that pays back later (prepay) reports failed or completed; a failed one is retried.
struct RefundChanged {
  static constexpr std::string_view kRequested = "refund.requested";
  static constexpr std::string_view kApproved = "refund.approved";
  static constexpr std::string_view kRejected = "refund.rejected";
  static constexpr std::string_view kCompleted = "refund.completed";
  static constexpr std::string_view kFailed = "refund.failed";
  static constexpr std::string_view kRetried = "refund.retried";
  std::string order_id, refund_id, sub_id, seller_id, place_code, reason;
  Fen amount;
  bool with_return = false;
  std::vector<LineRef> items;      // Returned units (restocked on completion when with_return).
  std::string provider_refund_id;  // The provider's id for the latest request to pay back.
  template <class V>
  void Fields(V& v) {
    v("order_id", order_id), v("refund_id", refund_id), v("sub_id", sub_id),
        v("seller_id", seller_id), v("place_code", place_code), v("reason", reason),
        v("amount", amount), v("with_return", with_return), v("items", items),
        v("provider_refund_id", Added(provider_refund_id));
  }
};

// The operator's platform fee rules, in basis points (settlement writes them; its ledger folds
// them, so completions settle at the rules in force when they are read from the log).
struct FeeRate {
  std::string key;  // A category, or a seller id.
  uint32_t bps = 0;
  template <class V>
  void Fields(V& v) {
    v("key", key), v("bps", bps);
  }
};
// WeChat Pay / Alipay profit sharing caps what may be split away from the receiving merchant
// (the supplier): its distributors' margin plus the platform fee, as a share of what the shopper
// paid. The fee is taken from the supplier's part (price - margin), so a listing whose margin is
// `margin_bps` of its price and a fee of `fee_bps` split margin + fee × (1 - margin) away; both
// the catalog (a distribution) and settlement (fee rules) check it with this one rule, rounded
// up so that a check never lets a fen past the cap.
inline uint32_t ProfitSharingSplitBps(uint32_t margin_bps, uint32_t fee_bps) {
  if (margin_bps >= 10000) return 10000;
  const uint64_t fee_part = (uint64_t{fee_bps} * (10000 - margin_bps) + 9999) / 10000;
  return static_cast<uint32_t>(margin_bps + fee_part);
}

struct FeeRulesSet {
  static constexpr std::string_view kType = "settlement.fee_rules_set";
  uint32_t default_bps = 0;
  std::vector<FeeRate> by_category, by_seller;
  template <class V>
  void Fields(V& v) {
    v("default_bps", default_bps), v("by_category", by_category), v("by_seller", by_seller);
  }
};

// Payouts (settlement writes them on its payout stream, one per payout; its ledger folds them):
// requested by a payout run (payable → in transit), then confirmed (paid out) or returned by the
// payout provider (payable again). One payload for the three.
struct PayoutChanged {
  static constexpr std::string_view kRequested = "settlement.payout_requested";
  static constexpr std::string_view kConfirmed = "settlement.payout_confirmed";
  static constexpr std::string_view kReturned = "settlement.payout_returned";
  std::string payout_id, party_id, provider, reason;
  Fen amount;
  template <class V>
  void Fields(V& v) {
    v("payout_id", payout_id), v("party_id", party_id), v("provider", provider),
        v("reason", reason), v("amount", amount);
  }
};

// Targets and award rules: what operators track (services/settlement/README.md, "Targets and
// award rules"). Settlement writes them (POST /v1/targets, POST /v1/award-rules) after checking
// them; a definition never changes once written, it is only retired. The sales processor keeps
// an index of them (so a rebuild from the log lists them again) and measures them against its
// cells.
//
// What a target counts: net sales (paid − refunded), the agricultural part of them, paid orders,
// new sellers (first paid sale ever in the period), or the entities of a kind whose net sales
// in the period pass a threshold.
enum class TargetMetric : uint8_t {
  kNetSales,
  kAgriculturalNetSales,
  kOrders,
  kNewSellers,
  kEntities
};
std::string_view ToString(TargetMetric m);
bool Parse(std::string_view name, TargetMetric* m);
// The entities counted (a target's `entities` metric) or awarded (an award rule's kind): a seller
// (an enterprise, cooperative, …), a brand, a town, a village, a product.
enum class EntityKind : uint8_t { kSeller, kBrand, kTown, kVillage, kProduct };
std::string_view ToString(EntityKind k);
bool Parse(std::string_view name, EntityKind* k);
// A filter on a yes/no attribute: either, only yes, only no.
enum class Either : uint8_t { kAny, kYes, kNo };
std::string_view ToString(Either e);
bool Parse(std::string_view name, Either* e);

// Which sales count toward a target: those placed in `place_code` (a division code; empty: any),
// of that brand, category, supplier type, seller, agricultural or not, poverty-household or not,
// and with `rural` only those placed in rural places (places::IsRural). Empty fields match all.
struct TargetScope {
  std::string place_code, brand, category, supplier_type, seller_id;
  Either agricultural = Either::kAny, poverty = Either::kAny;
  bool rural = false;
  template <class V>
  void Fields(V& v) {
    v("place_code", place_code), v("brand", brand), v("category", category),
        v("supplier_type", supplier_type), v("seller_id", seller_id),
        v("agricultural", agricultural), v("poverty", poverty), v("rural", rural);
  }
};

// One node of a target's task decomposition (任务分解): parts[0] is the target itself, every other
// part a quota of a narrower scope under an earlier part.
struct TargetPart {
  int32_t parent = -1;  // The index of the part it is split from; -1 for parts[0].
  std::string name;
  TargetScope scope;
  int64_t value = 0;  // Fen for the money metrics, a count otherwise; 0 for a growth target.
  template <class V>
  void Fields(V& v) {
    v("parent", parent), v("name", name), v("scope", scope), v("value", value);
  }
};

struct TargetDefined {
  static constexpr std::string_view kType = "target.defined";
  std::string target_id, name;
  TargetMetric metric = TargetMetric::kNetSales;
  EntityKind entity_kind = EntityKind::kSeller;  // The `entities` metric only.
  Fen threshold;                                 // The `entities` metric only.
  bool strict = false;  // `entities`: net sales above the threshold, not at least it.
  std::string period;   // "2026", "2026-Q3", "2026-11".
  // A growth target: the value is the same period a year before × (10000 + growth_bps) / 10000,
  // rounded up; otherwise each part's `value`.
  bool growth = false;
  int64_t growth_bps = 0;
  std::vector<TargetPart> parts;
  template <class V>
  void Fields(V& v) {
    v("target_id", target_id), v("name", name), v("metric", metric), v("entity_kind", entity_kind),
        v("threshold", threshold), v("strict", strict), v("period", period), v("growth", growth),
        v("growth_bps", growth_bps), v("parts", parts);
  }
};

// A rule paying a title and an award to every entity of a kind whose net sales in the period
// pass a threshold: a fixed award, or rate_bps of its net sales capped at `cap` (0: no cap).
struct AwardRuleDefined {
  static constexpr std::string_view kType = "award_rule.defined";
  std::string rule_id, name, title;
  EntityKind kind = EntityKind::kSeller;
  std::string period;
  std::string within;               // A place code the sales must lie in; empty: anywhere.
  std::vector<std::string> brands;  // Only sales of these brands (original brands); empty: any.
  Fen threshold;
  bool strict = false;  // Above the threshold, not at least it.
  Fen award;
  uint32_t rate_bps = 0;
  Fen cap;
  template <class V>
  void Fields(V& v) {
    v("rule_id", rule_id), v("name", name), v("title", title), v("kind", kind), v("period", period),
        v("within", within), v("brands", brands), v("threshold", threshold), v("strict", strict),
        v("award", award), v("rate_bps", rate_bps), v("cap", cap);
  }
};

// A target or an award rule retired: it is no longer listed as active, and stays readable.
struct DefinitionRetired {
  static constexpr std::string_view kTarget = "target.retired";
  static constexpr std::string_view kAwardRule = "award_rule.retired";
  std::string id;
  template <class V>
  void Fields(V& v) {
    v("id", id);
  }
};

// Traceability (二维码溯源): one batch (lot) of a product and its trace record.
struct FarmingStep {
  std::string date, operation;  // e.g. "2026-05-12", "施有机肥"
  template <class V>
  void Fields(V& v) {
    v("date", date), v("operation", operation);
  }
};

struct TraceRecord {
  std::string production_base;        // 生产基地
  std::vector<FarmingStep> farming;   // 农事操作
  std::string soil_water_inspection;  // 土壤/水质检测
  std::string harvest_date, packing_date;
  std::string inspection_report;  // 检测报告: number, lab, result
  template <class V>
  void Fields(V& v) {
    v("production_base", production_base), v("farming", farming),
        v("soil_water_inspection", soil_water_inspection), v("harvest_date", harvest_date),
        v("packing_date", packing_date), v("inspection_report", inspection_report);
  }
};

struct BatchRegistered {
  static constexpr std::string_view kType = "batch.registered";
  std::string batch_id, product_id, seller_id, trace_code;
  TraceRecord record;
  template <class V>
  void Fields(V& v) {
    v("batch_id", batch_id), v("product_id", product_id), v("seller_id", seller_id),
        v("trace_code", trace_code), v("record", record);
  }
};

// The names a type's Fields() gives its fields, in encoding order: the contract's field lists,
// which docs/events.md documents. Only the type's own fields, not those of the parts it holds.
class FieldNameCollector {
 public:
  template <typename T>
  void operator()(std::string_view name, T&& /*value*/) {
    names_.push_back(name);
  }
  std::vector<std::string_view> Take() { return std::move(names_); }

 private:
  std::vector<std::string_view> names_;
};
template <typename T>
std::vector<std::string_view> FieldNames() {
  T value{};
  FieldNameCollector names;
  value.Fields(names);
  return names.Take();
}

// One event type of the contract: its envelope type, the streams it is appended to, and its
// payload's field names.
struct EventType {
  std::string_view type;
  std::string_view stream;
  std::string_view writer;  // The one service that appends it.
  std::vector<std::string_view> (*fields)();
};

// Every event type, each once. docs/events.md documents each (with its writer and readers), and
// tests/events/contract_test.cc fails when the two disagree: a type added here is documented
// before it ships.
inline constexpr EventType kEventTypes[] = {
    {SellerRegistered::kType, "seller id", "catalog", FieldNames<SellerRegistered>},
    {ProductCreated::kType, "product id", "catalog", FieldNames<ProductCreated>},
    {ProductCreated::kUpdated, "product id", "catalog", FieldNames<ProductCreated>},
    {BatchRegistered::kType, "batch id", "catalog", FieldNames<BatchRegistered>},
    {CategorySet::kType, "category-<code>", "catalog", FieldNames<CategorySet>},
    {OrderPlaced::kType, "order id", "order", FieldNames<OrderPlaced>},
    {StockReserved::kType, "stock SKU id", "catalog", FieldNames<StockReserved>},
    {StockRejected::kType, "stock SKU id, or sku_unknown", "catalog", FieldNames<StockRejected>},
    {OrderReserved::kType, "order id", "order", FieldNames<OrderReserved>},
    {OrderRejected::kType, "order id", "order", FieldNames<OrderRejected>},
    {OrderPaid::kType, "order id", "order", FieldNames<OrderPaid>},
    {StockSold::kType, "stock SKU id", "catalog", FieldNames<StockSold>},
    {OrderCancelled::kType, "order id", "order", FieldNames<OrderCancelled>},
    {StockReleased::kType, "stock SKU id", "catalog", FieldNames<StockReleased>},
    {ReinstateRequested::kType, "order id", "order", FieldNames<ReinstateRequested>},
    {StockReinstated::kType, "<order id>-stock", "catalog", FieldNames<StockReinstated>},
    {RefundDue::kType, "order id", "order", FieldNames<RefundDue>},
    {SubOrderChanged::kShipped, "order id", "order", FieldNames<SubOrderChanged>},
    {SubOrderChanged::kDelivered, "order id", "order", FieldNames<SubOrderChanged>},
    {SubOrderChanged::kCompleted, "order id", "order", FieldNames<SubOrderChanged>},
    {RefundChanged::kRequested, "order id", "order", FieldNames<RefundChanged>},
    {RefundChanged::kApproved, "order id", "order", FieldNames<RefundChanged>},
    {RefundChanged::kRejected, "order id", "order", FieldNames<RefundChanged>},
    {RefundChanged::kCompleted, "order id", "order", FieldNames<RefundChanged>},
    {RefundChanged::kFailed, "order id", "order", FieldNames<RefundChanged>},
    {RefundChanged::kRetried, "order id", "order", FieldNames<RefundChanged>},
    {StockReleased::kRestocked, "stock SKU id", "catalog", FieldNames<StockReleased>},
    {SubOrderChanged::kAfterSaleClosed, "order id", "order", FieldNames<SubOrderChanged>},
    {FeeRulesSet::kType, "settlement-fee-rules", "settlement", FieldNames<FeeRulesSet>},
    {PayoutChanged::kRequested, "payout id", "settlement", FieldNames<PayoutChanged>},
    {PayoutChanged::kConfirmed, "payout id", "settlement", FieldNames<PayoutChanged>},
    {PayoutChanged::kReturned, "payout id", "settlement", FieldNames<PayoutChanged>},
    {TargetDefined::kType, "target id", "settlement", FieldNames<TargetDefined>},
    {DefinitionRetired::kTarget, "target id", "settlement", FieldNames<DefinitionRetired>},
    {AwardRuleDefined::kType, "award rule id", "settlement", FieldNames<AwardRuleDefined>},
    {DefinitionRetired::kAwardRule, "award rule id", "settlement", FieldNames<DefinitionRetired>},
};

}  // namespace pavilion::events::schema
