// The settlement ledger through its HTTP routes: a distributor sale of a poor household's product
// followed fen by fen from payment through completion, a partial refund, the after-sale window
// closing, a payout run, a confirmation and a return — read back by each route as the operator,
// the parties and the shopper may see it; fee rules refused naming the field; and who may read
// what.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <set>

#include "../support/in_process.h"
#include "../support/router_sync.h"
#include "../support/unzip.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/router.h"

namespace pavilion::gateway {
namespace {

constexpr int64_t kDay = 24ll * 3600 * 1'000'000;

class NoTimers final : public Timers {
 public:
  void After(int64_t, std::function<void()>) override {}
};

class SettlementRoutes : public ::testing::Test {
 protected:
  static constexpr const char* kOp = "operator-token-of-the-settlement-tests-0123456789";

  explicit SettlementRoutes(testing::InProcessOptions options = {})
      : p_(&kv_, &clock_, options),
        identity_(p_.kv()),
        router_(Services{*p_.catalog, *p_.orders, *p_.settlement, *p_.store}, identity_, timers_,
                RouterOptions{5'000, "notify-secret"}) {
    EXPECT_FALSE(identity_.Register(kOp, Principal{Role::kOperator, ""}));
  }

  HttpResponse Call(std::string method, std::string target, std::string body = "",
                    std::string token = kOp) {
    return testing::AnswerOf(router_, testing::JsonRequest(std::move(method), std::move(target),
                                                           std::move(body), token));
  }

  // The JSON of an answer, kept alive with its parser.
  struct Doc {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
  };
  static std::unique_ptr<Doc> Parse(const HttpResponse& r) {
    auto d = std::make_unique<Doc>();
    EXPECT_FALSE(d->parser.parse(r.body).get(d->root)) << r.body;
    return d;
  }
  static int64_t Int(simdjson::dom::element e) {
    int64_t v = -1;
    EXPECT_FALSE(e.get(v));
    return v;
  }
  static std::string Str(simdjson::dom::element e) {
    std::string_view v;
    EXPECT_FALSE(e.get(v));
    return std::string(v);
  }
  static std::string Message(const HttpResponse& r) {
    return Str(Parse(r)->root["error"]["message"]);
  }

  // {id, token} of a new seller.
  std::pair<std::string, std::string> Seller(const std::string& type, const std::string& place) {
    auto s =
        Call("POST", "/v1/sellers",
             R"({"name":"卖家","place_code":")" + place + R"(","supplier_type":")" + type + "\"}");
    EXPECT_EQ(s.status, 201) << s.body;
    auto d = Parse(s);
    return {Str(d->root["id"]), Str(d->root["token"])};
  }
  // The first listing a distribution made, and its first SKU.
  std::pair<std::string, std::string> Distribute(const std::string& token,
                                                 const std::string& supplier,
                                                 const std::string& product, int percent) {
    auto r = Call("POST", "/v1/distributions",
                  R"({"supplier_id":")" + supplier + R"(","product_ids":[")" + product +
                      R"("],"markup_percent":)" + std::to_string(percent) + "}",
                  token);
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string listing = Str(Parse(r)->root["listing_ids"].at(0));
    auto got = Call("GET", "/v1/products/" + listing, "", "");
    return {listing, Str(Parse(got)->root["skus"].at(0)["id"])};
  }

  // The share of `role` in the first line of the first sub-order, or a null element.
  static simdjson::dom::element Share(simdjson::dom::element settlement, std::string_view role) {
    for (auto share : settlement["sub_orders"].at(0)["lines"].at(0)["shares"].get_array()) {
      if (Str(share["role"]) == role) return share;
    }
    ADD_FAILURE() << "no share " << role;
    return settlement;
  }

  void Settle() { p_.Settle(); }

  events::ManualClock clock_;
  storage::MemoryKvStore kv_;
  testing::InProcess p_;
  Identity identity_;
  NoTimers timers_;
  Router router_;
};

