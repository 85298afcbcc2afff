// RateLimiter: a token bucket per client address, for what an anonymous or cheaply made identity
// can do in bulk (registering shoppers, placing unpaid orders that hold stock).
//
// The buckets live in a fixed table (sets of kWays slots; a new address takes its set's least
// recently used slot), so a client with many addresses cannot grow it: memory is fixed at
// construction. An address evicted and seen again starts with a full bucket, which favours it;
// that is the price of the bound. Addresses are hashed with a random per-process seed, so no
// client can aim its addresses at another's set. Thread-safe: one lock per set, taken for a few
// arithmetic operations; a limiter that is off takes none.
//
// An address is what ClientKey makes of the peer's IP: an IPv6 client counts by its /64, since
// one subscriber is routinely given a whole /64 (RFC 6177) and picks addresses from it at will
// (privacy addresses, RFC 8981); a limit per full IPv6 address limits nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit, size_t slots = 16'384);

  bool enabled() const { return limit_.per_second > 0; }
  // Takes one token of `address`'s bucket at `now_micros` (monotonic). 0 when allowed; otherwise
  // the whole seconds (at least 1) until a token is there.
  int64_t Take(std::string_view address, int64_t now_micros);

  static constexpr size_t kWays = 4;

  // The address limits count `ip` under: itself for IPv4 (an IPv4-mapped IPv6 address as the IPv4
  // one), "<first 64 bits>::/64" for IPv6; `ip` unchanged when it does not parse.
  static std::string ClientKey(const std::string& ip);

 private:
  struct Slot {
    uint64_t key = 0;  // The address's hash; 0: empty.
    double tokens = 0;
    int64_t updated_micros = 0;
  };
  struct Set {
    std::mutex mu;
    Slot slots[kWays];
  };

  const RateLimit limit_;
  const uint64_t seed_;
  std::unique_ptr<Set[]> sets_;
  size_t set_count_;
};

}  // namespace pavilion::gateway
