// LedgerBook: the ledger and the posting rules around the store — prefetch, apply, persist.
//
// The settlement processor hands it the events the ledger folds (order.paid, suborder.completed,
// suborder.after_sale_closed, refund.completed, product.created/updated,
// settlement.fee_rules_set); it loads what the posting rules name from the store, runs them
// through the pure Ledger, and writes every changed account, transfer, entry and order book
// into the processor's transaction — the same write batch as its checkpoint, so a restart neither
// posts twice nor misses one. What many chains share (accounts, the sequence, queue sums) is
// written once per batch (Flush, from the processor's AfterBatch). Memory is never behind the store
// (the processor is the only writer), so what is in memory wins over what is read back. Memory is a
// cache: the service drops it (DropCaches) once it passes a bound and everything written is
// durable, and the next chain loads what it names again — memory stays bounded however long the
// server runs.
//
// Keys, all under the settlement's "set/lg/":
//   set/lg/a/<account id>            Account
//   set/lg/t/<transfer id>           Transfer
//   set/lg/e/<account id>/<seq hex>  an account's entries, in the order applied (the transfer id)
//   set/lg/o/<order id>              OrderBook
//   set/lg/p/<product id>            ProductFacts (category, poverty flag)
//   set/lg/po/<payout id>            PayoutView
//   set/lg/pp/<party>/<payout id>    a party's payouts (empty value)
//   set/lg/sh/<post transfer id>    ShareAlloc: where a posted share's money is (allocation.h)
//   set/lg/pq/<party>/<seq hex>      QueueEntry: a party's payable queue (share, unpaid amount)
//   set/lg/rq/<party>/<seq hex>      QueueEntry: what a party owes, by clawback (share, amount)
//   set/lg/qs/<party>, set/lg/rs/<party>  QueueSum: each queue's sum
//   set/lg/rules                     FeeRules in force
//   set/lg/seq                       the last transfer sequence
//
// Threads: the settlement worker only.
#pragma once

#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "allocation.h"
#include "ledger.h"
#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/settlement/ledger_view.h"
#include "posting.h"

namespace pavilion::settlement {

inline constexpr std::string_view kLedgerPrefix = "set/lg/";

// The kinds of account a party (a seller, a shopper, the platform) owns: its balances and its
// entries are theirs.
inline constexpr AccountKind kPartyAccountKinds[] = {AccountKind::kPayable, AccountKind::kPaidOut,
                                                     AccountKind::kReceivable,
                                                     AccountKind::kRefunds, AccountKind::kFee};

class LedgerBook {
 public:
  explicit LedgerBook(storage::KvStore& kv) : kv_(kv) {}

  void Product(const schema::ProductCreated& p, events::Transaction& tx);
  void FeeRulesSet(const schema::FeeRulesSet& rules, events::Transaction& tx);
  // The fee rules folded last (loaded once from the store).
  const FeeRules& Rules();
  void Paid(const schema::OrderPaid& paid, int64_t micros, events::Transaction& tx);
  void Completed(const schema::SubOrderChanged& c, int64_t micros, events::Transaction& tx);
  void AfterSaleClosed(const schema::SubOrderChanged& c, int64_t micros, events::Transaction& tx);
  void Refunded(const schema::RefundChanged& r, int64_t micros, events::Transaction& tx);

  // Payouts. A request moves the amount from payable to in transit when the party's payable
  // balance still holds it (else the payout is refused: nothing moves); a confirmation posts it
  // (paid out), a return voids it (payable again) and recovers what the party owes from it.
  // Each answers the payout as it now stands, or nothing when the event changes nothing.
  std::optional<PayoutView> PayoutRequested(const schema::PayoutChanged& p, int64_t micros,
                                            events::Transaction& tx);
  std::optional<PayoutView> PayoutResolved(const schema::PayoutChanged& p, bool confirmed,
                                           int64_t micros, events::Transaction& tx);
  std::optional<PayoutView> Payout(const std::string& payout_id);
  // From the store: call when every write queued is durable. By payout id (time order).
  std::vector<PayoutView> Payouts(const std::string& party_id, size_t limit);
  // Each party's payable balance (available: less what is in transit), from the store and
  // memory; call when every write queued is durable.
  std::vector<std::pair<std::string, Fen>> PayableBalances();

  Result<OrderSettlement> Order(const std::string& order_id);
  // From the store (ledger_entries.cc): call when every write queued is durable.
  Result<EntriesPage> Entries(const EntriesQuery& query);
  PartyBalances Balances(const std::string& party_id);
  // From the durable accounts: what a restart would find.
  Result<LedgerAudit> Audit();

  const Ledger& ledger() const { return ledger_; }

  // Writes what the chains of a batch share — the accounts they moved, the transfer sequence,
  // the payout queues' sums — once, into the batch's transaction: the processor calls it in
  // AfterBatch, whoever commits the calls above calls it before committing. Until then those
  // keys are only in memory.
  void Flush(events::Transaction& tx);

