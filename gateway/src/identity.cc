#include "pavilion/gateway/identity.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "pavilion/events/codec.h"
#include "pavilion/events/envelope.h"

namespace pavilion::gateway {
namespace {

constexpr std::string_view kOperatorFlag = "auth/operator";

std::string TokenKey(std::string_view hash) { return "auth/t/" + std::string(hash); }
std::string RevokedKey(std::string_view hash) { return "auth/r/" + std::string(hash); }
// Every token of a subject, so the operator can revoke them all.
std::string SubjectPrefix(std::string_view subject) {
  return "auth/s/" + std::string(subject) + "/";
}
constexpr std::string_view kScopedPrefix = "auth/o/";

// "<role>[@<place>]\n<subject>\n<expires micros>"; tokens stored before expiry have no third
// line, before scopes no "@<place>" (the header says why it rides on the role).
std::string EncodePrincipal(const Principal& who) {
  std::string role(ToString(who.role));
  if (who.Scoped()) role += "@" + who.place_code;
  return role + "\n" + who.subject + "\n" + std::to_string(who.expires_micros);
}

std::optional<Principal> DecodePrincipal(std::string_view value) {
  auto nl = value.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  Principal p;
  std::string_view role = value.substr(0, nl);
  if (auto at = role.find('@'); at != std::string_view::npos) {
    p.place_code = std::string(role.substr(at + 1));
    role = role.substr(0, at);
    if (p.place_code.empty()) return std::nullopt;
  }
  if (!Parse(role, &p.role)) return std::nullopt;
  if (p.role != Role::kOperator && !p.place_code.empty()) return std::nullopt;  // Only operators.
  std::string_view rest = value.substr(nl + 1);
  auto nl2 = rest.find('\n');
  p.subject = std::string(rest.substr(0, nl2));
  if (nl2 != std::string_view::npos) {
    std::string_view expires = rest.substr(nl2 + 1);
    if (std::from_chars(expires.data(), expires.data() + expires.size(), p.expires_micros).ec !=
        std::errc()) {
      return std::nullopt;
    }
  }
  return p;
}

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

Result<std::string> Identity::Issue(Role role, const std::string& subject,
                                    const std::string& place_code) {
  std::string token = RandomToken();
  Principal who{role, subject, 0, place_code};
  if (role == Role::kShopper && options_.shopper_token_ttl_micros > 0) {
    who.expires_micros = clock_.NowMicros() + options_.shopper_token_ttl_micros;
  }
  if (auto ec = Store(token, who)) return ec;
  return token;
}

Result<std::string> Identity::IssueScoped(ScopedOperator& op) {
  op.id = events::NewId("opr");
  op.created_micros = clock_.NowMicros();
  std::string token = RandomToken();
  storage::WriteBatch wb;
  wb.Put(std::string(kScopedPrefix) + op.id, events::Encode(op));
  StoreInto(wb, Sha256Hex(token), Principal{Role::kOperator, op.id, 0, op.place_code});
  if (auto ec = kv_.Write(wb, true)) return ec;
  return token;
}

Result<std::vector<ScopedOperator>> Identity::ScopedOperators(std::string_view within) {
  const std::string prefix(kScopedPrefix);
  std::vector<ScopedOperator> out;
  bool corrupt = false;
  auto ec = kv_.Scan(prefix, storage::PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    auto op = events::Decode<ScopedOperator>(v);
    if (!op.ok()) {
      corrupt = true;
      return false;
    }
    if (op->place_code.starts_with(within)) out.push_back(std::move(op).value());
    return true;
  });
  if (ec) return ec;
  if (corrupt) return std::make_error_code(std::errc::io_error);
  for (auto& op : out) {
    const std::string tokens = SubjectPrefix(op.id);
    ec = kv_.Scan(tokens, storage::PrefixEnd(tokens), [&op](std::string_view, std::string_view) {
      ++op.tokens;
      return true;
    });
    if (ec) return ec;
  }
  return out;
}

Result<ScopedOperator> Identity::FindScoped(const std::string& id) {
  std::string value;
  if (auto ec = kv_.Get(std::string(kScopedPrefix) + id, &value)) return ec;
  auto op = events::Decode<ScopedOperator>(value);
  if (!op.ok()) return std::make_error_code(std::errc::io_error);
  return std::move(op).value();
}

std::error_code Identity::Register(const std::string& token, const Principal& who) {
  const std::string hash = Sha256Hex(token);
  std::string revoked;
  if (!kv_.Get(RevokedKey(hash), &revoked)) {
    return std::make_error_code(std::errc::permission_denied);
  }
  // The operator's token given at start-up is the only one: those it replaces (generated at
  // first start, rotated, or an earlier PAVILION_OPERATOR_TOKEN) stop working with the write
  // that registers it.
  std::vector<std::pair<std::string, std::string>> others;
  if (who.role == Role::kOperator) {
    const std::string prefix = SubjectPrefix(who.subject);
    auto ec =
        kv_.Scan(prefix, storage::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
          std::string_view other = k.substr(prefix.size());
          if (other != hash && v == ToString(Role::kOperator)) {
            others.emplace_back(std::string(other), who.subject);
          }
          return true;
        });
    if (ec) return ec;
  }
  storage::WriteBatch wb;
  StoreInto(wb, hash, who);
  RevokeInto(wb, others);
  if (auto ec = kv_.Write(wb, true)) return ec;
  if (!others.empty()) ClearCache();
  return {};
}

