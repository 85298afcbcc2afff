// The ledger's pure posting core (services/settlement/src/ledger.h): idempotent transfers,
// two-phase transfers, linked chains, balance constraints, checked sums and Split.
#include "../../services/settlement/src/ledger.h"

#include <gtest/gtest.h>

#include <limits>

namespace pavilion::settlement {
namespace {

Transfer T(std::string id, std::string debit, std::string credit, int64_t fen, uint32_t flags = 0,
           std::string pending_id = "") {
  Transfer t;
  t.id = std::move(id);
  t.debit_account_id = std::move(debit);
  t.credit_account_id = std::move(credit);
  t.amount = Fen(fen);
  t.flags = flags;
  t.pending_id = std::move(pending_id);
  t.code = TransferCode::kShare;
  t.order_id = "ord_1";
  return t;
}

CreateResult One(Ledger& l, const Transfer& t) { return l.Create(std::span(&t, 1))[0]; }

Fen Balance(const Ledger& l, std::string_view id) {
  const Account* a = l.account(id);
  return a ? a->balance() : Fen(0);
}

TEST(Ledger, SameIdSameFieldsExistsOtherFieldsConflict) {
  Ledger l;
  EXPECT_EQ(One(l, T("t1", "provider:builtin", "held:ord_1", 1000)), CreateResult::kOk);
  EXPECT_EQ(One(l, T("t1", "provider:builtin", "held:ord_1", 1000)), CreateResult::kExists);
  EXPECT_EQ(One(l, T("t1", "provider:builtin", "held:ord_1", 999)),
            CreateResult::kExistsWithDifferentFields);
  EXPECT_EQ(Balance(l, "held:ord_1"), Fen(1000));  // Applied once.
  EXPECT_EQ(l.account("held:ord_1")->credits_posted, Fen(1000));
  EXPECT_TRUE(l.totals().balanced());
  EXPECT_EQ(One(l, T("", "provider:builtin", "held:ord_1", 1)), CreateResult::kIdMustNotBeEmpty);
  EXPECT_EQ(One(l, T("t2", "held:ord_1", "held:ord_1", 1)), CreateResult::kAccountsMustBeDifferent);
  EXPECT_EQ(One(l, T("t3", "nowhere:x", "held:ord_1", 1)), CreateResult::kAccountNotFound);
  EXPECT_EQ(One(l, T("t4", "provider:builtin", "held:ord_1", 0)),
            CreateResult::kAmountMustBePositive);
}

// A post or void may name no accounts (a payout's confirm): once its pending transfer is
// loaded from the store, Find names that transfer's accounts too, so a ledger whose caches were
// dropped loads them rather than opening them afresh over the stored sums.
TEST(Ledger, FindNamesTheAccountsOfALoadedPendingTransfer) {
  Ledger before;
  ASSERT_EQ(One(before, T("pay", "provider:builtin", "held:ord_1", 500)), CreateResult::kOk);
  ASSERT_EQ(One(before, T("share", "held:ord_1", "payable:sel_1", 500)), CreateResult::kOk);
  ASSERT_EQ(One(before, T("po", "payable:sel_1", "paid_out:sel_1", 500, kPending)),
            CreateResult::kOk);
  const Transfer confirm = T("po/confirm", "", "", 0, kPostPending, "po");
  Ledger after;  // The caches dropped: nothing in memory.
  auto missing = after.Find(std::span(&confirm, 1));
  EXPECT_EQ(missing.transfers, (std::vector<std::string>{"po/confirm", "po"}));
  after.Load(*before.transfer("po"));
  missing = after.Find(std::span(&confirm, 1));
  EXPECT_EQ(missing.accounts, (std::vector<std::string>{"payable:sel_1", "paid_out:sel_1"}));
  for (const auto& id : missing.accounts) after.Load(*before.account(id));
  ASSERT_EQ(One(after, confirm), CreateResult::kOk);
  EXPECT_EQ(after.account("paid_out:sel_1")->credits_posted, Fen(500));
  EXPECT_EQ(after.account("payable:sel_1")->credits_posted, Fen(500));  // Kept, not reopened.
  EXPECT_EQ(after.account("payable:sel_1")->debits_posted, Fen(500));
}

TEST(Ledger, HeldAndPayableNeverGoNegativeReceivableNeverPositive) {
  Ledger l;
  ASSERT_EQ(One(l, T("pay", "provider:builtin", "held:ord_1", 500)), CreateResult::kOk);
  EXPECT_EQ(One(l, T("over", "held:ord_1", "payable:sel_1", 501)), CreateResult::kExceedsCredits);
  ASSERT_EQ(One(l, T("share", "held:ord_1", "payable:sel_1", 500)), CreateResult::kOk);
  EXPECT_EQ(One(l, T("neg", "payable:sel_1", "held:ord_1", 501)), CreateResult::kExceedsCredits);
  // A receivable is a debt: it may be debited (the party owes) but not credited past zero.
  EXPECT_EQ(One(l, T("rc", "provider:builtin", "receivable:sel_1", 1)),
            CreateResult::kExceedsDebits);
  ASSERT_EQ(One(l, T("claw", "receivable:sel_1", "held:ord_1", 300)), CreateResult::kOk);
  EXPECT_EQ(l.account("receivable:sel_1")->debits_posted, Fen(300));
  ASSERT_EQ(One(l, T("rec", "payable:sel_1", "receivable:sel_1", 300)), CreateResult::kOk);
  EXPECT_EQ(Balance(l, "receivable:sel_1"), Fen(0));
  EXPECT_TRUE(l.Audit().balanced());
}

TEST(Ledger, PendingPostsInPartAndTheRestReturns) {
  Ledger l;
  ASSERT_EQ(One(l, T("pay", "provider:builtin", "held:ord_1", 1000)), CreateResult::kOk);
  ASSERT_EQ(One(l, T("p1", "held:ord_1", "payable:sel_1", 800, kPending)), CreateResult::kOk);
  EXPECT_EQ(l.account("held:ord_1")->available(), Fen(200));
  EXPECT_EQ(l.account("payable:sel_1")->credits_pending, Fen(800));
  // The reservation holds: the held account cannot give what is pending away.
  EXPECT_EQ(One(l, T("x", "held:ord_1", "refunds:shp_1", 201)), CreateResult::kExceedsCredits);
  EXPECT_EQ(One(l, T("post", "", "", 801, kPostPending, "p1")),
            CreateResult::kExceedsPendingAmount);
  ASSERT_EQ(One(l, T("post", "", "", 600, kPostPending, "p1")), CreateResult::kOk);
  EXPECT_EQ(Balance(l, "payable:sel_1"), Fen(600));
  EXPECT_EQ(l.account("payable:sel_1")->credits_pending, Fen(0));
  EXPECT_EQ(Balance(l, "held:ord_1"), Fen(400));  // 200 unreserved + 200 returned.
  EXPECT_EQ(l.transfer("p1")->state, PendingState::kPosted);
  EXPECT_EQ(l.transfer("p1")->posted_amount, Fen(600));
  EXPECT_EQ(One(l, T("void", "", "", 0, kVoidPending, "p1")), CreateResult::kPendingNotPending);
  // Re-delivered with the fields filled in, it is the same transfer.
  EXPECT_EQ(One(l, T("post", "held:ord_1", "payable:sel_1", 600, kPostPending, "p1")),
            CreateResult::kExists);
  EXPECT_EQ(One(l, T("post2", "", "", 0, kPostPending, "nope")), CreateResult::kPendingNotFound);
  EXPECT_TRUE(l.Audit().balanced());
}

TEST(Ledger, VoidReturnsEverything) {
  Ledger l;
  ASSERT_EQ(One(l, T("pay", "provider:builtin", "held:ord_1", 1000)), CreateResult::kOk);
  ASSERT_EQ(One(l, T("p1", "held:ord_1", "payable:sel_1", 1000, kPending)), CreateResult::kOk);
  ASSERT_EQ(One(l, T("v1", "", "", 0, kVoidPending, "p1")), CreateResult::kOk);
  EXPECT_EQ(l.account("held:ord_1")->available(), Fen(1000));
  EXPECT_EQ(l.account("payable:sel_1")->credits_pending, Fen(0));
  EXPECT_EQ(l.transfer("p1")->state, PendingState::kVoided);
  EXPECT_TRUE(l.totals().balanced());
}

TEST(Ledger, LinkedChainAppliesAllOrNone) {
  Ledger l;
  ASSERT_EQ(One(l, T("pay", "provider:builtin", "held:ord_1", 1000)), CreateResult::kOk);
  std::vector<Transfer> chain = {
      T("a", "held:ord_1", "payable:sel_1", 600, kLinked | kPending),
      T("b", "held:ord_1", "payable:sel_2", 300, kLinked | kPending),
      T("c", "held:ord_1", "fee:platform", 200, kPending),  // 1100 > 1000: the chain fails.
      T("d", "held:ord_1", "fee:platform", 100),            // Its own chain of one.
  };
  auto r = l.Create(chain);
  EXPECT_EQ(r[0], CreateResult::kLinkedEventFailed);
  EXPECT_EQ(r[1], CreateResult::kLinkedEventFailed);
  EXPECT_EQ(r[2], CreateResult::kExceedsCredits);
  EXPECT_EQ(r[3], CreateResult::kOk);
  EXPECT_EQ(l.transfer("a"), nullptr);
  EXPECT_EQ(l.account("payable:sel_1"), nullptr);  // Opened by the chain, closed by its failure.
  EXPECT_EQ(l.account("held:ord_1")->available(), Fen(900));
  EXPECT_TRUE(l.Audit().balanced());
  EXPECT_EQ(l.totals().credits_posted, l.Audit().credits_posted);
  std::vector<Transfer> open = {T("e", "held:ord_1", "fee:platform", 1, kLinked)};
  EXPECT_EQ(l.Create(open)[0], CreateResult::kLinkedEventChainOpen);
  EXPECT_EQ(l.transfer("e"), nullptr);
  // Only what changed is handed out to persist, once.
  auto changes = l.TakeChanges();
  EXPECT_EQ(changes.transfers.size(), 2u);  // pay, d
  EXPECT_TRUE(l.TakeChanges().transfers.empty());
}

TEST(Ledger, SumsThatWouldWrapAreRefused) {
  Ledger l;
  const int64_t max = std::numeric_limits<int64_t>::max();
  ASSERT_EQ(One(l, T("a", "provider:builtin", "fee:platform", max)), CreateResult::kOk);
  EXPECT_EQ(One(l, T("b", "provider:builtin", "fee:platform", 1)), CreateResult::kOverflow);
  EXPECT_EQ(l.account("fee:platform")->credits_posted, Fen(max));
  EXPECT_TRUE(l.totals().balanced());
}

TEST(Ledger, LoadedStateIsKeptAndMemoryWins) {
  Ledger l;
  ASSERT_EQ(One(l, T("pay", "provider:builtin", "held:ord_1", 1000)), CreateResult::kOk);
  Account stale{"held:ord_1", kDebitsMustNotExceedCredits, Fen(), Fen(), Fen(), Fen(5)};
  l.Load(stale);
  EXPECT_EQ(Balance(l, "held:ord_1"), Fen(1000));
  auto missing = l.Find(std::vector<Transfer>{T("pay", "provider:builtin", "held:ord_2", 1),
                                              T("z", "", "", 0, kPostPending, "p9")});
  EXPECT_EQ(missing.accounts, std::vector<std::string>{"held:ord_2"});
  EXPECT_EQ(missing.transfers, (std::vector<std::string>{"z", "p9"}));
  auto decoded = events::Decode<Transfer>(events::Encode(*l.transfer("pay")));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->SameAs(*l.transfer("pay")));
  EXPECT_EQ(decoded->sequence, 1u);
}

TEST(Split, PartsSumExactlyToTheTotal) {
  std::vector<Fen> w = {Fen(1), Fen(1), Fen(1)};
  auto p = Split(Fen(100), w);
  EXPECT_EQ(p, (std::vector<Fen>{Fen(34), Fen(33), Fen(33)}));
  std::vector<Fen> big = {Fen(std::numeric_limits<int64_t>::max()), Fen(1)};
  auto q = Split(Fen(std::numeric_limits<int64_t>::max()), big);
  EXPECT_EQ(q[0].value() + q[1].value(), std::numeric_limits<int64_t>::max());
  std::vector<Fen> zero = {Fen(0), Fen(0)};
  EXPECT_EQ(Split(Fen(7), zero), (std::vector<Fen>{Fen(7), Fen(0)}));
}

}  // namespace
}  // namespace pavilion::settlement
