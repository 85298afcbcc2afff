// Fuzz target: uploaded pack archives (zip, tar.gz, bare NDJSON or CSV). Opening, listing the
// images and streaming the rows must end in a value or an error, within the limits, and never
// crash or read without bound.
#include <cstddef>
#include <cstdint>
#include <string>

#include "pavilion/catalog/pack_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace catalog = pavilion::catalog;
  catalog::PackLimits limits;
  limits.max_entries = 64;
  limits.max_total_bytes = 4 << 20;
  limits.max_products_bytes = 1 << 20;
  limits.max_csv_bytes = 1 << 20;
  limits.max_image_bytes = 1 << 20;
  limits.max_line_bytes = 64 << 10;
  auto file =
      catalog::PackFile::OpenBytes(std::string(reinterpret_cast<const char*>(data), size), limits);
  if (!file.ok()) return 0;
  size_t images = 0;
  (void)(*file)->ForEachImage([&](const std::string&, std::string bytes) {
    if (bytes.size() > limits.max_image_bytes) __builtin_trap();
    return ++images < 100;
  });
  bool done = false;
  for (int pieces = 0; pieces < 1000 && !done; ++pieces) {
    auto piece = (*file)->Next(16, &done);
    if (!piece.ok()) break;
  }
  return 0;
}
