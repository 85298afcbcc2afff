#include "posting.h"

#include <algorithm>
#include <array>
#include <map>

namespace pavilion::settlement {
namespace {

constexpr std::array<std::string_view, 4> kRoleNames = {"supplier", "distributor1", "distributor2",
                                                        "platform"};
constexpr std::array<std::string_view, 3> kSubStateNames = {"held", "pending", "payable"};

template <typename E, size_t N>
bool ParseName(const std::array<std::string_view, N>& names, std::string_view s, E* out) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) {
      *out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

Transfer Make(std::string id, std::string debit, std::string credit, Fen amount, uint32_t flags,
              TransferCode code, const OrderBook& book, int64_t micros) {
  Transfer t;
  t.id = std::move(id);
  t.debit_account_id = std::move(debit);
  t.credit_account_id = std::move(credit);
  t.amount = amount;
  t.flags = flags;
  t.code = code;
  t.order_id = book.order_id;
  t.timestamp = micros;
  return t;
}

// a × b / d in 128 bits, rounded down; d > 0.
Fen MulDiv(Fen a, int64_t b, int64_t d) {
  return Fen(static_cast<int64_t>(static_cast<Int128>(a.value()) * b / d));
}

// The refund's amount over the sub-order's lines: by the value of the units it names when it
// names units worth at least the amount, else by what is left on each line. No line gets more
// than is left on it.
std::vector<Fen> Allocate(const OrderBook& book, const SubBook& sub,
                          const schema::RefundChanged& refund, Fen amount) {
  std::vector<Fen> left, by_items;
  Fen items_value;
  for (uint32_t i : sub.lines) {
    const LineBook& l = book.lines[i];
    left.push_back(l.amount - l.refunded);
    Fen named;
    for (const auto& item : refund.items) {
      if (item.line == l.line) named += l.unit_price * item.quantity;
    }
    named = std::min(named, l.amount - l.refunded);
    by_items.push_back(named);
    items_value += named;
  }
  auto parts = Split(amount, !refund.items.empty() && items_value >= amount ? by_items : left);
  // Rounding can put a fen where nothing is left; move it to a line with room.
  Fen spill;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] > left[i]) {
      spill += parts[i] - left[i];
      parts[i] = left[i];
    }
  }
  for (size_t i = 0; i < parts.size() && spill.value() > 0; ++i) {
    const Fen room = std::min(spill, left[i] - parts[i]);
    parts[i] += room;
    spill = spill - room;
  }
  return parts;
}

}  // namespace

std::string ShareTransferId(std::string_view cause, std::string_view what, uint32_t line,
                            size_t k) {
  std::string id(cause);
  id.append("/").append(what).append("/").append(std::to_string(line)).append("/");
  id.append(std::to_string(k));
  return id;
}

std::string_view ToString(ShareRole r) { return kRoleNames[static_cast<size_t>(r)]; }
bool Parse(std::string_view s, ShareRole* out) { return ParseName(kRoleNames, s, out); }
std::string_view ToString(SubState s) { return kSubStateNames[static_cast<size_t>(s)]; }
bool Parse(std::string_view s, SubState* out) { return ParseName(kSubStateNames, s, out); }

uint32_t FeeRules::Bps(std::string_view seller_id, std::string_view category, bool poverty) const {
  for (const auto& r : by_seller) {
    if (r.key == seller_id) return r.bps;
  }
  if (poverty) return 0;
  for (const auto& r : by_category) {
    if (r.key == category) return r.bps;
  }
  return default_bps;
}

SubBook* OrderBook::Sub(std::string_view seller_id) {
  for (auto& s : subs) {
    if (s.seller_id == seller_id) return &s;
  }
  return nullptr;
}

Fen OrderBook::Shares() const {
  Fen sum;
  for (const auto& l : lines) {
    for (const auto& s : l.shares) sum += s.net();
  }
  return sum;
}

std::string HeldAccount(std::string_view order_id) {
  return AccountId(AccountKind::kHeld, order_id);
}

std::string PayableAccount(std::string_view party) {
  if (party == kPlatform) return AccountId(AccountKind::kFee, kPlatform);
  return AccountId(AccountKind::kPayable, party);
}

OrderBook BookOf(const schema::OrderPaid& paid, int64_t micros,
                 const std::vector<ProductFacts>& products) {
  OrderBook b;
  b.order_id = paid.order_id;
  b.shopper_id = paid.shopper_id;
  b.provider = paid.provider.empty() ? "builtin" : paid.provider;
  b.paid = paid.amount;
  b.paid_micros = micros;
  for (size_t i = 0; i < paid.lines.size(); ++i) {
    const schema::PricedLine& p = paid.lines[i];
    LineBook l;
    l.line = p.line;
    l.sku_id = p.sku_id;
    l.product_id = p.product_id;
    l.supplier_id = p.seller_id;
    l.place_code = p.place_code;
    if (i < products.size()) {
      l.category = products[i].category;
      l.poverty = products[i].poverty;
    }
    l.quantity = p.quantity;
    l.unit_price = p.unit_price;
    l.amount = p.amount;
    l.distribution = p.distribution;
    SubBook* sub = b.Sub(p.seller_id);
    if (sub == nullptr) {
      b.subs.push_back(SubBook{});
      sub = &b.subs.back();
      sub->seller_id = p.seller_id;
    }
    sub->lines.push_back(static_cast<uint32_t>(b.lines.size()));
    b.lines.push_back(std::move(l));
  }
  return b;
}

