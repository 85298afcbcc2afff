#include "ledger_book.h"

#include <cstdio>
#include <map>

namespace pavilion::settlement {
namespace {

const std::string kRulesKey = std::string(kLedgerPrefix) + "rules";
const std::string kSequenceKey = std::string(kLedgerPrefix) + "seq";

}  // namespace

const Account* LedgerBook::LoadAccount(const std::string& id) {
  if (const Account* a = ledger_.account(id)) return a;
  // An account read as absent stays absent until the ledger opens it (in memory, found above):
  // this book is its only writer. A party without debts has no receivable account, and every
  // share it earns asks for it.
  if (absent_accounts_.count(id)) return nullptr;
  std::string bytes;
  if (storage::GetOrAbort(kv_, LedgerBook::StoreKey("a", id), &bytes)) {
    if (auto a = events::Decode<Account>(bytes); a.ok()) ledger_.Load(*a);
  }
  const Account* a = ledger_.account(id);
  if (a == nullptr) absent_accounts_.insert(id);
  return a;
}

OrderBook* LedgerBook::Book(const std::string& order_id) {
  if (auto it = books_.find(order_id); it != books_.end()) return &it->second;
  std::string bytes;
  if (!storage::GetOrAbort(kv_, LedgerBook::StoreKey("o", order_id), &bytes)) return nullptr;
  auto book = events::Decode<OrderBook>(bytes);
  if (!book.ok()) return nullptr;
  return &(books_[order_id] = std::move(*book));
}

bool LedgerBook::Post(const std::vector<Transfer>& chain, events::Transaction& tx) {
  if (chain.empty()) return true;
  if (ledger_.sequence() == 0) {
    std::string bytes;
    if (storage::GetOrAbort(kv_, kSequenceKey, &bytes)) {
      if (auto s = events::Decode<uint64_t>(bytes); s.ok()) ledger_.LoadSequence(*s);
    }
  }
  Ledger::Missing missing = ledger_.Find(chain);
  for (const auto& id : missing.transfers) {
    std::string bytes;
    if (storage::GetOrAbort(kv_, LedgerBook::StoreKey("t", id), &bytes)) {
      if (auto t = events::Decode<Transfer>(bytes); t.ok()) ledger_.Load(std::move(*t));
    }
  }
  // The pending transfers just read name accounts of their own (a post or void that names none
  // moves them): without them the ledger would open those accounts afresh over the stored ones.
  if (!missing.transfers.empty()) missing = ledger_.Find(chain);
  for (const auto& id : missing.accounts) LoadAccount(id);
  const std::vector<CreateResult> results = ledger_.Create(chain);
  bool ok = true;
  for (size_t i = 0; i < results.size(); ++i) {
    if (Applied(results[i])) continue;
    if (ok) {
      std::fprintf(stderr, "pavilion: settlement: ledger refused %s: %s\n", chain[i].id.c_str(),
                   std::string(ToString(results[i])).c_str());
    }
    ok = false;
  }
  if (!ok) ++refused_chains_;
  // Accounts, the sequence and the queues' sums are shared by many chains: Flush writes them
  // once per batch. A transfer's entries are written with it, when it first appears (a pending
  // transfer resolved later is rewritten for its state; its entries exist already).
  for (const Transfer* t : ledger_.TakeTransfers()) {
    tx.state().Put(LedgerBook::StoreKey("t", t->id), events::Encode(*t));
    if (t->state == PendingState::kNone || t->state == PendingState::kPending) {
      tx.state().Put(LedgerBook::EntryKey(t->debit_account_id, t->sequence), t->id);
      tx.state().Put(LedgerBook::EntryKey(t->credit_account_id, t->sequence), t->id);
    }
  }
  return ok;
}

void LedgerBook::Flush(events::Transaction& tx) {
  for (const Account* a : ledger_.TakeAccounts()) {
    tx.state().Put(LedgerBook::StoreKey("a", a->id), events::Encode(*a));
  }
  if (ledger_.sequence() != saved_sequence_) {
    tx.state().Put(kSequenceKey, events::Encode(ledger_.sequence()));
    saved_sequence_ = ledger_.sequence();
  }
  FlushQueueSums(tx);
}

void LedgerBook::DropCaches() {
  ledger_.Clear();
  absent_accounts_.clear();
  books_.clear();
  products_.clear();
  payouts_.clear();
  allocs_.clear();
  payable_queues_.clear();
  owed_queues_.clear();
  queued_ = 0;
}

void LedgerBook::Save(const OrderBook& book, events::Transaction& tx) {
  tx.state().Put(LedgerBook::StoreKey("o", book.order_id), events::Encode(book));
  Check(book);
}

void LedgerBook::Check(const OrderBook& book) {
  // From the store when not in memory: an event that posts nothing (a completion of a sub-order
  // refunded in full) after the caches were dropped has not loaded it.
  const Account* held = LoadAccount(HeldAccount(book.order_id));
  const Fen still_held = held ? held->available() : Fen(0);
  if (book.paid != book.refunded + book.Shares() + still_held) {
    ++order_violations_;
    std::fprintf(stderr, "pavilion: settlement: order %s does not balance\n",
                 book.order_id.c_str());
  }
}

void LedgerBook::Product(const schema::ProductCreated& p, events::Transaction& tx) {
  ProductFacts f{p.category, p.poverty_zone};
  tx.state().Put(LedgerBook::StoreKey("p", p.product_id), events::Encode(f));
  products_[p.product_id] = std::move(f);
}

void LedgerBook::FeeRulesSet(const schema::FeeRulesSet& in, events::Transaction& tx) {
  FeeRules r;
  r.default_bps = in.default_bps;
  r.by_category = in.by_category;
  r.by_seller = in.by_seller;
  tx.state().Put(kRulesKey, events::Encode(r));
  rules_ = std::move(r);
  rules_loaded_ = true;
}

void LedgerBook::Paid(const schema::OrderPaid& paid, int64_t micros, events::Transaction& tx) {
  if (Book(paid.order_id) != nullptr) return;  // Booked already.
  std::vector<ProductFacts> facts;
  for (const auto& line : paid.lines) {
    auto it = products_.find(line.product_id);
    if (it == products_.end()) {
      ProductFacts f;
      std::string bytes;
      if (storage::GetOrAbort(kv_, LedgerBook::StoreKey("p", line.product_id), &bytes)) {
        if (auto d = events::Decode<ProductFacts>(bytes); d.ok()) f = *d;
      }
      it = products_.emplace(line.product_id, std::move(f)).first;
    }
    facts.push_back(it->second);
  }
  OrderBook book = BookOf(paid, micros, facts);
  if (!Post(PaymentTransfers(book), tx)) return;
  Save(book, tx);
  books_[paid.order_id] = std::move(book);
}

const FeeRules& LedgerBook::Rules() {
  if (!rules_loaded_) {
    std::string bytes;
    if (storage::GetOrAbort(kv_, kRulesKey, &bytes)) {
      if (auto r = events::Decode<FeeRules>(bytes); r.ok()) rules_ = *r;
    }
    rules_loaded_ = true;
  }
  return rules_;
}

void LedgerBook::Completed(const schema::SubOrderChanged& c, int64_t micros,
                           events::Transaction& tx) {
  OrderBook* book = Book(c.order_id);
  if (book == nullptr) return;
  OrderBook next = *book;
  if (!Post(Complete(next, c.seller_id, c.sub_id, Rules(), micros), tx)) return;
  *book = std::move(next);
  Save(*book, tx);
}

void LedgerBook::AfterSaleClosed(const schema::SubOrderChanged& c, int64_t micros,
                                 events::Transaction& tx) {
  OrderBook* book = Book(c.order_id);
  if (book == nullptr) return;
  OrderBook next = *book;
  std::vector<Transfer> chain = Close(next, c.seller_id, micros);
  // What a party owes from a clawback is recovered from these earnings before they are payable.
  if (const SubBook* sub = next.Sub(c.seller_id); sub != nullptr && !chain.empty()) {
    std::map<std::string, Fen> incoming;
    for (uint32_t i : sub->lines) {
      for (const auto& s : next.lines[i].shares) {
        if (!s.transfer_id.empty()) incoming[s.party] += s.net();
      }
    }
    for (const auto& [party, amount] : incoming) {
      LoadAccount(PayableAccount(party));
      LoadAccount(AccountId(AccountKind::kReceivable, party));
      if (auto r = Recovery(sub->sub_id + "/recover/" + party, party, amount, ledger_,
                            next.order_id, micros)) {
        chain.push_back(std::move(*r));
      }
    }
    chain = Linked(std::move(chain));
  }
  if (!Post(chain, tx)) return;
  *book = std::move(next);
  Save(*book, tx);
  if (const SubBook* sub = book->Sub(c.seller_id); sub != nullptr && !chain.empty()) {
    SharesPosted(*book, *sub, chain, tx);
  }
}

void LedgerBook::Refunded(const schema::RefundChanged& r, int64_t micros, events::Transaction& tx) {
  OrderBook* book = Book(r.order_id);
  if (book == nullptr) return;
  // The reversal reads the parties' balances: load them first.
  if (SubBook* sub = book->Sub(r.seller_id)) {
    for (uint32_t i : sub->lines) {
      for (const auto& s : book->lines[i].shares) LoadAccount(PayableAccount(s.party));
    }
  }
  OrderBook next = *book;
  if (!Post(Refund(next, r, ledger_, micros), tx)) return;
  SharesReversed(*book, next, r.seller_id, r.refund_id, tx);
  *book = std::move(next);
  Save(*book, tx);
}

void LedgerBook::Save(const PayoutView& payout, events::Transaction& tx) {
  tx.state().Put(LedgerBook::StoreKey("po", payout.payout_id), events::Encode(payout));
  tx.state().Put(LedgerBook::StoreKey("pp", payout.party_id) + "/" + payout.payout_id, "");
  payouts_[payout.payout_id] = payout;
}

std::optional<PayoutView> LedgerBook::Payout(const std::string& payout_id) {
  if (auto it = payouts_.find(payout_id); it != payouts_.end()) return it->second;
  std::string bytes;
  if (!storage::GetOrAbort(kv_, LedgerBook::StoreKey("po", payout_id), &bytes)) return std::nullopt;
  auto p = events::Decode<PayoutView>(bytes);
  if (!p.ok()) return std::nullopt;
  return payouts_[payout_id] = std::move(*p);
}

std::optional<PayoutView> LedgerBook::PayoutRequested(const schema::PayoutChanged& p,
                                                      int64_t micros, events::Transaction& tx) {
  if (Payout(p.payout_id)) return std::nullopt;  // Folded already.
  PayoutView v;
  v.payout_id = p.payout_id;
  v.party_id = p.party_id;
  v.provider = p.provider;
  v.amount = p.amount;
  v.requested_micros = micros;
  const Account* payable = LoadAccount(PayableAccount(p.party_id));
  LoadAccount(AccountId(AccountKind::kPaidOut, p.party_id));
  if (p.amount.value() <= 0 || p.party_id == kPlatform || payable == nullptr ||
      payable->available() < p.amount) {
    // A refund took the balance between the run and this fold: nothing moves, nothing is sent.
    v.state = "refused";
    v.reason = "the payable balance no longer holds the amount";
  } else if (Post({PayoutTransfer(p.payout_id, p.party_id, p.amount, micros)}, tx)) {
    v.state = "in_transit";
    v.transfer_ids.push_back(p.payout_id);
    // The oldest payable shares first.
    for (const Cut& c : TakePayable(p.party_id, p.amount, &v, tx)) {
      const ShareAlloc* a = Alloc(c.share);
      v.parts.push_back({c.share, a ? a->order_id : std::string(), c.sequence, c.amount});
    }
    CheckQueues(p.party_id);
  } else {
    v.state = "refused";
    v.reason = "the ledger refused the transfer";
  }
  Save(v, tx);
  return v;
}

std::optional<PayoutView> LedgerBook::PayoutResolved(const schema::PayoutChanged& p, bool confirmed,
                                                     int64_t micros, events::Transaction& tx) {
  std::optional<PayoutView> v = Payout(p.payout_id);
  if (!v || v->state != "in_transit") return std::nullopt;
  std::vector<Transfer> chain = {PayoutResolve(p.payout_id, confirmed, micros)};
  if (!confirmed) {
    LoadAccount(PayableAccount(v->party_id));
    LoadAccount(AccountId(AccountKind::kReceivable, v->party_id));
    if (auto r = Recovery(p.payout_id + "/recover", v->party_id, v->amount, ledger_, "", micros)) {
      chain.push_back(std::move(*r));
    }
  }
  // Linked in place: the recovery's amount and the transfer ids below read the chain.
  chain = Linked(std::move(chain));
  if (!Post(chain, tx)) return std::nullopt;
  // Each share it carried: paid out, or payable again at its old place in the queue.
  for (const PayoutPart& part : v->parts) {
    ShareAlloc* a = Alloc(part.share);
    if (a == nullptr) continue;
    a->in_transit = a->in_transit - part.amount;
    for (auto& cut : a->payouts) {
      if (cut.payout_id == p.payout_id) cut.state = confirmed ? "paid_out" : "returned";
    }
    if (confirmed) {
      a->paid_out += part.amount;
      SaveAlloc(*a, tx);
    } else {
      Enqueue(*a, part.amount, tx);
    }
  }
  if (!confirmed && chain.size() > 1) Recovered(v->party_id, chain.back().amount, tx);
  if (!confirmed) CheckQueues(v->party_id);
  v->state = confirmed ? "paid_out" : "returned";
  v->reason = p.reason;
  v->settled_micros = micros;
  v->transfer_ids.push_back(p.payout_id + (confirmed ? "/confirm" : "/return"));
  if (!confirmed && chain.size() > 1) v->transfer_ids.push_back(p.payout_id + "/recover");
  Save(*v, tx);
  return v;
}

std::vector<PayoutView> LedgerBook::Payouts(const std::string& party_id, size_t limit) {
  std::vector<PayoutView> out;
  const std::string prefix = party_id.empty() ? LedgerBook::StoreKey("po", "")
                                              : LedgerBook::StoreKey("pp", party_id) + "/";
  (void)kv_.Scan(prefix, storage::PrefixEnd(prefix), [&](std::string_view k, std::string_view) {
    if (auto p = Payout(std::string(k.substr(prefix.size())))) out.push_back(std::move(*p));
    return out.size() < limit;
  });
  return out;
}

std::vector<std::pair<std::string, Fen>> LedgerBook::PayableBalances() {
  std::vector<std::pair<std::string, Fen>> out;
  const std::string prefix = LedgerBook::StoreKey("a", AccountId(AccountKind::kPayable, ""));
  (void)kv_.Scan(prefix, storage::PrefixEnd(prefix), [&](std::string_view k, std::string_view v) {
    const std::string id(k.substr(LedgerBook::StoreKey("a", "").size()));
    Fen available;
    if (const Account* a = ledger_.account(id)) {
      available = a->available();
    } else if (auto a = events::Decode<Account>(v); a.ok()) {
      available = a->available();
    }
    out.emplace_back(id.substr(id.find(':') + 1), available);
    return true;
  });
  return out;
}

Result<OrderSettlement> LedgerBook::Order(const std::string& order_id) {
  OrderBook* book = Book(order_id);
  if (book == nullptr) {
    return {events::svc_errc::not_found, "order " + order_id + " has no settlement (not paid)"};
  }
  OrderSettlement out;
  out.order_id = book->order_id;
  out.shopper_id = book->shopper_id;
  out.paid = book->paid;
  out.refunded = book->refunded;
  out.shares = book->Shares();
  const Account* held = LoadAccount(HeldAccount(order_id));
  out.held = held ? held->available() : Fen(0);
  out.balanced = out.paid == out.refunded + out.shares + out.held;
  for (const auto& sub : book->subs) {
    SubSettlement s;
    s.sub_id = sub.sub_id;
    s.seller_id = sub.seller_id;
    s.state = ToString(sub.state);
    for (uint32_t i : sub.lines) {
      const LineBook& l = book->lines[i];
      LineSettlement v;
      v.line = l.line;
      v.sku_id = l.sku_id;
      v.product_id = l.product_id;
      v.supplier_id = l.supplier_id;
      v.category = l.category;
      v.poverty = l.poverty;
      v.quantity = l.quantity;
      v.paid = l.amount;
      v.refunded = l.refunded;
      v.fee_bps = l.fee_bps;
      for (const auto& c : l.distribution.commissions) v.distributor_ids.push_back(c.seller_id);
      for (size_t k = 0; k < l.shares.size(); ++k) {
        const Share& sh = l.shares[k];
        ShareView sv;
        sv.role = ToString(sh.role);
        sv.party = sh.party;
        sv.amount = sh.gross;
        sv.reversed = sh.reversed;
        sv.clawed = sh.clawed;
        const bool platform = sh.party == kPlatform;
        const ShareAlloc* a = nullptr;
        if (sub.state == SubState::kPending) sv.pending = sh.net();
        if (sub.state == SubState::kPayable) {
          if (platform) sv.payable = sh.net();
          if (!platform && !sh.transfer_id.empty()) {
            a = Alloc(ShareTransferId(sub.sub_id, "post", l.line, k));
          }
        }
        if (a != nullptr) {
          sv.payable = a->payable;
          sv.in_transit = a->in_transit;
          sv.paid_out = a->paid_out;
          sv.offset = a->offset;
          sv.receivable = a->owed;
          for (const auto& cut : a->payouts) {
            sv.payouts.push_back({cut.payout_id, cut.state, cut.amount});
          }
        }
        sv.state = ShareState(ToString(sub.state), sh.net(), sh.reversed, a, platform);
        if (!sh.transfer_id.empty()) sv.transfer_ids.push_back(sh.transfer_id);
        if (a != nullptr) sv.transfer_ids.push_back(a->id);
        v.shares.push_back(std::move(sv));
      }
      s.lines.push_back(std::move(v));
    }
    out.sub_orders.push_back(std::move(s));
  }
  // The order's transfers are the held account's entries.
  const std::string prefix = LedgerBook::StoreKey("e", HeldAccount(order_id)) + "/";
  (void)kv_.Scan(prefix, storage::PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    out.transfer_ids.emplace_back(v);
    return true;
  });
  return out;
}

