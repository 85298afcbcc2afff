// SettlementService: the money ledger and the sales projection.
//
// The ledger (ledger.h, posting.h, ledger_book.h) is a double-entry book in integer fen after
// TigerBeetle's model: payments are held per order, completion reserves each party's share
// (supplier, distributors by level, platform fee), the after-sale window closing makes them
// payable, refunds reverse them at the rates recorded when the sale settled, payouts move payable
// money out. The sales projection (sales_cube.h, a processor of its own: sales_processor()) keeps
// paid, refunded, orders and units per period and dimension row, so that GET /v1/stats/sales
// answers any grouping, filter and period, as of any moment; the targets and award rules
// operators define (targets.h) are measured on it. Both live in the EventStore's KvStore
// under "set/" and are written in the same batch as their processor's checkpoint, so a restart
// neither counts an event twice nor misses one; both are folds of the log and rebuild identically.
//
// Reads and writes: see services/settlement/README.md ("Reads ... Writes ..."), checked against
// docs/events.md. Fee rules, payouts, targets and award rules are commands this service writes as
// events. Thread-safety: public methods may be called from any thread; callbacks run on the
// settlement worker (a lane of the store's writer worker when it has one:
// EventStore::writer_worker()), Sales' and the targets' and award rules' on the sales worker
// (another lane of it).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pavilion/events/event_store.h"
#include "pavilion/events/processor.h"
#include "pavilion/events/schema.h"
#include "pavilion/settlement/exports.h"
#include "pavilion/settlement/ledger_view.h"
#include "pavilion/settlement/payout_provider.h"
#include "pavilion/settlement/report.h"
#include "pavilion/settlement/sales.h"
#include "pavilion/settlement/targets.h"

namespace pavilion::places {
class PlaceDirectory;
}

namespace pavilion::settlement {

struct SettlementOptions {
  // Past this many records in memory (ledger accounts, transfers, order books, product facts;
  // the sales projection's cells, order bookings, product and seller facts, each on its own) the
  // caches are dropped once everything written is durable, and reloaded from the store as events
  // name them: memory stays bounded.
  size_t cache_limit = 200'000;
  // A payout run pays each party whose payable balance is at least this (and above 0).
  Fen payout_minimum;
  // Who moves the money; null: a BuiltinPayoutProvider the service owns.
  PayoutProvider* payout_provider = nullptr;
  // The WeChat Pay / Alipay profit-sharing profile: the most of a sale, in basis points of its
  // price, that may be split away from the supplier (distributors' margins plus the fee).
  // SetFeeRules refuses rules that could split more from a listing it has read. 0: no profile.
  uint32_t profit_sharing_cap_bps = 0;
  // The divisions a target's or an award rule's place code must name, once loaded
  // (services/places); null or not loaded: codes are checked by their form only.
  places::PlaceDirectory* places = nullptr;
};

class SettlementService {
 public:
  explicit SettlementService(events::EventStore& store, SettlementOptions options = {});
  ~SettlementService();

  // The sales projection (pavilion/settlement/sales.h): invalid_argument naming the field for a
  // query it cannot answer.
  void Sales(SalesQuery query, std::function<void(Result<std::vector<SalesRow>>)> done);

