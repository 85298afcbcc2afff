// Role: who is asking. The gateway authenticates a caller as one of these; the services
// authorize by it. Tokens and JSON carry the names ("operator", "seller", "shopper").
#pragma once

#include <string_view>

namespace pavilion {

enum class Role {
  kOperator,  // The county e-commerce service centre: sees and may do everything.
  kSeller,    // A supplier or distributor: its own products, its own sub-orders.
  kShopper,   // A buyer: its own orders.
};

std::string_view ToString(Role role);
// False when `name` is no role's name; `*role` is then unchanged.
bool Parse(std::string_view name, Role* role);

}  // namespace pavilion