TEST_F(SettlementRoutes, ADistributorSaleOfAPoorHouseholdsProductFenByFen) {
  // 5 % by default, 3 % for "other": a poor household's product still pays none.
  auto rules = Call("PUT", "/v1/fee-rules", R"({"default_bps":500,"by_category":{"other":300}})");
  ASSERT_EQ(rules.status, 200) << rules.body;
  auto [household, household_token] = Seller("poor_household", "433126");
  auto [d1, d1_token] = Seller("individual", "140430");
  auto [d2, d2_token] = Seller("village_station", "433126");
  auto [coop, coop_token] = Seller("cooperative", "140430");
  auto made =
      Call("POST", "/v1/products",
           R"({"title":"古丈土蜂蜜","skus":[{"spec":"500g","price_fen":10000,"stock":50}]})",
           household_token);
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string honey = Str(Parse(made)->root["id"]);
  auto [listing1, sku1] = Distribute(d1_token, household, honey, 20);  // 12,000.
  auto [listing2, sku2] = Distribute(d2_token, d1, listing1, 10);      // 13,200.
  auto shopper = Call("POST", "/v1/shoppers", "{}", "");
  const std::string shopper_id = Str(Parse(shopper)->root["id"]);
  const std::string shopper_token = Str(Parse(shopper)->root["token"]);
  auto placed = Call("POST", "/v1/orders",
                     R"({"items":[{"sku_id":")" + sku2 + R"(","quantity":2}]})", shopper_token);
  ASSERT_EQ(placed.status, 201) << placed.body;
  const std::string order = Str(Parse(placed)->root["id"]);
  ASSERT_EQ(Call("POST", "/v1/orders/" + order + "/pay", "", shopper_token).status, 200);
  Settle();

  // Paid: all 26,400 fen held for the order; the distributor sees its line, shares still empty.
  {
    auto r = Call("GET", "/v1/orders/" + order + "/settlement");
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = Parse(r);
    EXPECT_EQ(Int(d->root["paid_fen"]), 26400);
    EXPECT_EQ(Int(d->root["held_fen"]), 26400);
    EXPECT_EQ(Str(d->root["sub_orders"].at(0)["state"]), "held");
    auto seen = Call("GET", "/v1/orders/" + order + "/settlement", "", d2_token);
    ASSERT_EQ(seen.status, 200) << seen.body;
    EXPECT_EQ(Parse(seen)->root["sub_orders"].at(0)["lines"].at(0)["shares"].get_array().size(),
              0u);
  }

  const std::string sub = order + "-s1";
  ASSERT_EQ(Call("POST", "/v1/orders/" + order + "/ship",
                 R"({"sub_order_id":")" + sub + R"(","carrier":"EMS","tracking_no":"E1"})",
                 household_token)
                .status,
            200);
  ASSERT_EQ(Call("POST", "/v1/orders/" + order + "/confirm", "", shopper_token).status, 200);
  Settle();
  {
    auto d = Parse(Call("GET", "/v1/orders/" + order + "/settlement"));
    EXPECT_EQ(Str(d->root["sub_orders"].at(0)["state"]), "pending");
    auto line = d->root["sub_orders"].at(0)["lines"].at(0);
    EXPECT_TRUE(line["poverty"].get_bool().value());
    EXPECT_EQ(Int(line["fee_bps"]), 0);
    EXPECT_EQ(Int(Share(d->root, "supplier")["amount_fen"]), 20000);
    EXPECT_EQ(Str(Share(d->root, "supplier")["party_id"]), household);
    EXPECT_EQ(Str(Share(d->root, "supplier")["state"]), "pending");
    EXPECT_EQ(Int(Share(d->root, "distributor1")["amount_fen"]), 4000);
    EXPECT_EQ(Str(Share(d->root, "distributor1")["party_id"]), d1);
    EXPECT_EQ(Int(Share(d->root, "distributor2")["amount_fen"]), 2400);
    EXPECT_EQ(Str(Share(d->root, "distributor2")["party_id"]), d2);
    EXPECT_EQ(Int(Share(d->root, "platform")["amount_fen"]), 0);
    EXPECT_EQ(Str(Share(d->root, "supplier")["transfer_ids"].at(0)), sub + "/share/0/0");
    auto pending = Parse(Call("GET", "/v1/accounts/" + household, "", household_token));
    EXPECT_EQ(Int(pending->root["balances"]["pending_fen"]), 20000);
    EXPECT_EQ(Int(pending->root["balances"]["payable_fen"]), 0);
  }

  // A quarter refunded inside the window: every share gives a quarter back.
  auto asked =
      Call("POST", "/v1/orders/" + order + "/refunds", R"({"amount_fen":6600})", shopper_token);
  ASSERT_EQ(asked.status, 201) << asked.body;
  ASSERT_EQ(Call("POST", "/v1/refunds/" + order + "-r1/approve", "", household_token).status, 200);
  Settle();
  {
    auto d = Parse(Call("GET", "/v1/orders/" + order + "/settlement"));
    EXPECT_EQ(Int(d->root["refunded_fen"]), 6600);
    EXPECT_TRUE(d->root["balanced"].get_bool().value());
    EXPECT_EQ(Int(Share(d->root, "supplier")["reversed_fen"]), 5000);
    EXPECT_EQ(Int(Share(d->root, "supplier")["net_fen"]), 15000);
    EXPECT_EQ(Int(Share(d->root, "distributor1")["reversed_fen"]), 1000);
    EXPECT_EQ(Int(Share(d->root, "distributor2")["reversed_fen"]), 600);
    // The shopper sees what it paid and what came back, no shares.
    auto mine = Call("GET", "/v1/orders/" + order + "/settlement", "", shopper_token);
    ASSERT_EQ(mine.status, 200) << mine.body;
    auto m = Parse(mine);
    EXPECT_EQ(Int(m->root["paid_fen"]), 26400);
    EXPECT_EQ(Int(m->root["refunded_fen"]), 6600);
    simdjson::dom::element none;
    EXPECT_TRUE(m->root["sub_orders"].at(0)["lines"].at(0)["shares"].get(none));
    auto back = Parse(Call("GET", "/v1/accounts/" + shopper_id, "", shopper_token));
    EXPECT_EQ(Int(back->root["balances"]["refunded_fen"]), 6600);
  }

  // The after-sale window closes: the shares post and are payable.
  clock_.Advance(16 * kDay);
  p_.orders->Tick();
  Settle();
  {
    auto d = Parse(Call("GET", "/v1/orders/" + order + "/settlement"));
    EXPECT_EQ(Str(d->root["sub_orders"].at(0)["state"]), "payable");
    EXPECT_EQ(Str(Share(d->root, "supplier")["state"]), "payable");
    for (const auto& [party, fen] :
         {std::pair<std::string, int64_t>{household, 15000},
          std::pair<std::string, int64_t>{d1, 3000}, std::pair<std::string, int64_t>{d2, 1800}}) {
      auto a = Parse(Call("GET", "/v1/accounts/" + party));
      EXPECT_EQ(Int(a->root["balances"]["payable_fen"]), fen) << party;
      EXPECT_EQ(Int(a->root["balances"]["pending_fen"]), 0) << party;
    }
    auto audit = Call("GET", "/v1/ledger/audit");
    ASSERT_EQ(audit.status, 200) << audit.body;
    auto a = Parse(audit);
    EXPECT_TRUE(a->root["balanced"].get_bool().value());
    EXPECT_EQ(Int(a->root["debits_posted_fen"]), Int(a->root["credits_posted_fen"]));
    EXPECT_EQ(Int(a->root["order_violations"]), 0);
    EXPECT_EQ(Int(a->root["refused_chains"]), 0);
    int64_t provider_debits = -1;
    for (auto k : a->root["kinds"].get_array()) {
      if (Str(k["kind"]) == "provider") provider_debits = Int(k["debits_posted_fen"]);
    }
    EXPECT_EQ(provider_debits, 26400);
  }

  // The household's entries, newest first, one per page: every transfer once, in sequence.
  {
    std::vector<std::string> ids;
    std::vector<int64_t> sequences;
    std::string cursor;
    for (int page = 0; page < 20; ++page) {
      auto r = Call("GET",
                    "/v1/accounts/" + household + "/entries?limit=1" +
                        (cursor.empty() ? "" : "&cursor=" + cursor),
                    "", household_token);
      ASSERT_EQ(r.status, 200) << r.body;
      auto d = Parse(r);
      for (auto e : d->root["entries"].get_array()) {
        ids.push_back(Str(e["transfer_id"]));
        sequences.push_back(Int(e["sequence"]));
      }
      if (d->root["next_cursor"].is_null()) break;
      cursor = Str(d->root["next_cursor"]);
    }
    // The share (pending, then posted), its post, the reversal's void and re-reservation.
    ASSERT_GE(ids.size(), 3u);
    EXPECT_TRUE(std::is_sorted(sequences.rbegin(), sequences.rend()));
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
    EXPECT_TRUE(std::count(ids.begin(), ids.end(), sub + "/share/0/0"));
    auto all = Parse(Call("GET", "/v1/accounts/" + household + "/entries?limit=500"));
    EXPECT_EQ(all->root["entries"].get_array().size(), ids.size());
    const std::string today = events::BusinessDay(clock_.NowMicros());
    auto later = Parse(Call("GET", "/v1/accounts/" + household + "/entries?from=" + today));
    auto window = Parse(Call("GET", "/v1/accounts/" + household + "/entries?to=" +
                                        events::BusinessDay(clock_.NowMicros() - 10 * kDay)));
    // The post is today's, the share and the refund's entries are from before the window.
    EXPECT_GE(later->root["entries"].get_array().size(), 1u);
    EXPECT_GE(window->root["entries"].get_array().size(), 1u);
    EXPECT_EQ(
        later->root["entries"].get_array().size() + window->root["entries"].get_array().size(),
        ids.size());
    EXPECT_EQ(Call("GET", "/v1/accounts/" + household + "/entries?cursor=x").status, 422);
    EXPECT_EQ(Call("GET", "/v1/accounts/" + household + "/entries?from=2026-02-30").status, 422);
  }

  // A payout run pays each party its payable balance; nothing twice.
  std::string household_payout, d1_payout;
  {
    auto r = Call("POST", "/v1/payouts/run");
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = Parse(r);
    ASSERT_EQ(d->root["payouts"].get_array().size(), 3u) << r.body;
    for (auto p : d->root["payouts"].get_array()) {
      EXPECT_EQ(Str(p["state"]), "in_transit");
      if (Str(p["party_id"]) == household) {
        EXPECT_EQ(Int(p["amount_fen"]), 15000);
        household_payout = Str(p["payout_id"]);
      }
      if (Str(p["party_id"]) == d1) {
        EXPECT_EQ(Int(p["amount_fen"]), 3000);
        d1_payout = Str(p["payout_id"]);
      }
    }
    ASSERT_FALSE(household_payout.empty());
    ASSERT_FALSE(d1_payout.empty());
    Settle();
    auto again = Call("POST", "/v1/payouts/run");
    EXPECT_EQ(Parse(again)->root["payouts"].get_array().size(), 0u) << again.body;
    auto a = Parse(Call("GET", "/v1/accounts/" + household));
    EXPECT_EQ(Int(a->root["balances"]["payable_fen"]), 0);
    EXPECT_EQ(Int(a->root["balances"]["in_transit_fen"]), 15000);
  }

  // Confirmed: paid out; confirming again changes nothing; returning it now is a conflict.
  {
    auto r = Call("POST", "/v1/payouts/" + household_payout + "/confirm");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Str(Parse(r)->root["state"]), "paid_out");
    auto twice = Call("POST", "/v1/payouts/" + household_payout + "/confirm");
    EXPECT_EQ(twice.status, 200) << twice.body;
    EXPECT_EQ(Str(Parse(twice)->root["state"]), "paid_out");
    EXPECT_EQ(Call("POST", "/v1/payouts/" + household_payout + "/return").status, 409);
    Settle();
    auto a = Parse(Call("GET", "/v1/accounts/" + household, "", household_token));
    EXPECT_EQ(Int(a->root["balances"]["paid_out_fen"]), 15000);
    EXPECT_EQ(Int(a->root["balances"]["in_transit_fen"]), 0);
    EXPECT_EQ(Int(a->root["balances"]["payable_fen"]), 0);
  }
  // Returned by the bank: payable again, never shown as paid; confirming it now is a conflict.
  {
    auto r = Call("POST", "/v1/payouts/" + d1_payout + "/return", R"({"reason":"账户已注销"})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = Parse(r);
    EXPECT_EQ(Str(d->root["state"]), "returned");
    EXPECT_EQ(Str(d->root["reason"]), "账户已注销");
    EXPECT_EQ(Call("POST", "/v1/payouts/" + d1_payout + "/confirm").status, 409);
    EXPECT_EQ(Call("POST", "/v1/payouts/po_unknown/confirm").status, 404);
    EXPECT_EQ(Call("POST", "/v1/payouts/po_unknown/return").status, 404);
    Settle();
    auto a = Parse(Call("GET", "/v1/accounts/" + d1, "", d1_token));
    EXPECT_EQ(Int(a->root["balances"]["payable_fen"]), 3000);
    EXPECT_EQ(Int(a->root["balances"]["paid_out_fen"]), 0);
    EXPECT_EQ(Int(a->root["balances"]["in_transit_fen"]), 0);
  }
  // The order's shares say where their money is: the household's paid out under its payout,
  // D1's payable again (its payout returned); each payout names the shares it paid.
  {
    auto d = Parse(Call("GET", "/v1/orders/" + order + "/settlement"));
    int64_t household_paid = 0, d1_payable = 0;
    for (auto sub : d->root["sub_orders"].get_array()) {
      for (auto line : sub["lines"].get_array()) {
        for (auto share : line["shares"].get_array()) {
          const std::string party = Str(share["party_id"]);
          if (party == household) {
            EXPECT_EQ(Str(share["state"]), "paid_out");
            household_paid += Int(share["paid_out_fen"]);
            EXPECT_EQ(Str(share["payouts"].at(0)["payout_id"]), household_payout);
          }
          if (party == d1) {
            EXPECT_EQ(Str(share["state"]), "payable");
            d1_payable += Int(share["payable_fen"]);
            EXPECT_EQ(Str(share["payouts"].at(0)["state"]), "returned");
          }
        }
      }
    }
    EXPECT_EQ(household_paid, 15000);
    EXPECT_EQ(d1_payable, 3000);
    auto listed = Parse(Call("GET", "/v1/payouts?party_id=" + household));
    auto parts = listed->root["payouts"].at(0)["shares"];
    int64_t sum = 0;
    for (auto part : parts.get_array()) {
      EXPECT_EQ(Str(part["order_id"]), order);
      sum += Int(part["amount_fen"]);
    }
    EXPECT_EQ(sum, 15000);
  }
  // Each party lists its own payouts; the operator anyone's.
  {
    auto own = Call("GET", "/v1/payouts", "", household_token);
    ASSERT_EQ(own.status, 200) << own.body;
    auto d = Parse(own);
    ASSERT_EQ(d->root["payouts"].get_array().size(), 1u);
    EXPECT_EQ(Str(d->root["payouts"].at(0)["payout_id"]), household_payout);
    EXPECT_EQ(Call("GET", "/v1/payouts?party_id=" + d1, "", household_token).status, 403);
    auto all = Parse(Call("GET", "/v1/payouts"));
    EXPECT_EQ(all->root["payouts"].get_array().size(), 3u);
    auto d1s = Parse(Call("GET", "/v1/payouts?party_id=" + d1));
    ASSERT_EQ(d1s->root["payouts"].get_array().size(), 1u);
    EXPECT_EQ(Str(d1s->root["payouts"].at(0)["state"]), "returned");
  }

  // The statements as each party downloads them, and the poverty-alleviation ledger as the
  // operator does: the same rows as JSON, as CSV (UTF-8 with a BOM, for Excel) and as XLSX,
  // each an attachment named by party and period.
  {
    auto json = Call("GET", "/v1/statements/" + household, "", household_token);
    ASSERT_EQ(json.status, 200) << json.body;
    auto d = Parse(json);
    std::vector<std::string> kinds;
    std::vector<int64_t> nets;
    for (auto row : d->root["rows"].get_array()) {
      kinds.push_back(Str(row["kind"]));
      nets.push_back(Int(row["net_fen"]));
    }
    // The sale, a quarter reversed, the payout: fen by fen, to a zero balance.
    EXPECT_EQ(kinds, (std::vector<std::string>{"opening", "sale", "reversal", "payout", "closing"}))
        << json.body;
    EXPECT_EQ(nets, (std::vector<int64_t>{0, 20000, -5000, -15000, 0})) << json.body;
    EXPECT_EQ(Int(d->root["closing"]["balance_fen"]), 0);

    auto csv = Call("GET", "/v1/statements/" + household + "?format=csv", "", household_token);
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
    auto header = [](const HttpResponse& r, const std::string& name) {
      for (const auto& [k, v] : r.headers) {
        if (k == name) return v;
      }
      return std::string();
    };
    EXPECT_EQ(header(csv, "Content-Disposition"),
              "attachment; filename=\"statement-" + household + "-all-all.csv\"");
    EXPECT_EQ(csv.body.rfind("\xEF\xBB\xBF", 0), 0u);  // The BOM Excel reads UTF-8 by.
    EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 6);  // Header and 5 rows.
    EXPECT_NE(csv.body.find(",payout,"), std::string::npos) << csv.body;
    EXPECT_NE(csv.body.find(",-150.00,"), std::string::npos) << csv.body;

    auto xlsx = Call("GET", "/v1/statements/" + household + "?format=xlsx&from=2020-01-01", "",
                     household_token);
    ASSERT_EQ(xlsx.status, 200) << xlsx.body;
    EXPECT_EQ(xlsx.content_type,
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    EXPECT_EQ(header(xlsx, "Content-Disposition"),
              "attachment; filename=\"statement-" + household + "-2020-01-01-all.xlsx\"");
    // The workbook's sheet: the header and the same five rows.
    const std::string sheet = testing::Unzip(xlsx.body)["xl/worksheets/sheet1.xml"];
    size_t rows = 0;
    for (size_t at = 0; (at = sheet.find("<row ", at)) != std::string::npos; ++at) ++rows;
    EXPECT_EQ(rows, 6u) << sheet;

    // The distributor's own: its margin, a quarter reversed, the payout and its return.
    auto d1s = Parse(Call("GET", "/v1/statements/" + d1, "", d1_token));
    int64_t last = -1;
    for (auto row : d1s->root["rows"].get_array()) last = Int(row["balance_fen"]);
    EXPECT_EQ(last, 3000);

    EXPECT_EQ(Call("GET", "/v1/statements/" + household, "", d1_token).status, 403);
    auto pdf = Call("GET", "/v1/statements/" + household + "?format=pdf", "", household_token);
    EXPECT_EQ(pdf.status, 422);
    EXPECT_EQ(Message(pdf).rfind("format: ", 0), 0u) << pdf.body;

    auto ledger = Call("GET", "/v1/poverty-ledger?format=csv");
    ASSERT_EQ(ledger.status, 200) << ledger.body;
    EXPECT_EQ(header(ledger, "Content-Disposition"),
              "attachment; filename=\"poverty-ledger-all-all.csv\"");
    EXPECT_NE(ledger.body.find(household), std::string::npos) << ledger.body;
    EXPECT_EQ(ledger.body.find(d1), std::string::npos) << ledger.body;  // Not a household.
    EXPECT_EQ(Call("GET", "/v1/poverty-ledger", "", household_token).status, 403);
  }

  // Who sees what of the order: a distributor its own share, the supplier its own and the fee,
  // a seller with no line in it nothing.
  {
    auto d = Parse(Call("GET", "/v1/orders/" + order + "/settlement", "", d1_token));
    auto shares = d->root["sub_orders"].at(0)["lines"].at(0)["shares"].get_array();
    ASSERT_EQ(shares.size(), 1u);
    EXPECT_EQ(Str(shares.at(0)["role"]), "distributor1");
    simdjson::dom::element hidden;
    EXPECT_TRUE(d->root["paid_fen"].get(hidden));
    EXPECT_TRUE(d->root["transfer_ids"].get(hidden));
    auto s = Parse(Call("GET", "/v1/orders/" + order + "/settlement", "", household_token));
    std::set<std::string> roles;
    for (auto sh : s->root["sub_orders"].at(0)["lines"].at(0)["shares"].get_array()) {
      roles.insert(Str(sh["role"]));
    }
    EXPECT_EQ(roles, (std::set<std::string>{"supplier", "platform"}));
    EXPECT_EQ(Call("GET", "/v1/orders/" + order + "/settlement", "", coop_token).status, 404);
    auto stranger = Call("POST", "/v1/shoppers", "{}", "");
    EXPECT_EQ(
        Call("GET", "/v1/orders/" + order + "/settlement", "", Str(Parse(stranger)->root["token"]))
            .status,
        404);
    EXPECT_EQ(Call("GET", "/v1/accounts/" + d1, "", household_token).status, 403);
    EXPECT_EQ(Call("GET", "/v1/accounts/" + household + "/entries", "", coop_token).status, 403);
    EXPECT_EQ(Call("GET", "/v1/accounts/" + household, "", shopper_token).status, 403);
    EXPECT_EQ(Call("GET", "/v1/ledger/audit", "", household_token).status, 403);
    EXPECT_EQ(Call("POST", "/v1/payouts/run", "", household_token).status, 403);
  }
}

