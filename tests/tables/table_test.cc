// The table writer: each format written and read back — CSV parsed, XLSX opened as a zip with
// libarchive (as the catalog's pack reader does) and its sheet XML checked.
#include "pavilion/tables/table.h"

#include <gtest/gtest.h>

#include <map>

#include "../support/unzip.h"
#include "pavilion/tables/csv.h"

namespace pavilion::tables {
namespace {

Table Sample() {
  Table t;
  t.name = "扶贫台账";
  t.columns = {{"name", "农户 name", ColumnType::kText},
               {"units", "件数", ColumnType::kInteger},
               {"sales_fen", "销售额 (元)", ColumnType::kFen},
               {"day", "日期", ColumnType::kDate}};
  t.rows = {{std::string("张三, \"老张\""), int64_t(3), int64_t(2990), std::string("2026-05-01")},
            {std::string("=HYPERLINK(\"http://x\")"), int64_t(-1), int64_t(-5),
             std::string("2026-05-02")}};
  return t;
}

TEST(Table, JsonKeepsIntegerFen) {
  base::JsonWriter w;
  WriteJsonRows(w, Sample());
  EXPECT_EQ(
      w.Take(),
      R"j([{"name":"张三, \"老张\"","units":3,"sales_fen":2990,"day":"2026-05-01"},)j"
      R"j({"name":"=HYPERLINK(\"http://x\")","units":-1,"sales_fen":-5,"day":"2026-05-02"}])j");
}

TEST(Table, CsvHasABomQuotesAsRfc4180AndNeutralisesFormulas) {
  const std::string csv = WriteCsv(Sample());
  ASSERT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(csv.substr(3),
            "农户 name,件数,销售额 (元),日期\r\n"
            "\"张三, \"\"老张\"\"\",3,29.90,2026-05-01\r\n"
            "\"'=HYPERLINK(\"\"http://x\"\")\",-1,-0.05,2026-05-02\r\n");
  auto parsed = ParseCsv(csv);
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[1], (std::vector<std::string>{"张三, \"老张\"", "3", "29.90", "2026-05-01"}));
  // Read back, the neutralising quote is gone: the text is what was written.
  EXPECT_EQ((*parsed)[2][0], "=HYPERLINK(\"http://x\")");
  EXPECT_FALSE(ParseCsv("a,\"b\r\n").ok());
}

TEST(Table, YuanHasTwoDecimalsAndASign) {
  EXPECT_EQ(Yuan(0), "0.00");
  EXPECT_EQ(Yuan(5), "0.05");
  EXPECT_EQ(Yuan(2990), "29.90");
  EXPECT_EQ(Yuan(-105), "-1.05");
  EXPECT_EQ(Yuan(INT64_MIN), "-92233720368547758.08");
}

TEST(Table, XlsxHoldsMoneyAsNumbersWithAYuanFormat) {
  auto xlsx = WriteXlsx(Sample());
  ASSERT_TRUE(xlsx.ok()) << xlsx.message();
  auto files = testing::Unzip(*xlsx);
  ASSERT_TRUE(files.contains("xl/worksheets/sheet1.xml"));
  const std::string& sheet = files["xl/worksheets/sheet1.xml"];
  const std::string& strings = files["xl/sharedStrings.xml"];
  const std::string& styles = files["xl/styles.xml"];
  EXPECT_NE(files["xl/workbook.xml"].find("name=\"扶贫台账\""), std::string::npos);
  // Money: numbers in yuan (not text), styled with the yuan format (style 3; 2 is integers).
  EXPECT_NE(sheet.find("<c r=\"C2\" s=\"3\"><v>29.9</v></c>"), std::string::npos) << sheet;
  EXPECT_NE(sheet.find("<c r=\"C3\" s=\"3\"><v>-0.05</v></c>"), std::string::npos) << sheet;
  EXPECT_NE(styles.find("formatCode=\"&quot;¥&quot;#,##0.00\""), std::string::npos) << styles;
  EXPECT_NE(sheet.find("<c r=\"B2\" s=\"2\"><v>3</v></c>"), std::string::npos) << sheet;
  // Dates as date serials (2026-05-01 is day 46143).
  EXPECT_NE(sheet.find("<c r=\"D2\" s=\"4\"><v>46143</v></c>"), std::string::npos) << sheet;
  // Text as shared strings, never a formula.
  EXPECT_EQ(sheet.find("<f>"), std::string::npos);
  EXPECT_NE(strings.find("<t>=HYPERLINK(\"http://x\")</t>"), std::string::npos) << strings;
  EXPECT_NE(strings.find("<t>张三, \"老张\"</t>"), std::string::npos) << strings;
}

