// Fuzz target: decoding events from untrusted bytes (the log, Kafka messages). Decoding must
// reject anything malformed with an error and never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pavilion/events/envelope.h"
#include "pavilion/events/schema.h"

namespace schema = pavilion::events::schema;
using pavilion::events::Decode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto env = pavilion::events::DecodeEnvelope(bytes);
  std::string_view payload = env.ok() ? std::string_view(env->payload) : bytes;
  (void)Decode<schema::OrderPlaced>(payload);
  (void)Decode<schema::StockReserved>(payload);
  (void)Decode<schema::StockRejected>(payload);
  (void)Decode<schema::OrderReserved>(payload);
  (void)Decode<schema::OrderPaid>(payload);
  (void)Decode<schema::OrderCancelled>(payload);
  (void)Decode<schema::RefundChanged>(payload);
  (void)Decode<schema::SubOrderChanged>(payload);
  (void)Decode<schema::OrderRejected>(payload);
  (void)Decode<schema::ProductCreated>(payload);
  if (env.ok()) {
    // Whatever decodes must encode back to bytes that decode to the same event.
    auto again = pavilion::events::DecodeEnvelope(pavilion::events::EncodeEnvelope(*env));
    if (!again.ok() || again->payload != env->payload) __builtin_trap();
  }
  return 0;
}
