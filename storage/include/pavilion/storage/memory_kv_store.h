// In-memory KvStore for unit tests: a mutex-guarded std::map. Nothing survives the object;
// `sync` and Sync() are accepted and ignored. Thread-safe.
#pragma once

#include <map>
#include <mutex>

#include "pavilion/storage/kv_store.h"

namespace pavilion::storage {

class MemoryKvStore final : public KvStore {
 public:
  std::error_code Get(std::string_view key, std::string* value) override;
  std::error_code Write(const WriteBatch& batch, bool sync) override;
  std::error_code Sync() override { return {}; }
  std::error_code Scan(std::string_view begin, std::string_view end, const ScanFn& fn) override;
  std::error_code ScanReverse(std::string_view begin, std::string_view end,
                              const ScanFn& fn) override;

  // A copy of every key and value, for comparing states in tests.
  std::map<std::string, std::string, std::less<>> Snapshot() const;
  void Restore(std::map<std::string, std::string, std::less<>> data);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> data_;
};

}  // namespace pavilion::storage
