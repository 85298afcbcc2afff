// The catalog's keys in the store: every record it owns lives under "cat/", written in the same
// batch as the events that change it. One place for the layout, so a newcomer sees it whole.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pavilion::catalog::keys {

inline std::string Seller(std::string_view id) { return "cat/seller/" + std::string(id); }
inline std::string Product(std::string_view id) { return "cat/product/" + std::string(id); }
inline std::string Sku(std::string_view id) { return "cat/sku/" + std::string(id); }
inline constexpr std::string_view kProductPrefix = "cat/product/";
inline constexpr std::string_view kSkuPrefix = "cat/sku/";

// The last settlement.fee_rules_set the processor read (its encoded payload): the fees a
// distribution is checked with under the profit-sharing cap.
inline constexpr std::string_view kFeeRules = "cat/fee-rules";

// A category an operator added or changed (its encoded schema::CategorySet), laid over the
// built-in defaults at start (CategoryBook).
inline std::string Category(std::string_view code) { return "cat/category/" + std::string(code); }
inline constexpr std::string_view kCategoryPrefix = "cat/category/";

// An image's bytes under its ref "<sha256 hex>.<ext>".
inline std::string Image(std::string_view ref) { return "cat/img/" + std::string(ref); }

// A batch record, and a trace code → its batch id.
inline std::string Batch(std::string_view id) { return "cat/batch/" + std::string(id); }
inline std::string Trace(std::string_view code) { return "cat/trace/" + std::string(code); }

// One order line's reservation (the units, a varint), consumed once by release or sale.
inline std::string Reservation(std::string_view order_id, uint32_t line) {
  return "cat/res/" + std::string(order_id) + "/" + std::to_string(line);
}
// Units a shopper holds unpaid of a SKU (decimal), absent for none.
inline std::string Hold(std::string_view shopper, std::string_view sku) {
  std::string k = "cat/hold/" + std::string(shopper);
  k.push_back('\0');
  k.append(sku);
  return k;
}
// Units new shoppers together hold unpaid of a SKU (decimal), absent for none.
inline std::string NewHeld(std::string_view sku) { return "cat/newheld/" + std::string(sku); }
// ... of them, those placed from one client (OrderPlaced::client).
inline std::string NewClientHeld(std::string_view client, std::string_view sku) {
  std::string k = "cat/newcl/" + std::string(client);
  k.push_back('\0');
  k.append(sku);
  return k;
}
// A shopper has paid an order (so is no longer new), for shoppers who paid while new.
inline std::string PaidShopper(std::string_view shopper) {
  return "cat/paid/" + std::string(shopper);
}
// Once-only answers: a late payment's request (by event id) and a refund's restock.
inline std::string Reinstated(std::string_view event_id) {
  return "cat/reinstated/" + std::string(event_id);
}
inline std::string Restocked(std::string_view refund_id) {
  return "cat/restocked/" + std::string(refund_id);
}

// An imported row: (seller, outer_id) → "<product id>\n<content hash>".
inline std::string OuterPrefix(std::string_view seller) {
  std::string k = "cat/outer/" + std::string(seller);
  k.push_back('\0');
  return k;
}
inline std::string Outer(std::string_view seller, std::string_view outer_id) {
  return OuterPrefix(seller) + std::string(outer_id);
}

// Distribution: (distributor, source) → the listing, and (source, listing) → "" so a source's
// listings are found by prefix.
inline std::string Listing(std::string_view distributor, std::string_view source) {
  std::string k = "cat/listing/" + std::string(distributor);
  k.push_back('\0');
  return k + std::string(source);
}
inline constexpr std::string_view kListingsOfPrefix = "cat/listings-of/";
inline std::string ListingsOf(std::string_view source, std::string_view listing) {
  std::string k = std::string(kListingsOfPrefix) + std::string(source);
  k.push_back('\0');
  return k + std::string(listing);
}

}  // namespace pavilion::catalog::keys
