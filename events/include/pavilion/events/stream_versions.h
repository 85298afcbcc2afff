// Stream id → version tables for the event store's writer, which looks a stream up for every
// event it appends and caches every stream it writes (a fresh one per order).
//
// `StreamVersionTable` is open-addressed, with the ids packed in one buffer: adding a stream
// costs no allocation of its own, a lookup touches one slot and one id, and Clear() takes time in
// proportion to the entries, not the capacity (the writer clears its per-append table for every
// append). `StreamVersionCache` keeps two generations of at most `per_generation` streams each:
// a lookup that finds a stream in the old generation copies it into the young one, and a full
// young one becomes the old (the old is dropped), so streams written all the time (SKUs) stay
// while memory is bounded. Every new order adds a stream, so the cache fills in seconds whatever
// the bound: a small one (a few MiB, not the ≈ 100 MiB a million ids take), and two
// generations, because clearing it all made the writer reload every SKU's version at once (a
// point lookup and a short scan each) every few seconds. Neither is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pavilion::events {

class StreamVersionTable {
 public:
  static size_t Hash(std::string_view stream);

  const uint64_t* Find(std::string_view stream, size_t hash) const;
  // Inserts the stream or updates its version.
  void Set(std::string_view stream, size_t hash, uint64_t version);
  void Clear();
  size_t size() const { return used_.size(); }

  // Every entry, in the order first set.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (uint32_t i : used_) fn(Key(slots_[i]), slots_[i].hash, slots_[i].version);
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    size_t hash = 0;
    uint32_t offset = kEmpty;  // Of the id in keys_; kEmpty for a free slot.
    uint32_t length = 0;
    uint64_t version = 0;
  };
  std::string_view Key(const Slot& s) const { return {keys_.data() + s.offset, s.length}; }
  size_t Probe(std::string_view stream, size_t hash) const;  // Its slot, or the free one to use.
  void Grow();

  std::vector<Slot> slots_;     // A power of two long, at most half full.
  std::vector<uint32_t> used_;  // The occupied slots, in the order set.
  std::string keys_;
};

class StreamVersionCache {
 public:
  explicit StreamVersionCache(size_t per_generation) : per_generation_(per_generation) {}

  std::optional<uint64_t> Find(std::string_view stream, size_t hash);
  void Set(std::string_view stream, size_t hash, uint64_t version);
  void Clear();
  size_t size() const { return young_.size() + old_.size(); }

 private:
  const size_t per_generation_;
  StreamVersionTable young_, old_;
};

}  // namespace pavilion::events
