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
      } else {
        w.String(std::get<std::string>(row[c]));
      }
    }
    w.EndObject();
  }
  w.EndArray();
}

std::string WriteCsv(const Table& table) {
  std::string out = "\xEF\xBB\xBF";
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
      } else {
        AppendCsvField(out, std::get<std::string>(row[c]));
      }
    }
    out.append("\r\n");
  }
  return out;
}

}  // namespace pavilion::tables
