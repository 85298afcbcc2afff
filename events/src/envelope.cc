#include "pavilion/events/envelope.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "pavilion/events/clock.h"

namespace pavilion::events {
namespace {

constexpr char kMagic = 'P';
constexpr char kFormat = 1;

// 64 bits from OpenSSL's CSPRNG (the one bearer tokens come from), read 4 KiB at a time per
// thread: ids must not be predictable from earlier ones, and minting one stays a copy, not a
// call into the generator, on the order path.
uint64_t RandomBits() {
  thread_local unsigned char buffer[4096];
  thread_local size_t used = sizeof buffer;
  if (used + sizeof(uint64_t) > sizeof buffer) {
    if (RAND_bytes(buffer, sizeof buffer) != 1) {
      std::fputs("pavilion: the CSPRNG failed\n", stderr);
      std::abort();  // No safe way to go on minting ids.
    }
    used = 0;
  }
  uint64_t v;
  std::memcpy(&v, buffer + used, sizeof v);
  used += sizeof v;
  return v;
}

}  // namespace

void EncodeEnvelopeTo(const Envelope& e, std::string& out) {
  size_t start = out.size();
  out.push_back(kMagic);
  out.push_back(kFormat);
  Writer w(out);
  w(e);
  uint32_t crc = Crc32c(std::string_view(out).substr(start));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
}

std::string EncodeEnvelope(const Envelope& e) {
  std::string out;
  out.reserve(64 + e.payload.size() + e.stream_id.size() + e.type.size());
  EncodeEnvelopeTo(e, out);
  return out;
}

Result<Envelope> DecodeEnvelope(std::string_view bytes) {
  if (bytes.size() < 6 || bytes[0] != kMagic || bytes[1] != kFormat) return errc::corrupt_event;
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) {
    stored |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[bytes.size() - 4 + i]))
              << (8 * i);
  }
  if (Crc32c(body) != stored) return errc::corrupt_event;
  auto env = Decode<Envelope>(body.substr(2));
  if (!env.ok()) return env;
  if (env->schema_version == 0 || env->schema_version > kMaxSchemaVersion) {
    return errc::unsupported_schema;
  }
  return env;
}

std::string NewId(std::string_view prefix) {
  // Milliseconds first, so ids (and the keys built from them) sort by creation: new records land
  // at the end of their key range, where the memtable's search path is already in cache. The
  // rest is 48 bits from the CSPRNG, so ids stay unique across processes and no id can be
  // guessed from others.
  const uint64_t millis = static_cast<uint64_t>(SystemClock::Instance().NowMicros() / 1000);
  const uint64_t v = RandomBits();
  static constexpr char kHex[] = "0123456789abcdef";
  char tail[25] = {'_'};
  for (int k = 0; k < 12; ++k) tail[1 + k] = kHex[(millis >> (44 - 4 * k)) & 0xf];
  for (int k = 0; k < 12; ++k) tail[13 + k] = kHex[(v >> (60 - 4 * k)) & 0xf];
  std::string id;
  id.reserve(prefix.size() + sizeof tail);
  id.append(prefix);
  id.append(tail, sizeof tail);
  return id;
}

std::optional<int64_t> IdMillis(std::string_view id) {
  // "<prefix>_<12 hex digits of milliseconds><12 hex digits of randomness>".
  auto underscore = id.rfind('_');
  if (underscore == std::string_view::npos || id.size() - underscore != 25) return std::nullopt;
  int64_t millis = 0;
  for (size_t k = underscore + 1; k < underscore + 13; ++k) {
    const char c = id[k];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    millis = millis * 16 + digit;
  }
  return millis;
}

}  // namespace pavilion::events
