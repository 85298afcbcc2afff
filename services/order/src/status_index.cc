#include "status_index.h"

#include <cstdio>

#include "keys.h"
#include "lifecycle.h"

namespace pavilion::order {
namespace {

constexpr std::string_view kStatusIndexBuilt = "ord/st-built-2";
constexpr std::string_view kStatusIndexBuiltBefore = "ord/st-built";

}  // namespace

bool StatusIndexed(OrderStatus s) {
  return s != OrderStatus::kPending && s != OrderStatus::kPendingPayment;
}

bool StatusIndexed(SubOrderStatus s) { return s != SubOrderStatus::kPendingPayment; }

IndexedStatuses StatusesOf(const Order& o) {
  IndexedStatuses out{o.status, {}};
  out.subs.reserve(o.sub_orders.size());
  for (const auto& sub : o.sub_orders) out.subs.push_back(sub.status);
  return out;
}

bool IndexedStatusMoved(const Order& now, const IndexedStatuses& before) {
  if (before.order != now.status && (StatusIndexed(before.order) || StatusIndexed(now.status))) {
    return true;
  }
  for (size_t i = 0; i < now.sub_orders.size(); ++i) {
    const SubOrderStatus is = now.sub_orders[i].status;
    if (i >= before.subs.size()) {
      if (StatusIndexed(is)) return true;  // A sub-order new since: it had no entry.
      continue;
    }
    const SubOrderStatus was = before.subs[i];
    if (was != is && (StatusIndexed(was) || StatusIndexed(is))) return true;
  }
  return false;
}

std::set<std::string> StatusEntries(const Order& o, const IndexedStatuses& statuses) {
  std::set<std::string> out;
  const auto add = [&](std::string_view kind, std::string_view owner, std::string_view status) {
    out.insert(IndexEntry(StatusPrefix(kind, owner, status), o.created_micros, o.id));
  };
  if (StatusIndexed(statuses.order)) add("shopper", o.shopper_id, ToString(statuses.order));
  for (size_t i = 0; i < o.sub_orders.size() && i < statuses.subs.size(); ++i) {
    const SubOrderStatus status = statuses.subs[i];
    if (!StatusIndexed(status)) continue;
    ForEachViewer(o, o.sub_orders[i],
                  [&](std::string_view seller) { add("seller", seller, ToString(status)); });
  }
  return out;
}

void BuildStatusIndex(events::EventStore& store) {
  std::string built;
  if (!store.kv().Get(kStatusIndexBuilt, &built)) return;
  const int64_t started = store.clock().MonotonicMicros();
  storage::WriteBatch wb;
  bool failed = false;
  size_t indexed = 0;
  const auto write_when_full = [&] {
    if (wb.size() < 4096) return;
    failed = failed || static_cast<bool>(store.kv().Write(wb, /*sync=*/false));
    wb.Clear();
  };
  // The first index's sellers' entries go (its shoppers' are the same): rebuilt below.
  const std::string sellers = "ord/st-seller/";
  auto cleared = store.kv().Scan(sellers, storage::PrefixEnd(sellers),
                                 [&](std::string_view key, std::string_view) {
                                   wb.Delete(key);
                                   write_when_full();
                                   return !failed;
                                 });
  failed = failed || static_cast<bool>(cleared);
  wb.Delete(kStatusIndexBuiltBefore);
  const std::string prefix = OrderKey("");
  auto ec = store.kv().Scan(
      prefix, storage::PrefixEnd(prefix), [&](std::string_view key, std::string_view bytes) {
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
  if (ec || failed || store.kv().Write(wb, /*sync=*/true)) {
    std::fprintf(stderr,
                 "order: building the status index failed; it is retried at the next start\n");
  } else if (indexed > 0) {
    const double took = static_cast<double>(store.clock().MonotonicMicros() - started) / 1e6;
    std::fprintf(stderr, "order: status index built for %zu orders recorded before it (%.1f s)\n",
                 indexed, took);
  }
}

}  // namespace pavilion::order
