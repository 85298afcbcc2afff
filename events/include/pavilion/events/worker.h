// Worker: one thread that runs posted tasks in order.
//
// Each service owns one Worker and touches its in-memory state only from it, so the state needs
// no locks and every aggregate has exactly one writer. Post() is thread-safe; tasks run in FIFO
// order. The destructor runs the tasks already queued, then joins.
//
// A Worker may also be a lane of another (its host): its tasks then run on the host's thread, in
// order among themselves and with the host's other tasks. Services that share one thread keep a
// lane each, so each still has its own name and its own stop. `pavilion serve
// --service-threads shared` runs the three services and the event store's writer
// (EventStoreOptions::writer) on one host: an order's placement, reservation and answer then
// pass from one to the next as tasks on that thread, without waking another. The default is a
// thread each, which scales with cores under heavy load.
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
  explicit Worker(std::string name) : Worker(std::move(name), nullptr) {}
  // A lane of `host`, which must outlive it; with nullptr, a thread of its own.
  Worker(std::string name, Worker* host);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Queues the task; false if the worker (or a lane's host) is stopped and the task dropped.
  bool Post(std::function<void()> task);
  // Runs the queued tasks, then stops the thread (a lane: waits until its queued tasks have run
  // on the host). Later Posts are dropped.
  void Stop();
  bool InWorkerThread() const;
  // Tasks waiting (for a lane, all of its host's).
  size_t queued() const;
  const std::string& name() const { return name_; }

 private:
  void Run();

  std::string name_;
  Worker* host_ = nullptr;  // Set for a lane; a lane has no thread or queue of its own.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pavilion::events
