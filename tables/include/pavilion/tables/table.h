// Table: rows under typed columns, written as JSON, CSV (UTF-8 with a BOM, so Excel opens it as
// UTF-8) or XLSX (Debian's libxlsxwriter), the three formats of the operator's exports.
//
// Column types: text; integer; fen (integer fen: JSON keeps the integer, CSV shows yuan with two
// decimals, XLSX a number in yuan with a yuan format, never text); date (YYYY-MM-DD: text in JSON
// and CSV, a date cell in XLSX). Any cell may be empty (std::monostate: JSON null, an empty CSV
// field, a blank XLSX cell). Several tables make a report: CSV writes them one after the other,
// each under a line with its name; XLSX one sheet each. A Table is a plain value; the writers
// keep no state, so they are safe from any thread. WriteXlsx writes a temporary file
// (libxlsxwriter 1.1.4 writes only files): call it on a blocking job, not on an I/O thread.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "pavilion/base/json_writer.h"
#include "pavilion/base/result.h"

namespace pavilion::tables {

enum class ColumnType { kText, kInteger, kFen, kDate };

struct Column {
  std::string key;    // JSON field; by convention ends in _fen for a kFen column.
  std::string title;  // CSV header and XLSX heading.
  ColumnType type = ColumnType::kText;
};

// kText and kDate cells hold a string, kInteger and kFen cells an integer; any cell may be
// empty (a figure that does not apply, e.g. a growth rate without a base).
using Cell = std::variant<int64_t, std::string, std::monostate>;

struct Table {
  std::string name;  // The XLSX sheet's name (at most 31 characters; []:*?/\ are replaced).
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;  // Each as long as `columns`.
};

// The rows as a JSON array of objects keyed by the columns' keys, into a writer the caller has
// opened (so an answer can carry its own fields around them).
void WriteJsonRows(base::JsonWriter& w, const Table& table);
// A header line of titles, then the rows; CRLF line ends (RFC 4180), a UTF-8 BOM first.
std::string WriteCsv(const Table& table);
// Several tables in one file: a BOM, then for each its name on a line of its own, its header
// line and its rows, and an empty line before the next.
std::string WriteCsv(const std::vector<Table>& tables);
// An .xlsx workbook with one sheet per table (names made unique): a bold heading row, then the
// rows. Its creation time (docProps/core.xml) is `created_micros` when given, so that the same
// tables written later give the same bytes (libxlsxwriter dates the zip entries 1980-01-01);
// 0: now.
Result<std::string> WriteXlsx(const std::vector<Table>& tables, int64_t created_micros = 0);
Result<std::string> WriteXlsx(const Table& table);

}  // namespace pavilion::tables
