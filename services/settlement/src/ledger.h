// Ledger: the settlement's double-entry posting core, after TigerBeetle's model.
//
// Accounts hold four sums in integer fen — debits and credits, each pending and posted — and a
// balance-constraint flag; an account's kind (and so its flag) is the part of its id before the
// first ':' ("payable:sel_1", "held:ord_1"). Transfers are immutable and idempotent by id: the
// same id with the same fields answers kExists and changes nothing, other fields answer
// kExistsWithDifferentFields. A pending transfer reserves its amount on both accounts until a
// later transfer posts it (in full or in part: what is not posted returns to the debit account)
// or voids it. Transfers flagged kLinked chain to the next one: a chain applies all or none, and
// when one fails the others answer kLinkedEventFailed.
//
// Pure: no store, no clock, no lock. The caller loads what a batch names (Missing, then Load:
// TigerBeetle's prefetch), runs Create, and persists what TakeChanges returns. Every posted and
// pending sum moves through Fen's checked arithmetic: an amount that would wrap is refused
// (kOverflow). Not thread-safe: one owner (the settlement worker).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pavilion/events/schema.h"

namespace pavilion::settlement {

// What an account is for. Its id is "<kind>:<owner>".
enum class AccountKind : uint8_t {
  kProvider,    // provider:<name> — what the payment provider holds for the platform (debit).
  kHeld,        // held:<order> — a paid order's money not yet settled or refunded.
  kPayable,     // payable:<party> — pending (credits_pending) and payable (balance) to a party.
  kFee,         // fee:platform — platform fee revenue.
  kRefunds,     // refunds:<shopper> — money returned to a shopper.
  kPaidOut,     // paid_out:<party> — in transit (credits_pending), paid out (credits_posted).
  kReceivable,  // receivable:<party> — clawed back after a payout: the party owes it.
};
std::string_view ToString(AccountKind k);
bool Parse(std::string_view s, AccountKind* out);
// The kind an account id names, if any.
std::optional<AccountKind> KindOf(std::string_view account_id);
std::string AccountId(AccountKind kind, std::string_view owner);

// Balance constraints (TigerBeetle's flags of the same names).
enum AccountFlags : uint32_t {
  kDebitsMustNotExceedCredits = 1,  // held, payable: never negative.
  kCreditsMustNotExceedDebits = 2,  // receivable: a debt, never a credit.
};
uint32_t FlagsOf(AccountKind kind);

struct Account {
  std::string id;
  uint32_t flags = 0;
  Fen debits_pending, debits_posted, credits_pending, credits_posted;
  // Credit-normal balance: credits_posted - debits_posted.
  Fen balance() const { return credits_posted - debits_posted; }
  // What a debit may still take under kDebitsMustNotExceedCredits.
  Fen available() const { return credits_posted - debits_posted - debits_pending; }
  template <class V>
  void Fields(V& v) {
    v(id), v(flags), v(debits_pending), v(debits_posted), v(credits_pending), v(credits_posted);
  }
  bool operator==(const Account&) const = default;
};

enum TransferFlags : uint32_t {
  kLinked = 1,       // Chains to the next transfer of the batch.
  kPending = 2,      // Reserves the amount; a later transfer posts or voids it.
  kPostPending = 4,  // Posts `pending_id` (amount 0: in full).
  kVoidPending = 8,  // Voids `pending_id`.
};

// Why a transfer was made; shown on statements and entries.
enum class TransferCode : uint16_t {
  kPayment = 1,   // provider → held: the shopper paid.
  kRefund = 2,    // held → refunds: money back to the shopper.
  kShare = 3,     // held → payable/fee: a party's share of a completed sale (pending, posted).
  kReversal = 4,  // payable/fee → held: a share reversed by a refund after completion.
  kClawback = 5,  // receivable → held: the part of a reversal already paid out.
  kPayout = 6,    // payable → paid_out: a payout (pending until confirmed or returned).
  kRecovery = 7,  // payable → receivable: new earnings settle an earlier clawback.
};
std::string_view ToString(TransferCode c);
bool Parse(std::string_view s, TransferCode* out);

enum class PendingState : uint8_t { kNone = 0, kPending, kPosted, kVoided };
std::string_view ToString(PendingState s);
bool Parse(std::string_view s, PendingState* out);

struct Transfer {
  std::string id;
  std::string debit_account_id, credit_account_id;
  Fen amount;
  std::string pending_id;  // For kPostPending / kVoidPending.
  uint32_t flags = 0;
  TransferCode code = TransferCode::kPayment;
  std::string order_id;   // The order it settles (user_data); empty for payouts.
  int64_t timestamp = 0;  // The causing event's time; set by the caller.
  // Set by the ledger: the order it was applied in (entries pages sort by it).
  uint64_t sequence = 0;
  // For a pending transfer: what became of it. Not part of its identity.
  PendingState state = PendingState::kNone;
  Fen posted_amount;  // For a posted pending transfer: how much was posted.

