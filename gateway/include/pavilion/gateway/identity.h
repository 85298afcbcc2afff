// Identity: bearer tokens and the roles behind them (operator, seller, shopper).
//
// A token is 32 random bytes shown once to its owner; the store keeps only its SHA-256, under
// "auth/t/<hex>", with the role, the subject (a seller, shopper or scoped operator id), when it
// expires (shopper tokens, after IdentityOptions::shopper_token_ttl_micros; the others never) and
// an operator's place (below). Every token can be rotated (a new one for the same owner and
// place; the old one stops working) and revoked; the operator can revoke every token of a seller,
// shopper or scoped operator ("auth/s/<subject>/<hex>" lists them). Revocation deletes the
// token's key and leaves "auth/r/<hex>", so a revoked token given again at start-up
// (PAVILION_OPERATOR_TOKEN) is refused: it survives a restart. The token given at start-up is
// the pavilion's operator's only one: registering it revokes its other tokens (not those of
// scoped operators, who are other subjects). Lookups are cached in memory; revocation empties
// the cache. Thread-safe.
//
// Operators scoped to a place: the pavilion's operator (subject "") issues tokens for operators
// who see one place only — a county's service centre its county, a city's bureau its city
// (Principal::place_code, a division code; the routes limit them, gateway/README.md). Each is a
// subject of its own, "opr_…", recorded under "auth/o/<id>" (name, place, when) so it can be
// listed, and rotated or revoked by its id like a seller. A token record is
// "<role>\n<subject>\n<expires micros>" (records from before expiry lack the third line); a scoped
// operator's role is written "operator@<place>", so a build from before scopes refuses such a
// token rather than read it as the pavilion's operator.
#pragma once

#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pavilion/base/role.h"
#include "pavilion/events/clock.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::gateway {

struct Principal {
  Role role = Role::kShopper;
  std::string subject;  // The seller's, shopper's or scoped operator's id; empty for the operator.
  int64_t expires_micros = 0;  // When the token stops working; 0: never.
  // An operator's scope: a division code; it sees that place and what lies in it (codes it
  // prefixes). Empty: the pavilion's operator, who sees everything. (Initialized: callers leave
  // it out.)
  std::string place_code = {};

  bool Scoped() const { return !place_code.empty(); }
  // Whether the caller sees what lies at `place` (a seller's, an order line's place, a place a
  // request names): everyone but a scoped operator does; it sees its place and what is in it.
  bool Sees(std::string_view place) const { return place.starts_with(place_code); }
};

// An operator scoped to a place, as the pavilion's operator issued it ("auth/o/<id>").
struct ScopedOperator {
  std::string id;  // "opr_…": the subject of its tokens.
  std::string name, place_code;
  int64_t created_micros = 0;
  int tokens = 0;  // How many of its tokens work now (counted when listed; not stored).
  template <class V>
  void Fields(V& v) {
    v(id), v(name), v(place_code), v(created_micros);
  }
};

struct IdentityOptions {
  // How long a shopper's token works: anyone can register a shopper, so its token should not
  // outlive its use. Rotating it gives a new one for as long again. 0: forever.
  int64_t shopper_token_ttl_micros = 30ll * 24 * 3600 * 1'000'000;  // 30 days
};

// The shortest operator token accepted at start-up: the operator may do anything.
inline constexpr size_t kMinOperatorTokenLength = 32;
// Longer tokens are never accepted (Authenticate refuses them unhashed).
inline constexpr size_t kMaxTokenLength = 256;

class Identity {
 public:
  explicit Identity(storage::KvStore& kv,
                    const events::Clock& clock = events::SystemClock::Instance(),
                    IdentityOptions options = {})
      : kv_(kv), clock_(clock), options_(options) {}

  // Issues a new token for (role, subject), an operator's scoped to `place_code` when given.
  Result<std::string> Issue(Role role, const std::string& subject,
                            const std::string& place_code = "");
  // Records a new scoped operator (`op`'s name and place; its id and time are set here) and
  // issues its first token, in one write.
  Result<std::string> IssueScoped(ScopedOperator& op);
  // The scoped operators whose place lies in `within` (a code prefix; "" for all), by id, with
  // their working tokens counted.
  Result<std::vector<ScopedOperator>> ScopedOperators(std::string_view within);
  // One scoped operator; the store's errc::not_found when none has the id.
  Result<ScopedOperator> FindScoped(const std::string& id);
  // Registers a token chosen by the caller (PAVILION_OPERATOR_TOKEN); refuses one revoked before
  // (std::errc::permission_denied). An operator token so registered is the operator's only one:
  // every other token of its subject (generated, rotated, or given at an earlier start) is
  // revoked in the same write, so changing PAVILION_OPERATOR_TOKEN retires the old one; scoped
  // operators' tokens, of other subjects, stay.
  std::error_code Register(const std::string& token, const Principal& who);
  // The token's owner; nullopt when the token is unknown, revoked or expired.
  std::optional<Principal> Authenticate(std::string_view token);
  // A new token for the owner of `token`, which stops working.
  Result<std::string> Rotate(std::string_view token);
  // Revokes one token (known to be valid: the caller authenticated with it).
  std::error_code Revoke(std::string_view token);
  // Revokes every token of a seller, shopper or scoped operator; returns how many.
  Result<int> RevokeSubject(const std::string& subject);
  // Whether an operator token has ever been registered.
  bool HasOperator();

  static std::string Sha256Hex(std::string_view data);
  static std::string RandomToken();

 private:
  std::error_code Store(const std::string& token, const Principal& who);
  static void StoreInto(storage::WriteBatch& wb, const std::string& hash, const Principal& who);
  // Revokes (hash, subject) pairs.
  std::error_code RevokeHashes(const std::vector<std::pair<std::string, std::string>>& owned);
  static void RevokeInto(storage::WriteBatch& wb,
                         const std::vector<std::pair<std::string, std::string>>& owned);
  void ClearCache();

  storage::KvStore& kv_;
  const events::Clock& clock_;
  const IdentityOptions options_;
  std::shared_mutex mu_;
  std::mutex rotate_mu_;  // One rotation at a time: two of one token at once would fork it.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, Principal, Hash, std::equal_to<>> cache_;
  uint64_t generation_ = 0;  // Counts revocations, under mu_.
};

}  // namespace pavilion::gateway
