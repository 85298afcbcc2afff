// CatalogService wiring: the Impl owns the catalog's parts, routes the order service's events
// to the StockLedger and each command to its part, and trims the parts' caches together.
#include "pavilion/catalog/catalog_service.h"

#include "category_tree.h"
#include "distributor.h"
#include "image_store.h"
#include "keys.h"
#include "pack_importer.h"
#include "product_commands.h"
#include "product_rules.h"
#include "product_store.h"
#include "stock_ledger.h"
#include "trace_registry.h"

namespace pavilion::catalog {

namespace schema = events::schema;
using events::svc_errc;

class CatalogService::Impl final : public events::Processor {
 public:
  Impl(events::EventStore& store, events::Worker& worker, CatalogOptions options)
      : store_(store),
        options_(options),
        products_(store),
        images_(store),
        distributor_(store, products_, options_.profit_sharing_cap_bps),
        categories_(store.kv()),
        commands_(store, products_, images_, distributor_, categories_, options.places),
        importer_(store, products_, commands_),
        traces_(store, products_),
        ledger_(store, worker, products_, options_) {}

  std::string_view name() const override { return "catalog"; }
  void BeforeBatch() override { TrimCaches(); }

  std::vector<std::string> event_types() const override { return handlers_.types(); }
  void Handle(const events::Envelope& event, events::Transaction& tx) override {
    handlers_.Handle(event, tx);
  }

  // An operator's category: checked against the tree as it stands, stored with its event, and
  // in force at once for the commands after it on this worker (a commit that fails is fatal, as
  // for every catalog command, so nothing applied here is later lost).
  Result<Category> SetCategory(const CategoryInput& in, events::Transaction& tx) {
    auto tree = categories_.Current();
    auto c = tree->Check(in);
    if (!c.ok()) return c;
    schema::CategorySet e{c->code, c->name, c->parent, c->agricultural, c->needs_sc};
    tx.Emit("category-" + c->code, events::kAnyVersion, e);
    tx.state().Put(keys::Category(c->code), events::Encode(e));
    categories_.Set(tree->With(*c));
    return c;
  }
  CategoryBook& categories() { return categories_; }

  Result<Seller> RegisterSeller(const SellerInput& in, events::Transaction& tx) {
    auto type = CheckSeller(in);
    if (!type.ok()) return type.error_detail();
    if (auto bad = UnknownPlace(options_.places, in.place_code); !bad.empty()) {
      return Result<Seller>(events::svc_errc::invalid_argument, std::move(bad));
    }
    Seller s{events::NewId("sel"), in.name, in.place_code, std::string(ToString(*type)),
             store_.clock().NowMicros()};
    tx.Emit(s.id, events::kFreshStream,
            schema::SellerRegistered{s.id, s.name, s.place_code, s.supplier_type});
    tx.state().Put(keys::Seller(s.id), events::Encode(s));
    products_.CacheSeller(s);
    return s;
  }

  // The caches of records (SKUs, products, sellers, holds, import keys, listings) are bounded:
  // past CatalogOptions::cache_limit entries they are dropped, once every write queued so far is
  // durable (until then the store would show older versions of what a cache holds). Called only
  // between transactions: before each batch of events and at the start of the commands and
  // queries that read many records.
  void TrimCaches() {
    if (products_.cached() + importer_.cached() + ledger_.cached() + distributor_.cached() <
        options_.cache_limit) {
      return;
    }
    (void)store_.AppendAndWait(events::AppendRequest{});
    products_.DropCaches();
    importer_.DropCache();
    ledger_.DropCache();
    distributor_.DropCache();
  }

  events::EventStore& store() { return store_; }
  ProductStore& products() { return products_; }
  ImageStore& images() { return images_; }
  Distributor& distributor() { return distributor_; }
  ProductCommands& commands() { return commands_; }
  PackImporter& importer() { return importer_; }
  TraceRegistry& traces() { return traces_; }

 private:
  events::EventStore& store_;
  const CatalogOptions options_;
  ProductStore products_;
  ImageStore images_;
  Distributor distributor_;
  CategoryBook categories_;
  ProductCommands commands_;
  PackImporter importer_;
  TraceRegistry traces_;
  StockLedger ledger_;

