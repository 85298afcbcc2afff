#include "pavilion/base/role.h"

#include "pavilion/base/enum_names.h"

namespace pavilion {
namespace {

constexpr EnumNames<Role, 3> kRoles({"operator", "seller", "shopper"});

}  // namespace

std::string_view ToString(Role role) { return kRoles.Name(role); }
bool Parse(std::string_view name, Role* role) { return kRoles.Parse(name, role); }

}  // namespace pavilion
