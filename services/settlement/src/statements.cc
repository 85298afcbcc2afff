#include "statements.h"

#include <map>
#include <optional>
#include <unordered_map>

#include "ledger_book.h"
#include "pavilion/events/clock.h"

namespace pavilion::settlement {
namespace {

using events::svc_errc;

// An account's four sums as the statement replays them.
struct Sums {
  Fen debits_pending, debits_posted, credits_pending, credits_posted;
};

// What transfer `t` (resolving `pending`, for a post or void) does to the account on one side.
void Apply(Sums& s, bool credit, const Transfer& t, const Transfer* pending) {
  Fen& now_pending = credit ? s.credits_pending : s.debits_pending;
  Fen& now_posted = credit ? s.credits_posted : s.debits_posted;
  if (t.flags & (kPostPending | kVoidPending)) {
    if (pending != nullptr) now_pending = now_pending - pending->amount;
    if (t.flags & kPostPending) now_posted += t.amount;
  } else if (t.flags & kPending) {
    now_pending += t.amount;
  } else {
    now_posted += t.amount;
  }
}

StatementBalance View(const Sums& payable, const Sums& receivable) {
  StatementBalance b;
  b.pending = payable.credits_pending;
  b.payable = payable.credits_posted - payable.debits_posted - payable.debits_pending;
  b.receivable = receivable.debits_posted - receivable.credits_posted;
  return b;
}

// A share transfer's id: <cause>/<what>/<line>/<k> (posting.cc).
struct ShareRef {
  std::string cause, what;
  uint32_t line = 0;
  size_t k = 0;
};
std::optional<ShareRef> ParseShareId(std::string_view id) {
  ShareRef r;
  auto last = [&](std::string_view& rest) -> std::optional<std::string_view> {
    const size_t slash = rest.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::string_view part = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    return part;
  };
  std::string_view rest = id;
  auto k = last(rest), line = last(rest), what = last(rest);
  if (!k || !line || !what || rest.empty()) return std::nullopt;
  try {
    r.k = std::stoul(std::string(*k));
    r.line = uint32_t(std::stoul(std::string(*line)));
  } catch (...) {
    return std::nullopt;
  }
  r.what = std::string(*what);
  r.cause = std::string(rest);
  return r;
}

class Reader {
 public:
  explicit Reader(storage::KvStore& kv) : kv_(kv) {}

  std::optional<Transfer> Get(const std::string& id) {
    std::string bytes;
    if (kv_.Get(LedgerBook::StoreKey("t", id), &bytes)) return std::nullopt;
    auto t = events::Decode<Transfer>(bytes);
    if (!t.ok()) return std::nullopt;
    return std::move(*t);
  }
  const OrderBook* Book(const std::string& order_id) {
    if (auto it = books_.find(order_id); it != books_.end()) return &*it->second;
    std::optional<OrderBook> book;
    std::string bytes;
    if (!kv_.Get(LedgerBook::StoreKey("o", order_id), &bytes)) {
      if (auto b = events::Decode<OrderBook>(bytes); b.ok()) book = std::move(*b);
    }
    auto& slot = books_[order_id] = std::move(book);
    return slot ? &*slot : nullptr;
  }
  // Change of a credit-normal balance (the fee account's) made by transfer `id`.
  Fen CreditEffect(const std::string& id, const std::string& account) {
    auto t = Get(id);
    if (!t) return Fen(0);
    std::optional<Transfer> pending;
    if (!t->pending_id.empty()) pending = Get(t->pending_id);
    Sums s;
    if (t->credit_account_id == account) Apply(s, true, *t, pending ? &*pending : nullptr);
    if (t->debit_account_id == account) Apply(s, false, *t, pending ? &*pending : nullptr);
    return s.credits_pending + s.credits_posted - s.debits_pending - s.debits_posted;
  }

