// The settlement ledger over HTTP: an order's settlement, a party's balances and entries, the
// audit, the fee rules and payouts (services/settlement/README.md has the ledger itself).
//
// Who sees what: the operator everything (one scoped to a place: the orders with a line placed
// in it, and the accounts, entries and payouts of its sellers; the audit, fee rules and payout
// runs are the pavilion's operator's alone); a seller (supplier or distributor) its own lines of an
// order, its own shares of them, its own accounts and payouts; a shopper what its order paid and
// was refunded, and its own refunds account. Every amount is integer fen.
#include <charconv>
#include <memory>
#include <mutex>
#include <set>

#include "../views.h"
#include "pavilion/base/json_writer.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

using settlement::OrderSettlement;
using settlement::PayoutView;

constexpr int64_t kMaxBps = 10000;
constexpr size_t kMaxFeeRules = 1000;  // Per map: a PUT checks each seller it names.

// A seller or shopper only for itself (403), the operator for anyone; one scoped to a place
// names a seller (whom ForSeller then checks is in its place).
std::optional<HttpResponse> OwnParty(const Principal& who, std::string& party) {
  if (who.role != Role::kOperator) return ActFor(who, who.role, "party_id", party);
  if (who.Scoped() && party.empty()) {
    return ErrorResponse(kInvalidField,
                         "party_id: required for an operator scoped to a place: name a seller in "
                         "it");
  }
  return std::nullopt;
}

void WriteShare(base::JsonWriter& w, const settlement::ShareView& s) {
  w.BeginObject().Field("role", s.role).Field("party_id", s.party).Field("state", s.state);
  w.Field("amount_fen", s.amount.value()).Field("reversed_fen", s.reversed.value());
  w.Field("net_fen", (s.amount - s.reversed).value()).Field("receivable_fen", s.receivable.value());
  w.Field("clawed_back_fen", s.clawed.value()).Field("pending_fen", s.pending.value());
  w.Field("payable_fen", s.payable.value()).Field("in_transit_fen", s.in_transit.value());
  w.Field("paid_out_fen", s.paid_out.value()).Field("offset_fen", s.offset.value());
  w.Key("payouts").BeginArray();
  for (const auto& p : s.payouts) {
    w.BeginObject().Field("payout_id", p.payout_id).Field("state", p.state);
    w.Field("amount_fen", p.amount.value()).EndObject();
  }
  w.EndArray().Key("transfer_ids").BeginArray();
  for (const auto& id : s.transfer_ids) w.String(id);
  w.EndArray().EndObject();
}

// The settlement as `who` may see it; false when nothing of it is theirs.
bool WriteSettlement(base::JsonWriter& w, const OrderSettlement& o, const Principal& who) {
  const bool op = who.role == Role::kOperator;
  const bool shopper = who.role == Role::kShopper;
  if (shopper && who.subject != o.shopper_id) return false;
  w.BeginObject().Field("order_id", o.order_id).Field("shopper_id", o.shopper_id);
  if (op || shopper) {
    w.Field("paid_fen", o.paid.value()).Field("refunded_fen", o.refunded.value());
  }
  if (op) {
    w.Field("shares_fen", o.shares.value()).Field("held_fen", o.held.value());
    w.Field("balanced", o.balanced);
  }
  bool any = op || shopper;
  w.Key("sub_orders").BeginArray();
  for (const auto& sub : o.sub_orders) {
    bool sub_open = false;
    for (const auto& l : sub.lines) {
      const bool supplies = l.supplier_id == who.subject;
      bool mine = op || shopper || supplies;
      for (const auto& d : l.distributor_ids) mine = mine || (d == who.subject);
      for (const auto& s : l.shares) mine = mine || (s.party == who.subject);
      if (!mine) continue;
      if (!sub_open) {
        w.BeginObject().Field("sub_order_id", sub.sub_id).Field("seller_id", sub.seller_id);
        w.Field("state", sub.state).Key("lines").BeginArray();
        sub_open = true;
      }
      any = true;
      w.BeginObject().Field("line", l.line).Field("sku_id", l.sku_id);
      w.Field("product_id", l.product_id).Field("supplier_id", l.supplier_id);
      w.Field("category", l.category).Field("poverty", l.poverty);
      w.Field("quantity", l.quantity).Field("paid_fen", l.paid.value());
      w.Field("refunded_fen", l.refunded.value());
      if (!shopper) {
        w.Key("distributor_ids").BeginArray();
        for (const auto& d : l.distributor_ids) w.String(d);
        w.EndArray();
        w.Field("fee_bps", l.fee_bps).Key("shares").BeginArray();
        for (const auto& s : l.shares) {
          // A supplier sees the platform's fee taken from its supply price; a distributor only
          // its own margin.
          if (op || s.party == who.subject || (supplies && s.role == "platform")) {
            WriteShare(w, s);
          }
        }
        w.EndArray();
      }
      w.EndObject();
    }
    if (sub_open) w.EndArray().EndObject();
  }
  w.EndArray();
  if (op) {
    w.Key("transfer_ids").BeginArray();
    for (const auto& id : o.transfer_ids) w.String(id);
    w.EndArray();
  }
  w.EndObject();
  return any;
}

