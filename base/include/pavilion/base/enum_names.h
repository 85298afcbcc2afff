// EnumNames: the names of an enum's values, for the one ToString/Parse pair each enum has.
//
// States, roles and kinds are enums inside Pavilion; their names are what JSON, tokens and
// stored records carry. An enum's values are 0, 1, 2, … in declaration order and its table
// lists their names in that order:
//
//   constexpr EnumNames<Role, 3> kRoles({"operator", "seller", "shopper"});
//   std::string_view ToString(Role r) { return kRoles.Name(r); }
//   bool Parse(std::string_view name, Role* r) { return kRoles.Parse(name, r); }
//
// A constant: thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace pavilion {

template <typename E, size_t N>
class EnumNames {
 public:
  constexpr explicit EnumNames(std::array<std::string_view, N> names) : names_(names) {}

  // "unknown" for a value outside the table (a cast that should not have been made).
  constexpr std::string_view Name(E value) const {
    const auto i = static_cast<size_t>(value);
    return i < N ? names_[i] : std::string_view("unknown");
  }
  // False when `name` names no value; `*out` is then unchanged.
  constexpr bool Parse(std::string_view name, E* out) const {
    for (size_t i = 0; i < N; ++i) {
      if (names_[i] == name) {
        *out = static_cast<E>(i);
        return true;
      }
    }
    return false;
  }
  // Every value, in declaration order.
  constexpr std::array<E, N> Values() const {
    std::array<E, N> out{};
    for (size_t i = 0; i < N; ++i) out[i] = static_cast<E>(i);
    return out;
  }

 private:
  std::array<std::string_view, N> names_;
};

}  // namespace pavilion
