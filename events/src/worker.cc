#include "pavilion/events/worker.h"

#include <pthread.h>

#include <future>
#include <utility>

namespace pavilion::events {

Worker::Worker(std::string name, Worker* host) : name_(std::move(name)), host_(host) {
  if (host_ != nullptr) return;
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), name_.substr(0, 15).c_str());
}

Worker::~Worker() { Stop(); }

bool Worker::Post(std::function<void()> task) {
  if (host_ != nullptr) {
    // Held across the host's Post, so no task lands behind the marker Stop posts.
    std::lock_guard lock(mu_);
    return !stopping_ && host_->Post(std::move(task));
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void Worker::Stop() {
  if (host_ != nullptr) {
    {
      std::lock_guard lock(mu_);
      if (std::exchange(stopping_, true)) return;
    }
    // The lane's tasks queued so far run before this marker; on the host itself they run later,
    // and find the lane stopped only for what they post.
    if (host_->InWorkerThread()) return;
    std::promise<void> drained;
    if (host_->Post([&drained] { drained.set_value(); })) drained.get_future().wait();
    return;
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable() && !InWorkerThread()) thread_.join();
}

bool Worker::InWorkerThread() const {
  if (host_ != nullptr) return host_->InWorkerThread();
  return std::this_thread::get_id() == thread_.get_id();
}

size_t Worker::queued() const {
  if (host_ != nullptr) return host_->queued();
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
