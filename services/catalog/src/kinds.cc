#include "pavilion/catalog/kinds.h"

#include <array>
#include <utility>

namespace pavilion::catalog {
namespace {

// One table per enum, in declaration order: ToString indexes it, Parse searches it.
constexpr std::array<std::pair<SupplierType, std::string_view>, 7> kSupplierTypes = {{
    {SupplierType::kPoorHousehold, "poor_household"},
    {SupplierType::kCooperative, "cooperative"},
    {SupplierType::kFamilyFarm, "family_farm"},
    {SupplierType::kLeadingEnterprise, "leading_enterprise"},
    {SupplierType::kIndividual, "individual"},
    {SupplierType::kVillageStation, "village_station"},
    {SupplierType::kEnterprise, "enterprise"},
}};
constexpr std::array<SupplierType, 7> kAllSupplierTypes = {
    SupplierType::kPoorHousehold,     SupplierType::kCooperative, SupplierType::kFamilyFarm,
    SupplierType::kLeadingEnterprise, SupplierType::kIndividual,  SupplierType::kVillageStation,
    SupplierType::kEnterprise};

constexpr std::array<std::pair<CertificationKind, std::string_view>, 6> kCertificationKinds = {{
    {CertificationKind::kPollutionFree, "pollution_free"},
    {CertificationKind::kGreenFood, "green_food"},
    {CertificationKind::kOrganic, "organic"},
    {CertificationKind::kGeographicIndication, "geographic_indication"},
    {CertificationKind::kScLicence, "sc_licence"},
    {CertificationKind::kIso, "iso"},
}};
constexpr std::array<CertificationKind, 6> kAllCertificationKinds = {
    CertificationKind::kPollutionFree, CertificationKind::kGreenFood,
    CertificationKind::kOrganic,       CertificationKind::kGeographicIndication,
    CertificationKind::kScLicence,     CertificationKind::kIso};

constexpr std::array<std::pair<StockRejection, std::string_view>, 3> kStockRejections = {{
    {StockRejection::kUnknownSku, "unknown_sku"},
    {StockRejection::kInsufficientStock, "insufficient_stock"},
    {StockRejection::kHoldLimit, "hold_limit"},
}};

template <typename E, size_t N>
constexpr std::string_view Name(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  return table[static_cast<size_t>(e)].second;
}

template <typename E, size_t N>
constexpr std::optional<E> Find(const std::array<std::pair<E, std::string_view>, N>& table,
                                std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}

// The tables are indexed by the enum's value: keep them in declaration order.
template <typename E, size_t N>
constexpr bool InOrder(const std::array<std::pair<E, std::string_view>, N>& table) {
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(table[i].first) != i) return false;
  }
  return true;
}
static_assert(InOrder(kSupplierTypes) && InOrder(kCertificationKinds) && InOrder(kStockRejections));

}  // namespace

std::string_view ToString(SupplierType t) { return Name(kSupplierTypes, t); }
std::optional<SupplierType> ParseSupplierType(std::string_view s) {
  return Find(kSupplierTypes, s);
}
std::span<const SupplierType> AllSupplierTypes() { return kAllSupplierTypes; }

std::string_view ToString(CertificationKind k) { return Name(kCertificationKinds, k); }
std::optional<CertificationKind> ParseCertificationKind(std::string_view s) {
  return Find(kCertificationKinds, s);
}
std::span<const CertificationKind> AllCertificationKinds() { return kAllCertificationKinds; }

std::string_view ToString(StockRejection r) { return Name(kStockRejections, r); }
std::optional<StockRejection> ParseStockRejection(std::string_view s) {
  return Find(kStockRejections, s);
}

}  // namespace pavilion::catalog
