#include "pavilion/storage/status.h"

#include <cstdio>
#include <cstdlib>

#include "pavilion/storage/kv_store.h"

namespace pavilion::storage {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pavilion.storage"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "ok";
      case errc::not_found:
        return "key not found";
      case errc::io_error:
        return "storage I/O error";
      case errc::corruption:
        return "stored data is corrupt";
      case errc::injected_fault:
        return "injected fault";
      case errc::invalid_argument:
        return "invalid argument";
    }
    return "unknown storage error";
  }
};

}  // namespace

const std::error_category& storage_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), storage_category()};
}

void KvStore::MultiGet(const std::vector<std::string_view>& keys, std::vector<std::string>* values,
                       std::vector<std::error_code>* results) {
  values->assign(keys.size(), {});
  results->assign(keys.size(), {});
  for (size_t i = 0; i < keys.size(); ++i) (*results)[i] = Get(keys[i], &(*values)[i]);
}

namespace {

[[noreturn]] void ReadFailed(std::string_view what, std::string_view key, std::error_code ec) {
  std::fprintf(stderr, "pavilion: fatal: %.*s of %.*s failed: %s\n", int(what.size()), what.data(),
               int(key.size()), key.data(), ec.message().c_str());
  std::abort();
}

}  // namespace

bool GetOrAbort(KvStore& kv, std::string_view key, std::string* value) {
  const std::error_code ec = kv.Get(key, value);
  if (!ec) return true;
  if (ec == errc::not_found) return false;
  ReadFailed("reading", key, ec);
}

void ScanOrAbort(KvStore& kv, std::string_view begin, std::string_view end, const ScanFn& fn) {
  if (auto ec = kv.Scan(begin, end, fn)) ReadFailed("scanning", begin, ec);
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c != 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return end;  // Empty: no upper bound.
}

}  // namespace pavilion::storage
