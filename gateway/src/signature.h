// HMAC-SHA256 signatures of payment notifications: "sha256=<lowercase hex>".
#pragma once

#include <string>
#include <string_view>

namespace pavilion::gateway {

std::string SignBody(std::string_view secret, std::string_view body);
// Constant-time comparison of `header` with the signature of `body`.
bool VerifySignature(std::string_view secret, std::string_view body, std::string_view header);

// What an order records of the client that placed it (OrderPlaced::client): 16 hex digits of an
// HMAC of its address key (RateLimiter::ClientKey) under `secret`, so the log holds no address
// and the same client always gets the same tag; empty for no address.
std::string ClientTag(std::string_view secret, std::string_view peer);

}  // namespace pavilion::gateway
