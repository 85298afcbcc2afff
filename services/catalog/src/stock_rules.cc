#include "stock_rules.h"

namespace pavilion::catalog {

events::schema::Distribution DistributionOf(const SkuChain& chain) {
  events::schema::Distribution d;
  if (chain.size < 2) return d;
  d.listing_seller_id = chain.skus[0]->seller_id;
  d.supply_price = chain.stock()->price;
  for (size_t i = chain.size - 1; i-- > 0;) {  // Supplier side first.
    d.commissions.push_back(
        {chain.skus[i]->seller_id, chain.skus[i]->price - chain.skus[i + 1]->price});
  }
  return d;
}

}  // namespace pavilion::catalog
