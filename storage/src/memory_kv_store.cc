#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::storage {

std::error_code MemoryKvStore::Get(std::string_view key, std::string* value) {
  std::lock_guard lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return errc::not_found;
  *value = it->second;
  return {};
}

std::error_code MemoryKvStore::Write(const WriteBatch& batch, bool /*sync*/) {
  std::lock_guard lock(mu_);
  for (const auto& op : batch.ops()) {
    if (op.kind == WriteBatch::Kind::kPut) {
      data_.insert_or_assign(op.key, op.value);
    } else {
      auto it = data_.find(op.key);
      if (it != data_.end()) data_.erase(it);
    }
  }
  return {};
}

std::error_code MemoryKvStore::Scan(std::string_view begin, std::string_view end,
                                    const ScanFn& fn) {
  // Copy the range first so `fn` may call back into the store.
  std::vector<std::pair<std::string, std::string>> rows;
  if (!end.empty() && end <= begin) return {};  // An empty range (RocksDB's answer too).
  {
    std::lock_guard lock(mu_);
    auto it = data_.lower_bound(begin);
    auto stop = end.empty() ? data_.end() : data_.lower_bound(end);
    for (; it != stop; ++it) rows.emplace_back(it->first, it->second);
  }
  for (const auto& [k, v] : rows) {
    if (!fn(k, v)) break;
  }
  return {};
}

std::error_code MemoryKvStore::ScanReverse(std::string_view begin, std::string_view end,
                                           const ScanFn& fn) {
  std::vector<std::pair<std::string, std::string>> rows;
  if (!end.empty() && end <= begin) return {};
  {
    std::lock_guard lock(mu_);
    auto first = data_.lower_bound(begin);
    auto it = end.empty() ? data_.end() : data_.lower_bound(end);
    while (it != first) {
      --it;
      rows.emplace_back(it->first, it->second);
    }
  }
  for (const auto& [k, v] : rows) {
    if (!fn(k, v)) break;
  }
  return {};
}

std::map<std::string, std::string, std::less<>> MemoryKvStore::Snapshot() const {
  std::lock_guard lock(mu_);
  return data_;
}

void MemoryKvStore::Restore(std::map<std::string, std::string, std::less<>> data) {
  std::lock_guard lock(mu_);
  data_ = std::move(data);
}

}  // namespace pavilion::storage
