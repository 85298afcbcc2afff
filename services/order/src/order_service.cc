#include "pavilion/order/order_service.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace pavilion::order {
namespace {

using events::svc_errc;
namespace schema = events::schema;

constexpr std::string_view kDuePrefix = "ord/due/";

std::string OrderKey(std::string_view id) { return "ord/o/" + std::string(id); }

// "ord/by-<kind>/<owner>/": an owner's listing, newest last.
std::string ListingPrefix(std::string_view kind, std::string_view owner) {
  std::string k = "ord/by-";
  k.append(kind).append("/").append(owner).append("/");
  return k;
}

// "ord/st-<kind>/<owner>/<status>/": an owner's orders in one status.
std::string StatusPrefix(std::string_view kind, std::string_view owner, std::string_view status) {
  std::string k = "ord/st-";
  k.append(kind).append("/").append(owner).append("/").append(status).append("/");
  return k;
}

// An order's entry in either index: the prefix, the time it was placed, its id.
std::string IndexEntry(std::string k, int64_t micros, std::string_view id) {
  events::PutFixed64BE(k, static_cast<uint64_t>(micros));
  k.append(id);
  return k;
}

std::string IndexKey(std::string_view kind, std::string_view owner, int64_t micros,
                     std::string_view id) {
  return IndexEntry(ListingPrefix(kind, owner), micros, id);
}

// The statuses an order leaves within the payment timeout ("pending", "pending_payment") are
// found by scanning the owner's listing from its newest entry; every later one is indexed by
// status too, so a seller's paid orders to ship page as fast as the whole listing.
bool StatusIndexed(std::string_view status) {
  return !status.empty() && status != "pending" && status != "pending_payment";
}

// Written once every order recorded before the status index has its entries (the second
// marker: the first index keyed a seller's entries by the order's status, not its sub-orders').
constexpr std::string_view kStatusIndexBuilt = "ord/st-built-2";
constexpr std::string_view kStatusIndexBuiltBefore = "ord/st-built";

// The statuses an order is indexed by: its own (for its shopper), then one per sub-order (for
// the sellers who see it).
struct IndexedStatuses {
  std::string order;
  std::vector<std::string> subs;
};

IndexedStatuses StatusesOf(const Order& o) {
  IndexedStatuses out{o.status, {}};
  out.subs.reserve(o.sub_orders.size());
  for (const auto& sub : o.sub_orders) out.subs.push_back(sub.status);
  return out;
}

// Whether `now` has a status `StatusIndexed` names that `before` had not, or the other way: an
// order that changes none (placing one) moves no entry. Allocates nothing.
bool IndexedStatusMoved(const Order& now, const IndexedStatuses& before) {
  const auto moved = [](std::string_view was, std::string_view is) {
    return was != is && (StatusIndexed(was) || StatusIndexed(is));
  };
  if (moved(before.order, now.status)) return true;
  for (size_t i = 0; i < now.sub_orders.size(); ++i) {
    if (moved(i < before.subs.size() ? std::string_view(before.subs[i]) : std::string_view(),
              now.sub_orders[i].status)) {
      return true;
    }
  }
  return false;
}

// Calls fn(seller) for every seller who sees sub-order `sub` of `o`: its own, and the
// distributors whose listings sold one of its lines (whom ViewFor shows it). One may come twice.
template <typename Fn>
void ForEachViewer(const Order& o, const SubOrder& sub, Fn fn) {
  fn(sub.seller_id);
  for (uint32_t line : sub.lines) {
    if (line >= o.lines.size()) continue;
    for (const auto& c : o.lines[line].distribution.commissions) fn(c.seller_id);
  }
}

// The status index keys of order `o` when its statuses are `statuses`: its shopper's by the
// order's status; for each sub-order, those of the sellers who see it, by the sub-order's status.
std::set<std::string> StatusEntries(const Order& o, const IndexedStatuses& statuses) {
  std::set<std::string> out;
  const auto add = [&](std::string_view kind, std::string_view owner, std::string_view status) {
    out.insert(IndexEntry(StatusPrefix(kind, owner, status), o.created_micros, o.id));
  };
  if (StatusIndexed(statuses.order)) add("shopper", o.shopper_id, statuses.order);
  for (size_t i = 0; i < o.sub_orders.size() && i < statuses.subs.size(); ++i) {
    const std::string& status = statuses.subs[i];
    if (!StatusIndexed(status)) continue;
    ForEachViewer(o, o.sub_orders[i], [&](std::string_view seller) { add("seller", seller, status); });
  }
  return out;
}

// "ord/due/<when>/<kind>/<order>[/<sub>]": a timeout to apply at `when`.
std::string DueKey(int64_t when, std::string_view kind, std::string_view order_id,
                   std::string_view sub_id = {}) {
  std::string k(kDuePrefix);
  events::PutFixed64BE(k, static_cast<uint64_t>(when));
  k.append("/").append(kind).append("/").append(order_id);
  if (!sub_id.empty()) k.append("/").append(sub_id);
  return k;
}

// The kind of a due key that names a batch of orders in its value (see AfterBatch); "pay" keys
// name one order each (stores from before batches have them).
constexpr std::string_view kBatchPay = "pays";

struct DueTarget {
  std::string_view kind, order_id, sub_id;
};
DueTarget ParseDueKey(std::string_view key) {
  DueTarget t;
  std::string_view rest = key.substr(std::min(key.size(), kDuePrefix.size() + 9));
  const size_t slash = rest.find('/');
  t.kind = rest.substr(0, slash);
  if (slash == std::string_view::npos) return t;
  rest.remove_prefix(slash + 1);
  const size_t sub = rest.find('/');
  t.order_id = rest.substr(0, sub);
  if (sub != std::string_view::npos) t.sub_id = rest.substr(sub + 1);
  return t;
}

// The orders a key names, a listing entry or a payment timeout: the one in the key itself
// (`own_id`) when its value is empty, else those its value lists (a batch's, see AfterBatch).
// An error when that list is corrupt.
Result<std::vector<std::string>> NamedOrders(std::string_view own_id, std::string_view value) {
  if (value.empty()) return std::vector<std::string>{std::string(own_id)};
  return events::Decode<std::vector<std::string>>(value);
}

// How many orders a key names (see NamedOrders), without decoding them: the list's length.
size_t NamedCount(std::string_view value) {
  uint64_t n = 1;
  return value.empty() || events::Reader(value).Varint(&n) ? std::max<size_t>(1, n) : 1;
}

uint64_t RequestHash(const PlaceOrderInput& in) {
  std::string canon;
  for (const auto& item : in.items) {
    canon += item.sku_id;
    canon += ':';
    canon += std::to_string(item.quantity);
    canon += ';';
  }
  return events::Fingerprint64(canon);
}

std::string OrderIdFor(const PlaceOrderInput& in) {
  if (in.idempotency_key.empty()) return events::NewId("ord");
  return "ord_" + events::Hex64(events::Fingerprint64(in.shopper_id + '\n' + in.idempotency_key));
}

Result<Order> Conflict(const Order& o, const std::string& what) {
  return {svc_errc::conflict, what + " (the order is " + o.status + ")"};
}

Result<Order> SubConflict(const SubOrder& s, const std::string& what) {
  return {svc_errc::conflict, what + " (sub-order " + s.id + " is " + s.status + ")"};
}

}  // namespace

Result<std::string> BuiltinPaymentProvider::Charge(const std::string&, Fen amount) {
  if (amount.value() <= 0) return {svc_errc::invalid_argument, "nothing to charge"};
  return events::NewId("pay");
}

Result<std::string> BuiltinPaymentProvider::Refund(const std::string&, Fen amount) {
  if (amount.value() <= 0) return {svc_errc::invalid_argument, "nothing to refund"};
  return events::NewId("rfn");
}