 private:
  storage::KvStore& kv_;
  std::unordered_map<std::string, std::optional<OrderBook>> books_;
};

}  // namespace

Result<Statement> ReadStatement(storage::KvStore& kv, const StatementQuery& q) {
  if (q.party_id.empty()) return {svc_errc::invalid_argument, "party_id: name a seller"};
  if ((!q.from_day.empty() && !events::IsDay(q.from_day)) ||
      (!q.to_day.empty() && !events::IsDay(q.to_day))) {
    return {svc_errc::invalid_argument, "from/to: use a day as YYYY-MM-DD"};
  }
  if (!q.from_day.empty() && !q.to_day.empty() && q.to_day < q.from_day) {
    return {svc_errc::invalid_argument, "to: give a day on or after from"};
  }
  const std::string payable = PayableAccount(q.party_id);
  const std::string receivable = AccountId(AccountKind::kReceivable, q.party_id);
  const std::string fee_account = PayableAccount(kPlatform);
  // Both accounts' entries, merged in the order applied (the key ends in the sequence, hex).
  std::map<std::string, std::string> entries;
  for (const std::string& account : {payable, receivable}) {
    const std::string prefix = LedgerBook::EntriesPrefix(account);
    auto ec =
        kv.Scan(prefix, storage::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
          entries.emplace(std::string(k.substr(prefix.size())), std::string(v));
          return true;
        });
    if (ec) return {svc_errc::internal, "reading the ledger failed"};
  }

  Reader reader(kv);
  Statement out;
  out.party_id = q.party_id;
  out.from_day = q.from_day;
  out.to_day = q.to_day;
  Sums pay, recv;
  bool opened = false;
  for (const auto& [seq, id] : entries) {
    auto t = reader.Get(id);
    if (!t) return {svc_errc::internal, "transfer " + id + " is missing from the ledger"};
    const std::string day = events::BusinessDay(t->timestamp);
    if (!q.to_day.empty() && day > q.to_day) continue;
    std::optional<Transfer> pending;
    if (!t->pending_id.empty()) pending = reader.Get(t->pending_id);
    const Transfer* p = pending ? &*pending : nullptr;
    if (!opened && (q.from_day.empty() || day >= q.from_day)) {
      out.opening = View(pay, recv);
      opened = true;
    }
    const Fen before = View(pay, recv).total();
    if (t->credit_account_id == payable) Apply(pay, true, *t, p);
    if (t->debit_account_id == payable) Apply(pay, false, *t, p);
    if (t->credit_account_id == receivable) Apply(recv, true, *t, p);
    if (t->debit_account_id == receivable) Apply(recv, false, *t, p);
    const Fen after = View(pay, recv).total();
    if (!q.from_day.empty() && day < q.from_day) continue;

    StatementLine line;
    line.day = day;
    line.order_id = t->order_id;
    line.net = after - before;
    if (t->code == TransferCode::kPayout) {
      line.kind = (t->flags & kVoidPending) ? "payout_returned" : "payout";
      line.reference = id.substr(0, id.find('/'));
    } else if (auto ref = ParseShareId(id); ref && !t->order_id.empty()) {
      const OrderBook* book = reader.Book(t->order_id);
      bool sale = false;
      if (book != nullptr) {
        for (const auto& sub : book->subs) sale = sale || sub.sub_id == ref->cause;
        // The fee is the platform's share of the same line, moved by the same cause: only the
        // supplier's gross carries it.
        for (const auto& l : book->lines) {
          if (l.line != ref->line || ref->k >= l.shares.size()) continue;
          const Share& mine = l.shares[ref->k];
          if (mine.role != ShareRole::kSupplier || mine.party != q.party_id) continue;
          for (size_t kp = 0; kp < l.shares.size(); ++kp) {
            if (l.shares[kp].role != ShareRole::kPlatform) continue;
            line.fee +=
                reader.CreditEffect(ref->cause + "/" + ref->what + "/" + std::to_string(ref->line) +
                                        "/" + std::to_string(kp),
                                    fee_account);
          }
        }
      }
      line.kind = sale ? "sale" : "reversal";
      line.reference = ref->cause;
    } else {
      line.kind = "adjustment";
      line.reference = id;
    }
    line.gross = line.net + line.fee;
    line.balance = after;
    if (line.net.value() == 0 && line.fee.value() == 0) continue;  // e.g. a share becoming payable.
    // One line per cause: a sale's lines and shares, a refund's void and new reserve.
    if (!out.lines.empty()) {
      StatementLine& last = out.lines.back();
      if (last.kind == line.kind && last.reference == line.reference &&
          last.order_id == line.order_id && last.day == line.day) {
        last.gross += line.gross;
        last.fee += line.fee;
        last.net += line.net;
        last.balance = after;
        continue;
      }
    }
    out.lines.push_back(std::move(line));
  }
  out.closing = View(pay, recv);
  if (!opened) out.opening = out.closing;  // Nothing in the period: nothing moved.
  return out;
}

}  // namespace pavilion::settlement
