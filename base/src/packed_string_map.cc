#include "pavilion/base/packed_string_map.h"

#include <algorithm>
#include <functional>
#include <stdexcept>

namespace pavilion::base {

size_t PackedStringMap::Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

size_t PackedStringMap::Probe(std::string_view key, size_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.offset == kEmpty || (s.hash == hash && Key(s) == key)) return i;
  }
}

const uint64_t* PackedStringMap::Find(std::string_view key, size_t hash) const {
  if (used_.empty()) return nullptr;
  const Slot& s = slots_[Probe(key, hash)];
  return s.offset == kEmpty ? nullptr : &s.value;
}

void PackedStringMap::Set(std::string_view key, size_t hash, uint64_t value) {
  if ((used_.size() + 1) * 2 > slots_.size()) Grow();
  const size_t i = Probe(key, hash);
  Slot& s = slots_[i];
  if (s.offset == kEmpty) {
    if (keys_.size() + key.size() >= kEmpty) throw std::length_error("keys too long");
    s.hash = hash;
    s.offset = static_cast<uint32_t>(keys_.size());
    s.length = static_cast<uint32_t>(key.size());
    keys_.append(key);
    used_.push_back(static_cast<uint32_t>(i));
  }
  s.value = value;
}

void PackedStringMap::Clear() {
  if (used_.size() * 8 > slots_.size()) {
    // Many: one pass in order over the slots beats a random write to each used one.
    for (Slot& s : slots_) s.offset = kEmpty;
  } else {
    for (uint32_t i : used_) slots_[i].offset = kEmpty;
  }
  used_.clear();
  keys_.clear();
}

void PackedStringMap::Grow() {
  std::vector<Slot> old(std::max<size_t>(16, slots_.size() * 2));
  old.swap(slots_);
  std::vector<uint32_t> order;
  order.swap(used_);
  used_.reserve(order.size());
  const size_t mask = slots_.size() - 1;
  for (uint32_t from : order) {
    size_t i = old[from].hash & mask;
    while (slots_[i].offset != kEmpty) i = (i + 1) & mask;
    slots_[i] = old[from];
    used_.push_back(static_cast<uint32_t>(i));
  }
}

void PackedStringMap::Reserve(size_t n) {
  while (slots_.size() < 2 * n) Grow();
  used_.reserve(n);
}

}  // namespace pavilion::base