class OrderService::Impl final : public events::Processor {
  // An order the worker has ahead of the store (orders_).
  struct Entry {
    Order order;
    int inflight = 0;  // Commits of it not yet durable.
    bool recorded = false;  // The store has (or a commit in flight writes) an ord/o record of it.
    IndexedStatuses indexed;  // The statuses its status index entries (ord/st-) name.
    std::vector<std::function<void(Result<Order>)>> waiters;  // Placements awaiting the outcome.
  };

 public:
  Impl(events::EventStore& store, events::Worker& worker, OrderOptions options,
       PaymentProvider* payments)
      : store_(store),
        worker_(worker),
        options_(options),
        payments_(payments ? payments : &builtin_) {
    BuildStatusIndex();
  }

  std::string_view name() const override { return "order"; }
  events::EventStore& store() { return store_; }

  // ---- Processor: the catalog's answers ----

  std::vector<std::string> event_types() const override { return handlers_.types(); }
  void Handle(const events::Envelope& event, events::Transaction& tx) override {
    handlers_.Handle(event, tx);
  }

  const events::Handlers handlers_ =
      events::Handlers()
          .On<schema::StockReserved>([this](const schema::StockReserved& r, const auto&,
                                            events::Transaction& tx) {
            Answer(r.order_id, r.line, tx, [&](OrderLine& line) {
              line.status = "reserved";
              line.product_id = r.product_id;
              line.seller_id = r.seller_id;
              line.place_code = r.place_code;
              line.unit_price = r.unit_price;
              line.amount = r.unit_price * line.quantity;
              line.distribution = r.distribution;
            });
          })
          .On<schema::StockRejected>([this](const schema::StockRejected& r, const auto&,
                                            events::Transaction& tx) {
            Answer(r.order_id, r.line, tx, [&](OrderLine& line) {
              line.status = "rejected";
              line.reason = r.reason;
            });
          })
          .On<schema::StockReinstated>([this](const schema::StockReinstated& r, const auto&,
                                              events::Transaction& tx) { Reinstated(r, tx); });

  // ---- Commands ----

  void Place(const std::string& id, PlaceOrderInput in, std::function<void(Result<Order>)> done) {
    const uint64_t hash = RequestHash(in);
    // Without a key the id is fresh and cannot exist yet; with one, a retry finds its order.
    Order* existing = in.idempotency_key.empty() ? nullptr : Find(id);
    if (existing != nullptr) {
      if (!SameRequest(*existing, in, hash)) {
        Release(id);
        return done(IdempotencyConflict());
      }
      if (existing->placed() && !Dirty(id)) {
        Order copy = *existing;
        Release(id);
        return done(std::move(copy));
      }
      orders_.at(id).waiters.push_back(std::move(done));
      return;
    }
    if (auto err = Validate(in); !err.empty()) return done({svc_errc::invalid_argument, err});

    Order order = Pending(id, in, hash, store_.clock().NowMicros());
    events::Transaction tx;
    tx.set_correlation_id(id);
    // A keyless order's id is fresh; a keyed one's is derived from the key, so the store checks.
    tx.Emit(id, in.idempotency_key.empty() ? events::kFreshStream : events::kNoStream,
            schema::OrderPlaced{id, in.shopper_id, std::move(in.items)});
    tx.state().Put(IndexKey("shopper", order.shopper_id, order.created_micros, id), "");
    Entry& entry = orders_[id];
    entry.order = std::move(order);
    entry.waiters.push_back(std::move(done));
    // No record yet: until the catalog's first answer writes one, the order.placed event is the
    // order (Load rebuilds it from there). One key and one encoding fewer per order.
    Track(id, entry, tx);
    tx.Commit(store_, /*fatal_on_error=*/false);
  }

  // An order as placed, every line awaiting the catalog.
  static Order Pending(const std::string& id, const PlaceOrderInput& in, uint64_t request_hash,
                       int64_t micros) {
    Order order;
    order.id = id;
    order.shopper_id = in.shopper_id;
    order.created_micros = order.updated_micros = micros;
    order.idempotency_key = in.idempotency_key;
    order.request_hash = request_hash;
    for (const auto& item : in.items) {
      OrderLine line;
      line.sku_id = item.sku_id;
      line.quantity = item.quantity;
      order.lines.push_back(std::move(line));
    }
    return order;
  }

  // The order's record, or without one its events; `recorded` tells which.
  Result<Order> Load(const std::string& id, bool* recorded = nullptr) {
    if (recorded != nullptr) *recorded = false;
    std::string bytes;
    if (auto ec = store_.kv().Get(OrderKey(id), &bytes); ec == storage::errc::not_found) {
      return FromEvents(id);
    } else if (ec) {
      return {svc_errc::internal, "reading the order failed"};
    }
    auto order = events::Decode<Order>(bytes);
    if (!order.ok()) return {svc_errc::internal, "stored order is corrupt"};
    if (recorded != nullptr) *recorded = true;
    return order;
  }

  // An order without a record: reserved and unchanged since (rebuilt from its order.reserved
  // event alone, which carries every line), or placed and not yet answered by the catalog
  // (from its order.placed event, stamped with the event's time). Every later change writes the
  // record.
  Result<Order> FromEvents(const std::string& id) {
    auto second = store_.ReadStream(id, 2, 1);
    if (!second.ok()) return {svc_errc::internal, "reading the order's events failed"};
    if (!second->empty()) {
      const events::Envelope& e = second->front();
      auto r = e.type == schema::OrderReserved::kType
                   ? events::Decode<schema::OrderReserved>(e.payload)
                   : Result<schema::OrderReserved>(events::errc::corrupt_event);
      const Result<Order> unfit(svc_errc::internal,
                                "order " + id + " has no record and its events do not rebuild it");
      if (!r.ok() || r->placed_micros == 0) return unfit;
      PlaceOrderInput in{r->shopper_id, std::vector<schema::OrderItem>(r->lines.size()), ""};
      for (const auto& line : r->lines) {
        if (line.line >= in.items.size()) return unfit;
        in.items[line.line] = {line.sku_id, line.quantity};
      }
      Order order = Pending(id, in, RequestHash(in), r->placed_micros);
      ApplyReserved(order, *r);
      return order;
    }
    auto first = store_.ReadStream(id, 1, 1);
    if (!first.ok()) return {svc_errc::internal, "reading the order's events failed"};
    if (first->empty() || first->front().type != schema::OrderPlaced::kType) {
      return {svc_errc::not_found, "no order " + id};
    }
    auto placed = events::Decode<schema::OrderPlaced>(first->front().payload);
    if (!placed.ok()) return {svc_errc::internal, "stored order is corrupt"};
    PlaceOrderInput in{placed->shopper_id, std::move(placed->items), ""};
    return Pending(id, in, RequestHash(in), first->front().time_micros);
  }

  Result<Order> Get(const std::string& id, const Actor& who) {
    auto o = Load(id);
    if (!o.ok()) return o;
    if (!CanSee(*o, who)) return {svc_errc::not_found, "no order " + id};
    return ViewFor(std::move(o).value(), who);
  }

  // A seller sees only its own sub-orders, their lines and refunds, and their total; not the
  // shopper's payments nor what other sellers sold.
  static Order ViewFor(Order o, const Actor& who) {
    if (who.role != "seller") return o;
    std::vector<SubOrder> mine;
    std::unordered_set<uint32_t> lines;
    o.total = Fen(0);
    for (auto& s : o.sub_orders) {
      // Its own sub-orders; for a distributor, the lines its listings sold and the supplier's
      // sub-orders that ship them (to follow; it cannot act on them).
      std::vector<uint32_t> sold;
      for (uint32_t i : s.lines) {
        if (s.seller_id == who.id || SoldThrough(o.lines[i], who.id)) sold.push_back(i);
      }
      if (sold.empty()) continue;
      lines.insert(sold.begin(), sold.end());
      for (uint32_t i : sold) o.total += o.lines[i].amount;
      mine.push_back(std::move(s));
    }
    for (uint32_t i = 0; i < o.lines.size(); ++i) {
      if (!lines.count(i)) o.lines[i] = OrderLine{"", "", "", "", 0, Fen(), Fen(), "hidden", "", {}};
    }
    std::erase_if(o.refunds, [&](const Refund& r) {
      return std::none_of(mine.begin(), mine.end(), [&](const SubOrder& s) { return s.id == r.sub_id; });
    });
    o.sub_orders = std::move(mine);
    o.payments.clear();
    return o;
  }

