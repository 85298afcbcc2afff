// BlockingJobs: runs a blocking job (a pack import or export, which reads archives and waits on
// the catalog piece by piece) on a thread of its own, so no HTTP or service thread blocks. At
// most two run at once; past that a caller gets 429 busy at once rather than queueing
// behind work of unbounded length. The destructor waits for the jobs still running.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

class BlockingJobs {
 public:
  BlockingJobs() = default;
  ~BlockingJobs();

  // Runs `job` on a new thread and answers through `respond` with what it returns, or answers
  // 429 busy now.
  void Run(const Respond& respond, std::function<HttpResponse()> job);

 private:
  static constexpr int kMaxJobs = 2;  // Each holds a whole pack in memory.
  std::mutex mu_;
  std::condition_variable cv_;
  int threads_ = 0;  // Job threads alive (the destructor waits for them).
  int busy_ = 0;     // Jobs not yet done: at most kMaxJobs.
};

}  // namespace pavilion::gateway
