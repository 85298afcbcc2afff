// The catalog's pure decisions about what a seller may list: a seller's registration, a
// product and its details, an image's bytes, a batch's trace record. Each takes the command and
// the state it needs and returns the value to store or a typed error (svc_errc and a message
// naming the field); none reads the store or the clock, so catalog_rules_test checks them
// without one. Whether a product's images are stored is the caller's question (ImageStore).
// Thread-safe: no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/catalog/kinds.h"

namespace pavilion::catalog {

class CategoryTree;

inline constexpr size_t kMaxSkusPerProduct = 200;
inline constexpr int64_t kMaxStock = 1'000'000'000;
inline constexpr int64_t kMaxPriceFen = 100'000'000'00;  // ¥100 million

// An http(s) URL, which a product may name instead of a stored image.
inline bool IsUrl(std::string_view s) {
  return s.substr(0, 8) == "https://" || s.substr(0, 7) == "http://";
}
// Administrative-division codes: 6 digits (province/city/county), 9 (town), 12 (village).
bool ValidPlaceCode(std::string_view code);
// "place_code: no division …" when `places` is loaded and has no such code; empty otherwise.
std::string UnknownPlace(places::PlaceDirectory* places, std::string_view code);
inline bool ValidText(std::string_view s, size_t max) { return !s.empty() && s.size() <= max; }
// Why `s` is no text a field may hold, or empty: control characters (C0, DEL, and C1 as UTF-8)
// are refused, because a NUL cuts a title short in C strings and logs and the others corrupt
// what displays, prints or exports it. `multiline` fields (descriptions, inspection texts) keep
// tab, line feed and carriage return. The answer starts with `field`.
std::string ControlCharacter(std::string_view field, std::string_view s, bool multiline = false);

// A seller's registration: its supplier type, or why it is refused.
Result<SupplierType> CheckSeller(const SellerInput& in);

// A supplier type by its name, or "supplier_type: use one of …".
Result<SupplierType> CheckSupplierType(std::string_view name);

// Whether a seller's products are in the poverty-alleviation zone (a registered poor household).
bool InPovertyZone(const Seller& seller);

// What is wrong with a product's details ("field: what to do"), or empty. Images are checked for
// form only (a URL's length), not for being stored.
std::string CheckDetails(const events::schema::ProductDetails& d);

// A product as `seller` would list it at `now_micros` (certificates are judged on that business
// day): its protective floor price, or why it is refused. Everything but whether its images are
// stored.
Result<Fen> CheckProduct(const ProductInput& in, const Seller& seller,
                         const CategoryTree& categories, int64_t now_micros);

// The seller's defaults a row takes before it is hashed or stored: the seller's place, and for a
// poor household the lowest SKU price as the protective floor.
void ApplySellerDefaults(ProductInput& in, const Seller& seller);

// What an import row hashes to (with the seller's defaults applied): equal hashes, equal content.
uint64_t ContentHash(const ProductInput& in);

// An image upload: its type ("jpg", …) or why it is refused.
Result<std::string_view> CheckImage(std::string_view bytes);

// A batch's trace record: nullopt when it can be registered.
std::optional<Error> CheckTraceRecord(const events::schema::TraceRecord& r);

}  // namespace pavilion::catalog
