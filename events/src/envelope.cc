#include "pavilion/events/envelope.h"

#include <atomic>
#include <random>

#include "pavilion/events/clock.h"

namespace pavilion::events {
namespace {

constexpr char kMagic = 'P';
constexpr char kFormat = 1;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t ProcessSeed() {
  static const uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  return seed;
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
  static std::atomic<uint64_t> counter{0};
  // Milliseconds first, so ids (and the keys built from them) sort by creation: new records land
  // at the end of their key range, where the memtable's search path is already in cache. The
  // rest is random per process and call, so ids stay unique across processes.
  const uint64_t millis = static_cast<uint64_t>(SystemClock::Instance().NowMicros() / 1000);
  const uint64_t v = SplitMix64(ProcessSeed() + counter.fetch_add(1, std::memory_order_relaxed));
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

}  // namespace pavilion::events
