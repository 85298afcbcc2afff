#include "pavilion/events/schema.h"

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
