// Product data packs (数据包), NDJSON form: one product per line, keyed by the seller's own
// `outer_id`, so a pack can be imported again and again:
//
//   {"outer_id":"QZH-001","title":"沁州黄小米","brand":"沁州黄","category":"grain",
//    "certifications":[{"type":"sc_licence","number":"SC1…","valid_to":"2029-12-31"}],
//    "skus":[{"spec":"500g","price_fen":2990,"stock":500}],
//    "subtitle":"…","description":"…","images":["front.jpg"],
//    "params":[{"name":"净含量","value":"500g"}],"weight_grams":520,"barcode":"69…"}
//
// ParseNdjsonPack reads untrusted text and never throws: every malformed line becomes a PackError
// naming its row (1-based line number) and field; the good lines become PackRows. Catalog rules
// (categories, SC licence, floor price) are checked on import by CatalogService::ImportPack.
// Pure function; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pavilion/catalog/catalog_service.h"

namespace pavilion::catalog {

inline constexpr size_t kMaxPackRows = 1'000'000;

// `first_row` numbers the first line (a pack read in pieces continues its numbering).
ParsedPack ParseNdjsonPack(std::string_view text, size_t max_rows = kMaxPackRows,
                           int first_row = 1);

// One pack row as one NDJSON line (without the newline); ParseNdjsonPack reads it back.
std::string PackRowJson(const PackRow& row);

}  // namespace pavilion::catalog
