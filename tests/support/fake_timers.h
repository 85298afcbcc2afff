// FakeTimers: the router's Timers for tests without a server. Functions wait until FireAll(),
// so a test decides when "later" is. Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "pavilion/gateway/router.h"

namespace pavilion::testing {

class FakeTimers final : public gateway::Timers {
 public:
  void After(int64_t, std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(fn));
  }
  void FireAll() {
    std::vector<std::function<void()>> fns;
    {
      std::lock_guard lock(mu_);
      fns.swap(pending_);
    }
    for (auto& fn : fns) fn();
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> pending_;
};

}  // namespace pavilion::testing
