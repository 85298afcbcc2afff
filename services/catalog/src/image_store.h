// ImageStore: product images stored by their content under "cat/img/<sha256 hex>.<ext>", and a
// cache of the refs known to be stored, so checking a product's images rarely reads the store.
// Storing the same bytes again is a no-op. Owned by the catalog worker; not thread-safe, but for
// Read, which any thread may call.
#pragma once

#include <string>
#include <unordered_set>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

class ImageStore {
 public:
  explicit ImageStore(events::EventStore& store) : store_(store) {}

  // Puts the image in `tx` unless it is stored; returns its ref.
  Result<std::string> Store(const std::string& bytes, events::Transaction& tx);
  // Reads a stored image from `store`, on any thread: an image never changes once stored.
  static Result<std::string> Read(events::EventStore& store, const std::string& ref);
  // "images[i]: no stored image …" for the first image that is neither a URL nor stored, or empty.
  std::string Missing(const events::schema::ProductDetails& d);

 private:
  bool Known(const std::string& ref);

  events::EventStore& store_;
  std::unordered_set<std::string> images_;  // Refs of stored images (a cache).
};

}  // namespace pavilion::catalog
