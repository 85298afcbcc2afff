// PayoutProvider: how settlement hands a payout to whoever moves the money (a bank, WeChat Pay's
// or Alipay's transfer to a merchant), and the built-in one tests and the demo use.
//
// Settlement calls Send once the ledger has moved the payout's amount from the party's payable
// balance to in transit and that is durable. The provider answers later through the settlement
// service's ConfirmPayout or ReturnPayout (POST /v1/payouts/{id}/confirm | /return: its
// notification). A rebuild of the ledger from the log may send a payout again: providers must be
// idempotent by payout id, as the real ones are by the merchant's transfer number.
//
// Thread-safety: Send is called on the settlement worker; implementations must not block it
// for long (queue the transfer and return).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "pavilion/events/schema.h"

namespace pavilion::settlement {

struct PayoutOrder {
  std::string payout_id, party_id;
  Fen amount;
};

class PayoutProvider {
 public:
  virtual ~PayoutProvider() = default;
  virtual std::string name() const = 0;
  virtual void Send(const PayoutOrder& payout) = 0;
};

// Accepts every payout and keeps it; the operator (or a test) confirms or returns it through
// the routes. Thread-safe.
class BuiltinPayoutProvider final : public PayoutProvider {
 public:
  std::string name() const override { return "builtin"; }
  void Send(const PayoutOrder& payout) override {
    std::lock_guard lock(mu_);
    sent_.push_back(payout);
  }
  std::vector<PayoutOrder> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<PayoutOrder> sent_;
};

}  // namespace pavilion::settlement