TEST_F(SettlementRoutes, FeeRulesAreCheckedFieldByFieldAndChangeNothingWhenRefused) {
  auto [seller, token] = Seller("cooperative", "140430");
  auto set = Call(
      "PUT", "/v1/fee-rules",
      R"({"default_bps":500,"by_category":{"tea":300},"by_seller":{")" + seller + R"(":100}})");
  ASSERT_EQ(set.status, 200) << set.body;
  const std::string before = Call("GET", "/v1/fee-rules").body;
  {
    auto d = Parse(Call("GET", "/v1/fee-rules"));
    EXPECT_EQ(Int(d->root["default_bps"]), 500);
    EXPECT_EQ(Int(d->root["by_category"]["tea"]), 300);
    EXPECT_EQ(Int(d->root["by_seller"][seller]), 100);
  }
  const std::pair<std::string, std::string> refused[] = {
      {R"({"default_bps":10001})", "default_bps: "},
      {R"({"default_bps":-1})", "default_bps: "},
      {R"({"default_bps":1.5})", "default_bps: "},
      {R"({"by_category":{}})", "default_bps: required"},
      {R"({"default_bps":0,"by_category":{"tea":10001}})", "by_category.tea: "},
      {R"({"default_bps":0,"by_category":{"teas":100}})", "by_category.teas: not a category"},
      {R"({"default_bps":0,"by_seller":{"sel_nobody":100}})", "by_seller.sel_nobody: no such"},
      {R"({"default_bps":0,"by_seller":{")" + seller + R"(":20000}})",
       "by_seller." + seller + ": "},
      {R"({"default_bps":0,"fee":1})", "fee: "},
  };
  for (const auto& [body, field] : refused) {
    auto r = Call("PUT", "/v1/fee-rules", body);
    EXPECT_EQ(r.status, 422) << body << " → " << r.body;
    EXPECT_EQ(Str(Parse(r)->root["error"]["code"]), "invalid_field") << body;
    EXPECT_EQ(Message(r).rfind(field, 0), 0u) << body << " → " << r.body;
  }
  EXPECT_EQ(Call("GET", "/v1/fee-rules").body, before);
  EXPECT_EQ(Call("PUT", "/v1/fee-rules", R"({"default_bps":0})", token).status, 403);
  EXPECT_EQ(Call("GET", "/v1/fee-rules", "", token).status, 403);
}