std::vector<Transfer> PaymentTransfers(const OrderBook& book) {
  if (book.paid.value() <= 0) return {};
  return {Make(book.order_id + "/paid", AccountId(AccountKind::kProvider, book.provider),
               HeldAccount(book.order_id), book.paid, 0, TransferCode::kPayment, book,
               book.paid_micros)};
}

std::vector<Transfer> Complete(OrderBook& book, std::string_view seller_id, std::string_view sub_id,
                               const FeeRules& rules, int64_t micros) {
  SubBook* sub = book.Sub(seller_id);
  if (sub == nullptr || sub->state != SubState::kHeld) return {};
  sub->sub_id = sub_id;
  sub->state = SubState::kPending;
  sub->completed_micros = micros;
  std::vector<Transfer> out;
  for (uint32_t i : sub->lines) {
    LineBook& l = book.lines[i];
    const Fen left = l.amount - l.refunded;
    const schema::Distribution& dist = l.distribution;
    // The parts of the full line, then scaled to what is left of it after earlier refunds.
    std::vector<std::pair<ShareRole, std::string>> parties = {
        {ShareRole::kSupplier, l.supplier_id}};
    std::vector<Fen> parts;
    Fen supplier_gross = l.amount;
    std::vector<Fen> margins;
    if (!dist.listing_seller_id.empty()) {
      supplier_gross = dist.supply_price.CheckedMul(l.quantity).value_or(l.amount);
      for (size_t k = 0; k < dist.commissions.size() && k < 2; ++k) {
        parties.emplace_back(k == 0 ? ShareRole::kDistributor1 : ShareRole::kDistributor2,
                             dist.commissions[k].seller_id);
        margins.push_back(dist.commissions[k].unit.CheckedMul(l.quantity).value_or(Fen(0)));
      }
    }
    l.fee_bps = std::min<uint32_t>(rules.Bps(l.supplier_id, l.category, l.poverty), 10000);
    const Fen fee = MulDiv(supplier_gross, l.fee_bps, 10000);
    parts.push_back(supplier_gross - fee);
    parts.insert(parts.end(), margins.begin(), margins.end());
    parties.emplace_back(ShareRole::kPlatform, std::string(kPlatform));
    parts.push_back(fee);
    const std::vector<Fen> scaled = Split(left, parts);
    l.shares.clear();
    for (size_t k = 0; k < scaled.size(); ++k) {
      Share s;
      s.role = parties[k].first;
      s.party = parties[k].second;
      s.gross = scaled[k];
      if (s.gross.value() > 0) {
        s.transfer_id = ShareTransferId(sub_id, "share", l.line, k);
        out.push_back(Make(s.transfer_id, HeldAccount(book.order_id), PayableAccount(s.party),
                           s.gross, kPending, TransferCode::kShare, book, micros));
      }
      l.shares.push_back(std::move(s));
    }
  }
  return Linked(std::move(out));
}

std::vector<Transfer> Close(OrderBook& book, std::string_view seller_id, int64_t micros) {
  SubBook* sub = book.Sub(seller_id);
  if (sub == nullptr || sub->state != SubState::kPending) return {};
  sub->state = SubState::kPayable;
  sub->payable_micros = micros;
  std::vector<Transfer> out;
  for (uint32_t i : sub->lines) {
    LineBook& l = book.lines[i];
    for (size_t k = 0; k < l.shares.size(); ++k) {
      Share& s = l.shares[k];
      if (s.transfer_id.empty()) continue;
      Transfer post =
          Make(ShareTransferId(sub->sub_id, "post", l.line, k), HeldAccount(book.order_id),
               PayableAccount(s.party), s.net(), kPostPending, TransferCode::kShare, book, micros);
      post.pending_id = s.transfer_id;
      out.push_back(std::move(post));
    }
  }
  return Linked(std::move(out));
}

