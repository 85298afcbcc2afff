// docs/events.md against the contract in schema.h: every type of schema::kEventTypes is in the
// document's table with its stream and in one payload section with its fields, in order, and
// the document names no type the code does not. The parts payloads hold are checked the same
// way. As the OpenAPI test does for routes, this keeps the reference from drifting.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pavilion/events/schema.h"

namespace pavilion::events::schema {
namespace {

using Names = std::vector<std::string>;

// docs/events.md, read as the sections this test checks.
struct EventsDoc {
  std::map<std::string, std::string> streams;  // Type → stream, from the table.
  std::map<std::string, std::string> writers;  // Type → the service that writes it.
  std::vector<std::string> table_types;        // In table order, duplicates kept.
  std::map<std::string, Names> fields;         // Type or part → field names.
  std::vector<std::string> section_types;      // Types of the payload headings, duplicates kept.
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

std::string WithoutBackticks(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '`') out += c;
  }
  return out;
}

// The `quoted` words of a line, in order.
Names Quoted(std::string_view line) {
  Names out;
  for (size_t open = line.find('`'); open != std::string_view::npos;) {
    const size_t close = line.find('`', open + 1);
    if (close == std::string_view::npos) break;
    out.emplace_back(line.substr(open + 1, close - open - 1));
    open = line.find('`', close + 1);
  }
  return out;
}

EventsDoc ParseDoc(const std::string& text) {
  EventsDoc doc;
  std::string section;  // The current "## " heading.
  Names heading_keys;   // The types or part of the current "### " heading.
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) {
      section = line.substr(3);
      heading_keys.clear();
    } else if (section == "Event types" && line.rfind("| `", 0) == 0) {
      std::vector<std::string> cells;
      std::string_view rest(line);
      rest.remove_prefix(1);
      for (size_t bar; (bar = rest.find('|')) != std::string_view::npos;) {
        cells.push_back(Trim(rest.substr(0, bar)));
        rest.remove_prefix(bar + 1);
      }
      if (cells.size() < 3) continue;
      const std::string type = WithoutBackticks(cells[0]);
      doc.table_types.push_back(type);
      doc.streams[type] = WithoutBackticks(cells[1]);
      doc.writers[type] = WithoutBackticks(cells[2]);
    } else if ((section == "Payloads" || section == "Parts") && line.rfind("### ", 0) == 0) {
      heading_keys = Quoted(line.substr(0, line.find(" — ")));
      if (section == "Payloads") {
        doc.section_types.insert(doc.section_types.end(), heading_keys.begin(), heading_keys.end());
      }
      for (const auto& key : heading_keys) doc.fields[key];
    } else if (!heading_keys.empty() && line.rfind("- `", 0) == 0) {
      const Names quoted = Quoted(line);
      for (const auto& key : heading_keys) doc.fields[key].push_back(quoted.front());
    }
  }
  return doc;
}

const EventsDoc& Doc() {
  static const EventsDoc doc = ParseDoc(ReadFile(PAVILION_DOCS "/events.md"));
  return doc;
}

Names Strings(const std::vector<std::string_view>& names) { return {names.begin(), names.end()}; }

TEST(ContractTest, TheDocumentIsThere) {
  ASSERT_FALSE(Doc().table_types.empty()) << PAVILION_DOCS "/events.md has no event table";
  ASSERT_FALSE(Doc().section_types.empty()) << PAVILION_DOCS "/events.md has no payloads";
}

TEST(ContractTest, EveryTypeIsDeclaredOnce) {
  std::set<std::string_view> seen;
  for (const auto& t : kEventTypes) {
    EXPECT_TRUE(seen.insert(t.type).second) << t.type << " is in kEventTypes twice";
    EXPECT_FALSE(t.stream.empty()) << t.type;
  }
}

