// The event store's writer looks a stream up for every event it appends and caches every stream
// it writes (a fresh one per order). `StreamVersionCache` keeps two generations of at most
// `per_generation` streams each: a lookup that finds a stream in the old generation copies it
// into the young one, and a full young one becomes the old at the next Turn() (the old is
// dropped), so streams written all the time (SKUs) stay while memory is bounded. Every new order
// adds a stream, so the cache fills quickly whatever the bound; the bound keeps it small, and
// two generations (not one cleared when full) keep the hot streams, so the writer never reloads
// every SKU's version from the store at once. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/base/packed_string_map.h"

namespace pavilion::events {

class StreamVersionCache {
 public:
  explicit StreamVersionCache(size_t per_generation) : per_generation_(per_generation) {}

  std::optional<uint64_t> Find(std::string_view stream, size_t hash);
  void Set(std::string_view stream, size_t hash, uint64_t version);
  // Past `per_generation` streams, the young generation becomes the old one (the old is
  // dropped). The writer turns only between groups: a stream a group has written must stay
  // known until the group's write lands, as the store cannot answer for it before.
  void Turn();
  void Clear();
  size_t size() const { return young_.size() + old_.size(); }

 private:
  const size_t per_generation_;
  base::PackedStringMap young_, old_;
};

}  // namespace pavilion::events
