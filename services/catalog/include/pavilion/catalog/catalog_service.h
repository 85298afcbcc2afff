// CatalogService: sellers, products and the stock of every SKU.
//
// Commands (RegisterSeller, CreateProduct) and queries run on the catalog's Worker, as does its
// Processor, which answers each order.placed line with stock.reserved or stock.rejected and
// releases stock on order.rejected. One thread owns all stock, so stock can never go negative
// whatever the concurrency. State lives in the EventStore's KvStore under "cat/" and is written
// in the same batch as the events that change it.
//
// Reads: order.placed, order.rejected. Writes: seller.registered, product.created,
// stock.reserved, stock.rejected, stock.released.
// Thread-safety: every public method may be called from any thread; callbacks run on the
// catalog worker or the store's writer thread and must not block.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/events/schema.h"

namespace pavilion::catalog {

struct SellerInput {
  std::string name, place_code, supplier_type;
};

struct Seller {
  std::string id, name, place_code, supplier_type;
  int64_t created_micros = 0;
  template <class V>
  void Fields(V& v) {
    v(id), v(name), v(place_code), v(supplier_type), v(created_micros);
  }
};

struct SkuInput {
  std::string spec;
  Fen price;
  int64_t stock = 0;
};

struct ProductInput {
  std::string seller_id, title;
  std::vector<SkuInput> skus;
};

struct Sku {
  std::string id, product_id, seller_id, place_code, spec;
  Fen price;
  int64_t stock = 0;     // Available to reserve.
  int64_t reserved = 0;  // Held by orders.
  template <class V>
  void Fields(V& v) {
    v(id), v(product_id), v(seller_id), v(place_code), v(spec), v(price), v(stock), v(reserved);
  }
};

struct Product {
  std::string id, seller_id, title, place_code;
  int64_t created_micros = 0;
  std::vector<std::string> sku_ids;
  std::vector<Sku> skus;  // Filled by queries, not stored.
  template <class V>
  void Fields(V& v) {
    v(id), v(seller_id), v(title), v(place_code), v(created_micros), v(sku_ids);
  }
};

// The accepted supplier types (DOMAIN.md): 建档立卡贫困户, 合作社, 家庭农场, 龙头企业, 个体网商,
// 村级服务站, and other enterprises.
const std::vector<std::string>& SupplierTypes();

class CatalogService {
 public:
  explicit CatalogService(events::EventStore& store);
  ~CatalogService();

  void RegisterSeller(SellerInput input, std::function<void(Result<Seller>)> done);
  void CreateProduct(ProductInput input, std::function<void(Result<Product>)> done);
  void GetSeller(std::string id, std::function<void(Result<Seller>)> done);
  void GetProduct(std::string id, std::function<void(Result<Product>)> done);

  events::Processor& processor();
  events::Worker& worker() { return worker_; }

 private:
  class Impl;
  events::Worker worker_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::catalog
