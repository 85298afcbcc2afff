// SalesCube: the sales projection operators count their targets with, a processor of its own
// ("sales") beside the settlement processor.
//
// It folds order.paid and refund.completed into cells keyed by (period tier — day, month,
// quarter, year —, period, dimension row): paid, refunded, units paid and returned; and paid
// orders into cells keyed by (tier, period, basket: the set of dimension rows an order touched),
// so that "orders" counts an order once per group whatever the grouping. A dimension row is an
// immutable tuple (seller, place, product, brand, category, agricultural, poverty, channel,
// supplier type): a sale refers to the row in force when it happened; an edit to a product (a
// product.updated) makes the next sale mint a new row, never rewrites an old one. seller.registered
// and product.created/updated feed the attributes.
//
// Every write goes into the processor's transaction (cells once per batch, in AfterBatch), the
// same batch as its checkpoint: a restart neither counts twice nor misses one, and deleting
// set/sc/ with the checkpoint rebuilds identical cells from the log.
//
// Keys (under set/sc/): t/<id> dimension row, k/<id> basket, p/<product> product attributes,
// s/<seller> supplier type and first paid day, c/<tier><period>/<dim> money cell,
// b/<tier><period>/<basket> order cell, o/<order> the order's booking (its lines' rows and how
// each refund was split over them: what an "as of" replay reads), d/<day> the log position where
// the day's first event was folded, pos the last position folded.
//
// Threads: Handle, AfterBatch and Query run on the sales worker only (no locks). Memory: the
// dimension rows and baskets stay (bounded by products × their edits × channels, and by the
// product sets bought together); everything else is a cache bounded by `cache_limit`, dropped
// once what was written is durable.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pavilion/events/processor.h"
#include "pavilion/settlement/sales.h"

namespace pavilion::settlement {

class SalesCube final : public events::Processor {
 public:
  SalesCube(events::EventStore& store, size_t cache_limit);

  std::string_view name() const override { return "sales"; }
  std::vector<std::string> event_types() const override { return handlers_.types(); }
  void Handle(const events::Envelope& event, events::Transaction& tx) override {
    handlers_.Handle(event, tx);
  }
  void BeforeBatch() override { Trim(); }
  void AfterBatch(events::Transaction& batch) override;

  Result<std::vector<SalesRow>> Query(const SalesQuery& q);
  // The moment a query as things stand (as_of 0) answers as of, given the time now: `now` when
  // every order.paid and refund.completed written up to it is folded, else just before the first
  // one not folded yet (the log's times go forward, so every one folded is before it and every
  // one not folded after). A report dated so is the same later with that as_of.
  int64_t FoldedMoment(int64_t now);
  // What targets and award rules name: a seller's name ("" for one never registered), a
  // product's title, whether a category is in the tree (the defaults or a category.set).
  const std::string& SellerName(const std::string& id) { return Seller(id).name; }
  bool SellerKnown(const std::string& id) { return !Seller(id).supplier_type.empty(); }
  const std::string& ProductTitle(const std::string& id) { return Product(id).title; }
  bool CategoryKnown(std::string_view code) {
    Load();
    return agricultural_.find(code) != agricultural_.end();
  }
  // The most periods one answer cuts its range into (ten years of days).
  static constexpr size_t kMaxPeriods = 3660;
  size_t cached() const {
    return cells_.size() + orders_.size() + products_.size() + sellers_.size() + days_.size() +
           baskets_.size() + basket_ids_.size();
  }

