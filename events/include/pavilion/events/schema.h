// The event contract between services: every event type, its payload, and the money type.
//
// Services never include each other's headers; this file is all they share. Each payload has a
// `kType` (the envelope's type string, never renamed once released) and a Fields() visitor for
// the binary codec. Adding a field at the end is a compatible change only with a schema version
// bump (kMaxSchemaVersion in envelope.h) and a decoder that accepts both.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
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
    v(seller_id), v(name), v(place_code), v(supplier_type);
  }
};

struct SkuSpec {
  std::string sku_id, spec;
  Fen price;
  int64_t stock = 0;
  template <class V>
  void Fields(V& v) {
    v(sku_id), v(spec), v(price), v(stock);
  }
};

struct ProductCreated {
  static constexpr std::string_view kType = "product.created";
  std::string product_id, seller_id, title, place_code;
  std::vector<SkuSpec> skus;
  template <class V>
  void Fields(V& v) {
    v(product_id), v(seller_id), v(title), v(place_code), v(skus);
  }
};

struct OrderItem {
  std::string sku_id;
  int64_t quantity = 0;
  template <class V>
  void Fields(V& v) {
    v(sku_id), v(quantity);
  }
};

struct OrderPlaced {
  static constexpr std::string_view kType = "order.placed";
  std::string order_id, shopper_id;
  std::vector<OrderItem> items;
  template <class V>
  void Fields(V& v) {
    v(order_id), v(shopper_id), v(items);
  }
};

// Catalog's answer for one order line that could be reserved.
struct StockReserved {
  static constexpr std::string_view kType = "stock.reserved";
  std::string order_id;
  uint32_t line = 0;
  std::string sku_id, product_id, seller_id, place_code;
  int64_t quantity = 0;
  Fen unit_price;
  int64_t stock_after = 0;
  template <class V>
  void Fields(V& v) {
    v(order_id), v(line), v(sku_id), v(product_id), v(seller_id), v(place_code), v(quantity),
        v(unit_price), v(stock_after);
  }
};

// Catalog's answer for one order line that could not be reserved.
struct StockRejected {
  static constexpr std::string_view kType = "stock.rejected";
  std::string order_id;
  uint32_t line = 0;
  std::string sku_id;
  int64_t quantity = 0;
  std::string reason;  // "unknown_sku" | "insufficient_stock"
  int64_t available = 0;
  template <class V>
  void Fields(V& v) {
    v(order_id), v(line), v(sku_id), v(quantity), v(reason), v(available);
  }
};

struct StockReleased {
  static constexpr std::string_view kType = "stock.released";
  std::string order_id;
  uint32_t line = 0;
  std::string sku_id;
  int64_t quantity = 0;
  int64_t stock_after = 0;
  template <class V>
  void Fields(V& v) {
    v(order_id), v(line), v(sku_id), v(quantity), v(stock_after);
  }
};

struct ConfirmedLine {
  std::string sku_id, product_id, seller_id, place_code;
  int64_t quantity = 0;
  Fen unit_price, amount;
  template <class V>
  void Fields(V& v) {
    v(sku_id), v(product_id), v(seller_id), v(place_code), v(quantity), v(unit_price), v(amount);
  }
};

struct OrderConfirmed {
  static constexpr std::string_view kType = "order.confirmed";
  std::string order_id, shopper_id;
  Fen total;
  std::vector<ConfirmedLine> lines;
  template <class V>
  void Fields(V& v) {
    v(order_id), v(shopper_id), v(total), v(lines);
  }
};

struct LineRef {
  uint32_t line = 0;
  std::string sku_id;
  int64_t quantity = 0;
  std::string reason;
  template <class V>
  void Fields(V& v) {
    v(line), v(sku_id), v(quantity), v(reason);
  }
};

struct OrderRejected {
  static constexpr std::string_view kType = "order.rejected";
  std::string order_id, shopper_id;
  std::vector<LineRef> rejected;  // The lines that failed, with their reasons.
  std::vector<LineRef> release;   // The lines that had been reserved and must be released.
  template <class V>
  void Fields(V& v) {
    v(order_id), v(shopper_id), v(rejected), v(release);
  }
};

}  // namespace pavilion::events::schema
