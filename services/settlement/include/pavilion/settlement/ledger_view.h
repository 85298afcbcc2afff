// What the settlement ledger shows: an order's settlement, a party's balances, the audit.
//
// Plain values copied out of the ledger on the settlement worker; safe to hand to any thread.
// Every amount is integer fen. The ledger itself (accounts, transfers, posting rules) is private
// to the service: services/settlement/README.md describes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pavilion/events/schema.h"

namespace pavilion::settlement {

// A payout that carries part of a share: in_transit, paid_out or returned.
struct SharePayout {
  std::string payout_id, state;
  Fen amount;
};

// One party's share of one line: role supplier | distributor1 | distributor2 | platform. Its
// money by state — pending, payable (in the party's payout queue), in_transit, paid_out, offset
// (kept to settle what the party owed), receivable (reversed after it was paid out and still
// owed) — and `state`, the one that still asks something of someone: receivable, reversed (all
// of it taken back), held | pending (its sub-order's), payable, in_transit, paid_out, offset.
// Payouts take a party's payable shares first in, first out (README.md).
struct ShareView {
  std::string role, party, state;
  Fen amount, reversed, clawed;  // clawed: of reversed, what was left owed when it was reversed.
  Fen pending, payable, in_transit, paid_out, offset, receivable;
  std::vector<std::string> transfer_ids;
  std::vector<SharePayout> payouts;
};

struct LineSettlement {
  uint32_t line = 0;
  std::string sku_id, product_id, supplier_id, category;
  bool poverty = false;
  int64_t quantity = 0;
  Fen paid, refunded;
  uint32_t fee_bps = 0;
  std::vector<std::string> distributor_ids;  // Level 1 first: who resold it, if anyone.
  std::vector<ShareView> shares;             // Empty until the sub-order completes.
};

struct SubSettlement {
  std::string sub_id, seller_id, state;  // held | pending | payable
  std::vector<LineSettlement> lines;
};

struct OrderSettlement {
  std::string order_id, shopper_id;
  Fen paid, refunded, shares, held;
  bool balanced = false;  // paid = refunded + shares + held.
  std::vector<SubSettlement> sub_orders;
  std::vector<std::string> transfer_ids;  // Every transfer of the order, in the order applied.
};

// One of a party's accounts as the ledger holds it (four sums, integer fen).
struct AccountView {
  std::string id, kind;
  Fen debits_pending, debits_posted, credits_pending, credits_posted;
};

struct PartyBalances {
  std::string party_id;
  Fen pending, payable, in_transit, paid_out, receivable;
  Fen refunded;                       // A shopper's: what was paid back to it.
  Fen fee;                            // The platform's: fee revenue (posted).
  std::vector<AccountView> accounts;  // Those that exist: payable, paid_out, receivable, …
};

// A page of the transfers that touch a party's accounts (payable, paid_out, receivable, refunds,
// fee), newest first. `before` is the sequence the previous page ended at (0: the newest);
// from_day/to_day (YYYY-MM-DD, China Standard Time, inclusive; empty: unbounded) filter by the
// time of the event that caused the transfer.
struct EntriesQuery {
  std::string party_id;
  uint64_t before = 0;
  size_t limit = 50;
  std::string from_day, to_day;
};

struct EntryView {
  std::string transfer_id, code, debit_account_id, credit_account_id, order_id, pending_id;
  std::string state;  // posted (a single-phase transfer), pending, posted, voided.
  Fen amount, posted_amount;
  uint64_t sequence = 0;
  int64_t time_micros = 0;
};

struct EntriesPage {
  std::vector<EntryView> entries;
  uint64_t next_before = 0;  // 0: no more.
};

struct AccountKindTotals {
  std::string kind;
  int64_t accounts = 0;
  Fen debits_posted, credits_posted, debits_pending, credits_pending;
};

struct LedgerAudit {
  std::vector<AccountKindTotals> kinds;
  Fen debits_posted, credits_posted, debits_pending, credits_pending;
  bool balanced = false;
  int64_t transfers = 0;
  // Orders whose paid ≠ refunded + shares + held, and posting chains the ledger refused, since
  // start: both 0 unless something is wrong. queue_violations: parties whose payout queue (or
  // debt queue) no longer sums to their payable (or receivable) balance after a change.
  int64_t order_violations = 0, refused_chains = 0, queue_violations = 0;
};

// The part of one share a payout carries: the share's allocation (its post transfer id and
// sequence), its order, the amount.
struct PayoutPart {
  std::string share, order_id;
  uint64_t sequence = 0;
  Fen amount;
  template <class V>
  void Fields(V& v) {
    v(share), v(order_id), v(sequence), v(amount);
  }
};

// A payout: requested | in_transit | paid_out | returned | refused (the ledger found less
// payable than requested when it folded the request: nothing moved, nothing was sent). `parts`:
// the shares it pays, the oldest payable first.
struct PayoutView {
  std::string payout_id, party_id, state, provider, reason;
  Fen amount;
  int64_t requested_micros = 0, settled_micros = 0;
  std::vector<std::string> transfer_ids;
  std::vector<PayoutPart> parts;
  template <class V>
  void Fields(V& v) {
    v(payout_id), v(party_id), v(state), v(provider), v(reason), v(amount), v(requested_micros),
        v(settled_micros), v(transfer_ids), v(events::Added(parts));
  }
};

struct FeeRulesInput {
  uint32_t default_bps = 0;
  std::vector<std::pair<std::string, uint32_t>> by_category, by_seller;
};

}  // namespace pavilion::settlement