  Result<OrderPage> List(const ListQuery& q) {
    if (q.shopper_id.empty() == q.seller_id.empty()) {
      return {svc_errc::invalid_argument, "give exactly one of shopper_id and seller_id"};
    }
    // A shopper's listing filters on the order's status, a seller's on its sub-orders'.
    static const std::set<std::string, std::less<>> kOrderStatuses = {
        "pending", "rejected", "pending_payment", "paid", "cancelled", "completed"};
    static const std::set<std::string, std::less<>> kSubStatuses = {
        "pending_payment", "paid", "shipped", "delivered", "completed", "cancelled"};
    const bool by_seller = q.shopper_id.empty();
    if (!q.status.empty() && !(by_seller ? kSubStatuses : kOrderStatuses).contains(q.status)) {
      return {svc_errc::invalid_argument,
              by_seller ? "status: give one of pending_payment, paid, shipped, delivered, "
                          "completed, cancelled (a seller lists by its sub-orders' status)"
                        : "status: give one of pending, pending_payment, paid, completed, "
                          "cancelled, rejected (an order's status; shipped and delivered are its "
                          "sub-orders', which a seller's listing filters on)"};
    }
    const int limit = std::clamp(q.limit, 1, 100);
    const std::string_view kind = by_seller ? "seller" : "shopper";
    const std::string& owner = q.shopper_id.empty() ? q.seller_id : q.shopper_id;
    // Both indexes key an entry the same way after their prefix: time, then the order's id.
    const std::string prefix = StatusIndexed(q.status) ? StatusPrefix(kind, owner, q.status)
                                                       : ListingPrefix(kind, owner);
    std::string end = storage::PrefixEnd(prefix);
    // The cursor is the hex of the last index key shown, and after a dot how many of the orders
    // its entry lists were shown, if the page ended inside an entry (a seller's entry for a batch
    // lists several; see AfterBatch).
    size_t skip = 0;
    if (!q.cursor.empty()) {
      const std::string_view cursor = q.cursor;
      const size_t dot = cursor.find('.');
      std::string raw;
      bool ok = events::HexDecode(cursor.substr(0, dot), &raw) &&
                raw.compare(0, prefix.size(), prefix) == 0;
      if (ok && dot != std::string_view::npos) {
        const std::string_view n = cursor.substr(dot + 1);
        const auto parsed = std::from_chars(n.data(), n.data() + n.size(), skip);
        ok = !n.empty() && parsed.ec == std::errc{} && parsed.ptr == n.data() + n.size();
      }
      if (!ok) return {svc_errc::invalid_argument, "cursor: pass back next_cursor from the last page"};
      // Inside an entry: from that entry on; otherwise from the one before it.
      end = dot != std::string_view::npos ? raw + '\0' : raw;
    }
    OrderPage page;
    int scanned = 0;
    std::string done_key;  // The last entry whose orders were all gone through.
    auto ec = store_.kv().ScanReverse(prefix, end, [&](std::string_view k, std::string_view v) {
      auto named = NamedOrders(k.substr(prefix.size() + 8), v);
      const std::vector<std::string> ids = named.ok() ? std::move(named).value()
                                                      : std::vector<std::string>{};
      for (size_t i = std::exchange(skip, 0); i < ids.size(); ++i) {
        if (static_cast<int>(page.orders.size()) == limit || ++scanned > 10'000) {
          // Before this entry, or inside it after the orders already gone through.
          page.next_cursor = i == 0 && !done_key.empty()
                                 ? events::HexEncode(done_key)
                                 : events::HexEncode(k) + "." + std::to_string(i);
          return false;
        }
        auto o = Load(ids[i]);
        if (!o.ok()) continue;
        if (!by_seller) {
          if (q.status.empty() || o->status == q.status) page.orders.push_back(std::move(o).value());
          continue;
        }
        Order view = ViewFor(std::move(o).value(), Actor{"seller", q.seller_id});
        const auto in_status = [&](const SubOrder& sub) { return sub.status == q.status; };
        if (q.status.empty() || std::ranges::any_of(view.sub_orders, in_status)) {
          page.orders.push_back(std::move(view));
        }
      }
      done_key.assign(k);
      return true;
    });
    if (ec) return {svc_errc::internal, "reading the order index failed"};
    return page;
  }

  // Every mutating command: find the order, check who asks, apply `fn`, commit, answer once
  // durable.
  template <typename Fn>
  void Mutate(const std::string& id, const Actor& who, std::function<void(Result<Order>)> done,
              Fn fn) {
    Order* order = Find(id);
    if (order == nullptr || !CanSee(*order, who)) {
      return done(Result<Order>(svc_errc::not_found, "no order " + id));
    }
    events::Transaction tx;
    tx.set_correlation_id(id);
    Result<bool> changed = fn(*order, tx);
    if (!changed.ok()) {
      Release(id);
      return done(changed.error_detail());
    }
    if (!*changed && !Dirty(id)) {  // An idempotent repeat: answer with the current state.
      Order copy = *order;
      Release(id);
      return done(std::move(copy));
    }
    order->updated_micros = store_.clock().NowMicros();
    tx.OnDurable([done, snapshot = *order](std::error_code ec) {
      if (ec) return done(Result<Order>(svc_errc::internal, "could not store: " + ec.message()));
      done(snapshot);
    });
    Commit(id, tx, /*fatal=*/true);
  }

  Result<bool> Pay(Order& o, const Actor& who, events::Transaction& tx) {
    if (who.role == "seller") return Result<bool>(svc_errc::forbidden, "a seller cannot pay");
    if (o.status != "pending_payment") return Conflict(o, "only an order awaiting payment can be paid").error_detail();
    auto txn = payments_->Charge(o.id, o.total);
    if (!txn.ok()) return txn.error_detail();
    return ApplyPayment(o, Payment{payments_->name(), *txn, o.total, 0, ""}, tx);
  }

  Result<bool> ApplyPayment(Order& o, Payment p, events::Transaction& tx) {
    for (const auto& seen : o.payments) {
      if (seen.provider == p.provider && seen.txn_id == p.txn_id) return false;  // Duplicate.
    }
    if (o.status == "pending") {
      return Result<bool>(svc_errc::conflict, "the order is still being placed; retry shortly");
    }
    p.micros = store_.clock().NowMicros();
    bool has_applied = std::any_of(o.payments.begin(), o.payments.end(),
                                   [](const Payment& x) { return x.outcome != "refund_due"; });
    if (o.status == "pending_payment" && p.amount == o.total) {
      p.outcome = "applied";
      o.payments.push_back(p);
      MarkPaid(o, p, /*late=*/false, tx);
    } else if (o.status == "cancelled" && o.cancel_reason == "payment_timeout" && !has_applied &&
               p.amount == o.total) {
      // Late payment after the automatic cancel: ask the catalog for the stock again.
      p.outcome = "pending_reinstate";
      o.payments.push_back(p);
      schema::ReinstateRequested req{o.id, o.shopper_id, {}};
      for (uint32_t i = 0; i < o.lines.size(); ++i) {
        req.lines.push_back({i, o.lines[i].sku_id, o.lines[i].quantity, ""});
      }
      tx.Emit(o.id, events::kAnyVersion, req);
    } else {
      std::string reason = p.amount != o.total        ? "amount_mismatch"
                           : o.status == "rejected"   ? "order_rejected"
                           : o.status == "cancelled"  ? "order_cancelled"
                                                      : "already_paid";
      p.outcome = "refund_due";
      o.payments.push_back(p);
      tx.Emit(o.id, events::kAnyVersion,
              schema::RefundDue{o.id, o.shopper_id, p.provider, p.txn_id, reason, p.amount});
    }
    return true;
  }

