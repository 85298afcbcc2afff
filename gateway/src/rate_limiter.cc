#include "rate_limiter.h"  // First: it brings <utility>, which Asio needs before it here.

#include <openssl/rand.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cmath>
#include <functional>

namespace pavilion::gateway {
namespace {

uint64_t Mix(uint64_t x) {  // SplitMix64's finaliser.
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t RandomSeed() {
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) seed = 0x9e3779b9;
  return seed;
}

}  // namespace

RateLimiter::RateLimiter(RateLimit limit, size_t slots)
    : limit_(limit), seed_(RandomSeed()), set_count_(std::max<size_t>(1, slots / kWays)) {
  if (enabled()) sets_ = std::make_unique<Set[]>(set_count_);
}

std::string RateLimiter::ClientKey(const std::string& ip) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(ip, ec);
  if (ec || !address.is_v6()) return ip;
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

int64_t RateLimiter::Take(std::string_view address, int64_t now_micros) {
  if (!enabled()) return 0;
  const uint64_t key = Mix(std::hash<std::string_view>()(address) ^ seed_) | 1;
  Set& set = sets_[key % set_count_];
  std::lock_guard lock(set.mu);
  Slot* slot = nullptr;
  for (Slot& s : set.slots) {
    if (s.key == key) slot = &s;
  }
  if (slot == nullptr) {
    slot = std::min_element(
        std::begin(set.slots), std::end(set.slots),
        [](const Slot& a, const Slot& b) { return a.updated_micros < b.updated_micros; });
    *slot = Slot{key, std::max(1.0, limit_.burst), now_micros};
  }
  const double elapsed =
      static_cast<double>(std::max<int64_t>(0, now_micros - slot->updated_micros));
  slot->tokens =
      std::min(std::max(1.0, limit_.burst), slot->tokens + elapsed * limit_.per_second / 1e6);
  slot->updated_micros = now_micros;
  if (slot->tokens >= 1.0) {
    slot->tokens -= 1.0;
    return 0;
  }
  return std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil((1.0 - slot->tokens) / limit_.per_second)));
}

}  // namespace pavilion::gateway
