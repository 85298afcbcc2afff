// LedgerBook's allocation of shares to payouts, first in, first out (allocation.h): a party's
// queue sums and the entries read or written since the caches dropped are in memory, the rest
// in the store; every change is written through in the chain's transaction, but for the sums,
// which many chains of a batch share: LedgerBook::Flush writes those once.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "ledger_book.h"

namespace pavilion::settlement {
namespace {

std::string QueuePrefix(bool owed, std::string_view party) {
  return LedgerBook::StoreKey(owed ? "rq" : "pq", party) + "/";
}

std::string SumKey(bool owed, std::string_view party) {
  return LedgerBook::StoreKey(owed ? "rs" : "qs", party);
}

}  // namespace

ShareAlloc* LedgerBook::Alloc(const std::string& id) {
  if (auto it = allocs_.find(id); it != allocs_.end()) return &it->second;
  std::string bytes;
  if (!storage::GetOrAbort(kv_, LedgerBook::StoreKey("sh", id), &bytes)) return nullptr;
  auto a = events::Decode<ShareAlloc>(bytes);
  if (!a.ok()) return nullptr;
  return &(allocs_[id] = std::move(*a));
}

AllocQueue& LedgerBook::Queue(bool owed, const std::string& party) {
  auto& queues = owed ? owed_queues_ : payable_queues_;
  if (auto it = queues.find(party); it != queues.end()) return it->second;
  // Only the sum is read: entries come into memory as they are named (a share's own place) or
  // taken from the front, so a supplier with a long queue costs no more than one with a short.
  AllocQueue& q = queues[party];
  std::string bytes;
  if (storage::GetOrAbort(kv_, SumKey(owed, party), &bytes)) {
    if (auto sum = events::Decode<QueueSum>(bytes); sum.ok()) q.sum = sum->sum;
  }
  return q;
}

QueueEntry& LedgerBook::Entry(bool owed, const std::string& party, uint64_t sequence, bool fresh) {
  AllocQueue& q = Queue(owed, party);
  if (auto it = q.entries.find(sequence); it != q.entries.end()) return it->second;
  QueueEntry e;
  std::string bytes;
  if (!fresh &&
      storage::GetOrAbort(kv_, QueuePrefix(owed, party) + SequenceHex(sequence), &bytes)) {
    if (auto d = events::Decode<QueueEntry>(bytes); d.ok()) e = std::move(*d);
  }
  ++queued_;
  return q.entries.emplace(sequence, std::move(e)).first->second;
}

std::vector<Cut> LedgerBook::Front(bool owed, const std::string& party, Fen amount) {
  AllocQueue& q = Queue(owed, party);
  // Reads the store's front into memory (what memory holds wins: it may be newer) until the
  // merged queue covers the amount or the store has no more; then the cut is memory's alone.
  const std::string prefix = QueuePrefix(owed, party);
  Fen covered;
  std::optional<uint64_t> passed;
  storage::ScanOrAbort(
      kv_, prefix, storage::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
        const uint64_t sequence =
            std::strtoull(std::string(k.substr(prefix.size())).c_str(), nullptr, 16);
        if (!q.entries.count(sequence)) {
          if (auto e = events::Decode<QueueEntry>(v); e.ok()) {
            q.entries.emplace(sequence, std::move(*e));
            ++queued_;
          }
        }
        for (auto it = passed ? q.entries.upper_bound(*passed) : q.entries.begin();
             it != q.entries.end() && it->first <= sequence; ++it) {
          covered += it->second.amount;
        }
        passed = sequence;
        return covered < amount;
      });
  return TakeFront(q, amount);
}

void LedgerBook::SaveAlloc(const ShareAlloc& a, events::Transaction& tx) {
  tx.state().Put(LedgerBook::StoreKey("sh", a.id), events::Encode(a));
}

void LedgerBook::SaveEntry(bool owed, const std::string& party, uint64_t sequence,
                           events::Transaction& tx) {
  AllocQueue& q = Queue(owed, party);
  const std::string key = QueuePrefix(owed, party) + SequenceHex(sequence);
  // An emptied entry stays in memory at 0 until the caches drop: it hides the store's copy,
  // whose deletion is not durable yet.
  auto it = q.entries.find(sequence);
  if (it != q.entries.end() && it->second.amount.value() > 0) {
    tx.state().Put(key, events::Encode(it->second));
  } else {
    tx.state().Delete(key);
  }
  dirty_sums_.emplace(owed, party);
}

void LedgerBook::FlushQueueSums(events::Transaction& tx) {
  for (const auto& [owed, party] : dirty_sums_) {
    tx.state().Put(SumKey(owed, party), events::Encode(QueueSum{Queue(owed, party).sum}));
  }
  dirty_sums_.clear();
}

void LedgerBook::AddToQueue(const std::string& party, uint64_t sequence, const std::string& share,
                            Fen amount, events::Transaction& tx, bool fresh) {
  QueueEntry& e = Entry(false, party, sequence, fresh);
  if (e.share.empty()) e.share = share;
  e.amount += amount;
  Queue(false, party).sum += amount;
  SaveEntry(false, party, sequence, tx);
}

void LedgerBook::Enqueue(ShareAlloc& a, Fen amount, events::Transaction& tx, bool fresh) {
  if (amount.value() == 0) return;
  AddToQueue(a.party, a.sequence, a.id, amount, tx, fresh);
  a.payable += amount;
  SaveAlloc(a, tx);
}

void LedgerBook::Dequeue(ShareAlloc& a, Fen amount, events::Transaction& tx) {
  Enqueue(a, Fen(0) - amount, tx);
}

