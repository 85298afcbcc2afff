// WriteXlsx through libxlsxwriter, which writes only to a file (an output buffer came in 1.1.5;
// Debian 12 has 1.1.4): a private temporary file, read back and removed.
#include <unistd.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pavilion/tables/table.h"

namespace pavilion::tables {
namespace {

Error Failed(std::string what) {
  return Error{std::make_error_code(std::errc::io_error), "xlsx: " + what};
}

std::string SheetName(std::string_view name) {
  std::string out;
  for (char c : name)
    out.push_back(std::string_view("[]:*?/\\").find(c) == std::string_view::npos ? c : '_');
  if (out.empty()) out = "Sheet1";
  // 31 characters at most; cut at a UTF-8 boundary.
  if (out.size() > 31) {
    size_t cut = 31;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace

Result<std::string> WriteXlsx(const Table& table) {
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
  const std::string name = SheetName(table.name);
  lxw_worksheet* sheet = workbook_add_worksheet(book, name.c_str());
  lxw_format* heading = workbook_add_format(book);
  format_set_bold(heading);
  lxw_format* yuan = workbook_add_format(book);
  format_set_num_format(yuan, "\"¥\"#,##0.00");
  lxw_format* integer = workbook_add_format(book);
  format_set_num_format(integer, "0");
  lxw_format* date = workbook_add_format(book);
  format_set_num_format(date, "yyyy-mm-dd");
  if (sheet == nullptr || heading == nullptr || yuan == nullptr || date == nullptr) {
    workbook_close(book);
    return Failed("cannot add a sheet");
  }
  for (size_t c = 0; c < table.columns.size(); ++c) {
    worksheet_write_string(sheet, 0, lxw_col_t(c), table.columns[c].title.c_str(), heading);
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
          worksheet_write_number(sheet, r, at, double(*n) / 100.0, yuan);
        } else {
          worksheet_write_number(sheet, r, at, double(*n), integer);
        }
        continue;
      }
      const std::string& text = std::get<std::string>(row[c]);
      int y = 0, m = 0, d = 0;
      if (col.type == ColumnType::kDate && text.size() == 10 &&
          std::sscanf(text.c_str(), "%4d-%2d-%2d", &y, &m, &d) == 3) {
        lxw_datetime when = {y, m, d, 0, 0, 0.0};
        worksheet_write_datetime(sheet, r, at, &when, date);
      } else if (!text.empty()) {
        // write_string never makes a formula: no neutralising needed here.
        worksheet_write_string(sheet, r, at, text.c_str(), nullptr);
      }
    }
    ++r;
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
