// The event store's keys and block format, shared by its parts (event_store_open.cc,
// event_store_write.cc, event_store_read.cc). Private to the events module.
//
// Keys: "b" + first position (8 bytes big-endian) → a block of consecutive envelopes, each a
// varint length and its bytes; "s" + stream + "\0" + version (big-endian) → position;
// "m/origin" → the log's origin id. Everything here is inline: the writer builds these keys for
// every event it appends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pavilion/events/codec.h"
#include "pavilion/events/event_store.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::events::store_format {

inline constexpr std::string_view kOriginKey = "m/origin";

inline std::string StreamKeyPrefix(std::string_view stream_id) {
  std::string key;
  key.reserve(stream_id.size() + 2);
  key.push_back('s');
  key.append(stream_id);
  key.push_back('\0');
  return key;
}

inline std::string StreamKey(std::string_view stream_id, uint64_t version) {
  std::string key = StreamKeyPrefix(stream_id);
  PutFixed64BE(key, version);
  return key;
}

// A block holds at most this many events or (past) this many bytes.
inline constexpr size_t kBlockEvents = 256;
inline constexpr size_t kBlockBytes = 256u << 10;

inline bool TakeVarint(std::string_view& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// Calls fn(position, envelope bytes) for each event of a block that starts at `first`, until fn
// returns false; false when the block is malformed.
template <typename Fn>
bool ForEachInBlock(uint64_t first, std::string_view block, Fn fn) {
  for (uint64_t position = first; !block.empty(); ++position) {
    uint64_t size = 0;
    if (!TakeVarint(block, &size) || size > block.size()) return false;
    if (!fn(position, block.substr(0, size))) return true;
    block.remove_prefix(size);
  }
  return true;
}

// The key of the block whose first event is at `position`.
inline std::string BlockKey(uint64_t position) {
  std::string key = "b";
  PutFixed64BE(key, position);
  return key;
}

}  // namespace pavilion::events::store_format

namespace pavilion::events {

// Gathers envelopes into blocks of consecutive positions (at most kBlockEvents, or past
// kBlockBytes), each put into a batch under the key of its first position.
class EventStore::BlockWriter {
 public:
  explicit BlockWriter(storage::WriteBatch& wb) : wb_(wb) {}
  void Add(uint64_t position, std::string_view envelope) {
    if (count_ > 0 && position != first_ + count_) Flush();
    if (count_ == 0) first_ = position;
    PutVarint(block_, envelope.size());
    block_.append(envelope);
    if (++count_ == store_format::kBlockEvents || block_.size() >= store_format::kBlockBytes) {
      Flush();
    }
  }
  void Flush() {
    if (count_ == 0) return;
    wb_.Put(store_format::BlockKey(first_), block_);
    block_.clear();
    count_ = 0;
  }

 private:
  storage::WriteBatch& wb_;
  std::string block_;
  uint64_t first_ = 0, count_ = 0;
};

}  // namespace pavilion::events