  // What is in memory: accounts, transfers, order books, product facts. DropCaches forgets it
  // all; call it only between transactions, once every write queued so far is durable (the
  // store then holds everything memory did).
  size_t cached() const {
    return ledger_.cached() + books_.size() + products_.size() + payouts_.size() + allocs_.size() +
           queued_ + absent_accounts_.size();
  }
  void DropCaches();

  // The durable keys — the book's own writes and every reader of the store (entries,
  // statements) build them here: set/lg/<part>/<id>; an account's entry index is
  // set/lg/e/<account>/<sequence as 16 hex digits>, so a scan reads it in the order applied.
  static std::string StoreKey(std::string_view part, std::string_view id) {
    return std::string(kLedgerPrefix).append(part).append("/").append(id);
  }
  static std::string EntriesPrefix(std::string_view account) {
    return StoreKey("e", account) + "/";
  }
  static std::string SequenceHex(uint64_t sequence) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(sequence));
    return hex;
  }
  static std::string EntryKey(std::string_view account, uint64_t sequence) {
    return EntriesPrefix(account) + SequenceHex(sequence);
  }

 private:
  OrderBook* Book(const std::string& order_id);
  const Account* LoadAccount(const std::string& id);
  // Prefetches, applies and persists one event's chain; false (and nothing changes) if the
  // ledger refused it.
  bool Post(const std::vector<Transfer>& chain, events::Transaction& tx);
  void Save(const OrderBook& book, events::Transaction& tx);
  void Save(const PayoutView& payout, events::Transaction& tx);
  void Check(const OrderBook& book);

  // The allocation of shares to payouts (share_allocation.cc). Each runs after its chain
  // applied and writes what it changes into `tx`.
  ShareAlloc* Alloc(const std::string& id);
  // A party's payable queue (owed: its debt queue) with its sum; entries are read on demand.
  AllocQueue& Queue(bool owed, const std::string& party);
  QueueEntry& Entry(bool owed, const std::string& party, uint64_t sequence, bool fresh = false);
  // The cut of `amount` from the queue's front, read from the store as far as it takes.
  std::vector<Cut> Front(bool owed, const std::string& party, Fen amount);
  void SaveAlloc(const ShareAlloc& a, events::Transaction& tx);
  void SaveEntry(bool owed, const std::string& party, uint64_t sequence, events::Transaction& tx);
  void FlushQueueSums(events::Transaction& tx);
  // The party's payable queue at the share's sequence gains (or loses) `amount`.
  // `fresh`: the entry cannot be in the store yet (a share just posted, a clawback just made).
  void Enqueue(ShareAlloc& a, Fen amount, events::Transaction& tx, bool fresh = false);
  // Adds `amount` (negative: takes it) to the payable queue's entry `sequence` of `party`.
  void AddToQueue(const std::string& party, uint64_t sequence, const std::string& share, Fen amount,
                  events::Transaction& tx, bool fresh = false);
  void Dequeue(ShareAlloc& a, Fen amount, events::Transaction& tx);
  // Takes `amount` from the front of the party's payable queue: into a payout (in transit) when
  // `payout` is set, else kept to settle a debt (offset).
  std::vector<Cut> TakePayable(const std::string& party, Fen amount, const PayoutView* payout,
                               events::Transaction& tx);
  // A recovery of `amount`: from the front of the payable queue (offset) and of the debts.
  void Recovered(const std::string& party, Fen amount, events::Transaction& tx);
  // The queues' sums against the ledger's balances; a mismatch is counted and logged.
  void CheckQueues(const std::string& party);
  void SharesPosted(const OrderBook& book, const SubBook& sub, const std::vector<Transfer>& chain,
                    events::Transaction& tx);
  void SharesReversed(const OrderBook& before, const OrderBook& after, const std::string& seller,
                      const std::string& refund_id, events::Transaction& tx);

  storage::KvStore& kv_;
  Ledger ledger_;
  std::unordered_map<std::string, OrderBook> books_;
  std::unordered_map<std::string, ProductFacts> products_;
  std::unordered_map<std::string, PayoutView> payouts_;
  std::unordered_map<std::string, ShareAlloc> allocs_;
  std::unordered_map<std::string, AllocQueue> payable_queues_, owed_queues_;
  size_t queued_ = 0;  // Queue entries in memory.
  // Accounts the store was asked for and did not have (LoadAccount): not asked again until the
  // caches drop.
  std::unordered_set<std::string> absent_accounts_;
  // What Flush writes: queues whose sums changed (owed, party), the sequence last written.
  std::set<std::pair<bool, std::string>> dirty_sums_;
  uint64_t saved_sequence_ = 0;
  FeeRules rules_;
  bool rules_loaded_ = false;
  int64_t order_violations_ = 0, refused_chains_ = 0, queue_violations_ = 0;
};

}  // namespace pavilion::settlement
