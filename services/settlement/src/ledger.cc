#include "ledger.h"

#include <algorithm>
#include <array>
#include <numeric>

namespace pavilion::settlement {
namespace {

constexpr std::array<std::string_view, 7> kKindNames = {"provider", "held",     "payable",   "fee",
                                                        "refunds",  "paid_out", "receivable"};

constexpr std::array<std::string_view, 7> kCodeNames = {"payment",  "refund", "share",   "reversal",
                                                        "clawback", "payout", "recovery"};

constexpr std::array<std::string_view, 4> kStateNames = {"none", "pending", "posted", "voided"};

template <typename E, size_t N>
bool ParseName(const std::array<std::string_view, N>& names, std::string_view s, E* out,
               int offset) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) {
      *out = static_cast<E>(i + offset);
      return true;
    }
  }
  return false;
}

// Adds `amount` to `sum` unless it would wrap.
bool Add(Fen& sum, Fen amount) {
  auto r = sum.CheckedAdd(amount);
  if (!r) return false;
  sum = *r;
  return true;
}

}  // namespace

std::string_view ToString(AccountKind k) { return kKindNames[static_cast<size_t>(k)]; }
bool Parse(std::string_view s, AccountKind* out) { return ParseName(kKindNames, s, out, 0); }
std::string_view ToString(TransferCode c) { return kCodeNames[static_cast<size_t>(c) - 1]; }
bool Parse(std::string_view s, TransferCode* out) { return ParseName(kCodeNames, s, out, 1); }
std::string_view ToString(PendingState s) { return kStateNames[static_cast<size_t>(s)]; }
bool Parse(std::string_view s, PendingState* out) { return ParseName(kStateNames, s, out, 0); }

std::optional<AccountKind> KindOf(std::string_view account_id) {
  const size_t colon = account_id.find(':');
  if (colon == std::string_view::npos || colon + 1 == account_id.size()) return std::nullopt;
  AccountKind k;
  if (!Parse(account_id.substr(0, colon), &k)) return std::nullopt;
  return k;
}

std::string AccountId(AccountKind kind, std::string_view owner) {
  std::string id(ToString(kind));
  id.append(":").append(owner);
  return id;
}

uint32_t FlagsOf(AccountKind kind) {
  switch (kind) {
    case AccountKind::kHeld:
    case AccountKind::kPayable:
      return kDebitsMustNotExceedCredits;
    case AccountKind::kReceivable:
      return kCreditsMustNotExceedDebits;
    default:
      return 0;
  }
}

std::string_view ToString(CreateResult r) {
  switch (r) {
    case CreateResult::kOk:
      return "ok";
    case CreateResult::kExists:
      return "exists";
    case CreateResult::kExistsWithDifferentFields:
      return "exists_with_different_fields";
    case CreateResult::kLinkedEventFailed:
      return "linked_event_failed";
    case CreateResult::kLinkedEventChainOpen:
      return "linked_event_chain_open";
    case CreateResult::kIdMustNotBeEmpty:
      return "id_must_not_be_empty";
    case CreateResult::kAccountsMustBeDifferent:
      return "accounts_must_be_different";
    case CreateResult::kAccountNotFound:
      return "account_not_found";
    case CreateResult::kAmountMustBePositive:
      return "amount_must_be_positive";
    case CreateResult::kPendingNotFound:
      return "pending_transfer_not_found";
    case CreateResult::kPendingNotPending:
      return "pending_transfer_not_pending";
    case CreateResult::kExceedsPendingAmount:
      return "exceeds_pending_transfer_amount";
    case CreateResult::kExceedsCredits:
      return "exceeds_credits";
    case CreateResult::kExceedsDebits:
      return "exceeds_debits";
    case CreateResult::kOverflow:
      return "overflow";
  }
  return "unknown";
}

Ledger::Missing Ledger::Find(std::span<const Transfer> batch) const {
  Missing m;
  auto account_missing = [&](const std::string& id) {
    if (!id.empty() && !accounts_.count(id) &&
        std::find(m.accounts.begin(), m.accounts.end(), id) == m.accounts.end()) {
      m.accounts.push_back(id);
    }
  };
  auto transfer_missing = [&](const std::string& id) {
    if (!id.empty() && !transfers_.count(id) &&
        std::find(m.transfers.begin(), m.transfers.end(), id) == m.transfers.end()) {
      m.transfers.push_back(id);
    }
  };
  for (const Transfer& t : batch) {
    account_missing(t.debit_account_id);
    account_missing(t.credit_account_id);
    transfer_missing(t.id);
    transfer_missing(t.pending_id);
    // A post or void may name no accounts: it moves those of its pending transfer.
    if (auto p = transfers_.find(t.pending_id); !t.pending_id.empty() && p != transfers_.end()) {
      account_missing(p->second.debit_account_id);
      account_missing(p->second.credit_account_id);
    }
  }
  return m;
}

void Ledger::Load(Account a) {
  const std::string id = a.id;
  accounts_.try_emplace(id, std::move(a));
}

