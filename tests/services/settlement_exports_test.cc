// The settlement's exports for a small scenario, against golden files: a poor household's honey
// sold directly and through a distributor's listing, a quarter refunded inside the after-sale
// window, the window closed; a cooperative's millet sold at the platform's 5 % fee. The
// statements (the household's; the cooperative's, with its fee) and the poverty-alleviation
// ledger as JSON rows, CSV and XLSX read back. Ids are random: they are replaced by names before
// the comparison. PAVILION_UPDATE_GOLDEN=1 rewrites the files (review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "../support/in_process.h"
#include "../support/unzip.h"
#include "pavilion/tables/csv.h"

namespace pavilion {
namespace {

using testing::Await;

constexpr int64_t kDay = 24ll * 3600 * 1'000'000;

std::string Golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(PAVILION_TEST_DATA) + "/exports/" + name;
  if (std::getenv("PAVILION_UPDATE_GOLDEN") != nullptr)
    std::ofstream(path, std::ios::binary) << actual;
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first sheet as text: one line per row, cells joined by " | " (shared strings resolved,
// numbers as stored).
std::string SheetText(const std::string& xlsx) {
  std::map<std::string, std::string> files = testing::Unzip(xlsx);
  std::vector<std::string> strings;
  const std::regex si("<t[^>]*>([^<]*)</t>");
  const std::string& sst = files["xl/sharedStrings.xml"];
  for (std::sregex_iterator it(sst.begin(), sst.end(), si), end; it != end; ++it) {
    strings.push_back((*it)[1]);
  }
  std::string out;
  const std::regex row("<row [^>]*>(.*?)</row>"),
      cell("<c r=\"[A-Z]+\\d+\"([^>]*)><v>([^<]*)</v></c>");
  const std::string& sheet = files["xl/worksheets/sheet1.xml"];
  for (std::sregex_iterator r(sheet.begin(), sheet.end(), row), end; r != end; ++r) {
    const std::string cells = (*r)[1];
    bool first = true;
    for (std::sregex_iterator c(cells.begin(), cells.end(), cell); c != end; ++c) {
      if (!first) out += " | ";
      first = false;
      const std::string attrs = (*c)[1], v = (*c)[2];
      out += attrs.find("t=\"s\"") != std::string::npos ? strings.at(std::stoul(v)) : v;
    }
    out += "\n";
  }
  return out;
}

TEST(SettlementExports, StatementAndPovertyLedgerMatchTheirGoldenFiles) {
  events::ManualClock clock;
  storage::MemoryKvStore kv;
  auto p = std::make_unique<testing::InProcess>(&kv, &clock);
  ASSERT_TRUE(Await<bool>([&](auto done) {
                p->settlement->SetFeeRules({500, {}, {}}, done);
              }).ok());
  auto household = p->Seller("433126", "poor_household");
  auto distributor = p->Seller("140430", "individual");
  auto coop = p->Seller("140430", "cooperative");  // Not a household: not in the ledger.
  auto honey = p->Product(household.id, 10000, 50);
  auto listing = Await<catalog::DistributeReport>([&](auto done) {
    p->catalog->Distribute({distributor.id, household.id, {honey.id}, 20, 0}, done);
  });
  ASSERT_TRUE(listing.ok()) << listing.message();
  auto resold = p->Sku(listing->listing_ids[0]);
  auto a = p->Paid("shp_a", {{resold.id, 2}});  // 24,000: household 20,000, distributor 4,000.
  auto b = p->Paid("shp_b", {{honey.sku_ids[0], 1}});  // 10,000 direct.
  // The cooperative's millet pays the platform its 5 %: 2 × 2,990 = 5,980, fee 299.
  auto millet = p->Product(coop.id, 2990, 50);
  auto c = p->Paid("shp_c", {{millet.sku_ids[0], 2}});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (const auto* o : {&*a, &*b, &*c}) {
    for (const auto& s : o->sub_orders) {
      ASSERT_TRUE(p->Do([&](auto done) {
                     p->orders->Ship(o->id, s.id, "sf", "SF1", {Role::kSeller, s.seller_id}, done);
                   }).ok());
      ASSERT_TRUE(p->Do([&](auto done) {
                     p->orders->Confirm(o->id, s.id, {Role::kShopper, o->shopper_id}, done);
                   }).ok());
    }
  }
  clock.Advance(kDay);
  auto asked = p->Do([&](auto done) {
    p->orders->RequestRefund({a->id, "", {}, 6000, false, "broken"}, {Role::kShopper, "shp_a"},
                             done);
  });
  ASSERT_TRUE(asked.ok()) << asked.message();
  const std::string refund_id = asked->refunds.back().id;
  ASSERT_TRUE(p->Do([&](auto done) {
                 p->orders->DecideRefund(refund_id, true, "", {Role::kOperator, ""}, done);
               }).ok());
  clock.Advance(16 * kDay);
  p->orders->Tick();
  p->Settle();

  auto names = [&](std::string text) {
    for (const auto& [id, name] :
         std::vector<std::pair<std::string, std::string>>{{household.id, "HOUSEHOLD"},
                                                          {distributor.id, "DISTRIBUTOR"},
                                                          {coop.id, "COOP"},
                                                          {a->id, "ORDER_A"},
                                                          {b->id, "ORDER_B"},
                                                          {c->id, "ORDER_C"},
                                                          {refund_id, "REFUND"}}) {
      for (size_t at; (at = text.find(id)) != std::string::npos;) text.replace(at, id.size(), name);
    }
    return text;
  };

  auto statement = Await<settlement::Statement>([&](auto done) {
    p->settlement->Statement({household.id, "", ""}, done);
  });
  ASSERT_TRUE(statement.ok()) << statement.message();
  // The closing balance is the ledger's: 20,000 + 10,000 at no fee (a poor household's
  // product), less the quarter of 20,000 reversed; all payable now.
  EXPECT_EQ(statement->closing.total(), Fen(25000));
  EXPECT_EQ(statement->closing.payable, Fen(25000));
  std::promise<settlement::PartyBalances> got;
  p->settlement->Balances(household.id, [&](settlement::PartyBalances b) { got.set_value(b); });
  const auto balances = got.get_future().get();
  EXPECT_EQ(statement->closing.payable, balances.payable);
  EXPECT_EQ(statement->closing.pending, balances.pending);
  // A table against its golden files <stem>.json (when `json`), .csv (read back) and .xlsx.txt;
  // returns its JSON rows.
  auto golden = [&](const tables::Table& t, const std::string& stem, bool json) {
    base::JsonWriter w;
    tables::WriteJsonRows(w, t);
    const std::string rows = names(w.Take()) + "\n";
    if (json) {
      EXPECT_EQ(rows, Golden(stem + ".json", rows));
    }
    const std::string csv = names(tables::WriteCsv(t));
    EXPECT_EQ(csv, Golden(stem + ".csv", csv));
    auto parsed = tables::ParseCsv(csv);
    EXPECT_TRUE(parsed.ok() && parsed->size() == t.rows.size() + 1) << stem;
    auto xlsx = tables::WriteXlsx(t);
    EXPECT_TRUE(xlsx.ok()) << stem << ": " << xlsx.message();
    if (xlsx.ok()) {
      const std::string sheet = names(SheetText(*xlsx));
      EXPECT_EQ(sheet, Golden(stem + ".xlsx.txt", sheet));
    }
    return rows;
  };
  golden(settlement::StatementTable(*statement), "statement", true);

  // A statement with a fee: the cooperative's, gross, fee and net per sale.
  auto fee_statement = Await<settlement::Statement>([&](auto done) {
    p->settlement->Statement({coop.id, "", ""}, done);
  });
  ASSERT_TRUE(fee_statement.ok()) << fee_statement.message();
  ASSERT_EQ(fee_statement->lines.size(), 1u);
  EXPECT_EQ(fee_statement->closing.payable, Fen(5980 - 299));
  golden(settlement::StatementTable(*fee_statement), "statement_fee", false);

  // A period after everything: the opening is the closing, and no lines.
  auto later = Await<settlement::Statement>([&](auto done) {
    p->settlement->Statement({household.id, "2030-01-01", ""}, done);
  });
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->lines.empty());
  EXPECT_EQ(later->opening.total(), Fen(25000));

  auto poverty = Await<std::vector<settlement::PovertyRow>>([&](auto done) {
    p->settlement->PovertyLedger({"", "", "", false}, done);
  });
  ASSERT_TRUE(poverty.ok()) << poverty.message();
  ASSERT_EQ(poverty->size(), 1u);  // Only the household.
  EXPECT_EQ(poverty->at(0).direct_sales, Fen(10000));
  EXPECT_EQ(poverty->at(0).distributed_sales, Fen(24000));
  EXPECT_EQ(poverty->at(0).refunded, Fen(6000));
  EXPECT_EQ(poverty->at(0).settled, Fen(25000));
  const std::string pv_json = golden(settlement::PovertyTable(*poverty), "poverty_ledger", true);
  // Another place: no household there.
  auto elsewhere = Await<std::vector<settlement::PovertyRow>>([&](auto done) {
    p->settlement->PovertyLedger({"", "", "1404", false}, done);
  });
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_TRUE(elsewhere->empty());

  // Rebuilt from the log: the same ledger rows.
  p.reset();
  ASSERT_FALSE(settlement::SettlementService::Reset(kv));
  p = std::make_unique<testing::InProcess>(&kv, &clock);
  p->Settle();
  auto rebuilt = Await<std::vector<settlement::PovertyRow>>([&](auto done) {
    p->settlement->PovertyLedger({"", "", "", false}, done);
  });
  ASSERT_TRUE(rebuilt.ok());
  base::JsonWriter rj;
  tables::WriteJsonRows(rj, settlement::PovertyTable(*rebuilt));
  EXPECT_EQ(names(rj.Take()) + "\n", pv_json);
}

}  // namespace
}  // namespace pavilion