  // Targets and award rules (pavilion/settlement/targets.h; README "Targets and award rules"),
  // on the sales worker. Define* checks the definition (invalid_argument, the message starting
  // with the field) and answers once it is durable: a target measured as of now. Retire*
  // answers the definition retired (unchanged when it was already). Reads answer not_found for
  // no such id; a target and an award rule's results are measured as of `as_of_micros` (0: now).
  void DefineTarget(events::schema::TargetDefined target,
                    std::function<void(Result<TargetView>)> done);
  void RetireTarget(std::string id, std::function<void(Result<TargetView>)> done);
  void Target(std::string id, int64_t as_of_micros, std::function<void(Result<TargetView>)> done);
  void Targets(DefinitionsQuery query, std::function<void(Result<TargetPage>)> done);
  void DefineAwardRule(events::schema::AwardRuleDefined rule,
                       std::function<void(Result<AwardRuleView>)> done);
  void RetireAwardRule(std::string id, std::function<void(Result<AwardRuleView>)> done);
  void AwardRule(std::string id, std::function<void(Result<AwardRuleView>)> done);
  void AwardRules(DefinitionsQuery query, std::function<void(Result<AwardRulePage>)> done);
  void AwardResults(std::string id, int64_t as_of_micros,
                    std::function<void(Result<settlement::AwardResults>)> done);
  // The sales report of a place and period (pavilion/settlement/report.h), on the sales worker:
  // invalid_argument naming the field for a period, place or top it cannot answer.
  void SalesReport(ReportQuery query, std::function<void(Result<settlement::SalesReport>)> done);

  // The ledger (services/settlement/README.md): an order's settlement (not_found before it is
  // paid), a party's balances, the audit of the durable books.
  void Settlement(std::string order_id, std::function<void(Result<OrderSettlement>)> done);
  void Balances(std::string party_id, std::function<void(PartyBalances)> done);
  void Audit(std::function<void(Result<LedgerAudit>)> done);
  // Appends settlement.fee_rules_set; completions read after it settle at these rules. Under
  // the profit-sharing profile, rules that could pass the cap are refused (invalid_argument).
  void SetFeeRules(FeeRulesInput rules, std::function<void(Result<bool>)> done);
  // The fee rules last set (the last settlement.fee_rules_set appended, durable or not: what a
  // SetFeeRules answered is read back at once); none set: all zero.
  void FeeRules(std::function<void(Result<FeeRulesInput>)> done);
  // A page of the transfers touching a party's accounts, newest first (ledger_view.h).
  void Entries(EntriesQuery query, std::function<void(Result<EntriesPage>)> done);

  // Payouts (services/settlement/README.md): a run writes settlement.payout_requested for each
  // party whose payable balance reached the minimum and answers the payouts once the ledger has
  // folded them (in_transit, or refused when a refund took the balance meanwhile); the provider
  // is handed each one in transit. Confirm (paid out) and return (payable again) answer the
  // payout as it then stands; asking again for what happened already answers it unchanged, the
  // other one is a conflict.
  void RunPayouts(std::function<void(Result<std::vector<PayoutView>>)> done);
  void ConfirmPayout(std::string payout_id, std::function<void(Result<PayoutView>)> done);
  void ReturnPayout(std::string payout_id, std::string reason,
                    std::function<void(Result<PayoutView>)> done);
  // A party's payouts (empty: everyone's), oldest first, at most `limit`.
  void Payouts(std::string party_id, size_t limit,
               std::function<void(Result<std::vector<PayoutView>>)> done);
  PayoutProvider& payout_provider();

  // How many records the caches hold now (SettlementOptions::cache_limit bounds it between
  // batches).
  void Cached(std::function<void(size_t)> done);

  // Exports (pavilion/settlement/exports.h), read from the durable store: a party's statement
  // over a period, and the poverty-alleviation ledger (扶贫台账).
  void Statement(StatementQuery query, std::function<void(Result<settlement::Statement>)> done);
  void PovertyLedger(PovertyQuery query, std::function<void(Result<std::vector<PovertyRow>>)> done);

  events::Processor& processor();
  events::Worker& worker() { return worker_; }
  // The sales projection's processor ("sales") and its worker: feed it like processor().
  events::Processor& sales_processor();
  events::Worker& sales_worker() { return sales_worker_; }

  // Deletes the ledger's and the sales projection's state and both checkpoints so they rebuild
  // from the log on next start.
  static std::error_code Reset(storage::KvStore& kv);

 private:
  class Impl;
  events::Worker worker_;
  events::Worker sales_worker_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::settlement
