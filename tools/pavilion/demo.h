// The demo pavilion: real specialty products from the counties in DOMAIN.md, loaded into an
// empty data directory by `pavilion serve` so a new user has something to browse and order.
#pragma once

#include <string>
#include <vector>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::tools {

struct DemoPavilion {
  int skus = 0;
  int listings = 0;  // A distributor's listings of another seller's products.
  std::vector<std::string> trace_codes;  // Batches with trace records, for the QR demo.
};

// Registers the demo sellers, products and a few traced batches through the catalog.
Result<DemoPavilion> LoadDemoPavilion(catalog::CatalogService& catalog);

}  // namespace pavilion::tools