TEST(ContractTest, EveryTypeInCodeIsDocumented) {
  for (const auto& t : kEventTypes) {
    const std::string type(t.type);
    auto stream = Doc().streams.find(type);
    if (stream == Doc().streams.end()) {
      ADD_FAILURE() << type << " is not in docs/events.md's table";
    } else {
      EXPECT_EQ(stream->second, t.stream) << type << ": the stream differs";
      EXPECT_EQ(Doc().writers.at(type), t.writer) << type << ": the writer differs";
    }
    auto fields = Doc().fields.find(type);
    if (fields == Doc().fields.end()) {
      ADD_FAILURE() << type << " has no payload section in docs/events.md";
    } else {
      EXPECT_EQ(fields->second, Strings(t.fields())) << type << ": the fields differ";
    }
  }
}

TEST(ContractTest, EveryDocumentedTypeIsInCode) {
  std::set<std::string> code;
  for (const auto& t : kEventTypes) code.emplace(t.type);
  std::set<std::string> listed;
  for (const auto& type : Doc().table_types) {
    EXPECT_TRUE(code.count(type)) << "docs/events.md lists " << type << ", which the code lacks";
    EXPECT_TRUE(listed.insert(type).second) << type << " is in the table twice";
  }
  std::set<std::string> sectioned;
  for (const auto& type : Doc().section_types) {
    EXPECT_TRUE(code.count(type)) << "docs/events.md documents " << type
                                  << ", which the code lacks";
    EXPECT_TRUE(sectioned.insert(type).second) << type << " has two payload sections";
  }
}

TEST(ContractTest, PartsMatchTheirFields) {
  const std::map<std::string, Names> parts = {
      {"SkuSpec", Strings(FieldNames<SkuSpec>())},
      {"Distribution", Strings(FieldNames<Distribution>())},
      {"Commission", Strings(FieldNames<Commission>())},
      {"Certification", Strings(FieldNames<Certification>())},
      {"ProductDetails", Strings(FieldNames<ProductDetails>())},
      {"Param", Strings(FieldNames<Param>())},
      {"OrderItem", Strings(FieldNames<OrderItem>())},
      {"PricedLine", Strings(FieldNames<PricedLine>())},
      {"SubOrderInfo", Strings(FieldNames<SubOrderInfo>())},
      {"FeeRate", Strings(FieldNames<FeeRate>())},
      {"LineRef", Strings(FieldNames<LineRef>())},
      {"TraceRecord", Strings(FieldNames<TraceRecord>())},
      {"FarmingStep", Strings(FieldNames<FarmingStep>())},
      {"TargetScope", Strings(FieldNames<TargetScope>())},
      {"TargetPart", Strings(FieldNames<TargetPart>())},
  };
  std::set<std::string> code;
  for (const auto& t : kEventTypes) code.emplace(t.type);
  for (const auto& [name, fields] : parts) {
    auto doc = Doc().fields.find(name);
    if (doc == Doc().fields.end()) {
      ADD_FAILURE() << name << " is not in docs/events.md's parts";
    } else {
      EXPECT_EQ(doc->second, fields) << name << ": the fields differ";
    }
  }
  for (const auto& [key, fields] : Doc().fields) {
    EXPECT_TRUE(code.count(key) || parts.count(key))
        << "docs/events.md documents " << key << ", which is neither a type nor a part";
  }
}

// The names Fields() gives are those the codec walks: as many, in the same order as the bytes.
TEST(ContractTest, FieldNamesFollowTheEncoding) {
  EXPECT_EQ(Strings(FieldNames<OrderPlaced>()),
            (Names{"order_id", "shopper_id", "items", "client"}));
  EXPECT_EQ(Strings(FieldNames<StockReleased>()),
            (Names{"order_id", "line", "sku_id", "quantity", "stock_after", "reserved_after",
                   "sold_after"}));
  StockReinstated answer{"ord_1", true, "r"};
  std::string expected;
  Writer w(expected);
  w(answer.order_id), w(answer.ok), w(answer.reason);
  EXPECT_EQ(Encode(answer), expected);
}

}  // namespace
}  // namespace pavilion::events::schema
