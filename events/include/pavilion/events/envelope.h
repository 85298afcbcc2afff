// Envelope: one event as stored in the log and sent over the bus.
//
// The envelope carries identity and ordering (event id, stream id and version, the global
// position in the log that first appended it and that log's `origin` id), time from the injected
// Clock, correlation and causation ids for tracing a business flow, and the payload's schema
// version. The payload is opaque here (see schema.h). Encoded form: magic, format version, the
// fields, a CRC32C of everything before it. Plain value type.
#pragma once

#include <cstdint>
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

inline constexpr uint32_t kMaxSchemaVersion = 1;

std::string EncodeEnvelope(const Envelope& e);
void EncodeEnvelopeTo(const Envelope& e, std::string& out);
Result<Envelope> DecodeEnvelope(std::string_view bytes);

// Unique ids: a process-random 64-bit seed mixed with a counter, so ids never repeat within a
// process and collide across processes with negligible probability. Thread-safe.
std::string NewId(std::string_view prefix);

}  // namespace pavilion::events
