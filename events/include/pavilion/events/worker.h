// Worker: one thread that runs posted tasks in order.
//
// Each service owns one Worker and touches its in-memory state only from it, so the state needs
// no locks and every aggregate has exactly one writer. Post() is thread-safe; tasks run in FIFO
// order. The destructor runs the tasks already queued, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace pavilion::events {

class Worker {
 public:
  explicit Worker(std::string name);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Post(std::function<void()> task);
  // Runs the queued tasks, then stops the thread. Later Posts are dropped.
  void Stop();
  bool InWorkerThread() const { return std::this_thread::get_id() == thread_.get_id(); }
  size_t queued() const;

 private:
  void Run();

  std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pavilion::events
