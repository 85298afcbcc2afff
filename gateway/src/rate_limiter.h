// RateLimiter: a token bucket per client address, for what an anonymous or cheaply made identity
// can do in bulk (registering shoppers, placing unpaid orders that hold stock).
//
// The buckets live in a fixed table (sets of kWays slots; a new address takes its set's least
// recently used slot), so a client with many addresses cannot grow it: memory is fixed at
// construction. An address evicted and seen again starts with a full bucket, which favours it;
// that is the price of the bound. Addresses are hashed with a random per-process seed, so no
// client can aim its addresses at another's set. Thread-safe: one lock per set, taken for a few
// arithmetic operations; a limiter that is off takes none.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
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
