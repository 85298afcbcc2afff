// Error values and the Result<T> type shared by every Pavilion module.
//
// Expected failures travel as values: an std::error_code in a module's own category, or a
// Result<T> that holds either a T or such a code. Exceptions are reserved for programmer error
// and fatal start-up failures. Result is a plain value type; it is as thread-safe as T.
#pragma once

#include <cassert>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace pavilion {

// An error code and a message for a person: what went wrong and what to fix.
struct Error {
  std::error_code code;
  std::string message;
};

// Either a value or an error. Check ok() before value().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(std::error_code ec) : v_(Error{ec, ec.message()}) { assert(ec); }  // NOLINT
  Result(Error e) : v_(std::move(e)) { assert(std::get<1>(v_).code); }      // NOLINT
  template <typename E, typename = std::enable_if_t<std::is_error_code_enum_v<E>>>
  Result(E e) : Result(std::error_code(make_error_code(e))) {}  // NOLINT
  template <typename E, typename = std::enable_if_t<std::is_error_code_enum_v<E>>>
  Result(E e, std::string message)
      : v_(Error{std::error_code(make_error_code(e)), std::move(message)}) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  std::error_code error() const { return ok() ? std::error_code() : std::get<1>(v_).code; }
  const std::string& message() const {
    static const std::string kEmpty;
    return ok() ? kEmpty : std::get<1>(v_).message;
  }
  Error error_detail() const { return ok() ? Error{} : std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace pavilion