void WritePayout(base::JsonWriter& w, const PayoutView& p) {
  w.BeginObject().Field("payout_id", p.payout_id).Field("party_id", p.party_id);
  w.Field("state", p.state).Field("amount_fen", p.amount.value()).Field("provider", p.provider);
  if (!p.reason.empty()) w.Field("reason", p.reason);
  w.Field("requested_micros", p.requested_micros);
  if (p.settled_micros != 0) w.Field("settled_micros", p.settled_micros);
  w.Key("transfer_ids").BeginArray();
  for (const auto& id : p.transfer_ids) w.String(id);
  w.EndArray().Key("shares").BeginArray();
  for (const auto& part : p.parts) {
    w.BeginObject().Field("share_id", part.share).Field("order_id", part.order_id);
    w.Field("amount_fen", part.amount.value()).EndObject();
  }
  w.EndArray().EndObject();
}

std::function<void(Result<PayoutView>)> PayoutAnswer(Respond respond) {
  return [respond = std::move(respond)](Result<PayoutView> p) {
    if (!p.ok()) return respond(FromServiceError(p.error_detail()));
    base::JsonWriter w;
    WritePayout(w, *p);
    respond(JsonResponse(200, w.Take()));
  };
}

std::function<void(Result<std::vector<PayoutView>>)> PayoutsAnswer(Respond respond) {
  return [respond = std::move(respond)](Result<std::vector<PayoutView>> list) {
    if (!list.ok()) return respond(FromServiceError(list.error_detail()));
    base::JsonWriter w;
    w.BeginObject().Key("payouts").BeginArray();
    for (const auto& p : *list) WritePayout(w, p);
    w.EndArray().EndObject();
    respond(JsonResponse(200, w.Take()));
  };
}

std::string FeeRulesJson(const settlement::FeeRulesInput& rules) {
  base::JsonWriter w;
  w.BeginObject().Field("default_bps", rules.default_bps).Key("by_category").BeginObject();
  for (const auto& [k, bps] : rules.by_category) w.Field(k, bps);
  w.EndObject().Key("by_seller").BeginObject();
  for (const auto& [k, bps] : rules.by_seller) w.Field(k, bps);
  w.EndObject().EndObject();
  return w.Take();
}

// A party's balances and accounts.
void WriteBalances(Context& cx, const std::string& party, const Respond& respond) {
  cx.s.settlement.Balances(party, [respond](settlement::PartyBalances b) {
    base::JsonWriter w;
    w.BeginObject().Field("party_id", b.party_id).Key("balances").BeginObject();
    w.Field("pending_fen", b.pending.value()).Field("payable_fen", b.payable.value());
    w.Field("in_transit_fen", b.in_transit.value()).Field("paid_out_fen", b.paid_out.value());
    w.Field("receivable_fen", b.receivable.value()).Field("refunded_fen", b.refunded.value());
    w.Field("fee_fen", b.fee.value()).EndObject().Key("accounts").BeginArray();
    for (const auto& a : b.accounts) {
      w.BeginObject().Field("account_id", a.id).Field("kind", a.kind);
      w.Field("debits_pending_fen", a.debits_pending.value());
      w.Field("debits_posted_fen", a.debits_posted.value());
      w.Field("credits_pending_fen", a.credits_pending.value());
      w.Field("credits_posted_fen", a.credits_posted.value()).EndObject();
    }
    w.EndArray().EndObject();
    respond(JsonResponse(200, w.Take()));
  });
}

// A page of a party's ledger entries.
void WriteEntries(Context& cx, const settlement::EntriesQuery& q, const Respond& respond) {
  cx.s.settlement.Entries(q, [party = q.party_id, respond](Result<settlement::EntriesPage> page) {
    if (!page.ok()) return respond(FromServiceError(page.error_detail()));
    base::JsonWriter w;
    w.BeginObject().Field("party_id", party).Key("entries").BeginArray();
    for (const auto& e : page->entries) {
      w.BeginObject().Field("transfer_id", e.transfer_id).Field("sequence", e.sequence);
      w.Field("time_micros", e.time_micros).Field("day", events::BusinessDay(e.time_micros));
      w.Field("code", e.code).Field("debit_account_id", e.debit_account_id);
      w.Field("credit_account_id", e.credit_account_id).Field("amount_fen", e.amount.value());
      w.Field("state", e.state);
      if (e.posted_amount.value() != 0) w.Field("posted_amount_fen", e.posted_amount.value());
      if (!e.pending_id.empty()) w.Field("pending_id", e.pending_id);
      if (!e.order_id.empty()) w.Field("order_id", e.order_id);
      w.EndObject();
    }
    w.EndArray().Key("next_cursor");
    if (page->next_before == 0) {
      w.Null();
    } else {
      w.String(std::to_string(page->next_before));
    }
    w.EndObject();
    respond(JsonResponse(200, w.Take()));
  });
}

}  // namespace

