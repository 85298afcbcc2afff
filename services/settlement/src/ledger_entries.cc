// LedgerBook::Entries: a party's transfers, newest first, in cursor pages — read from the store's
// per-account entry index (set/lg/e/<account>/<seq hex>), which the ledger writes in the same
// batch as the transfers.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "ledger_book.h"

namespace pavilion::settlement {
namespace {

std::string_view StateOf(const Transfer& t) {
  if (t.state == PendingState::kNone) return "posted";
  return ToString(t.state);
}

}  // namespace

Result<EntriesPage> LedgerBook::Entries(const EntriesQuery& q) {
  // Each account's entries newest first, at most limit + 1 past the filter: merged, the newest
  // limit + 1 of them tell the page and whether another follows. A transfer between two of the
  // party's accounts (payable → paid_out) is one entry.
  std::vector<EntryView> found;
  std::error_code failed;
  for (AccountKind kind : kPartyAccountKinds) {
    const std::string prefix = EntriesPrefix(AccountId(kind, q.party_id));
    const std::string end =
        q.before == 0 ? storage::PrefixEnd(prefix) : prefix + SequenceHex(q.before);
    size_t taken = 0;
    auto ec = kv_.ScanReverse(prefix, end, [&](std::string_view, std::string_view id) {
      std::string bytes;
      if (kv_.Get(StoreKey("t", id), &bytes)) return true;
      auto t = events::Decode<Transfer>(bytes);
      if (!t.ok()) {
        failed = t.error();
        return false;
      }
      const std::string day = events::BusinessDay(t->timestamp);
      if (!q.to_day.empty() && day > q.to_day) return true;
      if (!q.from_day.empty() && day < q.from_day) return true;
      EntryView e;
      e.transfer_id = t->id;
      e.code = ToString(t->code);
      e.debit_account_id = t->debit_account_id;
      e.credit_account_id = t->credit_account_id;
      e.order_id = t->order_id;
      e.pending_id = t->pending_id;
      e.state = StateOf(*t);
      e.amount = t->amount;
      e.posted_amount = t->posted_amount;
      e.sequence = t->sequence;
      e.time_micros = t->timestamp;
      found.push_back(std::move(e));
      return ++taken <= q.limit;
    });
    if (ec || failed) return {events::svc_errc::internal, "reading the ledger's entries failed"};
  }
  std::sort(found.begin(), found.end(),
            [](const EntryView& a, const EntryView& b) { return a.sequence > b.sequence; });
  found.erase(
      std::unique(found.begin(), found.end(),
                  [](const EntryView& a, const EntryView& b) { return a.sequence == b.sequence; }),
      found.end());
  EntriesPage page;
  if (found.size() > q.limit) {
    found.resize(q.limit);
    page.next_before = found.back().sequence;
  }
  page.entries = std::move(found);
  return page;
}

}  // namespace pavilion::settlement
