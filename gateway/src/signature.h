// HMAC-SHA256 signatures of payment notifications: "sha256=<lowercase hex>".
#pragma once

#include <string>
#include <string_view>

namespace pavilion::gateway {

std::string SignBody(std::string_view secret, std::string_view body);
// Constant-time comparison of `header` with the signature of `body`.
bool VerifySignature(std::string_view secret, std::string_view body, std::string_view header);

}  // namespace pavilion::gateway
