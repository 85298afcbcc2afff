// Allocation: which shares a party's payable balance, its payouts and its debts are made of,
// first in, first out — so every share can say what of it is payable, in transit, paid out,
// kept to settle a debt, or owed back.
//
// When a share posts (its after-sale window closed) it joins its party's payable queue at the
// posting sequence of its post transfer; a payout takes its amount from the front of that queue
// (a share may be split over two payouts), a returned payout puts what it took back at the
// same sequences, a reversal takes the share's own unpaid part first and the rest (a clawback:
// the share had been paid out) from the front, and a recovery (what the party owes, taken from
// new earnings) takes from the front as well. What a party owes is a queue too, by the
// sequence of the clawback, paid down from the front by recoveries. Both queues' sums equal
// the ledger's balances (payable available, receivable owed): LedgerBook checks it after each
// change.
//
// Pure values and the rules that cut a queue; LedgerBook keeps them in memory and in the store
// (set/lg/sh/, set/lg/pq/, set/lg/rq/). Not thread-safe: the settlement worker.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/events/schema.h"

namespace pavilion::settlement {

// A payout's part of one share: in_transit, then paid_out or returned.
struct PayoutCut {
  std::string payout_id, state;
  Fen amount;
  template <class V>
  void Fields(V& v) {
    v(payout_id), v(state), v(amount);
  }
};

// Where one posted share's money is. Its id is the share's post transfer id
// (`<sub>/post/<line>/<k>`), which the order book determines: the book needs no field for it.
struct ShareAlloc {
  std::string id, party, order_id;
  uint64_t sequence = 0;  // Of the post transfer: the share's place in the party's queue.
  Fen posted;             // What became payable.
  Fen payable;            // Unpaid: in the party's queue.
  Fen in_transit, paid_out;
  Fen offset;  // Kept to settle what the party owed (a clawback of a share paid out, a debt).
  Fen owed;    // Reversed after it was paid out, beyond the party's balance: still owed.
  std::vector<PayoutCut> payouts;
  template <class V>
  void Fields(V& v) {
    v(id), v(party), v(order_id), v(sequence), v(posted), v(payable), v(in_transit), v(paid_out),
        v(offset), v(owed), v(payouts);
  }
};

// A queue's entry: the share (its allocation id) and the amount it holds there.
struct QueueEntry {
  std::string share;
  Fen amount;
  template <class V>
  void Fields(V& v) {
    v(share), v(amount);
  }
};

// A queue's sum, stored beside it (set/lg/qs/<party>, set/lg/rs/<party>).
struct QueueSum {
  Fen sum;
  template <class V>
  void Fields(V& v) {
    v(sum);
  }
};

// One party's queue, by sequence: the entries in memory (a part of it) and the sum of all.
struct AllocQueue {
  std::map<uint64_t, QueueEntry> entries;
  Fen sum;
};

struct Cut {
  uint64_t sequence = 0;
  std::string share;
  Fen amount;
};

// Up to `amount` from the front of the queue, entry by entry (the last one possibly in part).
std::vector<Cut> TakeFront(const AllocQueue& queue, Fen amount);

// The state a share shows: the one that still asks something of someone. `sub_state` is the
// sub-order's (held, pending, payable); `alloc` null before its post (or for the platform).
std::string ShareState(std::string_view sub_state, Fen net, Fen reversed, const ShareAlloc* alloc,
                       bool platform);

}  // namespace pavilion::settlement