  Result<bool> Cancel(Order& o, const Actor& who, events::Transaction& tx) {
    if (who.role == "seller") {
      return Result<bool>(svc_errc::forbidden, "a seller cannot cancel; the shopper asks for a refund");
    }
    if (o.status == "cancelled") return false;
    if (o.status != "pending_payment") {
      return Conflict(o, "only an unpaid order can be cancelled; request a refund instead")
          .error_detail();
    }
    CancelUnpaid(o, who.role == "operator" ? "operator" : "shopper", tx);
    return true;
  }

  Result<bool> Ship(Order& o, const std::string& sub_id, const std::string& carrier,
                    const std::string& tracking, const Actor& who, events::Transaction& tx) {
    if (carrier.empty() || tracking.empty()) {
      return Result<bool>(svc_errc::invalid_argument, "carrier and tracking_no: both are required");
    }
    auto sub = ResolveSub(o, sub_id, who);
    if (!sub.ok()) return sub.error_detail();
    SubOrder& s = **sub;
    if (s.status == "shipped" && s.tracking_no == tracking) return false;
    if (s.status != "paid") return SubConflict(s, "only a paid sub-order can be shipped").error_detail();
    s.status = "shipped";
    s.carrier = carrier;
    s.tracking_no = tracking;
    s.shipped_micros = store_.clock().NowMicros();
    PutDue(DueKey(s.shipped_micros + options_.auto_confirm_micros, "confirm", o.id, s.id), "", tx);
    tx.EmitAs(schema::SubOrderChanged::kShipped, o.id, events::kAnyVersion,
            schema::SubOrderChanged{o.id, s.id, s.seller_id, carrier, tracking, false});
    return true;
  }

  Result<bool> Deliver(Order& o, const std::string& sub_id, const Actor& who,
                       events::Transaction& tx) {
    if (who.role == "shopper") {
      return Result<bool>(svc_errc::forbidden, "the shopper confirms receipt with /confirm");
    }
    auto sub = ResolveSub(o, sub_id, who);
    if (!sub.ok()) return sub.error_detail();
    SubOrder& s = **sub;
    if (s.status == "delivered") return false;
    if (s.status != "shipped") {
      return SubConflict(s, "only a shipped sub-order can be delivered").error_detail();
    }
    s.status = "delivered";
    s.delivered_micros = store_.clock().NowMicros();
    tx.EmitAs(schema::SubOrderChanged::kDelivered, o.id, events::kAnyVersion,
            schema::SubOrderChanged{o.id, s.id, s.seller_id, s.carrier, s.tracking_no, false});
    return true;
  }

  Result<bool> Confirm(Order& o, const std::string& sub_id, const Actor& who, bool automatic,
                       events::Transaction& tx) {
    if (who.role == "seller") {
      return Result<bool>(svc_errc::forbidden, "only the shopper confirms receipt");
    }
    std::vector<SubOrder*> targets;
    if (sub_id.empty()) {
      for (auto& s : o.sub_orders) {
        if (s.status == "shipped" || s.status == "delivered") targets.push_back(&s);
      }
      if (targets.empty()) return Conflict(o, "nothing has been shipped yet").error_detail();
    } else {
      auto sub = ResolveSub(o, sub_id, who);
      if (!sub.ok()) return sub.error_detail();
      if ((*sub)->status == "completed") return false;
      if ((*sub)->status != "shipped" && (*sub)->status != "delivered") {
        return SubConflict(**sub, "only a shipped sub-order can be confirmed").error_detail();
      }
      targets.push_back(*sub);
    }
    for (SubOrder* s : targets) {
      s->status = "completed";
      s->completed_micros = store_.clock().NowMicros();
      tx.EmitAs(schema::SubOrderChanged::kCompleted, o.id, events::kAnyVersion,
              schema::SubOrderChanged{o.id, s->id, s->seller_id, s->carrier, s->tracking_no,
                                      automatic});
    }
    MaybeComplete(o);
    return true;
  }

  // Units of each line that the sub-order's refunds cover, but for rejected ones and `except`.
  // A unit is refunded once: so no returned unit goes back into stock twice, and the sales lose
  // each unit once.
  static std::vector<int64_t> Covered(const Order& o, const std::string& sub_id,
                                      const Refund* except) {
    std::vector<int64_t> covered(o.lines.size(), 0);
    for (const auto& r : o.refunds) {
      if (&r == except || r.sub_id != sub_id || r.status == "rejected") continue;
      for (const auto& ref : r.items) {
        if (ref.line < covered.size()) covered[ref.line] += ref.quantity;
      }
    }
    return covered;
  }
  // The sub-order's units that `covered` leaves, line by line.
  static std::vector<schema::LineRef> Uncovered(const Order& o, const SubOrder& s,
                                                const std::vector<int64_t>& covered) {
    std::vector<schema::LineRef> items;
    for (uint32_t i : s.lines) {
      const int64_t left = o.lines[i].quantity - covered[i];
      if (left > 0) items.push_back({i, o.lines[i].sku_id, left, ""});
    }
    return items;
  }

  Result<bool> RequestRefund(Order& o, const RefundInput& in, const Actor& who,
                             events::Transaction& tx) {
    if (who.role == "seller") return Result<bool>(svc_errc::forbidden, "the shopper asks for refunds");
    if (o.status != "paid" && o.status != "completed") {
      return Conflict(o, "only a paid order can be refunded").error_detail();
    }
    if (in.sub_id.empty() && in.items.empty() && in.amount_fen < 0 && o.sub_orders.size() > 1) {
      // The whole order: one refund per sub-order that still has money on it. All or none.
      Order before = o;
      int asked = 0;
      for (const auto& s : before.sub_orders) {
        if (s.status == "cancelled" || s.refunded == s.total) continue;
        RefundInput part = in;
        part.sub_id = s.id;
        auto r = RequestRefund(o, part, who, tx);
        if (!r.ok()) {
          o = std::move(before);
          return r;
        }
        ++asked;
      }
      if (asked == 0) return Conflict(o, "nothing left to refund").error_detail();
      return true;
    }
    auto sub = ResolveSub(o, in.sub_id, who);
    if (!sub.ok()) return sub.error_detail();
    SubOrder& s = **sub;
    const int64_t now = store_.clock().NowMicros();
    if (s.status == "cancelled") return SubConflict(s, "nothing left to refund").error_detail();
    if (s.status == "completed" && now > s.completed_micros + options_.after_sale_micros) {
      return SubConflict(s, "the after-sale window has closed").error_detail();
    }
    for (const auto& r : o.refunds) {
      if (r.sub_id == s.id && (r.status == "requested" || r.status == "approved")) {
        return Result<bool>(svc_errc::conflict, "refund " + r.id + " for this sub-order is open");
      }
    }
    Refund r;
    r.id = o.id + "-r" + std::to_string(o.refunds.size() + 1);
    r.sub_id = s.id;
    r.with_return = in.with_return;
    r.reason = in.reason;
    r.requested_micros = now;
    // Counts this request's items too as they are read (the same SKU twice in one request).
    std::vector<int64_t> covered = Covered(o, s.id, nullptr);
    Fen items_value;
    for (const auto& item : in.items) {
      auto it = std::find_if(s.lines.begin(), s.lines.end(),
                             [&](uint32_t i) { return o.lines[i].sku_id == item.sku_id; });
      if (it == s.lines.end()) {
        return Result<bool>(svc_errc::invalid_argument,
                            "items: " + item.sku_id + " is not in sub-order " + s.id);
      }
      const OrderLine& line = o.lines[*it];
      const int64_t left = line.quantity - covered[*it];
      if (left < 1) {
        return Result<bool>(svc_errc::invalid_argument,
                            "items: every unit of " + item.sku_id + " is refunded already");
      }
      if (item.quantity < 1 || item.quantity > left) {
        return Result<bool>(svc_errc::invalid_argument,
                            "items: quantity of " + item.sku_id + " must be 1 to " +
                                std::to_string(left) + " (the units not refunded yet)");
      }
      covered[*it] += item.quantity;
      r.items.push_back({*it, item.sku_id, item.quantity, ""});
      items_value += line.unit_price * item.quantity;
    }
    if (in.items.empty() && in.with_return) {
      r.items = Uncovered(o, s, covered);  // The whole sub-order comes back.
      if (r.items.empty()) {
        return Result<bool>(svc_errc::invalid_argument,
                            "with_return: every unit of " + s.id +
                                " is refunded already; ask for an amount without a return");
      }
    }
    const Fen refundable = s.total - s.refunded;
    Fen amount = in.amount_fen >= 0 ? Fen(in.amount_fen)
                 : in.items.empty() ? refundable
                                    : items_value;
    if (amount.value() < 1 || amount > refundable) {
      return Result<bool>(svc_errc::invalid_argument,
                          "amount_fen: give 1 to " + std::to_string(refundable.value()) +
                              " (what is left to refund on " + s.id + ")");
    }
    r.amount = amount;
    r.status = "requested";
    EmitRefund(o, s, r, schema::RefundChanged::kRequested, tx);
    o.refunds.push_back(std::move(r));
    return true;
  }

