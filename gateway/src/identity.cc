#include "pavilion/gateway/identity.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <mutex>
#include <stdexcept>

#include "pavilion/events/codec.h"

namespace pavilion::gateway {
namespace {

constexpr std::string_view kOperatorFlag = "auth/operator";

std::string TokenKey(std::string_view token) { return "auth/t/" + Identity::Sha256Hex(token); }

}  // namespace

std::string Identity::Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");  // Only if OpenSSL itself is broken.
  }
  return events::HexEncode({reinterpret_cast<const char*>(digest), len});
}

std::string Identity::RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness");
  return "pv_" + events::HexEncode({reinterpret_cast<const char*>(bytes), sizeof bytes});
}

Result<std::string> Identity::Issue(Role role, const std::string& subject) {
  std::string token = RandomToken();
  if (auto ec = Register(token, Principal{role, subject})) return ec;
  return token;
}

std::error_code Identity::Register(const std::string& token, const Principal& who) {
  storage::WriteBatch wb;
  // Stored by name: "<role>\n<subject>".
  wb.Put(TokenKey(token), std::string(ToString(who.role)) + "\n" + who.subject);
  if (who.role == Role::kOperator) wb.Put(kOperatorFlag, "1");
  return kv_.Write(wb, true);
}

std::optional<Principal> Identity::Authenticate(std::string_view token) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  {
    // Keyed by the token itself (in memory only) so a hit costs no SHA-256.
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(token); it != cache_.end()) return it->second;
  }
  std::string key = TokenKey(token);
  std::string value;
  if (kv_.Get(key, &value)) return std::nullopt;
  auto nl = value.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  Principal p;
  if (!Parse(std::string_view(value).substr(0, nl), &p.role)) return std::nullopt;
  p.subject = value.substr(nl + 1);
  std::unique_lock lock(mu_);
  if (cache_.size() > 100'000) cache_.clear();
  cache_.emplace(std::string(token), p);
  return p;
}

bool Identity::HasOperator() {
  std::string v;
  return !kv_.Get(kOperatorFlag, &v);
}

}  // namespace pavilion::gateway