std::vector<Cut> LedgerBook::TakePayable(const std::string& party, Fen amount,
                                         const PayoutView* payout, events::Transaction& tx) {
  const std::vector<Cut> cuts = Front(false, party, amount);
  for (const Cut& c : cuts) {
    ShareAlloc* a = Alloc(c.share);
    if (a == nullptr) {
      // No record of the share (CheckQueues counts the disagreement): the entry still leaves the
      // queue, so the same fen is never taken by a second payout.
      AddToQueue(party, c.sequence, c.share, Fen(0) - c.amount, tx);
      continue;
    }
    Dequeue(*a, c.amount, tx);
    if (payout != nullptr) {
      a->in_transit += c.amount;
      a->payouts.push_back({payout->payout_id, "in_transit", c.amount});
    } else {
      a->offset += c.amount;
    }
    SaveAlloc(*a, tx);
  }
  return cuts;
}

void LedgerBook::Recovered(const std::string& party, Fen amount, events::Transaction& tx) {
  TakePayable(party, amount, nullptr, tx);
  for (const Cut& c : Front(true, party, amount)) {
    QueueEntry& e = Entry(true, party, c.sequence);
    e.amount = e.amount - c.amount;
    AllocQueue& q = Queue(true, party);
    q.sum = q.sum - c.amount;
    SaveEntry(true, party, c.sequence, tx);
    if (ShareAlloc* a = Alloc(c.share)) {
      a->owed = a->owed - c.amount;
      SaveAlloc(*a, tx);
    }
  }
}

void LedgerBook::CheckQueues(const std::string& party) {
  if (party == kPlatform) return;
  const Account* payable = LoadAccount(PayableAccount(party));
  const Account* owed = LoadAccount(AccountId(AccountKind::kReceivable, party));
  const Fen available = payable ? payable->available() : Fen(0);
  const Fen debt = owed ? owed->debits_posted - owed->credits_posted : Fen(0);
  if (Queue(false, party).sum != available || Queue(true, party).sum != debt) {
    ++queue_violations_;
    std::fprintf(stderr,
                 "pavilion: settlement: the payout queues of %s disagree with its balances\n",
                 party.c_str());
  }
}

void LedgerBook::SharesPosted(const OrderBook& book, const SubBook& sub,
                              const std::vector<Transfer>& chain, events::Transaction& tx) {
  std::vector<std::string> parties;
  for (uint32_t i : sub.lines) {
    const LineBook& l = book.lines[i];
    for (size_t k = 0; k < l.shares.size(); ++k) {
      const Share& s = l.shares[k];
      if (s.transfer_id.empty() || s.party == kPlatform) continue;
      ShareAlloc a;
      a.id = ShareTransferId(sub.sub_id, "post", l.line, k);
      const Transfer* post = ledger_.transfer(a.id);
      if (post == nullptr) continue;
      a.party = s.party;
      a.order_id = book.order_id;
      a.sequence = post->sequence;
      a.posted = post->amount;
      ShareAlloc& kept = allocs_[a.id] = std::move(a);
      Enqueue(kept, kept.posted, tx, /*fresh=*/true);
      parties.push_back(s.party);
    }
  }
  // The recoveries come after the posts in the chain: from the front, the oldest first.
  for (const Transfer& t : chain) {
    if (t.code == TransferCode::kRecovery) {
      Recovered(t.debit_account_id.substr(t.debit_account_id.find(':') + 1), t.amount, tx);
    }
  }
  std::sort(parties.begin(), parties.end());
  parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
  for (const auto& p : parties) CheckQueues(p);
}

void LedgerBook::SharesReversed(const OrderBook& before, const OrderBook& after,
                                const std::string& seller, const std::string& refund_id,
                                events::Transaction& tx) {
  const SubBook* sub = nullptr;
  for (const SubBook& x : after.subs) {
    if (x.seller_id == seller) sub = &x;
  }
  if (sub == nullptr || sub->state != SubState::kPayable) return;
  std::vector<std::string> parties;
  // In the order the refund's chain took them: what one share's clawback takes from the front
  // is not there for the next one.
  for (uint32_t i : sub->lines) {
    const LineBook& was = before.lines[i];
    const LineBook& l = after.lines[i];
    for (size_t k = 0; k < l.shares.size() && k < was.shares.size(); ++k) {
      const Share& s = l.shares[k];
      const Fen back = s.reversed - was.shares[k].reversed;
      if (back.value() <= 0 || s.party == kPlatform) continue;
      ShareAlloc* a = Alloc(ShareTransferId(sub->sub_id, "post", l.line, k));
      if (a == nullptr) continue;
      const Fen owed = s.clawed - was.shares[k].clawed;
      // Its own unpaid part first; the rest had been paid out (or is in transit): a clawback,
      // from the party's balance (the front of its queue) and beyond it owed.
      const Fen own = std::min(back, a->payable);
      Dequeue(*a, own, tx);
      const Fen from_balance = back - own - owed;
      if (from_balance.value() > 0) TakePayable(s.party, from_balance, nullptr, tx);
      if (owed.value() > 0) {
        const Transfer* claw = ledger_.transfer(ShareTransferId(refund_id, "claw", l.line, k));
        if (claw != nullptr) {
          a->owed += owed;
          SaveAlloc(*a, tx);
          QueueEntry& e = Entry(true, s.party, claw->sequence, /*fresh=*/true);
          e.share = a->id;
          e.amount += owed;
          Queue(true, s.party).sum += owed;
          SaveEntry(true, s.party, claw->sequence, tx);
        }
      }
      parties.push_back(s.party);
    }
  }
  std::sort(parties.begin(), parties.end());
  parties.erase(std::unique(parties.begin(), parties.end()), parties.end());
  for (const auto& p : parties) CheckQueues(p);
}

}  // namespace pavilion::settlement
