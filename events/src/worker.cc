#include "pavilion/events/worker.h"

#include <pthread.h>

namespace pavilion::events {

Worker::Worker(std::string name) : name_(std::move(name)) {
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), name_.substr(0, 15).c_str());
}

Worker::~Worker() { Stop(); }

void Worker::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void Worker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable() && !InWorkerThread()) thread_.join();
}

size_t Worker::queued() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void Worker::Run() {
  std::deque<std::function<void()>> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      batch.swap(tasks_);
    }
    for (auto& task : batch) task();
    batch.clear();
  }
}

}  // namespace pavilion::events
