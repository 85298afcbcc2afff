// Errors: every stable error code the gateway answers, with its HTTP status, and the one way an
// error becomes a response.
//
// A client sees {"error": {"code": "...", "message": "..."}}: the code is stable and meant for
// programs, the message says what to fix and starts with the field or parameter at fault. A code
// is added here, to the OpenAPI document's Error schema and to gateway/README.md together; a
// test checks the three agree. Everything here is immutable: thread-safe.
#pragma once

#include <string_view>

#include "pavilion/base/result.h"
#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

struct ErrorCode {
  int status;
  std::string_view code;
};

inline constexpr ErrorCode kMalformedJson{400, "malformed_json"};
inline constexpr ErrorCode kMalformedRequest{400, "malformed_request"};
inline constexpr ErrorCode kInvalidHeader{400, "invalid_header"};
inline constexpr ErrorCode kUnauthorized{401, "unauthorized"};
inline constexpr ErrorCode kBadSignature{401, "bad_signature"};
inline constexpr ErrorCode kForbidden{403, "forbidden"};
inline constexpr ErrorCode kNotFound{404, "not_found"};
inline constexpr ErrorCode kMethodNotAllowed{405, "method_not_allowed"};
inline constexpr ErrorCode kConflict{409, "conflict"};
inline constexpr ErrorCode kPayloadTooLarge{413, "payload_too_large"};
inline constexpr ErrorCode kTargetTooLong{414, "target_too_long"};
inline constexpr ErrorCode kUnsupportedMediaType{415, "unsupported_media_type"};
inline constexpr ErrorCode kInvalidField{422, "invalid_field"};
inline constexpr ErrorCode kHeadersTooLarge{431, "headers_too_large"};
inline constexpr ErrorCode kUnknownParameter{422, "unknown_parameter"};
inline constexpr ErrorCode kInvalidPack{422, "invalid_pack"};
inline constexpr ErrorCode kBusy{429, "busy"};
inline constexpr ErrorCode kRateLimited{429, "rate_limited"};
inline constexpr ErrorCode kInternal{500, "internal"};
inline constexpr ErrorCode kNotImplemented{501, "not_implemented"};
inline constexpr ErrorCode kTooManyConnections{503, "too_many_connections"};
inline constexpr ErrorCode kNotConfigured{503, "not_configured"};
inline constexpr ErrorCode kTimedOut{504, "timed_out"};

inline constexpr ErrorCode kErrorCodes[] = {
    kMalformedJson,      kInvalidHeader,
    kUnauthorized,       kBadSignature,
    kForbidden,          kNotFound,
    kMethodNotAllowed,   kConflict,
    kPayloadTooLarge,    kUnsupportedMediaType,
    kInvalidField,       kUnknownParameter,
    kInvalidPack,        kBusy,
    kRateLimited,        kInternal,
    kTimedOut,           kMalformedRequest,
    kTargetTooLong,      kHeadersTooLarge,
    kTooManyConnections, kNotImplemented,
    kNotConfigured,
};

HttpResponse ErrorResponse(const ErrorCode& error, std::string_view message);

// 429 rate_limited with Retry-After: `what` (the route) was asked too often from the client's
// address; the message says when to try again.
HttpResponse RateLimited(std::string_view what, int64_t retry_after_s);

// A service's typed error (events::svc_errc) as the answer a client gets.
HttpResponse FromServiceError(const pavilion::Error& e);

}  // namespace pavilion::gateway
