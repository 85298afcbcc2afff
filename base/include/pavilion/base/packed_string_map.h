// PackedStringMap: string → uint64_t, open-addressed, with the keys packed in one buffer. Adding
// a key costs no allocation of its own, a lookup touches one slot and one key, and Clear() takes
// time in proportion to the entries, not the capacity, and frees nothing: the event store's
// writer stages stream versions in one for every append and caches them in two; the catalog
// counts its holds in one (a node map of as many strings took the services' thread tens of
// milliseconds to free when the caches were trimmed, and to rehash as it grew). Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pavilion::base {

class PackedStringMap {
 public:
  static size_t Hash(std::string_view key);

  const uint64_t* Find(std::string_view key, size_t hash) const;
  // Inserts the key or updates its value.
  void Set(std::string_view key, size_t hash, uint64_t value);
  void Clear();
  // Room for `n` keys without growing (growing rehashes every entry).
  void Reserve(size_t n);
  size_t size() const { return used_.size(); }

  // Every entry, in the order first set.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (uint32_t i : used_) fn(Key(slots_[i]), slots_[i].hash, slots_[i].value);
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    size_t hash = 0;
    uint32_t offset = kEmpty;  // Of the key in keys_; kEmpty for a free slot.
    uint32_t length = 0;
    uint64_t value = 0;
  };
  std::string_view Key(const Slot& s) const { return {keys_.data() + s.offset, s.length}; }
  size_t Probe(std::string_view key, size_t hash) const;  // Its slot, or the free one to use.
  void Grow();

  std::vector<Slot> slots_;     // A power of two long, at most half full.
  std::vector<uint32_t> used_;  // The occupied slots, in the order set.
  std::string keys_;
};

}  // namespace pavilion::base
