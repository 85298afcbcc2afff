// A KvStore in memory whose writes wait while the gate is shut, and which tells when one waits:
// what a store's writer took is then being written, not yet written, for as long as a test needs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::testing {

class GatedWriteKvStore final : public storage::KvStore {
 public:
  std::error_code Get(std::string_view key, std::string* value) override {
    return inner_.Get(key, value);
  }
  std::error_code Write(const storage::WriteBatch& batch, bool sync) override {
    {
      std::unique_lock lock(mu_);
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return inner_.Write(batch, sync);
  }
  std::error_code Sync() override { return inner_.Sync(); }
  std::error_code Scan(std::string_view begin, std::string_view end,
                       const storage::ScanFn& fn) override {
    return inner_.Scan(begin, end, fn);
  }
  std::error_code ScanReverse(std::string_view begin, std::string_view end,
                              const storage::ScanFn& fn) override {
    return inner_.ScanReverse(begin, end, fn);
  }
  void Set(bool open) {
    std::lock_guard lock(mu_);
    open_ = open;
    waiting_ = 0;
    cv_.notify_all();
  }
  // Waits (at most ten seconds) until a write waits at the shut gate.
  bool AwaitWaiting() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ > 0; });
  }

 private:
  storage::MemoryKvStore inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int waiting_ = 0;
};

}  // namespace pavilion::testing
