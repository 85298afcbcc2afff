// Reads: a stream through its index, a stream's last event, the log from a position (blocks in
// the store, or the recent events kept in memory), up to the durable or the written head.
#include <algorithm>
#include <optional>

#include "event_store_format.h"
#include "pavilion/events/event_store.h"

namespace pavilion::events {

using store_format::ForEachInBlock;
using store_format::StreamKey;
using store_format::StreamKeyPrefix;

Result<std::vector<Envelope>> EventStore::ReadStream(std::string_view stream_id,
                                                     uint64_t from_version, size_t max) const {
  std::string prefix = StreamKeyPrefix(stream_id);
  std::vector<Envelope> out;
  std::error_code inner;
  const uint64_t limit = head();  // Written events past it are not durable yet.
  // Reads the event an index entry names; false once past the durable head or on an error.
  auto take = [&](std::string_view pos) {
    if (pos.size() != 8) {
      inner = errc::corrupt_event;
      return false;
    }
    if (GetFixed64BE(pos) > limit) return false;
    auto env = ReadAt(GetFixed64BE(pos));
    if (!env.ok()) {
      inner = env.error();
      return false;
    }
    out.push_back(std::move(env).value());
    return true;
  };
  std::error_code ec;
  if (max == 1) {  // One version: looked up by its key (a filter answers), not scanned for.
    std::string pos;
    ec = kv_.Get(StreamKey(stream_id, std::max<uint64_t>(from_version, 1)), &pos);
    if (ec == storage::errc::not_found) return out;
    if (!ec) take(pos);
  } else {
    ec = kv_.Scan(
        StreamKey(stream_id, from_version), storage::PrefixEnd(prefix),
        [&](std::string_view, std::string_view pos) { return take(pos) && out.size() < max; });
  }
  if (ec) return ec;
  if (inner) return inner;
  return out;
}

Result<std::optional<Envelope>> EventStore::ReadLast(std::string_view stream_id, Upto upto,
                                                     uint64_t after) const {
  const std::string prefix = StreamKeyPrefix(stream_id);
  const uint64_t limit = Limit(upto);
  std::string next;
  if (auto ec = kv_.Get(StreamKey(stream_id, after + 1), &next)) {
    if (ec == storage::errc::not_found) return std::optional<Envelope>();
    return ec;
  }
  if (next.size() != 8) return errc::corrupt_event;
  if (GetFixed64BE(next) > limit) return std::optional<Envelope>();
  uint64_t position = 0;
  bool corrupt = false;
  auto ec = kv_.ScanReverse(prefix, storage::PrefixEnd(prefix),
                            [&](std::string_view, std::string_view pos) {
                              if (pos.size() != 8) {
                                corrupt = true;
                                return false;
                              }
                              position = GetFixed64BE(pos);
                              return position > limit;  // Past the limit: the one before.
                            });
  if (ec) return ec;
  if (corrupt) return errc::corrupt_event;
  if (position == 0 || position > limit) return std::optional<Envelope>();
  auto env = ReadAt(position);
  if (!env.ok()) return env.error();
  return std::optional<Envelope>(std::move(env).value());
}

Result<Envelope> EventStore::ReadAt(uint64_t position) const {
  // The last events written are kept decoded: a stream read of recent events (an order just
  // placed, rebuilt from its events) needs no block read.
  std::vector<std::shared_ptr<const Envelope>> recent;
  if (ReadRecent(position, 1, &recent, Upto::kWritten) && !recent.empty()) return *recent[0];
  // Finds `position` in the block that starts at `first`; nullopt if the block ends before it.
  auto in_block = [position](uint64_t first, std::string_view block) {
    std::optional<Result<Envelope>> found;
    ForEachInBlock(first, block, [&](uint64_t p, std::string_view bytes) {
      if (p < position) return true;
      if (p == position) found = DecodeEnvelope(bytes);
      return false;
    });
    return found;
  };
  {
    // Reads of older events come in runs through the log (the orders due for a timeout, in the
    // order they were reserved): the last block read answers most of them.
    std::lock_guard lock(block_mu_);
    if (block_first_ != 0 && position >= block_first_) {
      if (auto hit = in_block(block_first_, block_)) return *hit;
    }
  }
  uint64_t first = 0;
  std::string block;
  auto ec = kv_.ScanReverse("b", store_format::BlockKey(position + 1),
                            [&](std::string_view key, std::string_view bytes) {
                              first = GetFixed64BE(key.substr(1));
                              block.assign(bytes);
                              return false;
                            });
  if (ec) return ec;
  auto found = first != 0 ? in_block(first, block) : std::nullopt;
  if (!found) return errc::corrupt_event;  // The index names an event no block holds.
  std::lock_guard lock(block_mu_);
  block_first_ = first;
  block_.swap(block);
  return *found;
}

uint64_t EventStore::Limit(Upto upto) const {
  // After a failed sync what is written may never be durable: nobody reads past the durable head.
  return upto == Upto::kWritten && !broken_.load(std::memory_order_acquire) ? written_head()
                                                                            : head();
}

bool EventStore::ReadRecent(uint64_t from_position, size_t max,
                            std::vector<std::shared_ptr<const Envelope>>* out, Upto upto) const {
  const uint64_t limit = Limit(upto);
  std::lock_guard lock(recent_mu_);
  if (from_position < recent_first_) return false;
  const uint64_t end = std::min(recent_first_ + recent_.size(), limit + 1);
  for (uint64_t p = from_position; p < end && max > 0; ++p, --max) {
    out->push_back(recent_[p - recent_first_]);
  }
  return true;
}

std::optional<bool> EventStore::AnyRecent(
    uint64_t from_position, uint64_t to_position,
    const std::function<bool(std::string_view)>& wanted) const {
  std::lock_guard lock(recent_mu_);
  if (from_position < recent_first_ || to_position >= recent_first_ + recent_.size()) {
    return std::nullopt;
  }
  for (uint64_t p = from_position; p <= to_position; ++p) {
    if (wanted(recent_[p - recent_first_]->type)) return true;
  }
  return false;
}

std::error_code EventStore::ReadAll(uint64_t from_position, size_t max, std::vector<Envelope>* out,
                                    Upto upto) const {
  const uint64_t limit = Limit(upto);
  if (from_position > limit || max == 0) return {};
  // Start at the block holding from_position: the last one that begins at or before it.
  std::string start = store_format::BlockKey(from_position);
  auto ec = kv_.ScanReverse("b", store_format::BlockKey(from_position + 1),
                            [&](std::string_view key, std::string_view) {
                              start = std::string(key);
                              return false;
                            });
  if (ec) return ec;
  std::error_code inner;
  size_t n = 0;
  bool more = true;
  ec = kv_.Scan(start, store_format::BlockKey(limit + 1),
                [&](std::string_view key, std::string_view block) {
                  const bool whole = ForEachInBlock(GetFixed64BE(key.substr(1)), block,
                                                    [&](uint64_t p, std::string_view bytes) {
                                                      if (p < from_position) return true;
                                                      if (p > limit) return more = false;
                                                      auto env = DecodeEnvelope(bytes);
                                                      if (!env.ok()) {
                                                        inner = env.error();
                                                        return more = false;
                                                      }
                                                      out->push_back(std::move(env).value());
                                                      return more = ++n < max;
                                                    });
                  if (!whole && !inner) inner = errc::corrupt_event;
                  return more && !inner;
                });
  return ec ? ec : inner;
}

}  // namespace pavilion::events
