#include "pavilion/catalog/kinds.h"

#include "pavilion/base/enum_names.h"

namespace pavilion::catalog {
namespace {

// In declaration order (EnumNames).
constexpr EnumNames<SupplierType, 7> kSupplierTypes({"poor_household", "cooperative", "family_farm",
                                                     "leading_enterprise", "individual",
                                                     "village_station", "enterprise"});
constexpr auto kAllSupplierTypes = kSupplierTypes.Values();

constexpr EnumNames<CertificationKind, 6> kCertificationKinds({"pollution_free", "green_food",
                                                               "organic", "geographic_indication",
                                                               "sc_licence", "iso"});
constexpr auto kAllCertificationKinds = kCertificationKinds.Values();

constexpr EnumNames<StockRejection, 5> kStockRejections({"unknown_sku", "insufficient_stock",
                                                         "hold_limit", "new_shopper_limit",
                                                         "new_client_limit"});

}  // namespace

std::string_view ToString(SupplierType t) { return kSupplierTypes.Name(t); }
bool Parse(std::string_view name, SupplierType* t) { return kSupplierTypes.Parse(name, t); }
std::span<const SupplierType> AllSupplierTypes() { return kAllSupplierTypes; }

std::string_view ToString(CertificationKind k) { return kCertificationKinds.Name(k); }
bool Parse(std::string_view name, CertificationKind* k) {
  return kCertificationKinds.Parse(name, k);
}
std::span<const CertificationKind> AllCertificationKinds() { return kAllCertificationKinds; }

std::string_view ToString(StockRejection r) { return kStockRejections.Name(r); }
bool Parse(std::string_view name, StockRejection* r) { return kStockRejections.Parse(name, r); }

}  // namespace pavilion::catalog
