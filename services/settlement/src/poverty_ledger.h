// PovertyLedger: the poverty-alleviation ledger (扶贫台账), a projection precise to the household.
//
// Folds seller.registered (which sellers are registered poor households, their name and place),
// order.paid (units and what shoppers paid for each household's lines, direct or through a
// distributor's listing: the line names the household as its seller either way) and
// refund.completed (what went back), per business day (UTC+8). Rows are written into the
// settlement processor's transaction, the same batch as its checkpoint, so a restart neither
// counts twice nor misses one, and deleting set/ rebuilds identical rows from the log.
//
// Keys: set/pv/h/<seller> (a household), set/pv/d/<day>/<seller> (its totals that day).
// Threads: the settlement worker only. Query reads the durable rows and the ledger's accounts.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "pavilion/events/processor.h"
#include "pavilion/settlement/exports.h"
#include "pavilion/storage/kv_store.h"

namespace pavilion::settlement {

class PovertyLedger {
 public:
  explicit PovertyLedger(storage::KvStore& kv) : kv_(kv) {}

  void Seller(const events::schema::SellerRegistered& s, events::Transaction& tx);
  void Paid(const events::schema::OrderPaid& paid, int64_t micros, events::Transaction& tx);
  void Refunded(const events::schema::RefundChanged& r, int64_t micros, events::Transaction& tx);

  Result<std::vector<PovertyRow>> Query(const PovertyQuery& q);

  struct Household {
    std::string name, place_code;
    template <class V>
    void Fields(V& v) {
      v(name), v(place_code);
    }
  };
  struct Totals {
    int64_t direct_units = 0, distributed_units = 0, refunded_units = 0;
    Fen direct_sales, distributed_sales, refunded;
    template <class V>
    void Fields(V& v) {
      v(direct_units), v(distributed_units), v(refunded_units), v(direct_sales),
          v(distributed_sales), v(refunded);
    }
  };

 private:
  bool IsHousehold(const std::string& seller_id);
  Totals& Row(const std::string& key);

  storage::KvStore& kv_;
  bool loaded_ = false;
  std::unordered_map<std::string, Household> households_;
  // Rows touched since start: memory is ahead of the store until the batch commits. One per
  // household and day with sales.
  std::unordered_map<std::string, Totals> rows_;
};

}  // namespace pavilion::settlement
