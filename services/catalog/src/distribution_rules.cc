#include "distribution_rules.h"

#include <algorithm>

namespace pavilion::catalog {

using events::svc_errc;

namespace {

Error Invalid(std::string message) {
  return Error{make_error_code(svc_errc::invalid_argument), std::move(message)};
}

}  // namespace

std::optional<Error> CheckMarkup(const DistributeInput& in) {
  if (in.markup_percent < 0 || in.markup_percent > 1000) {
    return Invalid("markup_percent: give 0 to 1000");
  }
  if (in.markup_fen < 0 || in.markup_fen > 100'000'000) {
    return Invalid("markup_fen: give 0 to 100000000");
  }
  return std::nullopt;
}

std::optional<Error> CheckDistribute(const DistributeInput& in, size_t product_count) {
  if (in.supplier_id == in.distributor_id) {
    return Invalid("supplier_id: a seller does not distribute its own products");
  }
  if (product_count > kMaxDistribute) {
    return Invalid("product_ids: at most 100000 products at once");
  }
  return std::nullopt;
}

uint32_t FeeBps(const events::schema::FeeRulesSet& rules, std::string_view supplier_id,
                std::string_view category, bool poverty) {
  // Mirrors settlement's FeeRules::Bps (services/settlement/src/posting.cc): a service never
  // includes another's code, so the rule is written twice; tests hold the two to one behaviour.
  auto capped = [](uint32_t bps) { return std::min<uint32_t>(bps, 10000); };
  for (const auto& r : rules.by_seller) {
    if (r.key == supplier_id) return capped(r.bps);
  }
  if (poverty) return 0;
  for (const auto& r : rules.by_category) {
    if (r.key == category) return capped(r.bps);
  }
  return capped(rules.default_bps);
}

std::optional<Error> CheckProfitSharing(uint32_t cap_bps, uint32_t margin_bps, uint32_t fee_bps,
                                        const DistributeInput& in, const std::string& product_id) {
  if (cap_bps == 0) return std::nullopt;
  const uint32_t split = events::schema::ProfitSharingSplitBps(margin_bps, fee_bps);
  if (split <= cap_bps) return std::nullopt;
  return Invalid("markup_percent: " + std::to_string(in.markup_percent) + " % and markup_fen " +
                 std::to_string(in.markup_fen) + " would split " + std::to_string(split) +
                 " bps of product " + product_id + "'s price away from its supplier (" +
                 std::to_string(margin_bps) + " bps to distributors, a platform fee of " +
                 std::to_string(fee_bps) + " bps), past the profit-sharing cap of " +
                 std::to_string(cap_bps) +
                 " bps (WeChat Pay/Alipay, --profit-sharing-cap-bps); give a smaller markup");
}

std::string CheckDistributable(const Product& source, const std::string& root_seller,
                               const std::string& distributor, size_t index) {
  const std::string at = "product_ids[" + std::to_string(index) + "]: ";
  if (source.level >= 2) {
    return at + source.id +
           " is already a second-level listing; commission chains are at most two levels";
  }
  if (source.level == 1 && root_seller == distributor) {
    return at + source.id + " resells your own product";
  }
  return {};
}

}  // namespace pavilion::catalog