void GetOrderSettlement(Context& cx, const Request& r, Respond respond) {
  ForOrder(cx, *r.who, r.params[0], respond, [&cx, id = r.params[0], who = *r.who, respond] {
    cx.s.settlement.Settlement(id, [who, respond](Result<OrderSettlement> o) {
      if (!o.ok()) return respond(FromServiceError(o.error_detail()));
      base::JsonWriter w;
      if (!WriteSettlement(w, *o, who)) {
        // As GET /v1/orders/{id}: an order that is not the caller's is not found for it.
        return respond(ErrorResponse(kNotFound, "order " + o->order_id + " not found"));
      }
      respond(JsonResponse(200, w.Take()));
    });
  });
}

void GetAccount(Context& cx, const Request& r, Respond respond) {
  std::string party = r.params[0];
  if (auto denied = OwnParty(*r.who, party)) return respond(std::move(*denied));
  ForSeller(cx, *r.who, "party_id", party, respond,
            [&cx, party, respond] { WriteBalances(cx, party, respond); });
}

void GetAccountEntries(Context& cx, const Request& r, Respond respond) {
  settlement::EntriesQuery q;
  q.party_id = r.params[0];
  if (auto denied = OwnParty(*r.who, q.party_id)) return respond(std::move(*denied));
  std::string error;
  if (auto limit = r.query.Int("limit", 1, 500, &error)) {
    q.limit = static_cast<size_t>(*limit);
  } else if (!error.empty()) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  if (!r.query.Days(&q.from_day, &q.to_day, &error)) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  if (const std::string& cursor = r.query.Get("cursor"); !cursor.empty()) {
    auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), q.before);
    if (ec != std::errc() || end != cursor.data() + cursor.size() || q.before == 0) {
      return respond(ErrorResponse(kInvalidField,
                                   "cursor: use the next_cursor of the previous page as it is"));
    }
  }
  ForSeller(cx, *r.who, "party_id", q.party_id, respond,
            [&cx, q, respond] { WriteEntries(cx, q, respond); });
}

void GetLedgerAudit(Context& cx, const Request&, Respond respond) {
  cx.s.settlement.Audit([respond](Result<settlement::LedgerAudit> a) {
    if (!a.ok()) return respond(FromServiceError(a.error_detail()));
    base::JsonWriter w;
    w.BeginObject().Key("kinds").BeginArray();
    for (const auto& k : a->kinds) {
      w.BeginObject().Field("kind", k.kind).Field("accounts", k.accounts);
      w.Field("debits_posted_fen", k.debits_posted.value());
      w.Field("credits_posted_fen", k.credits_posted.value());
      w.Field("debits_pending_fen", k.debits_pending.value());
      w.Field("credits_pending_fen", k.credits_pending.value()).EndObject();
    }
    w.EndArray().Field("debits_posted_fen", a->debits_posted.value());
    w.Field("credits_posted_fen", a->credits_posted.value());
    w.Field("debits_pending_fen", a->debits_pending.value());
    w.Field("credits_pending_fen", a->credits_pending.value());
    w.Field("balanced", a->balanced).Field("transfers", a->transfers);
    w.Field("order_violations", a->order_violations).Field("refused_chains", a->refused_chains);
    w.Field("queue_violations", a->queue_violations);
    w.EndObject();
    respond(JsonResponse(200, w.Take()));
  });
}

void GetFeeRules(Context& cx, const Request&, Respond respond) {
  cx.s.settlement.FeeRules([respond](Result<settlement::FeeRulesInput> rules) {
    if (!rules.ok()) return respond(FromServiceError(rules.error_detail()));
    respond(JsonResponse(200, FeeRulesJson(*rules)));
  });
}

