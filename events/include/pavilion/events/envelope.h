// Envelope: one event as stored in the log and sent over the bus.
//
// The envelope carries identity and ordering (event id, stream id and version, the global
// position in the log that first appended it and that log's `origin` id), time from the injected
// Clock, correlation and causation ids for tracing a business flow, and the payload's schema
// version. The payload is opaque here (see schema.h). Encoded form: magic, format version, the
// fields, a CRC32C of everything before it. Plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pavilion/events/codec.h"

namespace pavilion::events {

struct Envelope {
  std::string event_id;
  std::string type;
  std::string stream_id;
  uint64_t stream_version = 0;
  uint64_t position = 0;
  uint64_t origin = 0;
  int64_t time_micros = 0;
  std::string correlation_id;
  std::string causation_id;
  uint32_t schema_version = 1;
  std::string payload;

  template <class V>
  void Fields(V& v) {
    v(event_id);
    v(type);
    v(stream_id);
    v(stream_version);
    v(position);
    v(origin);
    v(time_micros);
    v(correlation_id);
    v(causation_id);
    v(schema_version);
    v(payload);
  }
};

// 2: events on a SKU's stream that carry its stock (schema::kStockLevelsSchema).
inline constexpr uint32_t kMaxSchemaVersion = 2;

std::string EncodeEnvelope(const Envelope& e);
void EncodeEnvelopeTo(const Envelope& e, std::string& out);
Result<Envelope> DecodeEnvelope(std::string_view bytes);

// Unique ids, "<prefix>_" + 24 hex digits: the wall-clock millisecond (so ids sort by creation
// and new keys append to their range) and 48 bits from the CSPRNG, buffered per thread (no id
// can be guessed from others; collisions, even across processes in the same millisecond, have
// negligible probability). Not secret: never use one as a credential. Thread-safe.
std::string NewId(std::string_view prefix);
// When an id minted by NewId was made (milliseconds since the epoch); nullopt for any other id.
std::optional<int64_t> IdMillis(std::string_view id);

}  // namespace pavilion::events
