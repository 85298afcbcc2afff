#include "timeouts.h"

#include <algorithm>
#include <cstdio>

#include "keys.h"

namespace pavilion::order {

Timeouts::Timeouts(OrderStore& orders, events::Worker& worker, const OrderOptions& options)
    : orders_(orders), worker_(worker), options_(options), sweep_from_(kDuePrefix) {}

void Timeouts::Tick() {
  if (sweeping_) return;  // The sweep in passes goes on; the next tick from where it ends.
  sweeping_ = true;
  const int64_t now = orders_.events().clock().NowMicros();
  // The next sweep starts past this one's end, unless a key is written below that meanwhile.
  const std::string from = std::exchange(sweep_from_, DueEnd(now));
  TickFrom(from, now);
}

void Timeouts::Put(std::string key, std::string value, events::Transaction& tx) {
  if (key < sweep_from_) sweep_from_ = key;
  tx.state().Put(std::move(key), std::move(value));
}

void Timeouts::SetConfirms(const Decision& d, const std::string& order_id) {
  for (const auto& [when, sub_id] : d.confirm_due) {
    Put(DueKey(when, kConfirm, order_id, sub_id), "", d.tx);
  }
  for (const auto& [when, sub_id] : d.after_sale_due) {
    Put(DueKey(when, kAfterSale, order_id, sub_id), "", d.tx);
  }
}

void Timeouts::AwaitPayment(const Order& o) {
  unpaid_.push_back(o.id);
  unpaid_deadline_ = std::max(unpaid_deadline_, o.pay_deadline_micros);
}

void Timeouts::AfterBatch(events::Transaction& batch) {
  if (unpaid_.empty()) return;
  Put(DueKey(unpaid_deadline_, kBatchPay, unpaid_.front()), events::Encode(unpaid_), batch);
  unpaid_.clear();
  unpaid_deadline_ = 0;
}

void Timeouts::TickFrom(const std::string& from, int64_t now) {
  const std::string end = DueEnd(now);
  const size_t per_pass = std::max<size_t>(1, options_.timeouts_per_pass);
  std::vector<std::pair<std::string, std::string>> due;  // Keys and values.
  size_t timeouts = 0;  // A batch's key counts the orders it names.
  (void)orders_.events().kv().Scan(from, end, [&](std::string_view k, std::string_view v) {
    due.emplace_back(k, v);
    timeouts += NamedCount(v);
    return timeouts < per_pass;
  });
  for (const auto& [key, value] : due) {
    if (handled_due_.count(key)) continue;  // Its deletion is not durable yet.
    const DueTarget target = ParseDueKey(key);
    if (target.kind == kBatchPay || target.kind == kPay) {
      auto ids = NamedOrders(target.order_id, value);
      if (!ids.ok()) {
        std::fprintf(stderr, "pavilion: order: payment timeouts under a corrupt key, dropped\n");
      }
      ApplyPaymentTimeout(key, ids.ok() ? *ids : std::vector<std::string>{}, now);
      continue;
    }
    std::string order_id(target.order_id);
    events::Transaction tx;
    tx.set_correlation_id(order_id);
    tx.state().Delete(key);
    MarkHandled(key, tx);
    bool changed = false;
    if (Order* o = orders_.Find(order_id); o != nullptr && target.kind == kConfirm) {
      // Completed when the sweep gets to it: the after-sale window counts from then.
      Decision d{orders_.events().clock().NowMicros(), options_, tx};
      auto confirmed = Confirm(*o, std::string(target.sub_id), Actor{Role::kOperator, ""},
                               /*automatic=*/true, d);
      changed = confirmed.ok() && *confirmed;
      if (changed) o->updated_micros = now;
      // Completed by the sweep: its own after-sale key (SetConfirms writes it).
      if (changed) SetConfirms(d, order_id);
    } else if (o != nullptr && target.kind == kAfterSale) {
      // Settlement posts the sub-order's pending shares when it reads this.
      for (const auto& s : o->sub_orders) {
        if (s.id != target.sub_id || s.status != SubOrderStatus::kCompleted) continue;
        tx.EmitAs(events::schema::SubOrderChanged::kAfterSaleClosed, order_id, events::kAnyVersion,
                  events::schema::SubOrderChanged{order_id, s.id, s.seller_id, s.carrier,
                                                  s.tracking_no, true});
      }
    }
    if (changed) {
      orders_.Commit(order_id, tx, /*fatal=*/true);
    } else {
      tx.Commit(orders_.events(), /*fatal_on_error=*/true);
      orders_.Release(order_id);
    }
  }
  if (timeouts >= per_pass) {
    worker_.Post([this, next = due.back().first + '\0', now] { TickFrom(next, now); });
    return;
  }
  sweeping_ = false;
}

void Timeouts::ApplyPaymentTimeout(const std::string& key, const std::vector<std::string>& ids,
                                   int64_t now) {
  events::Transaction all;
  all.state().Delete(key);
  MarkHandled(key, all);
  for (const std::string& order_id : ids) {
    Order* o = orders_.Find(order_id);
    if (o == nullptr) continue;
    if (o->status != OrderStatus::kPendingPayment) {
      orders_.Release(order_id);
      continue;
    }
    events::Transaction tx;
    tx.set_correlation_id(order_id);
    Decision d{now, options_, tx};
    CancelUnpaid(*o, "payment_timeout", d);
    o->updated_micros = now;
    orders_.Stage(order_id, tx);
    tx.MergeInto(all);
  }
  all.Commit(orders_.events(), /*fatal_on_error=*/true);
}

void Timeouts::MarkHandled(const std::string& key, events::Transaction& tx) {
  handled_due_.insert(key);
  tx.OnDurable(
      [this, key](std::error_code) { worker_.Post([this, key] { handled_due_.erase(key); }); });
}

}  // namespace pavilion::order
