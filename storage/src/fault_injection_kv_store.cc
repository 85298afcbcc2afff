#include "pavilion/storage/fault_injection_kv_store.h"

namespace pavilion::storage {

std::error_code FaultInjectionKvStore::Get(std::string_view key, std::string* value) {
  return live_.Get(key, value);
}

std::error_code FaultInjectionKvStore::Write(const WriteBatch& batch, bool sync) {
  std::lock_guard lock(mu_);
  if (fail_next_ > 0) {
    --fail_next_;
    return errc::injected_fault;
  }
  if (auto ec = live_.Write(batch, sync)) return ec;
  unsynced_.push_back(batch);
  return sync ? SyncLocked() : std::error_code{};
}

std::error_code FaultInjectionKvStore::Sync() {
  std::lock_guard lock(mu_);
  if (fail_next_syncs_ > 0) {
    --fail_next_syncs_;
    return errc::injected_fault;
  }
  return SyncLocked();
}

std::error_code FaultInjectionKvStore::SyncLocked() {
  for (const auto& b : unsynced_) {
    if (auto ec = durable_.Write(b, true)) return ec;
  }
  unsynced_.clear();
  return {};
}

std::error_code FaultInjectionKvStore::Scan(std::string_view begin, std::string_view end,
                                            const ScanFn& fn) {
  return live_.Scan(begin, end, fn);
}

std::error_code FaultInjectionKvStore::ScanReverse(std::string_view begin, std::string_view end,
                                                   const ScanFn& fn) {
  return live_.ScanReverse(begin, end, fn);
}

void FaultInjectionKvStore::DropUnsyncedWrites() {
  std::lock_guard lock(mu_);
  live_.Restore(durable_.Snapshot());
  unsynced_.clear();
}

void FaultInjectionKvStore::FailNextWrites(int n) {
  std::lock_guard lock(mu_);
  fail_next_ = n;
}

void FaultInjectionKvStore::FailNextSyncs(int n) {
  std::lock_guard lock(mu_);
  fail_next_syncs_ = n;
}

size_t FaultInjectionKvStore::unsynced_batches() const {
  std::lock_guard lock(mu_);
  return unsynced_.size();
}

}  // namespace pavilion::storage