void Ledger::Load(Transfer t) {
  sequence_ = std::max(sequence_, t.sequence);
  const std::string id = t.id;
  transfers_.try_emplace(id, std::move(t));
}

const Account* Ledger::account(std::string_view id) const {
  auto it = accounts_.find(std::string(id));
  return it == accounts_.end() ? nullptr : &it->second;
}

const Transfer* Ledger::transfer(std::string_view id) const {
  auto it = transfers_.find(std::string(id));
  return it == transfers_.end() ? nullptr : &it->second;
}

Account* Ledger::Open(const std::string& id, Undo& undo) {
  if (auto it = accounts_.find(id); it != accounts_.end()) {
    undo.accounts.emplace_back(id, it->second);
    return &it->second;
  }
  auto kind = KindOf(id);
  if (!kind) return nullptr;
  undo.accounts.emplace_back(id, std::nullopt);
  Account& a = accounts_[id];
  a.id = id;
  a.flags = FlagsOf(*kind);
  return &a;
}

void Ledger::Remember(const Transfer& t, Undo& undo) {
  auto it = transfers_.find(t.id);
  undo.transfers.emplace_back(
      t.id, it == transfers_.end() ? std::nullopt : std::optional<Transfer>(it->second));
}

CreateResult Ledger::Apply(const Transfer& in, Undo& undo) {
  if (in.id.empty()) return CreateResult::kIdMustNotBeEmpty;
  const bool resolves = (in.flags & (kPostPending | kVoidPending)) != 0;
  Transfer* pending = nullptr;
  if (resolves) {
    auto it = transfers_.find(in.pending_id);
    if (it != transfers_.end() && (it->second.flags & kPending)) pending = &it->second;
  }
  // A post or void may leave out the accounts (the pending transfer's) and the amount (all of
  // it); it is stored and compared with them filled in.
  Transfer t = in;
  if (pending != nullptr) {
    if (t.debit_account_id.empty()) t.debit_account_id = pending->debit_account_id;
    if (t.credit_account_id.empty()) t.credit_account_id = pending->credit_account_id;
    if (t.amount.value() == 0 || (in.flags & kVoidPending)) t.amount = pending->amount;
  }
  if (auto it = transfers_.find(in.id); it != transfers_.end()) {
    return it->second.SameAs(t) ? CreateResult::kExists : CreateResult::kExistsWithDifferentFields;
  }
  t.state = (in.flags & kPending) ? PendingState::kPending : PendingState::kNone;
  t.posted_amount = Fen(0);
  if (resolves) {
    if (pending == nullptr) return CreateResult::kPendingNotFound;
    if (pending->state != PendingState::kPending) return CreateResult::kPendingNotPending;
    if (t.debit_account_id != pending->debit_account_id ||
        t.credit_account_id != pending->credit_account_id) {
      return CreateResult::kPendingNotFound;
    }
    if (t.amount.value() < 0) return CreateResult::kAmountMustBePositive;
    if (t.amount > pending->amount) return CreateResult::kExceedsPendingAmount;
  } else if (in.amount.value() <= 0) {
    return CreateResult::kAmountMustBePositive;
  }
  if (t.debit_account_id == t.credit_account_id) return CreateResult::kAccountsMustBeDifferent;
  if (!KindOf(t.debit_account_id) || !KindOf(t.credit_account_id)) {
    return CreateResult::kAccountNotFound;
  }
  Account* dr = Open(t.debit_account_id, undo);
  Account* cr = Open(t.credit_account_id, undo);
  Account d = *dr, c = *cr;
  LedgerTotals totals = totals_;
  bool fits = true;
  if (resolves) {
    // Release the reservation, then post what is posted.
    d.debits_pending = d.debits_pending - pending->amount;
    c.credits_pending = c.credits_pending - pending->amount;
    totals.debits_pending = totals.debits_pending - pending->amount;
    totals.credits_pending = totals.credits_pending - pending->amount;
    if (in.flags & kPostPending) {
      fits = Add(d.debits_posted, t.amount) && Add(c.credits_posted, t.amount) &&
             Add(totals.debits_posted, t.amount) && Add(totals.credits_posted, t.amount);
    }
  } else if (in.flags & kPending) {
    fits = Add(d.debits_pending, t.amount) && Add(c.credits_pending, t.amount) &&
           Add(totals.debits_pending, t.amount) && Add(totals.credits_pending, t.amount);
  } else {
    fits = Add(d.debits_posted, t.amount) && Add(c.credits_posted, t.amount) &&
           Add(totals.debits_posted, t.amount) && Add(totals.credits_posted, t.amount);
  }
  if (!fits) return CreateResult::kOverflow;
  // A voided or posted pending transfer only releases or moves what was reserved: the
  // constraint held when it was created and still does.
  if (!(in.flags & kVoidPending)) {
    if (d.flags & kDebitsMustNotExceedCredits) {
      auto used = d.debits_pending.CheckedAdd(d.debits_posted);
      if (!used) return CreateResult::kOverflow;
      if (*used > d.credits_posted) return CreateResult::kExceedsCredits;
    }
    if (c.flags & kCreditsMustNotExceedDebits) {
      auto used = c.credits_pending.CheckedAdd(c.credits_posted);
      if (!used) return CreateResult::kOverflow;
      if (*used > c.debits_posted) return CreateResult::kExceedsDebits;
    }
  }
  *dr = d;
  *cr = c;
  totals_ = totals;
  if (pending != nullptr) {
    Remember(*pending, undo);
    pending->state = (in.flags & kPostPending) ? PendingState::kPosted : PendingState::kVoided;
    pending->posted_amount = (in.flags & kPostPending) ? t.amount : Fen(0);
    dirty_transfers_.insert(pending->id);
  }
  Remember(t, undo);
  t.sequence = ++sequence_;
  dirty_accounts_.insert(d.id);
  dirty_accounts_.insert(c.id);
  dirty_transfers_.insert(t.id);
  transfers_.emplace(t.id, std::move(t));
  return CreateResult::kOk;
}