PartyBalances LedgerBook::Balances(const std::string& party_id) {
  PartyBalances b;
  b.party_id = party_id;
  if (const Account* p = LoadAccount(PayableAccount(party_id))) {
    b.pending = p->credits_pending;
    b.payable = p->available();
  }
  if (const Account* o = LoadAccount(AccountId(AccountKind::kPaidOut, party_id))) {
    b.in_transit = o->credits_pending;
    b.paid_out = o->credits_posted;
  }
  if (const Account* r = LoadAccount(AccountId(AccountKind::kReceivable, party_id))) {
    b.receivable = r->debits_posted - r->credits_posted;
  }
  if (const Account* r = LoadAccount(AccountId(AccountKind::kRefunds, party_id))) {
    b.refunded = r->credits_posted - r->debits_posted;
  }
  if (const Account* f = LoadAccount(AccountId(AccountKind::kFee, party_id))) {
    b.fee = f->credits_posted - f->debits_posted;
  }
  for (AccountKind kind : kPartyAccountKinds) {
    if (const Account* a = LoadAccount(AccountId(kind, party_id))) {
      b.accounts.push_back({a->id, std::string(ToString(kind)), a->debits_pending, a->debits_posted,
                            a->credits_pending, a->credits_posted});
    }
  }
  return b;
}

