// The storage module's error codes (std::error_code category "pavilion.storage").
#pragma once

#include <system_error>

#include "pavilion/base/result.h"

namespace pavilion::storage {

enum class errc {
  ok = 0,
  not_found,
  io_error,
  corruption,
  injected_fault,
  invalid_argument,
};

const std::error_category& storage_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace pavilion::storage

template <>
struct std::is_error_code_enum<pavilion::storage::errc> : std::true_type {};
