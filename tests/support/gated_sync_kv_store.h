// A KvStore over another whose Sync() waits while the gate is shut, and counts its calls: what is
// written then stays written and not durable for as long as a test needs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "pavilion/storage/kv_store.h"

namespace pavilion::testing {

class GatedSyncKvStore final : public storage::KvStore {
 public:
  explicit GatedSyncKvStore(storage::KvStore& inner) : inner_(inner) {}
  std::error_code Get(std::string_view key, std::string* value) override {
    return inner_.Get(key, value);
  }
  std::error_code Write(const storage::WriteBatch& batch, bool sync) override {
    auto ec = inner_.Write(batch, sync);
    ++writes;
    return ec;
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
    return inner_.Scan(begin, end, fn);
  }
  std::error_code ScanReverse(std::string_view begin, std::string_view end,
                              const storage::ScanFn& fn) override {
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

  std::atomic<int> writes{0};  // Writes done.

 private:
  storage::KvStore& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int syncs_ = 0;
};

// Opens the gate when it goes out of scope: declared after the EventStore, it lets the store's
// sync thread finish before the store is destroyed, however the test ends.
struct OpenOnExit {
  explicit OpenOnExit(GatedSyncKvStore& kv) : kv(kv) {}
  ~OpenOnExit() { kv.Open(); }
  GatedSyncKvStore& kv;
};

// Polls `done` every millisecond for at most ten seconds; whether it came true.
template <typename Fn>
bool Eventually(Fn done) {
  for (int i = 0; i < 10000 && !done(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

}  // namespace pavilion::testing