// The whole body is checked before anything is written: bps 0 to 10000, categories from the
// catalog's list, sellers that exist (asked of the catalog, all at once).
void PutFeeRules(Context& cx, const Request& r, Respond respond) {
  settlement::FeeRulesInput rules;
  bool has_default = false;
  Body body;
  auto bps = [&](od::value& v, const std::string& field, uint32_t& out) {
    int64_t n = 0;
    if (!body.Int(v, n)) return false;
    if (n < 0 || n > kMaxBps) {
      return body.Fail(kInvalidField, field + ": give 0 to 10000 basis points (100 = 1 %), not " +
                                          std::to_string(n));
    }
    out = static_cast<uint32_t>(n);
    return true;
  };
  auto rates = [&](od::value& v, const std::string& name, auto& out, auto&& check) {
    std::set<std::string> seen;
    return body.NestedObject(v, name + ".", [&](std::string_view key, od::value& fv) {
      const std::string field = name + "." + std::string(key);
      if (out.size() >= kMaxFeeRules) {
        return body.Fail(kInvalidField, name + ": give at most " + std::to_string(kMaxFeeRules));
      }
      if (!seen.insert(std::string(key)).second)
        return body.Fail(kInvalidField, field + ": given twice");
      if (!check(key, field)) return false;
      uint32_t n = 0;
      if (!bps(fv, field, n)) return false;
      out.emplace_back(std::string(key), n);
      return true;
    });
  };
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "default_bps") {
      has_default = true;
      return bps(v, "default_bps", rules.default_bps);
    }
    if (key == "by_category") {
      const std::vector<catalog::Category> categories = cx.s.catalog.Categories();
      return rates(v, "by_category", rules.by_category, [&](std::string_view cat, const auto& f) {
        std::string codes;
        for (const auto& c : categories) {
          if (c.code == cat) return true;
          codes += (codes.empty() ? "" : ", ") + c.code;
        }
        return body.Fail(kInvalidField, f + ": not a category; use one of " + codes);
      });
    }
    if (key == "by_seller") {
      return rates(v, "by_seller", rules.by_seller, [&](std::string_view id, const auto& f) {
        if (!id.empty()) return true;
        return body.Fail(kInvalidField, f + ": a seller id must not be empty");
      });
    }
    return body.Fail(kInvalidField, std::string(key) +
                                        ": not a field of the fee rules; give default_bps, "
                                        "by_category and by_seller");
  });
  if (!ok) return respond(body.TakeError());
  if (!has_default) return respond(ErrorResponse(kInvalidField, "default_bps: required"));

  // Every seller named must exist: asked of the catalog together, answered once all have.
  struct Check {
    std::mutex mu;
    size_t left;
    std::string missing;  // The first in the body's order that does not exist.
    size_t missing_at = SIZE_MAX;
    settlement::FeeRulesInput rules;
    Respond respond;
  };
  auto check = std::make_shared<Check>();
  check->left = rules.by_seller.size() + 1;
  check->respond = std::move(respond);
  auto finish = [&cx, check] {
    {
      std::lock_guard lock(check->mu);
      if (--check->left != 0) return;
    }
    if (!check->missing.empty()) {
      return check->respond(ErrorResponse(
          kInvalidField, "by_seller." + check->missing +
                             ": no such seller; name sellers registered with POST /v1/sellers"));
    }
    cx.s.settlement.SetFeeRules(check->rules, [check](Result<bool> set) {
      if (!set.ok()) return check->respond(FromServiceError(set.error_detail()));
      check->respond(JsonResponse(200, FeeRulesJson(check->rules)));
    });
  };
  check->rules = std::move(rules);
  for (size_t i = 0; i < check->rules.by_seller.size(); ++i) {
    cx.s.catalog.GetSeller(check->rules.by_seller[i].first,
                           [check, finish, i](Result<catalog::Seller> s) {
                             if (!s.ok()) {
                               std::lock_guard lock(check->mu);
                               if (i < check->missing_at) {
                                 check->missing_at = i;
                                 check->missing = check->rules.by_seller[i].first;
                               }
                             }
                             finish();
                           });
  }
  finish();
}

void RunPayouts(Context& cx, const Request&, Respond respond) {
  cx.s.settlement.RunPayouts(PayoutsAnswer(std::move(respond)));
}

void ListPayouts(Context& cx, const Request& r, Respond respond) {
  std::string party = r.query.Get("party_id");
  if (auto denied = OwnParty(*r.who, party)) return respond(std::move(*denied));
  size_t limit = 100;
  std::string error;
  if (auto n = r.query.Int("limit", 1, 1000, &error)) {
    limit = static_cast<size_t>(*n);
  } else if (!error.empty()) {
    return respond(ErrorResponse(kInvalidField, error));
  }
  ForSeller(cx, *r.who, "party_id", party, respond, [&cx, party, limit, respond] {
    cx.s.settlement.Payouts(party, limit, PayoutsAnswer(respond));
  });
}

void ConfirmPayout(Context& cx, const Request& r, Respond respond) {
  cx.s.settlement.ConfirmPayout(r.params[0], PayoutAnswer(std::move(respond)));
}

void ReturnPayout(Context& cx, const Request& r, Respond respond) {
  std::string reason;
  if (!ReadOptionalStrings(r.http, respond, {{"reason", &reason}})) return;
  cx.s.settlement.ReturnPayout(r.params[0], std::move(reason), PayoutAnswer(std::move(respond)));
}

}  // namespace pavilion::gateway::routes
