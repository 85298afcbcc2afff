// The demo pavilion: real specialty products from the counties in docs/domain.md, loaded into an
// empty data directory by `pavilion serve` so a new user has something to browse and order.
// Runs once, before the server listens, on the thread that calls it (it waits for each command).
#pragma once

#include <string>
#include <vector>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::tools {

struct DemoPavilion {
  struct Seller {
    std::string id;
    std::string name;
  };
  std::vector<Seller> sellers;  // In the order they were registered; the caller issues tokens.
  int skus = 0;
  int listings = 0;                      // A distributor's listings of another seller's products.
  std::vector<std::string> trace_codes;  // Batches with trace records, for the QR demo.
};

// Registers the demo sellers, products and a few traced batches through the catalog.
Result<DemoPavilion> LoadDemoPavilion(catalog::CatalogService& catalog);

}  // namespace pavilion::tools
