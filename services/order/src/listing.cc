#include "listing.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "keys.h"
#include "lifecycle.h"

namespace pavilion::order {
namespace {

using events::svc_errc;

constexpr int kMaxScanned = 10'000;

}  // namespace

Result<OrderPage> Listing::List(const ListQuery& q) {
  if (!q.shopper_id.empty() && !q.seller_id.empty()) {
    return {svc_errc::invalid_argument, "give at most one of shopper_id and seller_id"};
  }
  // A seller's listing filters on its sub-orders' status; a shopper's and the pavilion's on the
  // order's.
  const bool by_seller = !q.seller_id.empty();
  const bool pavilion = !by_seller && q.shopper_id.empty();
  OrderStatus order_status{};
  SubOrderStatus sub_status{};
  bool indexed = false;
  if (!q.status.empty()) {
    const bool known = by_seller ? Parse(q.status, &sub_status) : Parse(q.status, &order_status);
    if (!known) {
      return {svc_errc::invalid_argument,
              by_seller ? "status: give one of pending_payment, paid, shipped, delivered, "
                          "completed, cancelled (a seller lists by its sub-orders' status)"
                        : "status: give one of pending, pending_payment, paid, completed, "
                          "cancelled, rejected (an order's status; shipped and delivered are its "
                          "sub-orders', which a seller's listing filters on)"};
    }
    // The pavilion's listing has no status index: it filters as it scans.
    indexed = !pavilion && (by_seller ? StatusIndexed(sub_status) : StatusIndexed(order_status));
  }
  const int limit = std::clamp(q.limit, 1, 100);
  const std::string_view kind = by_seller ? "seller" : pavilion ? "all" : "shopper";
  const std::string& owner = by_seller ? q.seller_id : q.shopper_id;
  // Every index keys an entry the same way after its prefix: time, then the order's id.
  const std::string prefix =
      indexed ? StatusPrefix(kind, owner, q.status) : ListingPrefix(kind, owner);
  // A period bounds the keys scanned, and each order is checked against it: a seller's entry is
  // keyed by the newest order of its batch, so it may hold older ones placed before `from`, and
  // one placed before `to` may sit in an entry keyed up to a batch's span later (the span is
  // kBatchSpan at most in practice; an order answered in a batch over an hour after it was
  // placed may be missed by a `to` bound). Every other listing has one key per order: exact.
  constexpr int64_t kBatchSpan = 3600ll * 1'000'000;
  const bool grouped = by_seller && !indexed;
  const std::string begin = q.from_micros > 0 ? IndexEntry(prefix, q.from_micros, "") : prefix;
  std::string end = q.to_micros > 0
                        ? IndexEntry(prefix, q.to_micros + (grouped ? kBatchSpan : 0), "")
                        : storage::PrefixEnd(prefix);
  const auto in_period = [&q](const Order& o) {
    return (q.from_micros <= 0 || o.created_micros >= q.from_micros) &&
           (q.to_micros <= 0 || o.created_micros < q.to_micros);
  };
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
    if (!ok)
      return {svc_errc::invalid_argument, "cursor: pass back next_cursor from the last page"};
    // Inside an entry: from that entry on; otherwise from the one before it.
    end = std::min(end, dot != std::string_view::npos ? raw + '\0' : raw);
  }
  const Actor seller{Role::kSeller, q.seller_id};
  OrderPage page;
  int scanned = 0;
  std::string done_key;  // The last entry whose orders were all gone through.
  auto ec =
      orders_.events().kv().ScanReverse(begin, end, [&](std::string_view k, std::string_view v) {
        auto named = NamedOrders(k.substr(prefix.size() + 8), v);
        const std::vector<std::string> ids =
            named.ok() ? std::move(named).value() : std::vector<std::string>{};
        for (size_t i = std::exchange(skip, 0); i < ids.size(); ++i) {
          if (static_cast<int>(page.orders.size()) == limit || ++scanned > kMaxScanned) {
            // Before this entry, or inside it after the orders already gone through.
            page.next_cursor = i == 0 && !done_key.empty()
                                   ? events::HexEncode(done_key)
                                   : events::HexEncode(k) + "." + std::to_string(i);
            return false;
          }
          auto o = orders_.Load(ids[i]);
          if (!o.ok() || !in_period(*o)) continue;
          if (!q.place_code.empty() && std::ranges::none_of(o->lines, [&q](const OrderLine& l) {
                return l.place_code.starts_with(q.place_code);
              })) {
            continue;
          }
          if (!by_seller) {
            if (q.status.empty() || o->status == order_status) {
              page.orders.push_back(std::move(o).value());
            }
            continue;
          }
          Order view = ViewFor(std::move(o).value(), seller);
          const auto in_status = [&](const SubOrder& sub) { return sub.status == sub_status; };
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

void Listing::Listed(const Order& o) {
  pavilion_.emplace_back(o.created_micros, o.id);
  if (o.status != OrderStatus::kPendingPayment) return;  // Rejected: no seller lists it.
  for (const SubOrder& sub : o.sub_orders) {
    ForEachViewer(o, sub, [&](std::string_view seller) {
      auto& listed = batch_[ListingPrefix("seller", seller)];
      if (listed.empty() || listed.back().second != o.id) {
        listed.emplace_back(o.created_micros, o.id);
      }
    });
  }
}

void Listing::AfterBatch(events::Transaction& batch) {
  for (auto& [prefix, orders] : batch_) {
    std::sort(orders.begin(), orders.end(), std::greater<>());
    const auto& [newest_micros, newest_id] = orders.front();
    std::string key = IndexEntry(prefix, newest_micros, newest_id);
    if (orders.size() == 1) {
      batch.state().Put(std::move(key), "");
      continue;
    }
    std::vector<std::string> ids;
    ids.reserve(orders.size());
    for (auto& entry : orders) ids.push_back(std::move(entry.second));
    batch.state().Put(std::move(key), events::Encode(ids));
  }
  batch_.clear();
  // The pavilion's: one key per order, so that a period bounds it exactly.
  for (const auto& [micros, id] : pavilion_) {
    batch.state().Put(IndexKey("all", "", micros, id), "");
  }
  pavilion_.clear();
}

void BuildPavilionListing(events::EventStore& store) {
  constexpr std::string_view kBuilt = "ord/by-all-built";
  std::string built;
  if (!store.kv().Get(kBuilt, &built)) return;
  // Every order placed has its entry in its shopper's listing: the same time and id.
  const std::string shoppers = "ord/by-shopper/";  // Then <shopper>/<time><order>.
  const std::string all = ListingPrefix("all", "");
  storage::WriteBatch wb;
  bool failed = false;
  size_t listed = 0;
  auto ec = store.kv().Scan(shoppers, storage::PrefixEnd(shoppers),
                            [&](std::string_view key, std::string_view) {
                              const size_t slash = key.find('/', shoppers.size());
                              if (slash == std::string_view::npos) return true;
                              wb.Put(all + std::string(key.substr(slash + 1)), "");
                              ++listed;
                              if (wb.size() >= 4096) {
                                failed = static_cast<bool>(store.kv().Write(wb, /*sync=*/false));
                                wb.Clear();
                              }
                              return !failed;
                            });
  wb.Put(kBuilt, "1");
  if (ec || failed || store.kv().Write(wb, /*sync=*/true)) {
    std::fprintf(stderr,
                 "order: building the pavilion's order listing failed; it is retried at the next "
                 "start\n");
  } else if (listed > 0) {
    std::fprintf(stderr,
                 "order: the pavilion's order listing lists %zu orders recorded before it\n",
                 listed);
  }
}

}  // namespace pavilion::order
