// 淘宝助理 CSV packs: the de facto 数据包 of Chinese e-commerce, read and written.
//
// A Taobao pack is `X.csv` with its images in a folder `X/` (`<name>.tbi`, JPEG inside), usually
// zipped. The CSV opens with three header lines: `version 1.00`, the English column keys and the
// Chinese labels; then one product per record. It comes as UTF-16LE with a BOM (usually
// tab-separated) or as GBK/UTF-8 (usually comma-separated): DecodeCsvText sniffs the BOM and the
// bytes, TaobaoCsvReader sniffs the delimiter from the key line and reads RFC 4180 quoting
// (quoted fields may hold delimiters, doubled quotes and newlines).
//
// Columns read: title, price (yuan), num, description, outer_id (商家编码, the row's key),
// picture (`name:0:i:|;` a local image, `:1:i:|URL;` a URL), skuProps (`price:qty:outerId:pid:vid;`
// then further `pid:vid;` of the same SKU), input_custom_cpv and propAlias (names of custom
// values), cateProps (`pid:vid;`), inputPids/inputValues, cid, subtitle, item_weight (kg),
// barcode, foodparame (its SC licence number becomes an sc_licence certification). Unknown
// columns are ignored. A TaobaoMapping turns Taobao category ids into ours and property ids and
// values into names.
//
// Pure functions and a reader owning its text; not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/storage/status.h"
#include "pavilion/tables/csv.h"

namespace pavilion::catalog {

struct TaobaoMapping {
  std::unordered_map<std::string, std::string> categories;  // cid → our category code
  std::unordered_map<std::string, std::string> properties;  // pid → name (颜色分类)
  std::unordered_map<std::string, std::string> values;      // "pid:vid" → text (白色)

  // A small built-in table (sale properties every Taobao shop has); packs add their own.
  static TaobaoMapping Default();
  // Adds lines "category <cid> <code>", "property <pid> <name>", "value <pid:vid> <text>",
  // separated by tabs; '#' starts a comment. Errors name the line.
  Result<bool> Merge(std::string_view tsv);
};

// The CSV's text in UTF-8, whatever it came in: UTF-16LE/BE (BOM), UTF-8 (BOM or valid), else
// GBK (read as GB18030, its superset). `encoding` receives the name found.
Result<std::string> DecodeCsvText(std::string_view bytes, std::string* encoding = nullptr);

class TaobaoCsvReader {
 public:
  // Checks the three header lines; the text must stay alive while the reader is used.
  static Result<TaobaoCsvReader> Open(std::string_view utf8, const TaobaoMapping& mapping);

  // The next up to `max_rows` records as pack rows and per-row errors (row = the record's first
  // line in the file); empty when the file is done. Local pictures are named by their `name`.
  ParsedPack Next(size_t max_rows);
  char delimiter() const { return delim_; }

 private:
  TaobaoCsvReader(std::string_view rest, const TaobaoMapping& mapping, char delim, int line,
                  std::vector<std::string> keys);
  bool NextRecord(std::vector<std::string>* fields, int* first_line, std::string* error);

  std::string_view rest_;
  const TaobaoMapping* mapping_;
  char delim_;
  int line_;
  std::unordered_map<std::string, size_t> column_;
};

// Rows as a Taobao CSV (UTF-16LE with BOM, tab-separated, CRLF, the three header lines), ready
// for 淘宝助理. Stored images are named by their ref without extension (`X/<name>.tbi`). Cells
// are neutralised against formula injection (CsvCell).
std::string WriteTaobaoCsv(const std::vector<PackRow>& rows, const TaobaoMapping& mapping);

// Formula injection: the catalog's CSV cells are neutralised as every CSV the project writes is
// (pavilion/tables/csv.h).
using tables::CsvCell;
using tables::CsvCellText;

// Parses "29.90" (yuan) into fen; false if it is not a non-negative amount with ≤ 2 decimals.
bool ParseYuan(std::string_view text, int64_t* fen);

}  // namespace pavilion::catalog
