// Fuzz target: 淘宝助理 CSV packs, in any encoding. Decoding either fails with a message or gives
// UTF-8; every record becomes a row or an error naming its line; a mapping table never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pavilion/catalog/taobao_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace catalog = pavilion::catalog;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto mapping = catalog::TaobaoMapping::Default();
  (void)mapping.Merge(bytes.substr(0, 256));
  auto text = catalog::DecodeCsvText(bytes);
  if (!text.ok()) return 0;
  auto reader = catalog::TaobaoCsvReader::Open(*text, mapping);
  if (!reader.ok()) return 0;
  for (int pieces = 0; pieces < 1000; ++pieces) {
    auto piece = reader->Next(7);
    if (piece.rows.empty() && piece.errors.empty()) break;
    for (const auto& row : piece.rows) {
      if (row.outer_id.empty() || row.product.skus.empty()) __builtin_trap();
    }
  }
  return 0;
}
