// A KvStore over another whose Sync() waits while the gate is shut, and counts its calls: what is
// written then stays written and not durable for as long as a test needs. It counts reads too.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "pavilion/storage/kv_store.h"

namespace pavilion::testing {

class GatedSyncKvStore final : public storage::KvStore {
 public:
  explicit GatedSyncKvStore(storage::KvStore& inner) : inner_(inner) {}
  std::error_code Get(std::string_view key, std::string* value) override {
    ++reads_;
    return inner_.Get(key, value);
  }
  std::error_code Write(const storage::WriteBatch& batch, bool sync) override {
    return inner_.Write(batch, sync);
  }
  std::error_code Sync() override {
    std::unique_lock lock(mu_);
    ++syncs_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    return inner_.Sync();
  }
  std::error_code Scan(std::string_view begin, std::string_view end,
                       const storage::ScanFn& fn) override {
    ++reads_;
    return inner_.Scan(begin, end, fn);
  }
  std::error_code ScanReverse(std::string_view begin, std::string_view end,
                              const storage::ScanFn& fn) override {
    ++reads_;
    return inner_.ScanReverse(begin, end, fn);
  }

  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits (at most ten seconds) until `n` syncs have started.
  bool AwaitSyncs(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return syncs_ >= n; });
  }
  int syncs() {
    std::lock_guard lock(mu_);
    return syncs_;
  }
  // Get, Scan and ScanReverse calls so far.
  int reads() const { return reads_.load(); }

 private:
  storage::KvStore& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int syncs_ = 0;
  std::atomic<int> reads_{0};
};

// Opens the gate when it goes out of scope: declared after the EventStore, it lets the store's
// sync thread finish before the store is destroyed, however the test ends.
struct OpenOnExit {
  explicit OpenOnExit(GatedSyncKvStore& kv) : kv(kv) {}
  ~OpenOnExit() { kv.Open(); }
  GatedSyncKvStore& kv;
};

// A head (a log position) a listener reports, and a wait for it to reach a value.
class HeadWatch {
 public:
  std::function<void(uint64_t)> Listener() {
    return [this](uint64_t head) {
      std::lock_guard lock(mu_);
      head_ = head;
      cv_.notify_all();
    };
  }
  // Waits (at most ten seconds) until the head is at least `head`; whether it got there.
  bool AwaitAtLeast(uint64_t head) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return head_ >= head; });
  }
  uint64_t head() {
    std::lock_guard lock(mu_);
    return head_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t head_ = 0;
};

}  // namespace pavilion::testing