  Result<bool> DecideRefund(Order& o, const std::string& refund_id, bool approve,
                            const std::string& reason, const Actor& who, events::Transaction& tx) {
    auto it = std::find_if(o.refunds.begin(), o.refunds.end(),
                           [&](const Refund& r) { return r.id == refund_id; });
    if (it == o.refunds.end()) return Result<bool>(svc_errc::not_found, "no refund " + refund_id);
    Refund& r = *it;
    auto sub = ResolveSub(o, r.sub_id, who);
    if (!sub.ok()) return sub.error_detail();
    if (who.role == "shopper") {
      return Result<bool>(svc_errc::forbidden, "the seller or the operator decides refunds");
    }
    if ((approve && r.status == "refunded") || (!approve && r.status == "rejected")) return false;
    if (r.status != "requested") {
      return Result<bool>(svc_errc::conflict, "refund " + r.id + " is already " + r.status);
    }
    SubOrder& s = **sub;
    r.decided_micros = store_.clock().NowMicros();
    if (!approve) {
      r.status = "rejected";
      r.reject_reason = reason;
      EmitRefund(o, s, r, schema::RefundChanged::kRejected, tx);
      return true;
    }
    const Payment* paid = nullptr;
    for (const auto& p : o.payments) {
      if (p.outcome == "applied") paid = &p;
    }
    auto refunded = payments_->Refund(paid ? paid->txn_id : "", r.amount);
    if (!refunded.ok()) return refunded.error_detail();
    // Units refunded before the sub-order ships never left the warehouse: they go back to stock
    // whatever the request said. (Were they left out, a later refund that empties the sub-order
    // would return them and the sales would lose them twice.)
    if (s.status == "paid" && !r.items.empty()) r.with_return = true;
    EmitRefund(o, s, r, schema::RefundChanged::kApproved, tx);
    r.status = "refunded";
    s.refunded += r.amount;
    if (s.refunded == s.total && s.status == "paid") {
      // Refunded in full before it shipped: it will not ship, and what was not yet given back
      // goes back to stock.
      s.status = "cancelled";
      r.with_return = true;
      r.items = Uncovered(o, s, Covered(o, s.id, &r));
    }
    EmitRefund(o, s, r, schema::RefundChanged::kCompleted, tx);
    MaybeComplete(o);
    return true;
  }

  // A store whose orders were recorded before the status index gets its entries once, here,
  // before the service handles anything: every record names its status. A failure leaves the
  // marker unwritten, so the next start tries again.
  void BuildStatusIndex() {
    std::string built;
    if (!store_.kv().Get(kStatusIndexBuilt, &built)) return;
    const int64_t started = store_.clock().MonotonicMicros();
    storage::WriteBatch wb;
    bool failed = false;
    size_t indexed = 0;
    const auto write_when_full = [&] {
      if (wb.size() < 4096) return;
      failed = failed || static_cast<bool>(store_.kv().Write(wb, /*sync=*/false));
      wb.Clear();
    };
    // The first index's sellers' entries go (its shoppers' are the same): rebuilt below.
    const std::string sellers = "ord/st-seller/";
    auto cleared = store_.kv().Scan(sellers, storage::PrefixEnd(sellers),
                                    [&](std::string_view key, std::string_view) {
      wb.Delete(key);
      write_when_full();
      return !failed;
    });
    failed = failed || static_cast<bool>(cleared);
    wb.Delete(kStatusIndexBuiltBefore);
    const std::string prefix = OrderKey("");
    auto ec = store_.kv().Scan(prefix, storage::PrefixEnd(prefix),
                               [&](std::string_view key, std::string_view bytes) {
      auto o = events::Decode<Order>(bytes);
      if (!o.ok()) {
        std::fprintf(stderr, "order: %.*s is unreadable; not in the status index\n",
                     static_cast<int>(key.size()), key.data());
        return true;
      }
      const auto entries = StatusEntries(*o, StatusesOf(*o));
      for (const auto& entry : entries) wb.Put(entry, "");
      indexed += entries.empty() ? 0 : 1;
      write_when_full();
      return !failed;
    });
    wb.Put(kStatusIndexBuilt, "1");
    if (ec || failed || store_.kv().Write(wb, /*sync=*/true)) {
      std::fprintf(stderr, "order: building the status index failed; it is retried at the next start\n");
    } else if (indexed > 0) {
      const double took = static_cast<double>(store_.clock().MonotonicMicros() - started) / 1e6;
      std::fprintf(stderr, "order: status index built for %zu orders recorded before it (%.1f s)\n",
                   indexed, took);
    }
  }

  // ---- Timeouts ----

  // Applies the timeouts due by the clock's now, `timeouts_per_pass` at a time: a full pass
  // queues the next one (from just after its last key, with the same now) behind whatever else
  // the worker has, so a backlog — a flash sale's unpaid orders — drains as fast as the worker
  // can instead of one pass a second. An order a timeout does not change (paid before its
  // deadline) only loses its timeout: no record written, no time changed.
  //
  // A sweep starts where the last one ended, not at the first due key: an applied timeout's key
  // is deleted, and RocksDB keeps the deletion as a tombstone until compaction, so a scan from
  // the start of "ord/due/" would step over every timeout applied since — hundreds of thousands
  // of them half an hour after a flash sale, in one task on the worker. A tick while a sweep is
  // still in passes leaves it to that sweep (the next tick goes on from where it ends).
  void Tick() {
    if (sweeping_) return;
    sweeping_ = true;
    const int64_t now = store_.clock().NowMicros();
    // The next sweep starts past this one's end, unless a key is written below that meanwhile.
    const std::string from = std::exchange(sweep_from_, DueEnd(now));
    TickFrom(from, now);
  }

  // Every due key is written through here, on the worker: one below where the next sweep starts
  // (a timeout already due when it is set, or one written behind a sweep in passes) moves that
  // start back to it.
  void PutDue(std::string key, std::string value, events::Transaction& tx) {
    if (key < sweep_from_) sweep_from_ = key;
    tx.state().Put(std::move(key), std::move(value));
  }

  // Just past the due keys of `now`.
  static std::string DueEnd(int64_t now) {
    std::string end(kDuePrefix);
    events::PutFixed64BE(end, static_cast<uint64_t>(now) + 1);
    return end;
  }

