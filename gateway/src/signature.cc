#include "signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "pavilion/events/codec.h"

namespace pavilion::gateway {

namespace {

// The lowercase hex of HMAC-SHA256(secret, data), its first `bytes` bytes.
std::string HmacHex(std::string_view secret, std::string_view data, unsigned int bytes = 32) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return events::HexEncode({reinterpret_cast<const char*>(mac), std::min(len, bytes)});
}

}  // namespace

std::string SignBody(std::string_view secret, std::string_view body) {
  return "sha256=" + HmacHex(secret, body);
}

std::string ClientTag(std::string_view secret, std::string_view peer) {
  if (peer.empty()) return "";
  return HmacHex(secret, "client\n" + std::string(peer), 8);  // Apart from any signed body.
}

bool VerifySignature(std::string_view secret, std::string_view body, std::string_view header) {
  std::string expected = SignBody(secret, body);
  return header.size() == expected.size() &&
         CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

}  // namespace pavilion::gateway
