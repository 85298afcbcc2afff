// Identity: bearer tokens and the roles behind them (operator, seller, shopper).
//
// A token is 32 random bytes shown once to its owner; the store keeps only its SHA-256, under
// "auth/t/<hex>", with the role and the subject (a seller or shopper id). Lookups are cached in
// memory. Thread-safe.
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "pavilion/base/role.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::gateway {

struct Principal {
  Role role = Role::kShopper;
  std::string subject;  // The seller's or shopper's id; empty for the operator.
};

class Identity {
 public:
  explicit Identity(storage::KvStore& kv) : kv_(kv) {}

  // Issues a new token for (role, subject).
  Result<std::string> Issue(Role role, const std::string& subject);
  // Registers a token chosen by the caller (PAVILION_OPERATOR_TOKEN).
  std::error_code Register(const std::string& token, const Principal& who);
  std::optional<Principal> Authenticate(std::string_view token);
  // Whether an operator token has ever been registered.
  bool HasOperator();

  static std::string Sha256Hex(std::string_view data);
  static std::string RandomToken();

 private:
  storage::KvStore& kv_;
  std::shared_mutex mu_;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, Principal, Hash, std::equal_to<>> cache_;
};

}  // namespace pavilion::gateway
