#include "blocking_jobs.h"

#include <string>
#include <thread>

#include "errors.h"

namespace pavilion::gateway {

BlockingJobs::~BlockingJobs() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return threads_ == 0; });
}

void BlockingJobs::Run(const Respond& respond, std::function<HttpResponse()> job) {
  {
    std::lock_guard lock(mu_);
    if (busy_ >= kMaxJobs) {
      return respond(ErrorResponse(kBusy, "two packs are being processed; try again shortly"));
    }
    ++busy_;
    ++threads_;
  }
  std::thread([this, respond, job = std::move(job)] {
    HttpResponse response = job();
    {
      // The slot is free before the answer leaves: a client that sends its next pack as soon
      // as this one is answered is never told "busy" by a job that is already done.
      std::lock_guard lock(mu_);
      --busy_;
    }
    respond(std::move(response));
    std::lock_guard lock(mu_);
    --threads_;
    cv_.notify_all();
  }).detach();
}

}  // namespace pavilion::gateway
