#include "pavilion/tables/table.h"

#include "pavilion/tables/csv.h"

namespace pavilion::tables {

void WriteJsonRows(base::JsonWriter& w, const Table& table) {
  w.BeginArray();
  for (const auto& row : table.rows) {
    w.BeginObject();
    for (size_t c = 0; c < table.columns.size() && c < row.size(); ++c) {
      w.Key(table.columns[c].key);
      if (const auto* n = std::get_if<int64_t>(&row[c])) {
        w.Int(*n);
      } else if (const auto* text = std::get_if<std::string>(&row[c])) {
        w.String(*text);
      } else {
        w.Null();
      }
    }
    w.EndObject();
  }
  w.EndArray();
}

namespace {

void AppendTable(std::string& out, const Table& table) {
  for (size_t c = 0; c < table.columns.size(); ++c) {
    if (c > 0) out.push_back(',');
    AppendCsvField(out, table.columns[c].title);
  }
  out.append("\r\n");
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < table.columns.size() && c < row.size(); ++c) {
      if (c > 0) out.push_back(',');
      if (const auto* n = std::get_if<int64_t>(&row[c])) {
        out.append(table.columns[c].type == ColumnType::kFen ? Yuan(*n) : std::to_string(*n));
      } else if (const auto* text = std::get_if<std::string>(&row[c])) {
        AppendCsvField(out, *text);
      }
    }
    out.append("\r\n");
  }
}

constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

std::string WriteCsv(const Table& table) {
  std::string out(kBom);
  AppendTable(out, table);
  return out;
}

std::string WriteCsv(const std::vector<Table>& tables) {
  std::string out(kBom);
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i > 0) out.append("\r\n");
    AppendCsvField(out, tables[i].name);
    out.append("\r\n");
    AppendTable(out, tables[i]);
  }
  return out;
}

}  // namespace pavilion::tables