  void TickFrom(const std::string& from, int64_t now) {
    const std::string end = DueEnd(now);
    const size_t per_pass = std::max<size_t>(1, options_.timeouts_per_pass);
    std::vector<std::pair<std::string, std::string>> due;  // Keys and values.
    size_t timeouts = 0;  // A batch's key counts the orders it names.
    (void)store_.kv().Scan(from, end, [&](std::string_view k, std::string_view v) {
      due.emplace_back(k, v);
      timeouts += NamedCount(v);
      return timeouts < per_pass;
    });
    for (const auto& [key, value] : due) {
      if (handled_due_.count(key)) continue;  // Its deletion is not durable yet.
      const DueTarget target = ParseDueKey(key);
      if (target.kind == kBatchPay || target.kind == "pay") {
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
      if (Order* o = Find(order_id); o != nullptr && target.kind == "confirm") {
        auto confirmed = Confirm(*o, std::string(target.sub_id), Actor{"operator", ""},
                                 /*automatic=*/true, tx);
        changed = confirmed.ok() && *confirmed;
        if (changed) o->updated_micros = now;
      }
      if (changed) {
        Commit(order_id, tx, /*fatal=*/true);
      } else {
        tx.Commit(store_, /*fatal_on_error=*/true);
        Release(order_id);
      }
    }
    if (timeouts >= per_pass) {
      worker_.Post([this, next = due.back().first + '\0', now] { TickFrom(next, now); });
      return;
    }
    sweeping_ = false;
  }

  // The payment timeout under `key` (of one batch's orders, see AfterBatch, or of one order in
  // a store from before batches): the orders still unpaid are cancelled, all in one transaction
  // with the key's deletion.
  void ApplyPaymentTimeout(const std::string& key, const std::vector<std::string>& ids,
                           int64_t now) {
    events::Transaction all;
    all.state().Delete(key);
    MarkHandled(key, all);
    for (const std::string& order_id : ids) {
      Order* o = Find(order_id);
      if (o == nullptr) continue;
      if (o->status != "pending_payment") {
        Release(order_id);
        continue;
      }
      events::Transaction tx;
      tx.set_correlation_id(order_id);
      CancelUnpaid(*o, "payment_timeout", tx);
      o->updated_micros = now;
      Stage(order_id, tx);
      tx.MergeInto(all);
    }
    all.Commit(store_, /*fatal_on_error=*/true);
  }

  // A due key taken by this sweep: skipped by any scan that finds it before its deletion is
  // durable.
  void MarkHandled(const std::string& key, events::Transaction& tx) {
    handled_due_.insert(key);
    tx.OnDurable([this, key](std::error_code) {
      worker_.Post([this, key] { handled_due_.erase(key); });
    });
  }

  // ---- Processor: once per batch of the catalog's answers ----

  // The orders the batch left waiting for payment get one timeout key, due at the latest of
  // their deadlines (they lie within the batch's few milliseconds), in the batch's one
  // transaction: one key per batch where there was one per order.
  //
  // Each seller's listing gets one entry for the orders of the batch it sees: an order alone is
  // keyed as ever (its time and id, no value); several share the key of the newest of them, and
  // the value lists them newest first (see List). One key per seller per batch where there was
  // one per order.
  void AfterBatch(events::Transaction& batch) override {
    for (auto& [seller, orders] : seller_batch_) {
      std::sort(orders.begin(), orders.end(), std::greater<>());
      const auto& [newest_micros, newest_id] = orders.front();
      std::string key = IndexKey("seller", seller, newest_micros, newest_id);
      if (orders.size() == 1) {
        batch.state().Put(std::move(key), "");
        continue;
      }
      std::vector<std::string> ids;
      ids.reserve(orders.size());
      for (auto& entry : orders) ids.push_back(std::move(entry.second));
      batch.state().Put(std::move(key), events::Encode(ids));
    }
    seller_batch_.clear();
    if (unpaid_.empty()) return;
    PutDue(DueKey(unpaid_deadline_, kBatchPay, unpaid_.front()), events::Encode(unpaid_), batch);
    unpaid_.clear();
    unpaid_deadline_ = 0;
  }


 private:
  static Result<Order> IdempotencyConflict() {
    return {svc_errc::conflict,
            "Idempotency-Key was already used for a different order; send the same body to "
            "retry, or use a new key for a new order"};
  }

  // For an order found under the id a keyed request derives: the id already stands for
  // (shopper, key), so the key itself is not compared (an order rebuilt from its events, see
  // FromEvents, does not know it).
  static bool SameRequest(const Order& o, const PlaceOrderInput& in, uint64_t hash) {
    return o.shopper_id == in.shopper_id && o.request_hash == hash;
  }

  static bool CanSee(const Order& o, const Actor& who) {
    if (who.role == "operator") return true;
    if (who.role == "shopper") return o.shopper_id == who.id;
    if (who.role == "seller") {
      return std::any_of(o.sub_orders.begin(), o.sub_orders.end(),
                         [&](const SubOrder& s) { return s.seller_id == who.id; }) ||
             std::any_of(o.lines.begin(), o.lines.end(),
                         [&](const OrderLine& l) { return SoldThrough(l, who.id); });
    }
    return false;
  }

  // Whether a distributor's listing (at any level of the chain) sold this line.
  static bool SoldThrough(const OrderLine& l, const std::string& seller) {
    const auto& c = l.distribution.commissions;
    return std::any_of(c.begin(), c.end(),
                       [&](const schema::Commission& x) { return x.seller_id == seller; });
  }

  static std::string Validate(const PlaceOrderInput& in) {
    if (in.shopper_id.empty()) return "shopper_id: give the shopper's id";
    if (in.items.empty() || in.items.size() > kMaxOrderLines) {
      return "items: give 1 to " + std::to_string(kMaxOrderLines) + " items";
    }
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < in.items.size(); ++i) {
      const auto& item = in.items[i];
      std::string at = "items[" + std::to_string(i) + "].";
      if (item.sku_id.empty() || item.sku_id.size() > 64) return at + "sku_id: give a SKU id";
      if (item.quantity < 1 || item.quantity > kMaxLineQuantity) {
        return at + "quantity: give a whole number from 1 to " + std::to_string(kMaxLineQuantity);
      }
      if (!seen.insert(item.sku_id).second) {
        return at + "sku_id: " + item.sku_id + " appears twice; give each SKU once";
      }
    }
    return {};
  }

  // The sub-order a command is about: named, or the only one, or the calling seller's.
  Result<SubOrder*> ResolveSub(Order& o, const std::string& sub_id, const Actor& who) {
    SubOrder* found = nullptr;
    if (!sub_id.empty()) {
      for (auto& s : o.sub_orders) {
        if (s.id == sub_id) found = &s;
      }
      if (!found) return {svc_errc::not_found, "no sub-order " + sub_id + " in " + o.id};
    } else if (who.role == "seller") {
      for (auto& s : o.sub_orders) {
        if (s.seller_id == who.id) found = &s;
      }
    } else if (o.sub_orders.size() == 1) {
      found = &o.sub_orders[0];
    } else if (o.sub_orders.empty()) {
      return Result<SubOrder*>(svc_errc::conflict,
                               "the order has no sub-orders (it is " + o.status + ")");
    } else {
      return {svc_errc::invalid_argument,
              "sub_order_id: required, the order has " + std::to_string(o.sub_orders.size()) +
                  " sub-orders"};
    }
    if (found == nullptr || (who.role == "seller" && found->seller_id != who.id)) {
      return {svc_errc::not_found, "no sub-order of yours in " + o.id};
    }
    return found;
  }

  // The order as the service knows it now (possibly ahead of the store), loaded into the cache.
  Order* Find(const std::string& id) {
    if (auto it = orders_.find(id); it != orders_.end()) return &it->second.order;
    bool recorded = false;
    auto stored = Load(id, &recorded);
    if (!stored.ok()) return nullptr;
    Entry& entry = orders_[id];
    entry.recorded = recorded;
    entry.indexed = StatusesOf(*stored);  // Recorded statuses are indexed (BuildStatusIndex).
    return &(entry.order = std::move(stored).value());
  }

  bool Dirty(const std::string& id) const {
    auto it = orders_.find(id);
    return it != orders_.end() && it->second.inflight > 0;
  }