  const events::Handlers handlers_ =
      events::Handlers()
          .On<schema::OrderPlaced>([this](const schema::OrderPlaced& placed, const auto&,
                                          events::Transaction& tx) { ledger_.Reserve(placed, tx); })
          .On<schema::OrderRejected>(
              [this](const schema::OrderRejected& r, const auto&, events::Transaction& tx) {
                ledger_.Release(r.order_id, r.shopper_id, r.release, tx);
              })
          .On<schema::OrderCancelled>(
              [this](const schema::OrderCancelled& c, const auto&, events::Transaction& tx) {
                ledger_.Release(c.order_id, c.shopper_id, c.release, tx);
              })
          .On<schema::OrderPaid>([this](const schema::OrderPaid& paid, const auto&,
                                        events::Transaction& tx) { ledger_.Sell(paid, tx); })
          .On<schema::ReinstateRequested>(
              [this](const schema::ReinstateRequested& req, const events::Envelope& e,
                     events::Transaction& tx) { ledger_.Reinstate(req, e.event_id, tx); })
          .On<schema::RefundChanged>(
              schema::RefundChanged::kCompleted,
              [this](const schema::RefundChanged& refund, const auto&, events::Transaction& tx) {
                if (refund.with_return) ledger_.Restock(refund, tx);
              })
          // The fees a distribution is checked with under the profit-sharing cap.
          .On<schema::FeeRulesSet>(
              [this](const schema::FeeRulesSet& rules, const auto&, events::Transaction& tx) {
                distributor_.FeeRulesSet(rules, tx);
              });
};

CatalogService::CatalogService(events::EventStore& store, CatalogOptions options)
    : worker_("catalog", store.writer_worker()),
      impl_(std::make_unique<Impl>(store, worker_, options)) {}

CatalogService::~CatalogService() {
  worker_.Stop();
  // Commits still queued in the store call back into this service: let them run first.
  (void)impl_->store().AppendAndWait(events::AppendRequest{});
}

events::Processor& CatalogService::processor() { return *impl_; }

void CatalogService::RegisterSeller(SellerInput input, std::function<void(Result<Seller>)> done) {
  events::RunCommand<Seller>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        return impl_->RegisterSeller(input, tx);
      },
      std::move(done));
}

std::vector<Category> CatalogService::Categories() const {
  return impl_->categories().Current()->List();
}

void CatalogService::SetCategory(CategoryInput input, std::function<void(Result<Category>)> done) {
  events::RunCommand<Category>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        return impl_->SetCategory(input, tx);
      },
      std::move(done));
}

void CatalogService::CreateProduct(ProductInput input, std::function<void(Result<Product>)> done) {
  events::RunCommand<Product>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        return impl_->commands().Create(input, tx);
      },
      std::move(done));
}

void CatalogService::UpdateProduct(std::string product_id, ProductInput input,
                                   std::string acting_seller_id,
                                   std::function<void(Result<Product>)> done) {
  events::RunCommand<Product>(
      worker_, impl_->store(),
      [this, id = std::move(product_id), input = std::move(input),
       acting = std::move(acting_seller_id)](events::Transaction& tx) {
        impl_->TrimCaches();
        return impl_->commands().Edit(id, input, acting, tx);
      },
      std::move(done));
}

void CatalogService::Distribute(DistributeInput input,
                                std::function<void(Result<DistributeReport>)> done) {
  events::RunCommand<DistributeReport>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        impl_->TrimCaches();
        return impl_->distributor().Distribute(input, tx);
      },
      std::move(done));
}

void CatalogService::StoreImage(std::string bytes, std::function<void(Result<std::string>)> done) {
  events::RunCommand<std::string>(
      worker_, impl_->store(),
      [this, bytes = std::move(bytes)](events::Transaction& tx) {
        return impl_->images().Store(bytes, tx);
      },
      std::move(done));
}

