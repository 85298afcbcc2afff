// KvStore: the ordered key-value store under every Pavilion module.
//
// Keys and values are byte strings ordered bytewise. A WriteBatch applies atomically: after a
// crash either all of it is there or none of it. `sync` asks that the batch be on stable storage
// before Write returns; without it a crash may drop the batch (but never half of it).
// Implementations: RocksDB (production), Memory (unit tests) and FaultInjection (crash tests).
// All implementations are safe to call from several threads at once.
#pragma once

#include <algorithm>
#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "pavilion/storage/status.h"

namespace pavilion::storage {

class WriteBatch {
 public:
  enum class Kind { kPut, kDelete };
  struct Op {
    Kind kind;
    std::string key;
    std::string value;
  };

  void Put(std::string_view key, std::string_view value) {
    bytes_ += key.size() + value.size();
    ops_.push_back(Op{Kind::kPut, std::string(key), std::string(value)});
  }
  // Takes strings the caller has no further use for (a record just encoded) without copying.
  template <typename K, typename V>
  requires std::same_as<K, std::string> && std::same_as<V, std::string>
  void Put(K&& key, V&& value) {
    bytes_ += key.size() + value.size();
    ops_.push_back(Op{Kind::kPut, std::move(key), std::move(value)});
  }
  void Delete(std::string_view key) {
    bytes_ += key.size();
    ops_.push_back(Op{Kind::kDelete, std::string(key), {}});
  }
  void Append(WriteBatch&& other) {
    bytes_ += other.bytes_;
    // Grown geometrically: a processor appends many small batches into one.
    if (const size_t need = ops_.size() + other.ops_.size(); need > ops_.capacity()) {
      ops_.reserve(std::max(need, 2 * ops_.capacity()));
    }
    for (auto& op : other.ops_) ops_.push_back(std::move(op));
    other.Clear();
  }
  void Clear() {
    ops_.clear();
    bytes_ = 0;
  }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

// One figure about the store's engine, for monitoring (`GET /metrics`): what it measures (a
// name ending in `_total` counts since the store opened; any other is a value now), the part of
// the store it describes (RocksDB: the column family; empty: the whole store), its value, and
// what it means in a sentence (the metric's HELP text).
struct StoreFigure {
  std::string name;
  std::string family;
  uint64_t value = 0;
  std::string_view help;
};

// Called for each key in a scan; return false to stop.
using ScanFn = std::function<bool(std::string_view key, std::string_view value)>;

class KvStore {
 public:
  virtual ~KvStore() = default;

  // Reads one key; errc::not_found when it is absent.
  [[nodiscard]] virtual std::error_code Get(std::string_view key, std::string* value) = 0;
  // Reads several keys at once: (*values)[i] and (*results)[i] answer keys[i] as Get would.
  // RocksDB batches the lookups (one pass over each file's filter and index); the default
  // calls Get for each.
  virtual void MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                        std::vector<std::error_code>* results);
  // Applies the batch atomically; with `sync` it is durable when this returns.
  [[nodiscard]] virtual std::error_code Write(const WriteBatch& batch, bool sync) = 0;
  // Makes every batch written before the call durable, as if it had been written with `sync`.
  // May run while other threads write; what they write meanwhile may or may not be covered.
  [[nodiscard]] virtual std::error_code Sync() = 0;
  // Visits keys in [begin, end) in ascending order.
  [[nodiscard]] virtual std::error_code Scan(std::string_view begin, std::string_view end,
                                             const ScanFn& fn) = 0;
  // Visits keys in [begin, end) in descending order.
  [[nodiscard]] virtual std::error_code ScanReverse(std::string_view begin, std::string_view end,
                                                    const ScanFn& fn) = 0;
  // The engine's figures now. RocksDB, per column family: bytes in live files (`sst_bytes`) and
  // in memtables (`memtable_bytes`), level-0 files (`level0_files`), bytes compaction has yet to
  // rewrite (`pending_compaction_bytes`), writes it stopped and slowed down since it opened
  // (`write_stops_total`, `write_slowdowns_total`); for the whole store, the block cache's use
  // (`block_cache_bytes`), whether writes are stopped now (`write_stopped`, 1 or 0) and the
  // flushes and compactions running now (`flushes_running`, `compactions_running`). Other
  // stores have none.
  virtual std::vector<StoreFigure> Figures() { return {}; }
};

// The smallest key greater than every key that starts with `prefix`.
std::string PrefixEnd(std::string_view prefix);

// Reads for state a fold cannot go on without: GetOrAbort is true with the value when the key
// is found and false when it is not; any other error (the disk, the engine) stops the process,
// as a failed commit does, since taking it for "not found" would write wrong state over right.
// ScanOrAbort likewise.
bool GetOrAbort(KvStore& kv, std::string_view key, std::string* value);
void ScanOrAbort(KvStore& kv, std::string_view begin, std::string_view end, const ScanFn& fn);

struct RocksDbOptions {
  // The block cache, which holds index and filter blocks too (level 0's pinned). With at most
  // four memtables of `write_buffer_bytes` per column family, it bounds the store's memory
  // whatever its size.
  size_t block_cache_bytes = 256u << 20;
  size_t write_buffer_bytes = 64u << 20;
  // A bloom filter over each memtable's whole keys, this share of its size (RocksDB's
  // memtable_prefix_bloom_size_ratio), lets a lookup of an absent key skip the skip list. It
  // trades a cache miss on every insert — paid by the event store's writer, the order path's
  // busiest thread — for faster lookups of absent keys, which only imports make. Default 0: off.
  double memtable_bloom_ratio = 0;
  // Files that flushes and compactions leave behind are deleted in the background at this rate,
  // in chunks of `delete_chunk_bytes` (truncated step by step), not unlinked whole at once:
  // freeing tens of megabytes in one go (a discard, on a file system mounted with it) can hold
  // the disk long enough to make the log's next sync — and every order waiting on it — late.
  // 0 deletes at once. Files waiting for deletion stay under a quarter of the store's size
  // (past that they go at once).
  int64_t delete_bytes_per_sec = 256 << 20;
  uint64_t delete_chunk_bytes = 4u << 20;
  // RocksDB's flush and compaction threads run at the lowest CPU priority (nice 19), so that on
  // a busy machine they take the time the request path leaves rather than delaying it. The
  // server cannot starve them: when writes wait for a flush, the threads that would have run
  // instead are idle. RocksDB's thread pools are the process's, so this holds for every store
  // the process opens once one has asked for it. Default on.
  bool background_low_cpu_priority = true;
  // Keys that start with this prefix are written in increasing order and never changed: the
  // event store's log blocks ("b" + position, big-endian). They are kept in a column family of
  // their own, so their files never overlap and compaction moves them down the levels instead
  // of rewriting them with the projections' keys, saving flush and compaction CPU per order.
  // The one WAL still makes a batch that spans both atomic. A store written before keeps its
  // blocks in the default family until it is opened with this: they are moved then. Empty
  // keeps every key in the default family (and ignores the other, so a store must always be
  // opened with the same prefix).
  std::string append_only_prefix = "b";
};

// Opens (creating if needed) a RocksDB database in `dir`.
Result<std::unique_ptr<KvStore>> OpenRocksDb(const std::string& dir,
                                             const RocksDbOptions& options = {});

}  // namespace pavilion::storage
