#include "errors.h"

#include "pavilion/base/json_writer.h"
#include "pavilion/events/schema.h"
#include "views.h"

namespace pavilion::gateway {

HttpResponse ErrorResponse(const ErrorCode& error, std::string_view message) {
  base::JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Field("code", error.code).Field("message", message);
  w.EndObject().EndObject();
  return JsonResponse(error.status, w.Take());
}

HttpResponse FromServiceError(const pavilion::Error& e) {
  using events::svc_errc;
  if (e.code.category() == events::svc_category()) {
    switch (static_cast<svc_errc>(e.code.value())) {
      case svc_errc::invalid_argument:
        return ErrorResponse(kInvalidField, e.message);
      case svc_errc::not_found:
        return ErrorResponse(kNotFound, e.message);
      case svc_errc::forbidden:
        return ErrorResponse(kForbidden, e.message);
      case svc_errc::conflict:
        return ErrorResponse(kConflict, e.message);
      case svc_errc::timed_out:
        return ErrorResponse(kTimedOut, e.message);
      default:
        break;
    }
  }
  return ErrorResponse(kInternal, e.message);
}

HttpResponse RateLimited(std::string_view what, int64_t retry_after_s) {
  HttpResponse r =
      ErrorResponse(kRateLimited, std::string(what) + ": too many from your address; retry in " +
                                      std::to_string(retry_after_s) + " s (Retry-After)");
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

}  // namespace pavilion::gateway