  // What the cube keeps per row and cell (encoded with events::Encode).
  struct Dim {
    std::string seller_id, place_code, product_id, brand, category, channel, supplier_type;
    bool agricultural = false, poverty = false;
    template <class V>
    void Fields(V& v) {
      v(seller_id), v(place_code), v(product_id), v(brand), v(category), v(channel),
          v(supplier_type), v(agricultural), v(poverty);
    }
  };
  struct Cell {
    Fen paid, refunded;
    int64_t units_paid = 0, units_refunded = 0, orders = 0;
    template <class V>
    void Fields(V& v) {
      v(paid), v(refunded), v(units_paid), v(units_refunded), v(orders);
    }
  };
  // A product's and a seller's name were added later: facts stored before read as "" (a
  // rebuild, SettlementService::Reset, fills them).
  struct ProductFacts {
    std::string brand, category;
    bool poverty = false;
    std::string title;
    template <class V>
    void Fields(V& v) {
      v(brand), v(category), v(poverty), v(events::Added(title));
    }
  };
  struct SellerFacts {
    std::string supplier_type, first_day, name;
    template <class V>
    void Fields(V& v) {
      v(supplier_type), v(first_day), v(events::Added(name));
    }
  };
  struct BookLine {
    uint32_t line = 0, dim = 0;
    Fen amount, refunded;
    int64_t quantity = 0, returned = 0;
    template <class V>
    void Fields(V& v) {
      v(line), v(dim), v(amount), v(refunded), v(quantity), v(returned);
    }
  };
  struct RefundPart {
    uint32_t dim = 0;
    Fen amount;
    int64_t units = 0;
    template <class V>
    void Fields(V& v) {
      v(dim), v(amount), v(units);
    }
  };
  struct RefundBooking {
    std::string refund_id;
    std::vector<RefundPart> parts;
    template <class V>
    void Fields(V& v) {
      v(refund_id), v(parts);
    }
  };
  struct OrderBook {
    uint32_t basket = 0;
    std::vector<BookLine> lines;
    std::vector<RefundBooking> refunds;
    template <class V>
    void Fields(V& v) {
      v(basket), v(lines), v(refunds);
    }
  };

 private:
  struct Aggregation;

  void Load();
  void Trim();
  void Paid(const events::schema::OrderPaid& paid, const events::Envelope& e,
            events::Transaction& tx);
  void Refunded(const events::schema::RefundChanged& r, const events::Envelope& e,
                events::Transaction& tx);
  void NoteDay(const std::string& day, uint64_t position, events::Transaction& tx);
  uint32_t DimOf(const std::string& seller, const std::string& place, const std::string& product,
                 const std::string& channel, events::Transaction& tx);
  uint32_t BasketOf(std::vector<uint32_t> dims, events::Transaction& tx);
  Cell& CellAt(char kind, char tier, uint32_t period, uint32_t id);
  // Adds `delta` to the cells of `day` in all four tiers.
  void Book(char kind, int day, uint32_t id, const Cell& delta);
  ProductFacts& Product(const std::string& id);
  SellerFacts& Seller(const std::string& id);
  OrderBook* Order(const std::string& id);

  Result<bool> Aggregate(const SalesQuery& q, const std::vector<std::pair<int, int>>& buckets,
                         int as_of_day, Aggregation& into);

  events::EventStore& store_;
  const size_t cache_limit_;
  // product.created and product.updated: the product's attributes from now on.
  void ProductSeen(const events::schema::ProductCreated& p, events::Transaction& tx);
  bool loaded_ = false;
  // Whether a category's sales count as agricultural (农产品): the default tree
  // (schema::DefaultCategories) with every category.set read laid over it, kept under "c/";
  // a category neither names is not. A sale keeps the flag in force when it was paid (its Dim).
  std::map<std::string, bool, std::less<>> agricultural_;
  bool Agricultural(std::string_view category) const;
  std::vector<Dim> dims_;
  std::unordered_map<std::string, uint32_t> dim_ids_;  // Encoded Dim → id.
  // Baskets (the rows one order touched) grow with the product sets shoppers buy together, so
  // they live in the store (`k/<id>` → rows, `kb/<encoded rows>` → id) and only a cache of them
  // in memory, dropped with the others (Trim).
  std::unordered_map<uint32_t, std::vector<uint32_t>> baskets_;
  std::unordered_map<std::string, uint32_t> basket_ids_;  // Encoded rows → id.
  uint32_t next_basket_ = 0;
  const std::vector<uint32_t>* Basket(uint32_t id);
  std::unordered_map<uint64_t, Cell> cells_;
  std::vector<uint64_t> dirty_;  // Cells changed in this batch (each once).
  std::unordered_set<uint64_t> dirty_set_;
  std::unordered_map<std::string, OrderBook> orders_;
  std::unordered_map<std::string, ProductFacts> products_;
  std::unordered_map<std::string, SellerFacts> sellers_;
  std::unordered_set<std::string> days_;  // Days whose first position is recorded.
  uint64_t position_ = 0;                 // The last position folded.
  // Batches handed to the store, and those durable: a query waits only when they differ.
  uint64_t committed_ = 0;
  std::shared_ptr<std::atomic<uint64_t>> durable_ = std::make_shared<std::atomic<uint64_t>>(0);
  const events::Handlers handlers_;
};

}  // namespace pavilion::settlement