  // Drops a cached order that has nothing in flight and nobody waiting; the store has its
  // latest state.
  void Release(const std::string& id) {
    auto it = orders_.find(id);
    if (it != orders_.end() && it->second.inflight == 0 && it->second.waiters.empty()) {
      orders_.erase(it);
    }
  }

  // Writes the order's state with the transaction and appends it. Once durable, waiters for its
  // placement are answered and, if nothing else is in flight, the cached copy is dropped.
  void Commit(const std::string& id, events::Transaction& tx, bool fatal) {
    Stage(id, tx);
    tx.Commit(store_, fatal);
  }

  // Commit without the append: for the processor, whose source appends every transaction of a
  // batch of events together with its checkpoint (one write for many orders' answers).
  // Without `record` the order is what its events say (just reserved: FromEvents rebuilds it
  // from order.reserved), so it gets no record — one key and one encoding fewer per order —,
  // and one written with an earlier answer of some of its lines goes.
  void Stage(const std::string& id, events::Transaction& tx, bool record = true) {
    Entry& entry = orders_.at(id);
    if (record) {
      tx.state().Put(OrderKey(id), events::Encode(entry.order));
    } else if (entry.recorded) {
      tx.state().Delete(OrderKey(id));
    }
    IndexStatuses(entry, tx);
    entry.recorded = record;
    Track(id, entry, tx);
  }

  // Moves the order's status index entries with the statuses it has now, in the transaction
  // that records them.
  void IndexStatuses(Entry& entry, events::Transaction& tx) {
    if (!IndexedStatusMoved(entry.order, entry.indexed)) return;
    IndexedStatuses now = StatusesOf(entry.order);
    const auto before = StatusEntries(entry.order, entry.indexed);
    const auto after = StatusEntries(entry.order, now);
    for (const auto& key : before) {
      if (!after.contains(key)) tx.state().Delete(key);
    }
    for (const auto& key : after) {
      if (!before.contains(key)) tx.state().Put(key, "");
    }
    entry.indexed = std::move(now);
  }

  // Counts the transaction as a commit of the order (`entry`) in flight until it is durable.
  void Track(const std::string& id, Entry& entry, events::Transaction& tx) {
    ++entry.inflight;
    tx.OnDurable([this, id](std::error_code ec) { Durable(id, ec); });
  }

  // On the store's sync thread: queues the outcome for the worker. One task takes all the
  // outcomes queued meanwhile (a group commit carries many orders), not one task per order.
  void Durable(const std::string& id, std::error_code ec) {
    bool first = false;
    {
      std::lock_guard lock(durable_mu_);
      first = durable_.empty();
      durable_.emplace_back(id, ec);
    }
    if (first) worker_.Post([this] { ApplyDurable(); });
  }

  void ApplyDurable() {
    {
      std::lock_guard lock(durable_mu_);
      applying_.swap(durable_);
    }
    for (const auto& [id, ec] : applying_) Committed(id, ec);
    applying_.clear();
  }

  // A commit of the order is durable (or failed). Once none is in flight, the waiters for its
  // placement are answered and the cached copy is dropped.
  void Committed(const std::string& id, std::error_code ec) {
    auto it = orders_.find(id);
    if (it == orders_.end() || --it->second.inflight > 0) return;
    Entry& entry = it->second;
    if (!ec && !entry.order.placed()) return;  // Still waiting for the catalog.
    auto waiters = std::move(entry.waiters);
    Result<Order> result = ec ? Result<Order>(svc_errc::internal,
                                              "could not store the order: " + ec.message())
                              : Result<Order>(std::move(entry.order));
    orders_.erase(it);  // On failure the durable state is reloaded next time.
    for (size_t i = 0; i < waiters.size(); ++i) {
      if (i + 1 == waiters.size()) {
        waiters[i](std::move(result));  // The last (usually the only) waiter takes it.
      } else {
        waiters[i](result);
      }
    }
  }

  // Applies one line's answer; decides the placement when every line has one.
  template <typename Fn>
  void Answer(const std::string& order_id, uint32_t line_no, events::Transaction& tx, Fn apply) {
    Order* order = Find(order_id);
    if (order == nullptr) return;
    if (order->placed() || line_no >= order->lines.size() ||
        order->lines[line_no].status != "pending") {
      Release(order_id);  // A redelivery.
      return;
    }
    OrderLine& line = order->lines[line_no];
    apply(line);
    order->updated_micros = store_.clock().NowMicros();
    bool all_answered = std::all_of(order->lines.begin(), order->lines.end(),
                                    [](const OrderLine& l) { return l.status != "pending"; });
    if (all_answered) Decide(*order, tx);
    Stage(order_id, tx, /*record=*/!all_answered || order->status != "pending_payment");
  }

  void Decide(Order& order, events::Transaction& tx) {
    bool all_reserved = std::all_of(order.lines.begin(), order.lines.end(),
                                    [](const OrderLine& l) { return l.status == "reserved"; });
    if (!all_reserved) {
      order.status = "rejected";
      schema::OrderRejected rejected{order.id, order.shopper_id, {}, {}};
      for (uint32_t i = 0; i < order.lines.size(); ++i) {
        const auto& l = order.lines[i];
        auto& into = l.status == "reserved" ? rejected.release : rejected.rejected;
        into.push_back(schema::LineRef{i, l.sku_id, l.quantity, l.reason});
      }
      tx.Emit(order.id, events::kAnyVersion, rejected);
      return;
    }
    // Split by seller, in the order sellers first appear.
    std::map<std::string, size_t> by_seller;
    schema::OrderReserved reserved{order.id,
                                   order.shopper_id,
                                   Fen(0),
                                   {},
                                   {},
                                   order.updated_micros + options_.payment_timeout_micros,
                                   order.created_micros,
                                   order.updated_micros};
    for (uint32_t i = 0; i < order.lines.size(); ++i) {
      const OrderLine& l = order.lines[i];
      auto [it, fresh] = by_seller.emplace(l.seller_id, reserved.sub_orders.size());
      if (fresh) {
        reserved.sub_orders.push_back(
            {order.id + "-s" + std::to_string(reserved.sub_orders.size() + 1), l.seller_id, Fen(0)});
      }
      reserved.sub_orders[it->second].total += l.amount;
      reserved.total += l.amount;
      reserved.lines.push_back(PricedLine(order, i));
    }
    ApplyReserved(order, reserved);
    // Listed for every seller who sees it (the distributors read only), once each; and its
    // payment timeout: see AfterBatch.
    for (const SubOrder& sub : order.sub_orders) {
      ForEachViewer(order, sub, [&](std::string_view seller) {
        auto& listed = seller_batch_[std::string(seller)];
        if (listed.empty() || listed.back().second != order.id) {
          listed.emplace_back(order.created_micros, order.id);
        }
      });
    }
    unpaid_.push_back(order.id);
    unpaid_deadline_ = std::max(unpaid_deadline_, order.pay_deadline_micros);
    tx.Emit(order.id, events::kAnyVersion, reserved);
  }

  // What order.reserved makes of the order placed: Decide's state, and what FromEvents
  // rebuilds while the order has no record. Every line of the event is one of the order's.
  static void ApplyReserved(Order& order, const schema::OrderReserved& r) {
    order.status = "pending_payment";
    order.created_micros = r.placed_micros;
    order.updated_micros = r.reserved_micros;
    order.pay_deadline_micros = r.pay_deadline_micros;
    order.total = r.total;
    for (const auto& p : r.lines) {
      OrderLine& l = order.lines.at(p.line);
      if (l.status == "reserved") continue;  // Decide's own lines: answered already.
      l.status = "reserved";
      l.product_id = p.product_id;
      l.seller_id = p.seller_id;
      l.place_code = p.place_code;
      l.unit_price = p.unit_price;
      l.amount = p.amount;
      l.distribution = p.distribution;
    }
    order.sub_orders.clear();
    for (const auto& info : r.sub_orders) {
      SubOrder s;
      s.id = info.sub_id;
      s.seller_id = info.seller_id;
      s.status = "pending_payment";
      s.total = info.total;
      for (uint32_t i = 0; i < order.lines.size(); ++i) {
        if (order.lines[i].seller_id == s.seller_id) s.lines.push_back(i);
      }
      order.sub_orders.push_back(std::move(s));
    }
  }

