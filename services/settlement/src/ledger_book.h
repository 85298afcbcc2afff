// LedgerBook: the ledger and the posting rules around the store — prefetch, apply, persist.
//
// The settlement processor hands it the events the ledger folds (order.paid, suborder.completed,
// suborder.after_sale_closed, refund.completed, product.created/updated,
// settlement.fee_rules_set); it loads what the posting rules name from the store, runs them
// through the pure Ledger, and writes every changed account, transfer, entry and order book
// into the processor's transaction — the same write batch as its checkpoint, so a restart neither
// posts twice nor misses one. Memory is never behind the store (the processor is the only
// writer), so what is in memory wins over what is read back.
//
// Keys, all under the settlement's "set/lg/":
//   set/lg/a/<account id>            Account
//   set/lg/t/<transfer id>           Transfer
//   set/lg/e/<account id>/<seq hex>  an account's entries, in the order applied (the transfer id)
//   set/lg/o/<order id>              OrderBook
//   set/lg/p/<product id>            ProductFacts (category, poverty flag)
//   set/lg/rules                     FeeRules in force
//   set/lg/seq                       the last transfer sequence
//
// Threads: the settlement worker only.
#pragma once

#include <string>
#include <unordered_map>

#include "ledger.h"
#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/settlement/ledger_view.h"
#include "posting.h"

namespace pavilion::settlement {

inline constexpr std::string_view kLedgerPrefix = "set/lg/";

class LedgerBook {
 public:
  explicit LedgerBook(storage::KvStore& kv) : kv_(kv) {}

  void Product(const schema::ProductCreated& p, events::Transaction& tx);
  void FeeRulesSet(const schema::FeeRulesSet& rules, events::Transaction& tx);
  void Paid(const schema::OrderPaid& paid, int64_t micros, events::Transaction& tx);
  void Completed(const schema::SubOrderChanged& c, int64_t micros, events::Transaction& tx);
  void AfterSaleClosed(const schema::SubOrderChanged& c, int64_t micros, events::Transaction& tx);
  void Refunded(const schema::RefundChanged& r, int64_t micros, events::Transaction& tx);

  Result<OrderSettlement> Order(const std::string& order_id);
  PartyBalances Balances(const std::string& party_id);
  // From the durable accounts: what a restart would find.
  Result<LedgerAudit> Audit();

  const Ledger& ledger() const { return ledger_; }

  // The durable keys, for readers of the store (statements, the poverty-alleviation ledger).
  static std::string StoreKey(std::string_view part, std::string_view id) {
    return std::string(kLedgerPrefix).append(part).append("/").append(id);
  }
  static std::string EntriesPrefix(std::string_view account) {
    return StoreKey("e", account) + "/";
  }

 private:
  OrderBook* Book(const std::string& order_id);
  const Account* LoadAccount(const std::string& id);
  // Prefetches, applies and persists one event's chain; false (and nothing changes) if the
  // ledger refused it.
  bool Post(const std::vector<Transfer>& chain, events::Transaction& tx);
  void Save(const OrderBook& book, events::Transaction& tx);
  void Check(const OrderBook& book);

  storage::KvStore& kv_;
  Ledger ledger_;
  std::unordered_map<std::string, OrderBook> books_;
  std::unordered_map<std::string, ProductFacts> products_;
  FeeRules rules_;
  bool rules_loaded_ = false;
  int64_t order_violations_ = 0, refused_chains_ = 0;
};

}  // namespace pavilion::settlement