// The WeChat Pay / Alipay profit-sharing profile (--profit-sharing-cap-bps 3000) through the
// routes: fee rules and a distribution past the cap answer 422 naming the field and the cap.
class ProfitSharingRoutes : public SettlementRoutes {
 protected:
  static testing::InProcessOptions Profile() {
    testing::InProcessOptions o;
    o.catalog.profit_sharing_cap_bps = 3000;
    o.settlement.profit_sharing_cap_bps = 3000;
    return o;
  }
  ProfitSharingRoutes() : SettlementRoutes(Profile()) {}
};

TEST_F(ProfitSharingRoutes, FeeRulesAndDistributionsPastTheCapAnswer422NamingTheFieldAndCap) {
  auto tea = Call("PUT", "/v1/fee-rules", R"({"default_bps":500,"by_category":{"tea":3500}})");
  EXPECT_EQ(tea.status, 422) << tea.body;
  EXPECT_EQ(Str(Parse(tea)->root["error"]["code"]), "invalid_field");
  EXPECT_EQ(Message(tea).rfind("by_category.tea: 3500 bps passes the profit-sharing cap of 3000 "
                               "bps (WeChat Pay/Alipay, --profit-sharing-cap-bps)",
                               0),
            0u)
      << tea.body;
  ASSERT_EQ(Call("PUT", "/v1/fee-rules", R"({"default_bps":1000})").status, 200);
  Settle();  // The catalog reads the fee from the log.

  auto [coop, coop_token] = Seller("cooperative", "140430");
  auto [d1, d1_token] = Seller("individual", "140430");
  auto made =
      Call("POST", "/v1/products",
           R"({"title":"沁州黄小米","skus":[{"spec":"500g","price_fen":10000,"stock":50}]})",
           coop_token);
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string millet = Str(Parse(made)->root["id"]);
  // 13000 fen: 2308 bps to the distributor and 770 of fee, past 3000.
  const std::string body =
      R"({"supplier_id":")" + coop + R"(","product_ids":[")" + millet + R"("],"markup_percent":)";
  auto over = Call("POST", "/v1/distributions", body + "30}", d1_token);
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(Message(over).rfind("markup_percent: 30 % and markup_fen 0 would split 3078 bps", 0),
            0u)
      << over.body;
  EXPECT_NE(Message(over).find("past the profit-sharing cap of 3000 bps (WeChat Pay/Alipay, "
                               "--profit-sharing-cap-bps)"),
            std::string::npos);
  Distribute(d1_token, coop, millet, 20);  // 12000: 1667 + 834 = 2501.
  Settle();                                // Settlement reads the listing's margin from the log.
  auto fee = Call("PUT", "/v1/fee-rules", R"({"default_bps":2000})");
  EXPECT_EQ(fee.status, 422) << fee.body;
  EXPECT_EQ(Message(fee).rfind("default_bps: 2000 bps on listing ", 0), 0u) << fee.body;
  EXPECT_NE(Message(fee).find("give at most 1599 bps"), std::string::npos) << fee.body;
}

}  // namespace
}  // namespace pavilion::gateway
