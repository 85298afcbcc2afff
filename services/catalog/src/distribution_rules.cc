#include "distribution_rules.h"

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
