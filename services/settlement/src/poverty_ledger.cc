#include "poverty_ledger.h"

#include <map>

#include "ledger_book.h"
#include "pavilion/events/clock.h"

namespace pavilion::settlement {
namespace {

using events::svc_errc;

const std::string kHouseholds = "set/pv/h/";
const std::string kDays = "set/pv/d/";

std::string DayKey(std::string_view day, std::string_view seller) {
  return kDays + std::string(day) + "/" + std::string(seller);
}

}  // namespace

bool PovertyLedger::IsHousehold(const std::string& seller_id) {
  if (!loaded_) {
    // Once, before the first fold: what an earlier run stored (memory is never behind after).
    (void)kv_.Scan(kHouseholds, storage::PrefixEnd(kHouseholds),
                   [&](std::string_view k, std::string_view v) {
                     if (auto h = events::Decode<Household>(v); h.ok()) {
                       households_.emplace(std::string(k.substr(kHouseholds.size())), *h);
                     }
                     return true;
                   });
    loaded_ = true;
  }
  return households_.contains(seller_id);
}

PovertyLedger::Totals& PovertyLedger::Row(const std::string& key) {
  if (auto it = rows_.find(key); it != rows_.end()) return it->second;
  Totals t;
  std::string bytes;
  if (storage::GetOrAbort(kv_, key, &bytes)) {
    if (auto d = events::Decode<Totals>(bytes); d.ok()) t = *d;
  }
  return rows_[key] = t;
}

void PovertyLedger::Seller(const events::schema::SellerRegistered& s, events::Transaction& tx) {
  if (s.supplier_type != "poor_household") return;
  IsHousehold(s.seller_id);  // Loads the stored ones first.
  Household h{s.name, s.place_code};
  tx.state().Put(kHouseholds + s.seller_id, events::Encode(h));
  households_[s.seller_id] = std::move(h);
}

void PovertyLedger::Paid(const events::schema::OrderPaid& paid, int64_t micros,
                         events::Transaction& tx) {
  const std::string day = events::BusinessDay(micros);
  for (const auto& line : paid.lines) {
    if (!IsHousehold(line.seller_id)) continue;
    const std::string key = DayKey(day, line.seller_id);
    Totals& t = Row(key);
    if (line.distribution.listing_seller_id.empty()) {
      t.direct_units += line.quantity;
      t.direct_sales = t.direct_sales.SaturatingAdd(line.amount);
    } else {
      t.distributed_units += line.quantity;
      t.distributed_sales = t.distributed_sales.SaturatingAdd(line.amount);
    }
    tx.state().Put(key, events::Encode(t));
  }
}

void PovertyLedger::Refunded(const events::schema::RefundChanged& r, int64_t micros,
                             events::Transaction& tx) {
  if (!IsHousehold(r.seller_id)) return;
  const std::string key = DayKey(events::BusinessDay(micros), r.seller_id);
  Totals& t = Row(key);
  for (const auto& item : r.items) t.refunded_units += item.quantity;
  t.refunded = t.refunded.SaturatingAdd(r.amount);
  tx.state().Put(key, events::Encode(t));
}

Result<std::vector<PovertyRow>> PovertyLedger::Query(const PovertyQuery& q) {
  if ((!q.from_day.empty() && !events::IsDay(q.from_day)) ||
      (!q.to_day.empty() && !events::IsDay(q.to_day))) {
    return {svc_errc::invalid_argument, "from/to: use a day as YYYY-MM-DD"};
  }
  if (!q.from_day.empty() && !q.to_day.empty() && q.to_day < q.from_day) {
    return {svc_errc::invalid_argument, "to: give a day on or after from"};
  }
  // The durable state: what a restart would find.
  std::map<std::string, Household> households;
  bool bad = false;
  auto ec = kv_.Scan(kHouseholds, storage::PrefixEnd(kHouseholds),
                     [&](std::string_view k, std::string_view v) {
                       auto h = events::Decode<Household>(v);
                       if (!h.ok()) return !(bad = true);
                       if (h->place_code.starts_with(q.place_code)) {
                         households.emplace(std::string(k.substr(kHouseholds.size())), *h);
                       }
                       return true;
                     });
  if (ec || bad) return {svc_errc::internal, "reading the poverty-alleviation ledger failed"};
  std::map<std::pair<std::string, std::string>, Totals> sums;  // (seller, month) → totals.
  for (const auto& [id, h] : households) sums[{id, ""}];       // Every household, sales or not.
  const std::string begin = kDays + q.from_day;
  const std::string end = q.to_day.empty() ? storage::PrefixEnd(kDays) : kDays + q.to_day + "0";
  ec = kv_.Scan(begin, end, [&](std::string_view k, std::string_view v) {
    std::string_view rest = k.substr(kDays.size());
    const std::string seller(rest.substr(11));
    if (!households.contains(seller)) return true;
    auto t = events::Decode<Totals>(v);
    if (!t.ok()) return !(bad = true);
    if (q.by_month) sums.erase({seller, ""});
    Totals& into = sums[{seller, q.by_month ? std::string(rest.substr(0, 7)) : ""}];
    into.direct_units += t->direct_units;
    into.distributed_units += t->distributed_units;
    into.refunded_units += t->refunded_units;
    into.direct_sales = into.direct_sales.SaturatingAdd(t->direct_sales);
    into.distributed_sales = into.distributed_sales.SaturatingAdd(t->distributed_sales);
    into.refunded = into.refunded.SaturatingAdd(t->refunded);
    return true;
  });
  if (ec || bad) return {svc_errc::internal, "reading the poverty-alleviation ledger failed"};
  bool unreadable = false;  // An account the store could not read (absent is all zero).
  auto account = [&](AccountKind kind, const std::string& owner) {
    Account a;
    std::string bytes;
    const auto read = kv_.Get(LedgerBook::StoreKey("a", AccountId(kind, owner)), &bytes);
    if (!read) {
      if (auto d = events::Decode<Account>(bytes); d.ok()) a = *d;
    } else if (read != storage::errc::not_found) {
      unreadable = true;
    }
    return a;
  };
  std::vector<PovertyRow> out;
  for (const auto& [key, t] : sums) {
    const Household& h = households.at(key.first);
    PovertyRow row{key.first,        h.name,         h.place_code,
                   key.second,       t.direct_units, t.distributed_units,
                   t.refunded_units, t.direct_sales, t.distributed_sales,
                   t.refunded,       Fen(0),         Fen(0)};
    const Account payable = account(AccountKind::kPayable, key.first);
    const Account paid_out = account(AccountKind::kPaidOut, key.first);
    const Account receivable = account(AccountKind::kReceivable, key.first);
    row.paid_out = paid_out.credits_posted;
    row.settled = payable.credits_pending + payable.credits_posted - payable.debits_posted +
                  paid_out.credits_posted - (receivable.debits_posted - receivable.credits_posted);
    out.push_back(std::move(row));
  }
  if (unreadable) return {svc_errc::internal, "reading the poverty-alleviation ledger failed"};
  return out;
}

}  // namespace pavilion::settlement
