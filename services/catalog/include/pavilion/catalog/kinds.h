// The catalog's kinds as types: who a supplier is, what a certificate certifies, and why a
// reservation was refused. Records, JSON and events keep the strings ToString gives (they are
// the wire and the stored form); code inside decides on these enums. Plain values, thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace pavilion::catalog {

// The accepted supplier types: 建档立卡贫困户, 合作社, 家庭农场, 龙头企业,
// 个体网商, 村级服务站, and other enterprises.
enum class SupplierType {
  kPoorHousehold,
  kCooperative,
  kFamilyFarm,
  kLeadingEnterprise,
  kIndividual,
  kVillageStation,
  kEnterprise,
};
std::string_view ToString(SupplierType t);
// Each Parse is false when `name` names no value; `*out` is then unchanged.
bool Parse(std::string_view name, SupplierType* out);
// Every supplier type, in the order error messages list them.
std::span<const SupplierType> AllSupplierTypes();

// What a certificate certifies. Only a valid sc_licence (食品生产许可) lets processed food be
// listed; the others are claims a shopper can filter on.
enum class CertificationKind {
  kPollutionFree,
  kGreenFood,
  kOrganic,
  kGeographicIndication,
  kScLicence,
  kIso,
};
std::string_view ToString(CertificationKind k);
bool Parse(std::string_view name, CertificationKind* out);
std::span<const CertificationKind> AllCertificationKinds();

// Why an order line got stock.rejected (the event's `reason`) or a late payment no stock.
enum class StockRejection {
  kUnknownSku,         // No such SKU, or a listing whose chain is broken.
  kInsufficientStock,  // Fewer units available than asked (or a quantity below 1).
  kHoldLimit,          // The shopper would hold more than CatalogOptions::hold_cap unpaid.
  kNewShopperLimit,    // New shoppers together would hold more than new_shopper_hold_cap.
  kNewClientLimit,     // New shoppers from the order's client address would hold more than
                       // new_client_hold_cap.
};
std::string_view ToString(StockRejection r);
bool Parse(std::string_view name, StockRejection* out);

}  // namespace pavilion::catalog