Result<LedgerAudit> LedgerBook::Audit() {
  LedgerAudit audit;
  std::map<std::string, AccountKindTotals> kinds;
  std::error_code inner;
  const std::string prefix = LedgerBook::StoreKey("a", "");
  auto ec = kv_.Scan(prefix, storage::PrefixEnd(prefix), [&](std::string_view, std::string_view v) {
    auto a = events::Decode<Account>(v);
    if (!a.ok()) {
      inner = a.error();
      return false;
    }
    auto kind = KindOf(a->id);
    AccountKindTotals& t = kinds[kind ? std::string(ToString(*kind)) : "unknown"];
    ++t.accounts;
    t.debits_posted += a->debits_posted;
    t.credits_posted += a->credits_posted;
    t.debits_pending += a->debits_pending;
    t.credits_pending += a->credits_pending;
    audit.debits_posted += a->debits_posted;
    audit.credits_posted += a->credits_posted;
    audit.debits_pending += a->debits_pending;
    audit.credits_pending += a->credits_pending;
    return true;
  });
  if (ec || inner) return {events::svc_errc::internal, "reading the ledger failed"};
  for (auto& [name, t] : kinds) {
    t.kind = name;
    audit.kinds.push_back(t);
  }
  audit.balanced =
      audit.debits_posted == audit.credits_posted && audit.debits_pending == audit.credits_pending;
  std::string bytes;
  if (!kv_.Get(kSequenceKey, &bytes)) {
    if (auto s = events::Decode<uint64_t>(bytes); s.ok()) audit.transfers = int64_t(*s);
  }
  audit.order_violations = order_violations_;
  audit.refused_chains = refused_chains_;
  audit.queue_violations = queue_violations_;
  return audit;
}

}  // namespace pavilion::settlement
