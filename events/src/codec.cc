#include "pavilion/events/codec.h"

#include <array>
#include <cstring>

namespace pavilion::events {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "pavilion.events"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "ok";
      case errc::corrupt_event:
        return "event bytes are corrupt or truncated";
      case errc::unsupported_schema:
        return "event schema version is not supported";
      case errc::version_conflict:
        return "stream version conflict";
      case errc::invalid_event:
        return "event is invalid";
      case errc::store_failed:
        return "event store write failed";
      case errc::shut_down:
        return "shutting down";
    }
    return "unknown events error";
  }
};

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = MakeCrcTable();

}  // namespace

const std::error_category& events_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), events_category()};
}

uint64_t GetFixed64BE(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

uint32_t Crc32c(std::string_view data, uint32_t seed) {
  uint32_t c = ~seed;
  const char* p = data.data();
  size_t n = data.size();
#if defined(__SSE4_2__) && defined(__x86_64__)
  // The CPU's CRC32C instruction: ~8 bytes per cycle instead of one byte per table lookup.
  uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c64 = __builtin_ia32_crc32di(c64, word);
  }
  c = static_cast<uint32_t>(c64);
  for (; n > 0; --n, ++p) c = __builtin_ia32_crc32qi(c, static_cast<unsigned char>(*p));
#else
  for (; n > 0; --n, ++p) c = kCrcTable[(c ^ static_cast<unsigned char>(*p)) & 0xff] ^ (c >> 8);
#endif
  return ~c;
}

uint64_t Fingerprint64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

std::string Hex64(uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 0xf];
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

bool HexDecode(std::string_view hex, std::string* bytes) {
  if (hex.size() % 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  bytes->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

bool Reader::Varint(uint64_t* v) {
  if (!ok_) return false;
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (in_.empty()) {
      ok_ = false;
      return false;
    }
    auto byte = static_cast<unsigned char>(in_.front());
    in_.remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  ok_ = false;
  return false;
}

bool Reader::Bytes(std::string_view* out) {
  uint64_t n = 0;
  if (!Varint(&n)) return false;
  if (n > in_.size()) {
    Fail();
    return false;
  }
  *out = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

void Reader::operator()(std::string& s) {
  std::string_view bytes;
  if (Bytes(&bytes)) s.assign(bytes);
}

}  // namespace pavilion::events