std::error_code Identity::Store(const std::string& token, const Principal& who) {
  storage::WriteBatch wb;
  StoreInto(wb, Sha256Hex(token), who);
  return kv_.Write(wb, true);
}

void Identity::StoreInto(storage::WriteBatch& wb, const std::string& hash, const Principal& who) {
  wb.Put(TokenKey(hash), EncodePrincipal(who));
  wb.Put(SubjectPrefix(who.subject) + hash, std::string(ToString(who.role)));
  if (who.role == Role::kOperator) wb.Put(kOperatorFlag, "1");
}

std::optional<Principal> Identity::Authenticate(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenLength) return std::nullopt;
  std::optional<Principal> found;
  uint64_t generation = 0;
  {
    // Keyed by the token itself (in memory only) so a hit costs no SHA-256.
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(token); it != cache_.end()) found = it->second;
    generation = generation_;
  }
  if (!found) {
    std::string value;
    if (kv_.Get(TokenKey(Sha256Hex(token)), &value)) return std::nullopt;
    found = DecodePrincipal(value);
    if (!found) return std::nullopt;
    std::unique_lock lock(mu_);
    // A revocation since the read may concern this token: then it is not cached.
    if (generation == generation_) {
      if (cache_.size() > 100'000) cache_.clear();
      cache_.emplace(std::string(token), *found);
    }
  }
  // Only shoppers' tokens expire: the others cost no clock reading.
  if (found->expires_micros != 0 && clock_.NowMicros() >= found->expires_micros) {
    return std::nullopt;
  }
  return found;
}

Result<std::string> Identity::Rotate(std::string_view token) {
  // Checked and revoked under one lock: of two rotations of one token, the second finds it
  // revoked (Revoke empties the cache) and is refused.
  std::lock_guard lock(rotate_mu_);
  auto who = Authenticate(token);
  if (!who) return std::make_error_code(std::errc::permission_denied);
  auto fresh = Issue(who->role, who->subject, who->place_code);  // The same scope.
  if (!fresh.ok()) return fresh;
  if (auto ec = Revoke(token)) return ec;
  return fresh;
}

std::error_code Identity::Revoke(std::string_view token) {
  auto who = Authenticate(token);
  if (!who) return {};  // Unknown, expired or revoked already.
  return RevokeHashes({{Sha256Hex(token), who->subject}});
}

Result<int> Identity::RevokeSubject(const std::string& subject) {
  if (subject.empty()) return std::make_error_code(std::errc::invalid_argument);
  const std::string prefix = SubjectPrefix(subject);
  std::vector<std::pair<std::string, std::string>> owned;
  auto ec = kv_.Scan(prefix, storage::PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
    owned.emplace_back(std::string(k.substr(prefix.size())), subject);
    return true;
  });
  if (ec) return ec;
  if (auto wec = RevokeHashes(owned)) return wec;
  return static_cast<int>(owned.size());
}

std::error_code Identity::RevokeHashes(
    const std::vector<std::pair<std::string, std::string>>& owned) {
  storage::WriteBatch wb;
  RevokeInto(wb, owned);
  if (auto ec = kv_.Write(wb, true)) return ec;
  // The cache is keyed by tokens, which are not stored: revocations are rare, so all of it goes.
  ClearCache();
  return {};
}

void Identity::RevokeInto(storage::WriteBatch& wb,
                          const std::vector<std::pair<std::string, std::string>>& owned) {
  for (const auto& [hash, subject] : owned) {
    wb.Delete(TokenKey(hash));
    wb.Delete(SubjectPrefix(subject) + hash);
    wb.Put(RevokedKey(hash), "1");
  }
}

void Identity::ClearCache() {
  std::unique_lock lock(mu_);
  cache_.clear();
  ++generation_;
}

bool Identity::HasOperator() {
  std::string v;
  return !kv_.Get(kOperatorFlag, &v);
}

}  // namespace pavilion::gateway
