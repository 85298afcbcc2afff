// SettlementService: the sales projection operators track targets with.
//
// Its Processor consumes order.paid and keeps totals — amount in fen, orders, units — per
// seller and per place (the county code of the seller), per business day (China Standard Time);
// refund.completed takes the refunded amount and returned units off the day it is paid back.
// The rows live in the EventStore's KvStore under "set/" and are written in the same batch as
// the processor's checkpoint, so a restart neither counts an order twice nor misses one; deleting
// the rows and the checkpoint rebuilds an identical projection from the log.
//
// Reads: order.paid, refund.completed (and for the ledgers the events in README.md). Writes: no
// events (yet: settlement of money comes with delivery). Thread-safety: public methods may be
// called from any thread; callbacks run on the settlement worker (a lane of the store's writer
// worker when it has one: EventStore::writer_worker()).
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

namespace pavilion::settlement {

struct SalesTotals {
  Fen amount;
  int64_t orders = 0;
  int64_t units = 0;
  template <class V>
  void Fields(V& v) {
    v(amount), v(orders), v(units);
  }
};

struct SalesRow {
  std::string key;  // A seller id or a place code.
  std::string day;  // "YYYY-MM-DD", or empty when summed over the range.
  SalesTotals totals;
};

struct SalesQuery {
  std::string group_by = "seller";  // seller | place
  std::string from_day, to_day;     // Inclusive; empty means unbounded.
  bool by_day = false;
};

class SettlementService {
 public:
  explicit SettlementService(events::EventStore& store);
  ~SettlementService();

  void Sales(SalesQuery query, std::function<void(Result<std::vector<SalesRow>>)> done);

  // The ledger (services/settlement/README.md): an order's settlement (not_found before it is
  // paid), a party's balances, the audit of the durable books.
  void Settlement(std::string order_id, std::function<void(Result<OrderSettlement>)> done);
  void Balances(std::string party_id, std::function<void(PartyBalances)> done);
  void Audit(std::function<void(Result<LedgerAudit>)> done);
  // Appends settlement.fee_rules_set; completions read after it settle at these rules.
  void SetFeeRules(FeeRulesInput rules, std::function<void(Result<bool>)> done);

  // Exports (pavilion/settlement/exports.h), read from the durable store: a party's statement
  // over a period, and the poverty-alleviation ledger (扶贫台账).
  void Statement(StatementQuery query, std::function<void(Result<settlement::Statement>)> done);
  void PovertyLedger(PovertyQuery query, std::function<void(Result<std::vector<PovertyRow>>)> done);

  events::Processor& processor();
  events::Worker& worker() { return worker_; }

  // Deletes the projection's rows and checkpoint so it rebuilds from the log on next start.
  static std::error_code Reset(storage::KvStore& kv);

 private:
  class Impl;
  events::Worker worker_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::settlement