  static schema::PricedLine PricedLine(const Order& o, uint32_t i) {
    const OrderLine& l = o.lines[i];
    return {i,          l.sku_id,     l.product_id, l.seller_id, l.place_code,
            l.quantity, l.unit_price, l.amount,     l.distribution};
  }

  void MarkPaid(Order& o, const Payment& p, bool late, events::Transaction& tx) {
    o.status = "paid";
    o.cancel_reason.clear();
    for (auto& s : o.sub_orders) s.status = "paid";
    schema::OrderPaid paid{o.id, o.shopper_id, p.provider, p.txn_id, p.amount, {}, late};
    for (uint32_t i = 0; i < o.lines.size(); ++i) paid.lines.push_back(PricedLine(o, i));
    tx.Emit(o.id, events::kAnyVersion, paid);
  }

  void CancelUnpaid(Order& o, const std::string& reason, events::Transaction& tx) {
    o.status = "cancelled";
    o.cancel_reason = reason;
    for (auto& s : o.sub_orders) s.status = "cancelled";
    schema::OrderCancelled cancelled{o.id, o.shopper_id, reason, {}};
    for (uint32_t i = 0; i < o.lines.size(); ++i) {
      cancelled.release.push_back({i, o.lines[i].sku_id, o.lines[i].quantity, ""});
    }
    tx.Emit(o.id, events::kAnyVersion, cancelled);
  }

  void Reinstated(const schema::StockReinstated& r, events::Transaction& tx) {
    Order* o = Find(r.order_id);
    if (o == nullptr) return;
    auto it = std::find_if(o->payments.begin(), o->payments.end(),
                           [](const Payment& p) { return p.outcome == "pending_reinstate"; });
    if (it == o->payments.end()) {
      Release(r.order_id);  // A redelivery.
      return;
    }
    if (r.ok) {
      it->outcome = "applied";
      MarkPaid(*o, *it, /*late=*/true, tx);
    } else {
      it->outcome = "refund_due";
      tx.Emit(o->id, events::kAnyVersion,
              schema::RefundDue{o->id, o->shopper_id, it->provider, it->txn_id,
                                "late_payment_out_of_stock", it->amount});
    }
    o->updated_micros = store_.clock().NowMicros();
    Stage(o->id, tx);
  }

  void MaybeComplete(Order& o) {
    bool done = std::all_of(o.sub_orders.begin(), o.sub_orders.end(), [](const SubOrder& s) {
      return s.status == "completed" || s.status == "cancelled";
    });
    if (done && o.status == "paid") o.status = "completed";
  }

  void EmitRefund(const Order& o, const SubOrder& s, const Refund& r, std::string_view type,
                  events::Transaction& tx) {
    std::string place = s.lines.empty() ? "" : o.lines[s.lines[0]].place_code;
    tx.EmitAs(type, o.id, events::kAnyVersion,
            schema::RefundChanged{o.id, r.id, s.id, s.seller_id, place,
                                  r.status == "rejected" ? r.reject_reason : r.reason, r.amount,
                                  r.with_return, r.items});
  }

  events::EventStore& store_;
  events::Worker& worker_;
  OrderOptions options_;
  BuiltinPaymentProvider builtin_;
  PaymentProvider* payments_;
  // Orders whose state may be ahead of the store.
  std::unordered_map<std::string, Entry> orders_;
  // Commit outcomes from the store's sync thread, waiting for the worker (see Durable).
  std::mutex durable_mu_;
  std::vector<std::pair<std::string, std::error_code>> durable_, applying_;
  std::unordered_set<std::string> handled_due_;
  // Where the next sweep of due timeouts starts (see Tick).
  std::string sweep_from_ = std::string(kDuePrefix);
  bool sweeping_ = false;
  // The orders the batch of the catalog's answers being handled left waiting for payment, and
  // the latest of their deadlines (see AfterBatch).
  std::vector<std::string> unpaid_;
  int64_t unpaid_deadline_ = 0;
  // The orders the batch lists for each seller: (placed at, id).
  std::unordered_map<std::string, std::vector<std::pair<int64_t, std::string>>> seller_batch_;
};

OrderService::OrderService(events::EventStore& store, OrderOptions options,
                           PaymentProvider* payments)
    : worker_("order", store.writer_worker()), impl_(std::make_unique<Impl>(store, worker_, options, payments)) {}

OrderService::~OrderService() {
  worker_.Stop();
  // Commits still queued in the store call back into this service: let them run first.
  (void)impl_->store().AppendAndWait(events::AppendRequest{});
}

events::Processor& OrderService::processor() { return *impl_; }

std::string OrderService::Place(PlaceOrderInput input, std::function<void(Result<Order>)> done) {
  std::string id = OrderIdFor(input);
  worker_.Post([this, id, input = std::move(input), done = std::move(done)]() mutable {
    impl_->Place(id, std::move(input), std::move(done));
  });
  return id;
}

void OrderService::Get(std::string id, Actor who, std::function<void(Result<Order>)> done) {
  worker_.Post([this, id = std::move(id), who = std::move(who), done = std::move(done)] {
    done(impl_->Get(id, who));
  });
}

void OrderService::List(ListQuery query, std::function<void(Result<OrderPage>)> done) {
  worker_.Post([this, q = std::move(query), done = std::move(done)] { done(impl_->List(q)); });
}

void OrderService::Pay(std::string order_id, Actor who, std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done),
                  [&](Order& o, events::Transaction& tx) { return impl_->Pay(o, who, tx); });
  });
}

void OrderService::PaymentReceived(PaymentNotice n, std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(n.order_id, Actor{"operator", ""}, std::move(done),
                  [&](Order& o, events::Transaction& tx) {
                    return impl_->ApplyPayment(o, Payment{n.provider, n.txn_id, n.amount, 0, ""},
                                               tx);
                  });
  });
}

void OrderService::Cancel(std::string order_id, Actor who,
                          std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done),
                  [&](Order& o, events::Transaction& tx) { return impl_->Cancel(o, who, tx); });
  });
}

void OrderService::Ship(std::string order_id, std::string sub_id, std::string carrier,
                        std::string tracking, Actor who, std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done), [&](Order& o, events::Transaction& tx) {
      return impl_->Ship(o, sub_id, carrier, tracking, who, tx);
    });
  });
}

void OrderService::Deliver(std::string order_id, std::string sub_id, Actor who,
                           std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done), [&](Order& o, events::Transaction& tx) {
      return impl_->Deliver(o, sub_id, who, tx);
    });
  });
}

void OrderService::Confirm(std::string order_id, std::string sub_id, Actor who,
                           std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done), [&](Order& o, events::Transaction& tx) {
      return impl_->Confirm(o, sub_id, who, /*automatic=*/false, tx);
    });
  });
}

void OrderService::RequestRefund(RefundInput input, Actor who,
                                 std::function<void(Result<Order>)> done) {
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(input.order_id, who, std::move(done), [&](Order& o, events::Transaction& tx) {
      return impl_->RequestRefund(o, input, who, tx);
    });
  });
}

void OrderService::DecideRefund(std::string refund_id, bool approve, std::string reason,
                                Actor who, std::function<void(Result<Order>)> done) {
  // Refund ids are "<order id>-r<n>".
  std::string order_id = refund_id.substr(0, refund_id.rfind("-r"));
  worker_.Post([=, this, done = std::move(done)]() mutable {
    impl_->Mutate(order_id, who, std::move(done), [&](Order& o, events::Transaction& tx) {
      return impl_->DecideRefund(o, refund_id, approve, reason, who, tx);
    });
  });
}

void OrderService::Tick() {
  worker_.Post([this] { impl_->Tick(); });
}

}  // namespace pavilion::order
