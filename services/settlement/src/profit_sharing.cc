#include "profit_sharing.h"

#include <algorithm>
#include <cstdio>

namespace pavilion::settlement {
namespace {

namespace schema = events::schema;

constexpr std::string_view kListingPrefix = "set/ps/l/";

std::string CapText(uint32_t cap_bps) {
  return "the profit-sharing cap of " + std::to_string(cap_bps) +
         " bps (WeChat Pay/Alipay, --profit-sharing-cap-bps)";
}

}  // namespace

std::string FeeField(const FeeRules& rules, std::string_view supplier_id, std::string_view category,
                     bool poverty) {
  // The precedence of FeeRules::Bps (posting.cc), naming the rule instead of its rate.
  for (const auto& r : rules.by_seller) {
    if (r.key == supplier_id) return "by_seller." + r.key;
  }
  if (poverty) return {};
  for (const auto& r : rules.by_category) {
    if (r.key == category) return "by_category." + r.key;
  }
  return "default_bps";
}

uint32_t MaxFeeBps(uint32_t margin_bps, uint32_t cap_bps) {
  if (margin_bps >= cap_bps) return 0;
  uint64_t fee = uint64_t{cap_bps - margin_bps} * 10000 / (10000 - margin_bps);
  while (fee > 0 &&
         schema::ProfitSharingSplitBps(margin_bps, static_cast<uint32_t>(fee)) > cap_bps) {
    --fee;
  }
  return static_cast<uint32_t>(std::min<uint64_t>(fee, 10000));
}

void ProfitSharing::Product(const schema::ProductCreated& p, events::Transaction& tx) {
  if (p.source_product_id.empty()) return;  // A supplier's own product splits only the fee.
  Listing l{p.supplier_id, p.category, p.poverty_zone, p.margin_bps};
  tx.state().Put(std::string(kListingPrefix) + p.product_id, events::Encode(l));
  if (cap_bps_ == 0) return;
  // Both checks passed yet the cap is passed: a fee change and this listing crossed in the log
  // (README "Profit sharing"). Nothing here can refuse an event already written; say so.
  const uint32_t fee =
      std::min<uint32_t>(rules_().Bps(l.supplier_id, l.category, l.poverty), 10000);
  if (fee > 0 && schema::ProfitSharingSplitBps(l.margin_bps, fee) > cap_bps_) {
    std::fprintf(stderr,
                 "pavilion: settlement: listing %s splits %u bps away from supplier %s (margin "
                 "%u bps, fee %u bps), past the profit-sharing cap of %u bps\n",
                 p.product_id.c_str(), schema::ProfitSharingSplitBps(l.margin_bps, fee),
                 l.supplier_id.c_str(), l.margin_bps, fee, cap_bps_);
  }
}

Result<bool> ProfitSharing::Check(const FeeRules& rules) {
  if (cap_bps_ == 0) return true;
  // A seller's own product splits away only the fee.
  auto alone = [&](const std::string& field, uint32_t bps) {
    if (bps <= cap_bps_) return std::string();
    return field + ": " + std::to_string(bps) + " bps passes " + CapText(cap_bps_) +
           "; give at most " + std::to_string(cap_bps_);
  };
  std::string bad = alone("default_bps", rules.default_bps);
  for (const auto& r : rules.by_category) {
    if (bad.empty()) bad = alone("by_category." + r.key, r.bps);
  }
  for (const auto& r : rules.by_seller) {
    if (bad.empty()) bad = alone("by_seller." + r.key, r.bps);
  }
  if (!bad.empty()) return Result<bool>(events::svc_errc::invalid_argument, bad);
  // Then every listing: its distributors' margin plus the fee the rules would take from it.
  const std::string_view prefix = kListingPrefix;
  auto ec = kv_.Scan(
      prefix, storage::PrefixEnd(prefix), [&](std::string_view key, std::string_view value) {
        auto l = events::Decode<Listing>(value);
        if (!l.ok()) return true;
        const uint32_t fee =
            std::min<uint32_t>(rules.Bps(l->supplier_id, l->category, l->poverty), 10000);
        const uint32_t split = schema::ProfitSharingSplitBps(l->margin_bps, fee);
        if (fee == 0 || split <= cap_bps_) return true;
        bad = FeeField(rules, l->supplier_id, l->category, l->poverty) + ": " +
              std::to_string(fee) + " bps on listing " + std::string(key.substr(prefix.size())) +
              " of supplier " + l->supplier_id + ", whose distributors keep up to " +
              std::to_string(l->margin_bps) + " bps of its price, splits " + std::to_string(split) +
              " bps away from the supplier, past " + CapText(cap_bps_) + "; give at most " +
              std::to_string(MaxFeeBps(l->margin_bps, cap_bps_)) + " bps";
        return false;
      });
  if (ec) {
    return Result<bool>(events::svc_errc::internal,
                        "the listings could not be read to check the profit-sharing cap");
  }
  if (!bad.empty()) return Result<bool>(events::svc_errc::invalid_argument, bad);
  return true;
}

}  // namespace pavilion::settlement
