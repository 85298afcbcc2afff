#include "pavilion/base/role.h"

namespace pavilion {

std::string_view ToString(Role role) {
  switch (role) {
    case Role::kOperator:
      return "operator";
    case Role::kSeller:
      return "seller";
    case Role::kShopper:
      return "shopper";
  }
  return "unknown";
}

bool Parse(std::string_view name, Role* role) {
  for (Role r : {Role::kOperator, Role::kSeller, Role::kShopper}) {
    if (ToString(r) == name) {
      *role = r;
      return true;
    }
  }
  return false;
}

}  // namespace pavilion
