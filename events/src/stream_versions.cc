#include "pavilion/events/stream_versions.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

namespace pavilion::events {

size_t StreamVersionTable::Hash(std::string_view stream) {
  return std::hash<std::string_view>{}(stream);
}

size_t StreamVersionTable::Probe(std::string_view stream, size_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.offset == kEmpty || (s.hash == hash && Key(s) == stream)) return i;
  }
}

const uint64_t* StreamVersionTable::Find(std::string_view stream, size_t hash) const {
  if (used_.empty()) return nullptr;
  const Slot& s = slots_[Probe(stream, hash)];
  return s.offset == kEmpty ? nullptr : &s.version;
}

void StreamVersionTable::Set(std::string_view stream, size_t hash, uint64_t version) {
  if ((used_.size() + 1) * 2 > slots_.size()) Grow();
  const size_t i = Probe(stream, hash);
  Slot& s = slots_[i];
  if (s.offset == kEmpty) {
    if (keys_.size() + stream.size() >= kEmpty) throw std::length_error("stream ids too long");
    s.hash = hash;
    s.offset = static_cast<uint32_t>(keys_.size());
    s.length = static_cast<uint32_t>(stream.size());
    keys_.append(stream);
    used_.push_back(static_cast<uint32_t>(i));
  }
  s.version = version;
}

void StreamVersionTable::Clear() {
  for (uint32_t i : used_) slots_[i].offset = kEmpty;
  used_.clear();
  keys_.clear();
}

void StreamVersionTable::Grow() {
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

std::optional<uint64_t> StreamVersionCache::Find(std::string_view stream, size_t hash) {
  if (const uint64_t* v = young_.Find(stream, hash)) return *v;
  if (const uint64_t* v = old_.Find(stream, hash)) {
    const uint64_t version = *v;
    Set(stream, hash, version);  // Written again: it survives the next turn.
    return version;
  }
  return std::nullopt;
}

void StreamVersionCache::Set(std::string_view stream, size_t hash, uint64_t version) {
  young_.Set(stream, hash, version);
  if (young_.size() >= std::max<size_t>(1, per_generation_)) {
    std::swap(young_, old_);
    young_.Clear();
  }
}

void StreamVersionCache::Clear() {
  young_.Clear();
  old_.Clear();
}

}  // namespace pavilion::events
