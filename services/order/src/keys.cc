#include "keys.h"

#include <algorithm>

#include "pavilion/events/codec.h"

namespace pavilion::order {

std::string OrderKey(std::string_view id) { return "ord/o/" + std::string(id); }

std::string ListingPrefix(std::string_view kind, std::string_view owner) {
  std::string k = "ord/by-";
  k.append(kind).append("/").append(owner).append("/");
  return k;
}

std::string StatusPrefix(std::string_view kind, std::string_view owner, std::string_view status) {
  std::string k = "ord/st-";
  k.append(kind).append("/").append(owner).append("/").append(status).append("/");
  return k;
}

std::string IndexEntry(std::string k, int64_t micros, std::string_view id) {
  events::PutFixed64BE(k, static_cast<uint64_t>(micros));
  k.append(id);
  return k;
}

std::string IndexKey(std::string_view kind, std::string_view owner, int64_t micros,
                     std::string_view id) {
  return IndexEntry(ListingPrefix(kind, owner), micros, id);
}

std::string DueKey(int64_t when, std::string_view kind, std::string_view order_id,
                   std::string_view sub_id) {
  std::string k(kDuePrefix);
  events::PutFixed64BE(k, static_cast<uint64_t>(when));
  k.append("/").append(kind).append("/").append(order_id);
  if (!sub_id.empty()) k.append("/").append(sub_id);
  return k;
}

std::string DueEnd(int64_t now) {
  std::string end(kDuePrefix);
  events::PutFixed64BE(end, static_cast<uint64_t>(now) + 1);
  return end;
}

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

Result<std::vector<std::string>> NamedOrders(std::string_view own_id, std::string_view value) {
  if (value.empty()) return std::vector<std::string>{std::string(own_id)};
  return events::Decode<std::vector<std::string>>(value);
}

size_t NamedCount(std::string_view value) {
  uint64_t n = 1;
  return value.empty() || events::Reader(value).Varint(&n) ? std::max<size_t>(1, n) : 1;
}

}  // namespace pavilion::order
