// ProfitSharing: the optional WeChat Pay / Alipay profit-sharing profile on settlement's side.
//
// WeChat Pay and Alipay let at most a share of a payment (30 % by default) be split away from the
// receiving merchant, the supplier: here its distributors' margins plus the platform fee
// (schema::ProfitSharingSplitBps). The catalog refuses a distribution past the cap under the
// fees it has read; this part refuses fee rules past it under the listings it has read. It folds
// every listing's product.created / product.updated (supplier, category, poverty flag,
// margin_bps) into set/ps/l/<listing>, whether the profile is on or not, so turning it on later
// checks against every listing; and warns when a listing folded later passes the cap under the
// fee rules in force (the ledger's: a fee change and a distribution that crossed, README "Profit
// sharing").
//
// Threads: the settlement worker only (the folds run in the processor's transaction; the check
// scans the durable records after the service has made its writes durable).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "pavilion/events/processor.h"
#include "pavilion/storage/kv_store.h"
#include "posting.h"

namespace pavilion::settlement {

class ProfitSharing {
 public:
  // `cap_bps`: SettlementOptions::profit_sharing_cap_bps (0: no profile). `rules`: the fee rules
  // in force (the ledger's, LedgerBook::Rules).
  ProfitSharing(storage::KvStore& kv, uint32_t cap_bps, std::function<const FeeRules&()> rules)
      : kv_(kv), cap_bps_(cap_bps), rules_(std::move(rules)) {}

  void Product(const events::schema::ProductCreated& p, events::Transaction& tx);

  // true when `rules` may be set (or the profile is off); else invalid_argument saying why, the
  // field at fault first. Reads the durable listing records.
  Result<bool> Check(const FeeRules& rules);

  // What settlement knows of a listing.
  struct Listing {
    std::string supplier_id, category;
    bool poverty = false;
    uint32_t margin_bps = 0;
    template <class V>
    void Fields(V& v) {
      v(supplier_id), v(category), v(poverty), v(margin_bps);
    }
  };

 private:
  storage::KvStore& kv_;
  const uint32_t cap_bps_;
  const std::function<const FeeRules&()> rules_;
};

// The field of `rules` that sets the fee of a supplier's product ("by_seller.<id>",
// "by_category.<category>", "default_bps"), or empty when none does (a poor household's).
std::string FeeField(const FeeRules& rules, std::string_view supplier_id, std::string_view category,
                     bool poverty);

// The largest fee, in basis points, that keeps a listing whose distributors keep `margin_bps`
// within `cap_bps`.
uint32_t MaxFeeBps(uint32_t margin_bps, uint32_t cap_bps);

}  // namespace pavilion::settlement
