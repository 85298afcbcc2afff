// A KvStore that simulates crashes, for crash tests.
//
// It keeps two states: what a reader sees now, and what would survive a power loss (the batches
// written with sync=true or before a Sync()). DropUnsyncedWrites() turns the first into the
// second, as a crash would. FailNextWrites(n) makes the next n writes fail with
// errc::injected_fault and change nothing; FailNextSyncs(n) makes the next n Sync() calls fail
// and leave what they would have synced unsynced. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::storage {

class FaultInjectionKvStore final : public KvStore {
 public:
  std::error_code Get(std::string_view key, std::string* value) override;
  std::error_code Write(const WriteBatch& batch, bool sync) override;
  std::error_code Sync() override;
  std::error_code Scan(std::string_view begin, std::string_view end, const ScanFn& fn) override;
  std::error_code ScanReverse(std::string_view begin, std::string_view end,
                              const ScanFn& fn) override;

  void DropUnsyncedWrites();
  void FailNextWrites(int n);
  void FailNextSyncs(int n);
  size_t unsynced_batches() const;

 private:
  std::error_code SyncLocked();  // With mu_ held.

  mutable std::mutex mu_;
  MemoryKvStore live_;
  MemoryKvStore durable_;
  std::vector<WriteBatch> unsynced_;
  int fail_next_ = 0;
  int fail_next_syncs_ = 0;
};

}  // namespace pavilion::storage