// A report: several tables, an empty cell among them.
std::vector<Table> Report() {
  Table totals{"合计 totals",
               {{"part", "口径", ColumnType::kText},
                {"net_fen", "净额 (元)", ColumnType::kFen},
                {"yoy_bps", "同比", ColumnType::kInteger}},
               {{std::string("all"), int64_t(12345), std::monostate{}}}};
  return {Sample(), totals, totals};
}

TEST(Table, AnEmptyCellIsNullEmptyOrBlank) {
  const Table t = Report()[1];
  base::JsonWriter w;
  WriteJsonRows(w, t);
  EXPECT_EQ(w.Take(), R"([{"part":"all","net_fen":12345,"yoy_bps":null}])");
  EXPECT_EQ(WriteCsv(t), "\xEF\xBB\xBF口径,净额 (元),同比\r\nall,123.45,\r\n");
  auto xlsx = WriteXlsx(t);
  ASSERT_TRUE(xlsx.ok()) << xlsx.message();
  const std::string sheet = testing::Unzip(*xlsx)["xl/worksheets/sheet1.xml"];
  EXPECT_NE(sheet.find("r=\"B2\""), std::string::npos) << sheet;
  EXPECT_EQ(sheet.find("r=\"C2\""), std::string::npos) << sheet;
}

TEST(Table, SeveralTablesAreSectionsOfACsvAndSheetsOfAWorkbook) {
  const std::string csv = WriteCsv(Report());
  ASSERT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(csv.find("\xEF\xBB\xBF", 3), std::string::npos);  // One BOM.
  EXPECT_NE(csv.find("\r\n\r\n合计 totals\r\n口径,净额 (元),同比\r\nall,123.45,\r\n"),
            std::string::npos)
      << csv;
  auto parsed = ParseCsv(csv.substr(3));
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ((*parsed)[0], std::vector<std::string>{"扶贫台账"});

  auto xlsx = WriteXlsx(Report(), 1'782'864'000'000'000);
  ASSERT_TRUE(xlsx.ok()) << xlsx.message();
  auto files = testing::Unzip(*xlsx);
  EXPECT_TRUE(files.contains("xl/worksheets/sheet3.xml"));
  // Names made unique: the second "合计 totals" is numbered.
  EXPECT_NE(files["xl/workbook.xml"].find("name=\"合计 totals\""), std::string::npos);
  EXPECT_NE(files["xl/workbook.xml"].find("name=\"合计 totals 2\""), std::string::npos)
      << files["xl/workbook.xml"];
  // The creation time given, so the same tables give the same bytes whenever written.
  EXPECT_NE(files["docProps/core.xml"].find("2026-07-01T00:00:00Z"), std::string::npos)
      << files["docProps/core.xml"];
  auto again = WriteXlsx(Report(), 1'782'864'000'000'000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *xlsx);
  auto other = WriteXlsx(Report(), 1'782'864'001'000'000);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *xlsx);
}

TEST(Table, SheetNamesAreCutAtCharactersAndKeptApartWhateverTheirCase) {
  const std::string long_name(40, 'x');
  Table a{"年" + long_name, {{"k", "k", ColumnType::kText}}, {}};
  Table upper = a, quoted = a, chinese = a;
  upper.name = "TOTALS";
  a.name = "totals";
  quoted.name = "'quoted'";
  chinese.name = "脱贫户产品 poverty households";  // 28 characters, 38 bytes.
  Table cut = chinese;
  cut.name = "年" + long_name;
  auto xlsx = WriteXlsx({cut, cut, a, upper, quoted, chinese});
  ASSERT_TRUE(xlsx.ok()) << xlsx.message();
  const std::string book = testing::Unzip(*xlsx)["xl/workbook.xml"];
  EXPECT_NE(book.find("name=\"年" + std::string(30, 'x') + "\""), std::string::npos) << book;
  EXPECT_NE(book.find("name=\"年" + std::string(28, 'x') + " 2\""), std::string::npos) << book;
  EXPECT_NE(book.find("name=\"totals\""), std::string::npos) << book;
  EXPECT_NE(book.find("name=\"TOTALS 2\""), std::string::npos) << book;
  EXPECT_NE(book.find("name=\"quoted\""), std::string::npos) << book;
  EXPECT_NE(book.find("name=\"脱贫户产品 poverty households\""), std::string::npos) << book;
}

}  // namespace
}  // namespace pavilion::tables
