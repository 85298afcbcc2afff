#include "signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pavilion/events/codec.h"

namespace pavilion::gateway {

std::string SignBody(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return "sha256=" + events::HexEncode({reinterpret_cast<const char*>(mac), len});
}

std::string ClientTag(std::string_view secret, std::string_view peer) {
  if (peer.empty()) return "";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string input = "client\n" + std::string(peer);  // Apart from any signed body.
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return events::HexEncode({reinterpret_cast<const char*>(mac), 8});
}

bool VerifySignature(std::string_view secret, std::string_view body, std::string_view header) {
  std::string expected = SignBody(secret, body);
  return header.size() == expected.size() &&
         CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

}  // namespace pavilion::gateway
