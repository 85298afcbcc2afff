#include "order_waits.h"

#include <algorithm>
#include <vector>

#include "pavilion/base/json_writer.h"
#include "views.h"

namespace pavilion::gateway {

void OrderWaits::Add(std::shared_ptr<PendingCall> call) {
  bool arm = false;
  {
    std::lock_guard lock(mu_);
    // kTicks whole periods from the next sweep, which is less than one period away.
    waiting_.push_back({tick_ + kTicks + 1, std::move(call)});
    arm = !armed_;
    armed_ = true;
  }
  if (arm) Arm();
}

void OrderWaits::Arm() {
  timers_.After(std::max<int64_t>(1, wait_ms_ / static_cast<int64_t>(kTicks)),
                [self = shared_from_this()] { self->Sweep(); });
}

// Answers the orders whose wait ran out and forgets those answered meanwhile.
void OrderWaits::Sweep() {
  std::vector<std::shared_ptr<PendingCall>> due;
  bool again = false;
  {
    std::lock_guard lock(mu_);
    ++tick_;
    while (!waiting_.empty() &&
           (waiting_.front().call->answered.load() || waiting_.front().due_tick <= tick_)) {
      if (!waiting_.front().call->answered.load()) due.push_back(waiting_.front().call);
      waiting_.pop_front();
    }
    again = armed_ = !waiting_.empty();
  }
  for (auto& call : due) {
    if (!call->Claim()) continue;
    base::JsonWriter w;
    w.BeginObject().Field("id", call->order_id).Field("status", "pending").EndObject();
    HttpResponse r = JsonResponse(202, w.Take());
    r.headers.emplace_back("Location", "/v1/orders/" + call->order_id);
    std::move(call->respond)(std::move(r));
  }
  if (again) Arm();
}

}  // namespace pavilion::gateway
