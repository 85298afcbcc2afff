// ProductCommands: the commands that create and change a seller's own products — create, edit,
// and the update an import applies — checked by product_rules, stored with their events
// (product.created, product.updated) and indexed, and carried to the listings that resell them
// (Distributor). Creating is split so an import can do the costly part off the catalog's thread:
// BuildProduct makes a PreparedProduct on any thread; Commit stores it on the worker.
//
// Owned by the catalog worker; not thread-safe (BuildProduct is).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

class CategoryBook;
class Distributor;
class ImageStore;
class ProductStore;

// A new product made ready to store: its records built and encoded, ids minted. Built on any
// thread (BuildProduct); the catalog's worker only commits it (ProductCommands::Commit).
struct PreparedProduct {
  std::string seller_id;      // The seller it was prepared for.
  uint64_t content_hash = 0;  // ContentHash of the row.
  std::string error;          // Why the row cannot be stored ("field: …"), or empty.
  Product product;
  std::vector<Sku> skus;
  std::vector<int64_t> prices;  // Of the SKUs, in fen, for the search index.
  std::string record, payload;  // The product's record and its product.created.
  std::vector<std::string> sku_records;
  bool local_images = false;  // Names images that must be stored (not URLs).
  // The row's outer_id key and what the store held under it when prepared, read after the
  // importer's trim count was `outer_trims` (PackImporter::Outer decides whether that still holds).
  std::string outer_key, outer_stored;
  uint64_t outer_trims = UINT64_MAX;  // UINT64_MAX: not looked up.
};

// Builds a valid product's records (check it first: CheckProduct gives `floor`). Mints ids.
void BuildProduct(ProductInput in, const Seller& seller, Fen floor, int64_t now_micros,
                  PreparedProduct& out);

class ProductCommands {
 public:
  ProductCommands(events::EventStore& store, ProductStore& products, ImageStore& images,
                  Distributor& distributor, const CategoryBook& categories,
                  places::PlaceDirectory* places)
      : store_(store),
        products_(products),
        images_(images),
        distributor_(distributor),
        categories_(categories),
        places_(places) {}
  // The divisions place codes are checked against (CatalogOptions::places); may be null.
  places::PlaceDirectory* places() const { return places_; }
  // The category tree products are checked against (read on any thread).
  const CategoryBook& categories() const { return categories_; }

  // Creates a product and its SKUs for in.seller_id.
  Result<Product> Create(const ProductInput& in, events::Transaction& tx);
  // Replaces a product's content for its own seller (`acting_seller`; empty: the operator).
  Result<Product> Edit(const std::string& id, const ProductInput& in,
                       const std::string& acting_seller, events::Transaction& tx);
  // Replaces a product's content: SKUs matched by spec, a new spec a new SKU, a row's stock the
  // available stock. Emits product.updated and updates the product's listings.
  Result<bool> Update(const std::string& id, const ProductInput& in, const Seller& seller,
                      events::Transaction& tx);
  // Stores a prepared product in the transaction; returns its id. With `cache` its records also
  // go into the caches (moved, not copied), so the same transaction can read them back; an import
  // does not cache the thousands of products it creates (they would only push out what is read),
  // and a later miss waits for them to reach the store instead (ProductStore::GetRecord).
  Result<std::string> Commit(PreparedProduct& prepared, events::Transaction& tx, bool cache);

 private:
  // CheckProduct, then that the images it names are stored; returns the floor price.
  Result<Fen> Validate(const ProductInput& in, const Seller& seller);

  events::EventStore& store_;
  ProductStore& products_;
  ImageStore& images_;
  Distributor& distributor_;
  const CategoryBook& categories_;
  places::PlaceDirectory* const places_;
};

}  // namespace pavilion::catalog
