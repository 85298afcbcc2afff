#include "pavilion/events/schema.h"

#include "pavilion/base/enum_names.h"

namespace pavilion::events {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pavilion.service"; }
  std::string message(int ev) const override {
    switch (static_cast<svc_errc>(ev)) {
      case svc_errc::ok:
        return "ok";
      case svc_errc::invalid_argument:
        return "invalid argument";
      case svc_errc::not_found:
        return "not found";
      case svc_errc::forbidden:
        return "forbidden";
      case svc_errc::conflict:
        return "conflict";
      case svc_errc::timed_out:
        return "timed out";
      case svc_errc::internal:
        return "internal error";
    }
    return "unknown service error";
  }
};

}  // namespace

const std::error_category& svc_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(svc_errc e) noexcept {
  return {static_cast<int>(e), svc_category()};
}

}  // namespace pavilion::events

namespace pavilion::events::schema {
namespace {

constexpr EnumNames<TargetMetric, 5> kMetrics({"net_sales_fen", "agricultural_net_sales_fen",
                                               "orders", "new_sellers", "entities"});
constexpr EnumNames<EntityKind, 5> kKinds({"seller", "brand", "town", "village", "product"});
constexpr EnumNames<Either, 3> kEithers({"any", "true", "false"});

}  // namespace

std::string_view ToString(TargetMetric m) { return kMetrics.Name(m); }
bool Parse(std::string_view name, TargetMetric* m) { return kMetrics.Parse(name, m); }
std::string_view ToString(EntityKind k) { return kKinds.Name(k); }
bool Parse(std::string_view name, EntityKind* k) { return kKinds.Parse(name, k); }
std::string_view ToString(Either e) { return kEithers.Name(e); }
bool Parse(std::string_view name, Either* e) { return kEithers.Parse(name, e); }

const std::vector<CategorySet>& DefaultCategories() {
  // code, name, parent, agricultural, needs_sc. Parents before their children.
  static const std::vector<CategorySet> kDefaults = {
      {"fresh", "生鲜农产品 fresh produce", "", true, false},
      {"fruit", "新鲜水果 fresh fruit", "fresh", true, false},
      {"vegetable", "蔬菜 vegetables", "fresh", true, false},
      {"eggs", "鲜蛋 eggs", "fresh", true, false},
      {"livestock", "畜禽 livestock", "fresh", true, false},
      {"aquatic", "水产品 aquatic products", "fresh", true, false},
      {"processed", "农副加工品 processed farm products", "", true, true},
      {"grain", "粮食加工品 grain products", "processed", true, true},
      {"tea", "茶叶 tea", "processed", true, true},
      {"condiment", "调味品 condiments", "processed", true, true},
      {"honey", "蜂产品 bee products", "processed", true, true},
      {"nuts", "炒货坚果 roasted nuts and seeds", "processed", true, true},
      {"processed_food", "其他加工食品 other processed food", "processed", true, true},
      {"herbs", "中药材 medicinal herbs", "", true, false},
      {"handicraft", "手工艺品 handicrafts", "", false, false},
      {"other", "其他 other", "", false, false}};
  return kDefaults;
}

}  // namespace pavilion::events::schema
