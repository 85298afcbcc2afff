// CSV cells as spreadsheets read them: RFC 4180 quoting and OWASP's formula neutralisation.
//
// One piece of code for every CSV the project writes (the 淘宝助理 pack export in the catalog,
// the settlement's statements and poverty-alleviation ledger) and reads back. Plain functions,
// no state: safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pavilion/base/result.h"

namespace pavilion::tables {

// Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with =, +,
// -, @, tab or carriage return as a formula (=HYPERLINK(…), +cmd|…, @SUM(…)). CsvCell prefixes
// such a cell with a single quote, which spreadsheets read as "text" and do not show; it also
// prefixes a cell that already starts with a quote followed by one of those characters or by
// another quote, so that CsvCellText, which drops that one quote on reading, gives back exactly
// the text written: an export imports to itself, and the quotes never grow.
std::string CsvCell(std::string_view text);
std::string_view CsvCellText(std::string_view cell);

// Appends `text` as one field: neutralised (CsvCell), and quoted (RFC 4180: the field in double
// quotes, each quote doubled) when it holds the delimiter, a quote or a line break, or had to be
// neutralised (OWASP also asks for the quotes).
void AppendCsvField(std::string& out, std::string_view text, char delimiter = ',');

// Fen as yuan with two decimals: 2990 → "29.90", -5 → "-0.05".
std::string Yuan(int64_t fen);

// Reads RFC 4180 text (a UTF-8 BOM is skipped; CRLF or LF) into records of fields, each as
// written (CsvCellText undoes the neutralisation). An unclosed quote is an error naming its line.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text, char delimiter = ',');

}  // namespace pavilion::tables
