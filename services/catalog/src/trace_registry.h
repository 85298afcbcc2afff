// TraceRegistry: batches (lots) and their trace codes (二维码溯源). A batch's record lives under
// "cat/batch/<id>" and its code under "cat/trace/<code>" → the batch id; codes are ten
// characters from an alphabet without look-alikes, drawn until unused. The record's rules are
// CheckTraceRecord (product_rules.h). Owned by the catalog worker; not thread-safe.
#pragma once

#include <string>
#include <unordered_set>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

class ProductStore;

class TraceRegistry {
 public:
  TraceRegistry(events::EventStore& store, ProductStore& products)
      : store_(store), products_(products) {}

  // Registers a batch of a product (its own seller's, unless the operator asks; never of a
  // distributor's listing, whose goods are its supplier's); emits batch.registered.
  Result<Batch> Register(const BatchInput& in, events::Transaction& tx);
  // The batch a trace code names, with its product and seller.
  Result<Trace> Get(const std::string& code);

 private:
  events::EventStore& store_;
  ProductStore& products_;
  std::unordered_set<std::string> codes_;  // Trace codes handed out by this process.
};

}  // namespace pavilion::catalog
