// OrderWaits: the bounded wait of POST /v1/orders. The order service answers a placement when
// the stock has answered every line; if that takes longer than `wait_ms`, the caller gets 202
// pending with the order's id and polls. Whichever comes first answers, exactly once
// (PendingCall::Claim).
//
// One sweep every tenth of the wait serves every order waiting, rather than a timer per order:
// a timer per order costs each request a timer's system calls and a wake-up when it runs out.
// An order so waits between `wait_ms` and a tenth more. Sweeps run only while some order waits.
// Thread-safe: Add may be called from any thread; sweeps run on the Timers' threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

// One POST /v1/orders waiting for its answer.
struct PendingCall {
  explicit PendingCall(Respond r) : respond(std::move(r)) {}
  Respond respond;
  std::string order_id;
  std::atomic<bool> answered{false};
  // True for the one caller that may answer.
  bool Claim() { return !answered.exchange(true); }
};

class OrderWaits : public std::enable_shared_from_this<OrderWaits> {
 public:
  OrderWaits(Timers& timers, int64_t wait_ms) : timers_(timers), wait_ms_(wait_ms) {}

  // `call->order_id` must be set; only the sweep reads it, after this.
  void Add(std::shared_ptr<PendingCall> call);

 private:
  static constexpr uint64_t kTicks = 10;
  struct Waiting {
    uint64_t due_tick;
    std::shared_ptr<PendingCall> call;
  };

  void Arm();
  void Sweep();

  Timers& timers_;
  const int64_t wait_ms_;
  std::mutex mu_;
  std::deque<Waiting> waiting_;  // Oldest first: every order waits as long.
  uint64_t tick_ = 0;
  bool armed_ = false;
};

}  // namespace pavilion::gateway