void Ledger::Rollback(Undo& undo) {
  for (auto it = undo.transfers.rbegin(); it != undo.transfers.rend(); ++it) {
    if (it->second) {
      transfers_[it->first] = *it->second;
    } else {
      transfers_.erase(it->first);
    }
  }
  for (auto it = undo.accounts.rbegin(); it != undo.accounts.rend(); ++it) {
    if (it->second) {
      accounts_[it->first] = *it->second;
    } else {
      accounts_.erase(it->first);
      dirty_accounts_.erase(it->first);
    }
  }
  totals_ = undo.totals;
  sequence_ = undo.sequence;
  // Dirty marks of restored values stay: writing an unchanged value again is harmless.
  for (const auto& [id, before] : undo.transfers) {
    if (!before) dirty_transfers_.erase(id);
  }
}

std::vector<CreateResult> Ledger::Create(std::span<const Transfer> batch) {
  std::vector<CreateResult> results(batch.size(), CreateResult::kOk);
  size_t i = 0;
  while (i < batch.size()) {
    // One chain: [i, end).
    size_t end = i;
    while (end < batch.size() && (batch[end].flags & kLinked)) ++end;
    if (end == batch.size()) {
      // The batch ends inside a chain: none of it applies.
      for (size_t k = i; k < batch.size(); ++k) results[k] = CreateResult::kLinkedEventChainOpen;
      break;
    }
    ++end;
    Undo undo{{}, {}, totals_, sequence_};
    size_t failed = end;
    for (size_t k = i; k < end; ++k) {
      results[k] = Apply(batch[k], undo);
      if (!Applied(results[k])) {
        failed = k;
        break;
      }
    }
    if (failed != end && end - i > 1) {
      Rollback(undo);
      for (size_t k = i; k < end; ++k) {
        if (k != failed) results[k] = CreateResult::kLinkedEventFailed;
      }
    }
    i = end;
  }
  return results;
}

Ledger::Changes Ledger::TakeChanges() { return {TakeAccounts(), TakeTransfers()}; }

namespace {

// The values `dirty` names, which it then forgets.
template <class T>
std::vector<const T*> TakeDirty(std::unordered_set<std::string>& dirty,
                                const std::unordered_map<std::string, T>& values) {
  std::vector<const T*> out;
  out.reserve(dirty.size());
  for (const auto& id : dirty) out.push_back(&values.at(id));
  dirty.clear();
  return out;
}

}  // namespace

std::vector<const Transfer*> Ledger::TakeTransfers() {
  return TakeDirty(dirty_transfers_, transfers_);
}

std::vector<const Account*> Ledger::TakeAccounts() { return TakeDirty(dirty_accounts_, accounts_); }

void Ledger::Clear() {
  accounts_.clear();
  transfers_.clear();
  dirty_accounts_.clear();
  dirty_transfers_.clear();
}

LedgerTotals Ledger::Audit() const {
  LedgerTotals t;
  for (const auto& [id, a] : accounts_) {
    t.debits_pending += a.debits_pending;
    t.debits_posted += a.debits_posted;
    t.credits_pending += a.credits_pending;
    t.credits_posted += a.credits_posted;
  }
  return t;
}

std::vector<Fen> Split(Fen total, std::span<const Fen> weights) {
  std::vector<Fen> parts(weights.size());
  if (weights.empty()) return parts;
  Int128 sum = 0;
  for (Fen w : weights) sum += w.value();
  if (sum <= 0) {
    parts[0] = total;
    return parts;
  }
  std::vector<std::pair<Int128, size_t>> remainders;
  Int128 given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const Int128 product = static_cast<Int128>(total.value()) * weights[i].value();
    parts[i] = Fen(static_cast<int64_t>(product / sum));
    given += parts[i].value();
    remainders.emplace_back(product % sum, i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < total.value() && k < remainders.size(); ++k, ++given) {
    parts[remainders[k].second] = parts[remainders[k].second] + Fen(1);
  }
  return parts;
}

}  // namespace pavilion::settlement
