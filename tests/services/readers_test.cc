// docs/events.md's "read by" column against the services: a service named there on its own (not
// with a parenthesis, which names a read outside its subscription) is one whose processor asks
// for that type, and every type a processor asks for is listed with it.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "../support/in_process.h"
#include "pavilion/events/schema.h"

namespace pavilion {
namespace {

using testing::InProcess;

std::string Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// The types whose "read by" cell names `service` on its own.
std::set<std::string> DocumentedReads(std::string_view service) {
  std::ifstream in(PAVILION_DOCS "/events.md");
  std::set<std::string> out;
  bool table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) table = line == "## Event types";
    if (!table || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) cells.push_back(Trim(cell));
    if (cells.size() < 4) continue;
    std::string type = cells[0];
    std::erase(type, '`');
    std::stringstream readers(cells[3]);
    for (std::string reader; std::getline(readers, reader, ';');) {
      std::stringstream names(reader);
      for (std::string name; std::getline(names, name, ',');) {
        if (Trim(name) == service) out.insert(type);
      }
    }
  }
  return out;
}

TEST(ReadersTest, DocsEventsNamesWhatEachServiceReads) {
  InProcess p;
  const std::vector<std::pair<std::string_view, events::Processor*>> services = {
      {"catalog", &p.catalog->processor()},
      {"order", &p.orders->processor()},
      {"settlement", &p.settlement->processor()},
      {"sales", &p.settlement->sales_processor()},
  };
  std::set<std::string> contract;
  for (const auto& t : events::schema::kEventTypes) contract.emplace(t.type);
  for (const auto& [name, processor] : services) {
    const auto types = processor->event_types();
    std::set<std::string> reads(types.begin(), types.end());
    for (const auto& type : reads) {
      EXPECT_TRUE(contract.count(type)) << name << " reads " << type << ", not in kEventTypes";
    }
    EXPECT_EQ(DocumentedReads(name), reads) << "docs/events.md's readers of " << name;
  }
}

}  // namespace
}  // namespace pavilion