// Not on the catalog's thread: images never change once stored and the store reads them for any
// thread, while that thread reserves stock for every order (a client reading images in bulk
// would hold orders up behind its reads).
void CatalogService::GetImage(std::string ref, std::function<void(Result<std::string>)> done) {
  done(ImageStore::Read(impl_->store(), ref));
}

void CatalogService::ListProducts(ProductQuery query,
                                  std::function<void(Result<ProductPage>)> done) {
  worker_.Post([this, q = std::move(query), done = std::move(done)] {
    impl_->TrimCaches();
    done(impl_->products().ListProducts(q));
  });
}

void CatalogService::ListSellers(SellerQuery query, std::function<void(Result<SellerPage>)> done) {
  worker_.Post([this, q = std::move(query), done = std::move(done)] {
    if (!q.supplier_type.empty()) {
      if (auto type = CheckSupplierType(q.supplier_type); !type.ok()) {
        return done(Result<SellerPage>(type.error_detail()));
      }
    }
    // Sellers registered a moment ago are read once their write is durable.
    (void)impl_->store().AppendAndWait(events::AppendRequest{});
    const std::string prefix = keys::Seller("");
    const std::string begin = q.after.empty() ? prefix : keys::Seller(q.after) + '\0';
    SellerPage page;
    size_t scanned = 0;
    std::string last;
    bool more = false;
    std::error_code bad;
    auto ec = impl_->store().kv().Scan(
        begin, storage::PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
          if (page.sellers.size() == q.limit || scanned == kMaxSellersScanned) {
            more = true;
            return false;
          }
          ++scanned;
          auto s = events::Decode<Seller>(v);
          if (!s.ok()) {
            bad = s.error();
            return false;
          }
          last = s->id;
          if (s->place_code.compare(0, q.place_code.size(), q.place_code) == 0 &&
              (q.supplier_type.empty() || s->supplier_type == q.supplier_type) &&
              s->name.find(q.name) != std::string::npos) {
            page.sellers.push_back(std::move(*s));
          }
          return true;
        });
    if (ec || bad)
      return done(Result<SellerPage>(svc_errc::internal, "reading the sellers failed"));
    if (more) page.next_after = last;
    done(std::move(page));
  });
}

void CatalogService::PrepareRows(const Seller& seller, std::vector<PackRow>& rows) const {
  impl_->importer().PrepareAll(seller, rows);
}

void CatalogService::ImportPack(std::string seller_id, std::vector<PackRow> rows,
                                std::function<void(Result<ImportReport>)> done) {
  events::RunCommand<ImportReport>(
      worker_, impl_->store(),
      [this, seller_id = std::move(seller_id),
       rows = std::move(rows)](events::Transaction& tx) mutable {
        impl_->TrimCaches();
        return impl_->importer().Import(seller_id, rows, tx);
      },
      std::move(done));
}

void CatalogService::ExportPack(std::string seller_id,
                                std::function<void(Result<std::vector<PackRow>>)> done) {
  worker_.Post([this, id = std::move(seller_id), done = std::move(done)] {
    done(impl_->importer().Export(id));
  });
}

void CatalogService::RegisterBatch(BatchInput input, std::function<void(Result<Batch>)> done) {
  events::RunCommand<Batch>(
      worker_, impl_->store(),
      [this, input = std::move(input)](events::Transaction& tx) {
        return impl_->traces().Register(input, tx);
      },
      std::move(done));
}

void CatalogService::GetTrace(std::string code, std::function<void(Result<Trace>)> done) {
  worker_.Post(
      [this, code = std::move(code), done = std::move(done)] { done(impl_->traces().Get(code)); });
}

void CatalogService::GetSeller(std::string id, std::function<void(Result<Seller>)> done) {
  worker_.Post([this, id = std::move(id), done = std::move(done)] {
    done(impl_->products().GetSeller(id));
  });
}

void CatalogService::GetProduct(std::string id, std::function<void(Result<Product>)> done) {
  worker_.Post([this, id = std::move(id), done = std::move(done)] {
    done(impl_->products().GetProduct(id));
  });
}

}  // namespace pavilion::catalog