  // Same identity: every field the caller sets, except timestamp.
  bool SameAs(const Transfer& o) const {
    return id == o.id && debit_account_id == o.debit_account_id &&
           credit_account_id == o.credit_account_id && amount == o.amount &&
           pending_id == o.pending_id && flags == o.flags && code == o.code &&
           order_id == o.order_id;
  }
  template <class V>
  void Fields(V& v) {
    v(id), v(debit_account_id), v(credit_account_id), v(amount), v(pending_id), v(flags), v(code),
        v(order_id), v(timestamp), v(sequence), v(state), v(posted_amount);
  }
};

enum class CreateResult : uint8_t {
  kOk = 0,
  kExists,                     // Same id, same fields: applied before; nothing changes.
  kExistsWithDifferentFields,  // Same id, other fields: refused.
  kLinkedEventFailed,          // Another transfer of its chain failed.
  kLinkedEventChainOpen,       // The batch ended inside a chain.
  kIdMustNotBeEmpty,
  kAccountsMustBeDifferent,
  kAccountNotFound,  // An id that names no account kind.
  kAmountMustBePositive,
  kPendingNotFound,
  kPendingNotPending,  // Already posted or voided.
  kExceedsPendingAmount,
  kExceedsCredits,  // The debit account's kDebitsMustNotExceedCredits.
  kExceedsDebits,   // The credit account's kCreditsMustNotExceedDebits.
  kOverflow,        // A sum would not fit in 64 bits.
};
std::string_view ToString(CreateResult r);
inline bool Applied(CreateResult r) { return r == CreateResult::kOk || r == CreateResult::kExists; }

// Totals over every account: the books balance when both pairs agree.
struct LedgerTotals {
  Fen debits_pending, debits_posted, credits_pending, credits_posted;
  bool balanced() const {
    return debits_pending == credits_pending && debits_posted == credits_posted;
  }
};

class Ledger {
 public:
  // What a batch names that is not in memory: accounts and transfers (including pending ids),
  // and the accounts of the pending transfers in memory that a post or void resolves. Call it
  // again once the transfers are loaded: a pending transfer read from the store names accounts
  // too (a payout's confirm names none of its own).
  struct Missing {
    std::vector<std::string> accounts, transfers;
  };
  Missing Find(std::span<const Transfer> batch) const;
  // Prefetched from the store; a value already in memory is kept (memory is never behind).
  void Load(Account a);
  void Load(Transfer t);
  // The sequence to continue from (the store's highest).
  void LoadSequence(uint64_t sequence) { sequence_ = std::max(sequence_, sequence); }

  // Applies the batch in order, chains all or none; one result per transfer.
  std::vector<CreateResult> Create(std::span<const Transfer> batch);

  // The accounts and transfers changed since the last call, for the caller to persist.
  struct Changes {
    std::vector<const Account*> accounts;
    std::vector<const Transfer*> transfers;
  };
  Changes TakeChanges();
  // The same in two parts: the transfers changed (each chain's, written with their entries) and
  // the accounts (written once per batch however many chains moved them).
  std::vector<const Transfer*> TakeTransfers();
  std::vector<const Account*> TakeAccounts();

  const Account* account(std::string_view id) const;
  const Transfer* transfer(std::string_view id) const;
  uint64_t sequence() const { return sequence_; }
  // Sums kept as transfers apply: every transfer debits and credits the same amount, so these
  // agree unless the core is wrong. Audit recomputes them from the accounts in memory.
  const LedgerTotals& totals() const { return totals_; }
  LedgerTotals Audit() const;

  // How many accounts and transfers are in memory, and dropping them all (the store has them:
  // call only when every change taken is durable). Totals and the sequence stay.
  size_t cached() const { return accounts_.size() + transfers_.size(); }
  void Clear();

 private:
  struct Undo {
    std::vector<std::pair<std::string, std::optional<Account>>> accounts;
    std::vector<std::pair<std::string, std::optional<Transfer>>> transfers;
    LedgerTotals totals;
    uint64_t sequence = 0;
  };
  CreateResult Apply(const Transfer& t, Undo& undo);
  Account* Open(const std::string& id, Undo& undo);
  void Remember(const Transfer& t, Undo& undo);
  void Rollback(Undo& undo);

  std::unordered_map<std::string, Account> accounts_;
  std::unordered_map<std::string, Transfer> transfers_;
  std::unordered_set<std::string> dirty_accounts_, dirty_transfers_;
  LedgerTotals totals_;
  uint64_t sequence_ = 0;
};

// 128-bit products for proportions of fen amounts (a GCC/Clang extension).
__extension__ typedef __int128 Int128;

// Splits `total` over `weights` in proportion, each part rounded down and the fen left over
// given to the largest remainders (earliest first on ties): the parts sum to `total` exactly.
// All weights zero: everything to the first. Products are taken in 128 bits: no overflow.
std::vector<Fen> Split(Fen total, std::span<const Fen> weights);

}  // namespace pavilion::settlement
