// Fuzz target: NDJSON product data packs from sellers. Every line must end up as a row or as an
// error naming its row, and nothing may crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pavilion/catalog/pack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto pack = pavilion::catalog::ParseNdjsonPack(text, 1000);
  (void)pack;
  return 0;
}
