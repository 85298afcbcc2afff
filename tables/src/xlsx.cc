// WriteXlsx through libxlsxwriter, which writes only to a file (an output buffer came in 1.1.5;
// Debian 12 has 1.1.4): a private temporary file, read back and removed.
#include <unistd.h>
#include <xlsxwriter.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "pavilion/tables/table.h"

namespace pavilion::tables {
namespace {

Error Failed(std::string what) {
  return Error{std::make_error_code(std::errc::io_error), "xlsx: " + what};
}

// A sheet name Excel takes: at most `limit` characters (31: libxlsxwriter counts UTF-8 code
// points), none of []:*?/\ and no quote at either end.
std::string SheetName(std::string_view name, size_t limit = 31) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool starts = (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (starts && chars++ == limit) break;
    out.push_back(std::string_view("[]:*?/\\").find(c) == std::string_view::npos ? c : '_');
  }
  while (!out.empty() && out.front() == '\'') out.erase(out.begin());
  while (!out.empty() && out.back() == '\'') out.pop_back();
  if (out.empty()) out = "Sheet1";
  return out;
}

// Excel compares sheet names without regard to (ASCII) case.
std::string Folded(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

struct Formats {
  lxw_format *heading, *yuan, *integer, *date;
};

void WriteSheet(lxw_worksheet* sheet, const Table& table, const Formats& f) {
  for (size_t c = 0; c < table.columns.size(); ++c) {
    worksheet_write_string(sheet, 0, lxw_col_t(c), table.columns[c].title.c_str(), f.heading);
    worksheet_set_column(sheet, lxw_col_t(c), lxw_col_t(c),
                         table.columns[c].type == ColumnType::kText ? 24 : 14, nullptr);
  }
  lxw_row_t r = 1;
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < table.columns.size() && c < row.size(); ++c) {
      const Column& col = table.columns[c];
      const lxw_col_t at = lxw_col_t(c);
      if (const auto* n = std::get_if<int64_t>(&row[c])) {
        // A spreadsheet number is a double: fen / 100 is exact to the fen below 2^53 fen.
        if (col.type == ColumnType::kFen) {
          worksheet_write_number(sheet, r, at, double(*n) / 100.0, f.yuan);
        } else {
          worksheet_write_number(sheet, r, at, double(*n), f.integer);
        }
        continue;
      }
      const auto* text = std::get_if<std::string>(&row[c]);
      if (text == nullptr) continue;  // Empty: a blank cell.
      int y = 0, m = 0, d = 0;
      if (col.type == ColumnType::kDate && text->size() == 10 &&
          std::sscanf(text->c_str(), "%4d-%2d-%2d", &y, &m, &d) == 3) {
        lxw_datetime when = {y, m, d, 0, 0, 0.0};
        worksheet_write_datetime(sheet, r, at, &when, f.date);
      } else if (!text->empty()) {
        // write_string never makes a formula: no neutralising needed here.
        worksheet_write_string(sheet, r, at, text->c_str(), nullptr);
      }
    }
    ++r;
  }
}

}  // namespace

Result<std::string> WriteXlsx(const Table& table) { return WriteXlsx(std::vector<Table>{table}); }

Result<std::string> WriteXlsx(const std::vector<Table>& tables, int64_t created_micros) {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) return Failed("no temporary directory");
  std::string path = (dir / "pavilion-xlsx-XXXXXX").string();
  const int fd = mkstemp(path.data());
  if (fd < 0) return Failed("cannot create a temporary file");
  ::close(fd);
  struct Remove {
    std::string path;
    ~Remove() { std::remove(path.c_str()); }
  } remove{path};

  std::string tmpdir = dir.string();
  lxw_workbook_options options = {};
  options.constant_memory = LXW_FALSE;
  options.tmpdir = tmpdir.data();
  lxw_workbook* book = workbook_new_opt(path.c_str(), &options);
  if (book == nullptr) return Failed("cannot start a workbook");
  if (created_micros > 0) {
    // Left at 0, libxlsxwriter writes the time of writing.
    lxw_doc_properties properties = {};
    properties.created = static_cast<time_t>(created_micros / 1'000'000);
    workbook_set_properties(book, &properties);
  }
  lxw_format* heading = workbook_add_format(book);
  format_set_bold(heading);
  lxw_format* yuan = workbook_add_format(book);
  format_set_num_format(yuan, "\"¥\"#,##0.00");
  lxw_format* integer = workbook_add_format(book);
  format_set_num_format(integer, "0");
  lxw_format* date = workbook_add_format(book);
  format_set_num_format(date, "yyyy-mm-dd");
  std::set<std::string> names;  // Folded.
  for (const Table& table : tables) {
    // Sheet names must differ, whatever their case: ours are numbered apart.
    std::string name = SheetName(table.name);
    for (int n = 2; !names.insert(Folded(name)).second; ++n) {
      const std::string suffix = " " + std::to_string(n);
      name = SheetName(table.name, 31 - suffix.size()) + suffix;
    }
    lxw_worksheet* sheet = workbook_add_worksheet(book, name.c_str());
    if (sheet == nullptr || heading == nullptr || yuan == nullptr || date == nullptr) {
      workbook_close(book);
      return Failed("cannot add a sheet");
    }
    WriteSheet(sheet, table, {heading, yuan, integer, date});
  }
  if (lxw_error err = workbook_close(book); err != LXW_NO_ERROR) {
    return Failed(std::string("writing failed: ") + lxw_strerror(err));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return Failed("cannot read the workbook back");
  return bytes.str();
}

}  // namespace pavilion::tables
