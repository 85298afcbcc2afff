// What settlement exports: a party's statement and the poverty-alleviation ledger (扶贫台账),
// as plain values and as tables (pavilion/tables/table.h) the gateway writes as JSON, CSV or XLSX.
//
// Both are read from the durable store on the settlement worker (SettlementService::Statement,
// PovertyLedger) and handed to the caller as copies: safe to pass to any thread. Amounts are
// integer fen. services/settlement/README.md says how each figure is computed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pavilion/events/schema.h"
#include "pavilion/tables/table.h"

namespace pavilion::settlement {

struct StatementQuery {
  std::string party_id;
  std::string from_day, to_day;  // Business days (UTC+8), inclusive; empty: unbounded.
};

// One movement of what the platform owes the party.
struct StatementLine {
  std::string day;        // Business day of the causing event.
  std::string kind;       // sale | reversal | payout | payout_returned | adjustment
  std::string order_id;   // Empty for payouts.
  std::string reference;  // The sub-order (a sale), refund (a reversal) or payout.
  Fen gross, fee, net;    // net = gross - fee: the change of the balance.
  Fen balance;            // After this line.
};

// The balance is what the platform owes the party and has not paid out: pending (shares in the
// after-sale window) + payable - receivable (clawed back after a payout). Payouts in transit
// are out of it.
struct StatementBalance {
  Fen pending, payable, receivable;
  Fen total() const { return pending + payable - receivable; }
};

struct Statement {
  std::string party_id, from_day, to_day;
  StatementBalance opening, closing;
  std::vector<StatementLine> lines;
};

struct PovertyQuery {
  std::string from_day, to_day;  // Inclusive; empty: unbounded.
  std::string place_code;        // A prefix: 433126 takes its towns and villages; empty: all.
  bool by_month = false;         // One row per household and month with sales or refunds.
};

struct PovertyRow {
  std::string seller_id, name, place_code;
  std::string month;  // YYYY-MM with by_month, else empty.
  int64_t direct_units = 0, distributed_units = 0, refunded_units = 0;
  Fen direct_sales, distributed_sales, refunded;  // What shoppers paid, and got back.
  // As of now, whatever the period: settled = pending + payable + in transit + paid out -
  // receivable; paid_out: confirmed payouts (0 until payouts are built).
  Fen settled, paid_out;
};

tables::Table StatementTable(const Statement& s);
tables::Table PovertyTable(const std::vector<PovertyRow>& rows);

}  // namespace pavilion::settlement
