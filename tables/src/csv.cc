#include "pavilion/tables/csv.h"

#include <cstdlib>

namespace pavilion::tables {
namespace {

bool FormulaStart(char c) {
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

bool NeedsNeutralising(std::string_view text) {
  if (text.empty()) return false;
  if (FormulaStart(text[0])) return true;
  return text[0] == '\'' && text.size() > 1 && (FormulaStart(text[1]) || text[1] == '\'');
}

}  // namespace

std::string CsvCell(std::string_view text) {
  return NeedsNeutralising(text) ? "'" + std::string(text) : std::string(text);
}

std::string_view CsvCellText(std::string_view cell) {
  if (cell.size() > 1 && cell[0] == '\'' && (FormulaStart(cell[1]) || cell[1] == '\'')) {
    cell.remove_prefix(1);
  }
  return cell;
}

void AppendCsvField(std::string& out, std::string_view text, char delimiter) {
  const bool neutralise = NeedsNeutralising(text);
  const char specials[] = {delimiter, '"', '\r', '\n', '\0'};
  if (!neutralise && text.find_first_of(specials) == std::string_view::npos) {
    out.append(text);
    return;
  }
  out.push_back('"');
  if (neutralise) out.push_back('\'');
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string Yuan(int64_t fen) {
  // In unsigned arithmetic: the most negative fen has no positive counterpart.
  const uint64_t magnitude = fen < 0 ? 0 - static_cast<uint64_t>(fen) : uint64_t(fen);
  std::string cents = std::to_string(magnitude % 100);
  return (fen < 0 ? "-" : "") + std::to_string(magnitude / 100) + "." +
         (cents.size() == 1 ? "0" : "") + cents;
}

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text, char delimiter) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, was_quoted = false;
  int line = 1, record_line = 1;
  auto end_field = [&] {
    record.emplace_back(CsvCellText(field));
    field.clear();
    was_quoted = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == delimiter) {
      end_field();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_field();
      records.push_back(std::move(record));
      record.clear();
      record_line = ++line;
    } else {
      field.push_back(c);
    }
  }
  if (quoted) {
    return Error{std::make_error_code(std::errc::invalid_argument),
                 "csv line " + std::to_string(record_line) +
                     ": a quoted field is not closed; close it with a double quote"};
  }
  if (!field.empty() || !record.empty() || was_quoted) {
    end_field();
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace pavilion::tables
