// The demo pavilion: real specialty products from the counties in DOMAIN.md, loaded into an
// empty data directory by `pavilion serve` so a new user has something to browse and order.
#pragma once

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::tools {

// Registers the demo sellers and products through the catalog; returns how many SKUs it made.
Result<int> LoadDemoPavilion(catalog::CatalogService& catalog);

}  // namespace pavilion::tools
