#include "pavilion/events/stream_versions.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

namespace pavilion::events {

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
}

void StreamVersionCache::Turn() {
  if (young_.size() < std::max<size_t>(1, per_generation_)) return;
  std::swap(young_, old_);
  young_.Clear();
}

void StreamVersionCache::Clear() {
  young_.Clear();
  old_.Clear();
}

}  // namespace pavilion::events