std::vector<Transfer> Refund(OrderBook& book, const schema::RefundChanged& refund,
                             const Ledger& ledger, int64_t micros) {
  SubBook* sub = book.Sub(refund.seller_id);
  if (sub == nullptr || refund.amount.value() <= 0) return {};
  Fen left_on_sub;
  for (uint32_t i : sub->lines) left_on_sub += book.lines[i].amount - book.lines[i].refunded;
  const Fen amount = std::min(refund.amount, left_on_sub);
  if (amount.value() <= 0) return {};
  const std::vector<Fen> per_line = Allocate(book, *sub, refund, amount);
  const std::string held = HeldAccount(book.order_id);
  std::vector<Transfer> out;
  std::map<std::string, Fen> taken;  // What this chain has already debited per payable.
  for (size_t n = 0; n < sub->lines.size(); ++n) {
    LineBook& l = book.lines[sub->lines[n]];
    const Fen a = per_line[n];
    if (a.value() <= 0) continue;
    l.refunded += a;
    for (const auto& item : refund.items) {
      if (item.line == l.line) l.refunded_units += item.quantity;
    }
    if (sub->state == SubState::kHeld) continue;
    std::vector<Fen> nets;
    for (const auto& s : l.shares) nets.push_back(s.net());
    const std::vector<Fen> back = Split(a, nets);
    for (size_t k = 0; k < l.shares.size(); ++k) {
      Share& s = l.shares[k];
      if (back[k].value() <= 0) continue;
      if (sub->state == SubState::kPending) {
        // The share is still reserved: void it and reserve what remains of it.
        Transfer v =
            Make(ShareTransferId(refund.refund_id, "void", l.line, k), held,
                 PayableAccount(s.party), Fen(0), kVoidPending, TransferCode::kShare, book, micros);
        v.pending_id = s.transfer_id;
        out.push_back(std::move(v));
        s.reversed += back[k];
        s.transfer_id.clear();
        if (s.net().value() > 0) {
          s.transfer_id = ShareTransferId(refund.refund_id, "share", l.line, k);
          out.push_back(Make(s.transfer_id, held, PayableAccount(s.party), s.net(), kPending,
                             TransferCode::kShare, book, micros));
        }
        continue;
      }
      // Payable: take it back from the party's balance while there is one; beyond it the party
      // owes the rest (a receivable), never a loss.
      s.reversed += back[k];
      const std::string from = PayableAccount(s.party);
      Fen from_balance = back[k];
      if (s.party != kPlatform) {
        const Account* acc = ledger.account(from);
        const Fen available = (acc ? acc->available() : Fen(0)) - taken[from];
        from_balance = std::clamp(available, Fen(0), back[k]);
      }
      if (from_balance.value() > 0) {
        taken[from] += from_balance;
        out.push_back(Make(ShareTransferId(refund.refund_id, "reverse", l.line, k), from, held,
                           from_balance, 0, TransferCode::kReversal, book, micros));
      }
      const Fen owed = back[k] - from_balance;
      if (owed.value() > 0) {
        s.clawed += owed;
        out.push_back(Make(ShareTransferId(refund.refund_id, "claw", l.line, k),
                           AccountId(AccountKind::kReceivable, s.party), held, owed, 0,
                           TransferCode::kClawback, book, micros));
      }
    }
  }
  book.refunded += amount;
  out.push_back(Make(refund.refund_id + "/back", held,
                     AccountId(AccountKind::kRefunds, book.shopper_id), amount, 0,
                     TransferCode::kRefund, book, micros));
  return Linked(std::move(out));
}

std::vector<Transfer> Linked(std::vector<Transfer> ts) {
  for (size_t i = 0; i + 1 < ts.size(); ++i) ts[i].flags |= kLinked;
  return ts;
}

std::optional<Transfer> Recovery(std::string id, std::string_view party, Fen incoming,
                                 const Ledger& ledger, std::string_view order_id, int64_t micros) {
  if (party == kPlatform) return std::nullopt;
  const Account* owed = ledger.account(AccountId(AccountKind::kReceivable, party));
  const Fen debt = owed ? owed->debits_posted - owed->credits_posted : Fen(0);
  const Account* payable = ledger.account(PayableAccount(party));
  const Fen money = (payable ? payable->available() : Fen(0)) + incoming;
  const Fen amount = std::min(debt, money);
  if (amount.value() <= 0) return std::nullopt;
  Transfer t;
  t.id = std::move(id);
  t.debit_account_id = PayableAccount(party);
  t.credit_account_id = AccountId(AccountKind::kReceivable, party);
  t.amount = amount;
  t.code = TransferCode::kRecovery;
  t.order_id = order_id;
  t.timestamp = micros;
  return t;
}

Transfer PayoutTransfer(std::string_view payout_id, std::string_view party, Fen amount,
                        int64_t micros) {
  Transfer t;
  t.id = payout_id;
  t.debit_account_id = PayableAccount(party);
  t.credit_account_id = AccountId(AccountKind::kPaidOut, party);
  t.amount = amount;
  t.flags = kPending;
  t.code = TransferCode::kPayout;
  t.timestamp = micros;
  return t;
}

Transfer PayoutResolve(std::string_view payout_id, bool confirm, int64_t micros) {
  Transfer t;
  t.id = std::string(payout_id) + (confirm ? "/confirm" : "/return");
  t.pending_id = payout_id;
  t.flags = confirm ? kPostPending : kVoidPending;
  t.code = TransferCode::kPayout;
  t.timestamp = micros;
  return t;
}

}  // namespace pavilion::settlement
