#include "pavilion/gateway/router.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "../../gateway/src/errors.h"
#include "../../gateway/src/signature.h"
#include "../support/fake_timers.h"
#include "../support/gated_write_kv_store.h"
#include "../support/in_process.h"
#include "../support/metrics.h"
#include "../support/router_sync.h"
#include "pavilion/gateway/identity.h"

namespace pavilion::gateway {
namespace {

// Timers that fire only when the test says so.
using testing::FakeTimers;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : identity_(p_.kv()),
        router_(Services{*p_.catalog, *p_.orders, *p_.settlement, *p_.store}, identity_, timers_,
                RouterOptions{5'000, "notify-secret"}) {
    EXPECT_FALSE(identity_.Register("op", Principal{Role::kOperator, ""}));
  }

  HttpResponse Call(std::string method, std::string target, std::string body = "",
                    std::string token = "", std::string key = "",
                    std::string content_type = "application/json") {
    HttpRequest req{std::move(method),
                    std::move(target),
                    token.empty() ? "" : "Bearer " + token,
                    std::move(content_type),
                    std::move(key),
                    std::move(body),
                    ""};
    std::promise<HttpResponse> done;
    auto f = done.get_future();
    router_.Handle(std::move(req), [&done](HttpResponse r) { done.set_value(std::move(r)); });
    HttpResponse r = f.get();
    r.Body();  // An order's JSON is rendered by whoever writes the answer, as the server does.
    return r;
  }

  static std::string Field(const std::string& json, const char* key) {
    simdjson::dom::parser parser;
    auto doc = parser.parse(json);
    std::string_view v;
    if (doc[key].get(v)) return "";
    return std::string(v);
  }

  static std::string ErrorCode(const HttpResponse& r) {
    simdjson::dom::parser parser;
    std::string_view v;
    if (parser.parse(r.body)["error"]["code"].get(v)) return "";
    return std::string(v);
  }

  // A seller with a product; returns {seller token, sku id}.
  std::pair<std::string, std::string> SellerWithSku(int64_t stock = 10) {
    auto s =
        Call("POST", "/v1/sellers",
             R"({"name":"沁县合作社","place_code":"140430","supplier_type":"cooperative"})", "op");
    EXPECT_EQ(s.status, 201) << s.body;
    std::string token = Field(s.body, "token");
    auto p = Call("POST", "/v1/products",
                  R"({"title":"沁州黄小米","skus":[{"spec":"500g","price_fen":2990,"stock":)" +
                      std::to_string(stock) + "}]}",
                  token);
    EXPECT_EQ(p.status, 201) << p.body;
    simdjson::dom::parser parser;
    std::string_view sku;
    EXPECT_FALSE(parser.parse(p.body)["skus"].at(0)["id"].get(sku));
    return {token, std::string(sku)};
  }

  std::string Shopper() { return Field(Call("POST", "/v1/shoppers", "{}").body, "token"); }
  // A cooperative that supplies and an individual shop that resells, registered by the operator.
  std::pair<HttpResponse, HttpResponse> SupplierAndReseller() {
    return {
        Call("POST", "/v1/sellers",
             R"({"name":"沁县合作社","place_code":"140430","supplier_type":"cooperative"})", "op"),
        Call("POST", "/v1/sellers",
             R"({"name":"网店","place_code":"140430","supplier_type":"individual"})", "op")};
  }

  testing::InProcess p_;
  Identity identity_;
  FakeTimers timers_;
  Router router_;
};

TEST_F(RouterTest, OpenApiListsEveryRoute) {
  auto r = Call("GET", "/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(r.body).get(doc));
  for (const auto& route : Router::Routes()) {
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    simdjson::dom::element op;
    EXPECT_FALSE(doc["paths"][route.pattern][method].get(op))
        << route.method << " " << route.pattern << " is not in the OpenAPI document";
  }
}

// The route table is the one source of each route's query parameters: the OpenAPI document
// lists exactly those, no more, no fewer.
TEST_F(RouterTest, OpenApiListsEachRoutesQueryParameters) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(std::string(Router::OpenApiDocument())).get(doc));
  for (const auto& route : Router::Routes()) {
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    std::set<std::string> documented;
    simdjson::dom::array params;
    if (!doc["paths"][route.pattern][method]["parameters"].get(params)) {
      for (auto p : params) {
        std::string_view in, name;
        if (p["in"].get(in) || in != "query") continue;  // Path, header, or a $ref (paths).
        ASSERT_FALSE(p["name"].get(name));
        documented.insert(std::string(name));
      }
    }
    const std::set<std::string> taken(route.query.begin(), route.query.end());
    EXPECT_EQ(documented, taken) << route.method << " " << route.pattern;
  }
}

// Every stable error code the gateway answers is in the OpenAPI Error schema and in the
// gateway's README, and nothing else is.
TEST_F(RouterTest, EveryErrorCodeIsDocumented) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(std::string(Router::OpenApiDocument())).get(doc));
  simdjson::dom::array listed;
  ASSERT_FALSE(
      doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
          .get(listed));
  std::set<std::string> in_openapi, in_code;
  for (auto c : listed) in_openapi.insert(std::string(std::string_view(c)));
  std::ifstream in(std::string(PAVILION_TEST_DATA) + "/../../gateway/README.md");
  const std::string readme(std::istreambuf_iterator<char>(in), {});
  ASSERT_FALSE(readme.empty());
  for (const auto& e : kErrorCodes) {
    in_code.insert(std::string(e.code));
    EXPECT_NE(readme.find("`" + std::string(e.code) + "` (" + std::to_string(e.status) + ")"),
              std::string::npos)
        << e.code << " is not in gateway/README.md as `" << e.code << "` (" << e.status << ")";
  }
  EXPECT_EQ(in_openapi, in_code);
}

// What the OpenAPI document must say of a route, whatever was written by hand: an operationId
// (unique), its security (the bearer token for a route with roles, none or another scheme for a
// public one) and the error answers every route of its kind can give.
TEST_F(RouterTest, OpenApiGivesEachRouteItsIdSecurityAndStatuses) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(std::string(Router::OpenApiDocument())).get(doc));
  std::set<std::string> ids;
  for (const auto& route : Router::Routes()) {
    const std::string name = route.method + " " + route.pattern;
    std::string method = route.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(c));
    simdjson::dom::element op;
    ASSERT_FALSE(doc["paths"][route.pattern][method].get(op)) << name << " is not documented";
    std::string_view id;
    EXPECT_FALSE(op["operationId"].get(id)) << name << " has no operationId";
    EXPECT_FALSE(id.empty()) << name;
    EXPECT_TRUE(ids.insert(std::string(id)).second) << name << ": operationId " << id << " twice";
    simdjson::dom::array security;
    ASSERT_FALSE(op["security"].get(security)) << name << " has no security";
    bool bearer = false;
    for (auto requirement : security) {
      simdjson::dom::element unused;
      if (!requirement["bearer"].get(unused)) bearer = true;
    }
    EXPECT_EQ(bearer, !route.roles.empty()) << name << ": bearer security iff the route has roles";
    std::set<std::string> expected = {"405", "500"};
    simdjson::dom::element body;
    if (!op["requestBody"].get(body)) expected.insert({"400", "413", "415"});
    if (!route.roles.empty()) expected.insert({"401", "403"});
    if (route.pattern.find('{') != std::string::npos) expected.insert("404");
    if (!route.ignores_unknown_query) expected.insert("422");
    simdjson::dom::object responses;
    ASSERT_FALSE(op["responses"].get(responses)) << name;
    bool success = false;
    std::set<std::string> listed;
    for (auto [status, unused] : responses) {
      listed.insert(std::string(status));
      success |= status.starts_with('2');
    }
    EXPECT_TRUE(success) << name << " documents no success";
    for (const auto& status : expected) {
      EXPECT_TRUE(listed.count(status)) << name << " does not document " << status;
    }
  }
}

// Every status a route answered to hostile calls — no token, a token of a role it does not admit,
// an unknown query parameter, an unknown id, a body that is not JSON, a body of another type, a
// method its path does not serve — is among the route's documented responses: a route added
// without documenting what it answers fails here.
TEST_F(RouterTest, OpenApiDocumentsWhatEachRouteAnswers) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(std::string(Router::OpenApiDocument())).get(doc));
  const std::string shopper = Shopper();
  const auto check = [&](const RouteInfo& route, const std::string& method, const HttpResponse& r,
                         const std::string& what) {
    std::string m = method;
    for (auto& c : m) c = static_cast<char>(std::tolower(c));
    simdjson::dom::element unused;
    EXPECT_FALSE(doc["paths"][route.pattern][m]["responses"][std::to_string(r.status)].get(unused))
        << method << " " << route.pattern << " answered " << r.status << " to " << what
        << " but does not document it: " << r.body;
  };
  for (const auto& route : Router::Routes()) {
    std::string path = route.pattern;
    for (size_t open; (open = path.find('{')) != std::string::npos;) {
      path.replace(open, path.find('}', open) - open + 1, "nope");
    }
    const bool body = route.method == "POST" || route.method == "PUT";
    if (!route.roles.empty()) {
      check(route, route.method, Call(route.method, path, "{}", ""), "no token");
      check(route, route.method, Call(route.method, path, "{}", "not-a-token"), "a wrong token");
      check(route, route.method, Call(route.method, path, "{}", shopper), "a shopper's token");
    }
    if (!route.ignores_unknown_query) {
      check(route, route.method, Call(route.method, path + "?zz=1", "{}", "op"), "?zz=1");
    }
    if (body) {
      check(route, route.method, Call(route.method, path, "{", "op"), "a body that is not JSON");
      check(route, route.method, Call(route.method, path, "x", "op", "", "text/plain"),
            "a text/plain body");
    } else {
      check(route, route.method, Call(route.method, path, "", "op"), "an unknown id");
    }
    // A method no route serves on this path gets 405, which each of the path's operations lists.
    std::set<std::string> served;
    for (const auto& other : Router::Routes()) {
      if (other.pattern == route.pattern) served.insert(other.method);
    }
    for (const char* method : {"DELETE", "PATCH", "PUT", "POST", "GET"}) {
      if (served.count(method)) continue;
      const auto r = Call(method, path, "", "op");
      EXPECT_EQ(r.status, 405) << method << " " << route.pattern;
      check(route, route.method, r, method);
      break;
    }
  }
}

TEST_F(RouterTest, MetricsCountAnswersByStatusCode) {
  const std::string series200 = "pavilion_http_responses_total{code=\"200\"}";
  const std::string series404 = "pavilion_http_responses_total{code=\"404\"}";
  const std::string before = Call("GET", "/metrics").body;
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/no/such/route").status, 404);
  router_.CountResponse(413);  // What the server answers itself, before any route.
  const std::string after = Call("GET", "/metrics").body;
  // The scrape before counts itself only once it is answered: after it, 200 rose by the two
  // health checks and that scrape.
  EXPECT_EQ(testing::MetricValue(after, series200),
            std::max<int64_t>(testing::MetricValue(before, series200), 0) + 3);
  EXPECT_EQ(testing::MetricValue(after, series404),
            std::max<int64_t>(testing::MetricValue(before, series404), 0) + 1);
  EXPECT_EQ(testing::MetricValue(after, "pavilion_http_responses_total{code=\"413\"}"), 1);
  EXPECT_GT(testing::MetricValue(after, "process_open_fds"), 0);
  EXPECT_GT(testing::MetricValue(after, "process_max_fds"), 0);
  EXPECT_GT(testing::MetricValue(after, "process_resident_memory_bytes"), 0);
  EXPECT_NE(after.find("\nprocess_cpu_seconds_total "), std::string::npos);
  EXPECT_GT(testing::MetricValue(after, "process_start_time_seconds"), 1'600'000'000);
  EXPECT_NE(after.find("\npavilion_build_info{version=\""), std::string::npos);
  EXPECT_NE(after.find("\",compiler=\""), std::string::npos);
  // Every series goes out under a HELP line.
  std::set<std::string> helped;
  for (size_t at = 0; (at = after.find("# HELP ", at)) != std::string::npos; ++at) {
    helped.insert(after.substr(at + 7, after.find(' ', at + 7) - at - 7));
  }
  std::istringstream lines(after);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name.ends_with(suffix) && !helped.count(name)) {
        name.resize(name.size() - std::string_view(suffix).size());
      }
    }
    EXPECT_TRUE(helped.count(name)) << name << " has no # HELP";
  }
}

TEST_F(RouterTest, HealthAndUnknownRoutes) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  auto missing = Call("GET", "/v1/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(missing), "not_found");
  EXPECT_EQ(Call("DELETE", "/v1/orders").status, 405);
}

TEST_F(RouterTest, AuthenticationAndRoles) {
  const std::string body = R"({"name":"x","place_code":"140430"})";
  EXPECT_EQ(Call("POST", "/v1/sellers", body).status, 401);
  EXPECT_EQ(Call("POST", "/v1/sellers", body, "wrong").status, 401);
  auto forbidden = Call("POST", "/v1/sellers", body, Shopper());
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(ErrorCode(forbidden), "forbidden");
  EXPECT_EQ(Call("GET", "/v1/stats/sales", "", Shopper()).status, 403);
}

TEST_F(RouterTest, BadBodiesAreRejectedBeforeAnyEvent) {
  const uint64_t head = p_.store->head();
  auto wrong_type = Call("POST", "/v1/sellers", "{}", "op", "", "text/plain");
  EXPECT_EQ(wrong_type.status, 415);
  auto malformed = Call("POST", "/v1/sellers", R"({"name": "x",)", "op");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(ErrorCode(malformed), "malformed_json");
  EXPECT_EQ(Call("POST", "/v1/sellers", "[1,2]", "op").status, 400);
  EXPECT_EQ(Call("POST", "/v1/sellers", R"({"name":"x"} trailing)", "op").status, 400);
  auto type = Call("POST", "/v1/sellers", R"({"name":5,"place_code":"140430"})", "op");
  EXPECT_EQ(type.status, 422);
  EXPECT_NE(type.body.find("name: expected a string"), std::string::npos) << type.body;
  auto place = Call("POST", "/v1/sellers", R"({"name":"x","place_code":"abc"})", "op");
  EXPECT_EQ(place.status, 422);
  EXPECT_NE(place.body.find("place_code"), std::string::npos);
  auto shopper = Shopper();
  auto qty = Call("POST", "/v1/orders", R"({"items":[{"sku_id":"s","quantity":"2"}]})", shopper);
  EXPECT_EQ(qty.status, 422);
  EXPECT_NE(qty.body.find("items[0].quantity: expected an integer"), std::string::npos);
  auto big = Call("POST", "/v1/orders", R"({"items":[{"sku_id":"s","quantity":1e99}]})", shopper);
  EXPECT_EQ(big.status, 422);
  auto none = Call("POST", "/v1/orders", R"({"items":[]})", shopper);
  EXPECT_EQ(none.status, 422);
  EXPECT_EQ(Call("POST", "/v1/orders", R"({"items":[{"quantity":1}]})", shopper).status, 422);
  EXPECT_EQ(p_.store->head(), head);
}

TEST_F(RouterTest, SellersChangeOnlyTheirOwnProducts) {
  auto [token, sku] = SellerWithSku();
  auto other = Call("POST", "/v1/sellers", R"({"name":"y","place_code":"433126"})", "op");
  std::string other_id = Field(other.body, "id");
  auto r = Call("POST", "/v1/products",
                R"({"seller_id":")" + other_id +
                    R"(","title":"t","skus":[{"spec":"1","price_fen":1,"stock":1}]})",
                token);
  EXPECT_EQ(r.status, 403);
  auto missing_price =
      Call("POST", "/v1/products", R"({"title":"t","skus":[{"spec":"1","stock":1}]})", token);
  EXPECT_EQ(missing_price.status, 422);
  EXPECT_NE(missing_price.body.find("skus[0].price_fen: required"), std::string::npos);
}

TEST_F(RouterTest, OrderFlowAndVisibility) {
  auto [seller_token, sku] = SellerWithSku(5);
  auto alice = Shopper(), bob = Shopper();
  auto placed =
      Call("POST", "/v1/orders", R"({"items":[{"sku_id":")" + sku + R"(","quantity":2}]})", alice);
  ASSERT_EQ(placed.status, 201) << placed.body;
  EXPECT_EQ(Field(placed.body, "status"), "pending_payment");
  EXPECT_NE(placed.body.find(R"("total_fen":5980)"), std::string::npos);
  std::string id = Field(placed.body, "id");
  EXPECT_EQ(Call("GET", "/v1/orders/" + id, "", alice).status, 200);
  EXPECT_EQ(Call("GET", "/v1/orders/" + id, "", bob).status, 404);
  EXPECT_EQ(Call("GET", "/v1/orders/" + id, "", seller_token).status, 200);
  EXPECT_EQ(Call("GET", "/v1/orders/" + id, "", "op").status, 200);
  // A shopper cannot order in someone else's name.
  EXPECT_EQ(Call("POST", "/v1/orders",
                 R"({"shopper_id":"shp_other","items":[{"sku_id":")" + sku + R"(","quantity":1}]})",
                 alice)
                .status,
            403);
  auto rejected =
      Call("POST", "/v1/orders", R"({"items":[{"sku_id":")" + sku + R"(","quantity":4}]})", bob);
  EXPECT_EQ(Field(rejected.body, "status"), "rejected");
  EXPECT_NE(rejected.body.find("insufficient_stock"), std::string::npos);
  EXPECT_EQ(Call("POST", "/v1/orders/" + id + "/pay", "", alice).status, 200);
  p_.Settle();
  auto stats = Call("GET", "/v1/stats/sales?group_by=place", "", "op");
  EXPECT_EQ(stats.status, 200);
  EXPECT_NE(stats.body.find(R"("place_code":"140430","amount_fen":5980,"orders":1,"units":2)"),
            std::string::npos)
      << stats.body;
  EXPECT_EQ(Call("GET", "/v1/stats/sales?group_by=colour", "", "op").status, 422);
}

TEST_F(RouterTest, IdempotencyKey) {
  auto [seller_token, sku] = SellerWithSku(10);
  auto alice = Shopper();
  std::string body = R"({"items":[{"sku_id":")" + sku + R"(","quantity":1}]})";
  auto a = Call("POST", "/v1/orders", body, alice, "k-1");
  auto b = Call("POST", "/v1/orders", body, alice, "k-1");
  EXPECT_EQ(Field(a.body, "id"), Field(b.body, "id"));
  auto c = Call("POST", "/v1/orders", R"({"items":[{"sku_id":")" + sku + R"(","quantity":2}]})",
                alice, "k-1");
  EXPECT_EQ(c.status, 409);
  EXPECT_EQ(ErrorCode(c), "conflict");
}

// The order service answers on its one thread; the order's JSON is left for the thread that
// writes the answer (Body()), so that thread only moves the order.
TEST_F(RouterTest, AnOrderIsRenderedByWhoeverWritesTheAnswer) {
  auto [seller_token, sku] = SellerWithSku(10);
  std::string shopper = Shopper();
  std::promise<HttpResponse> answered;
  router_.Handle(HttpRequest{"POST", "/v1/orders", "Bearer " + shopper, "application/json", "",
                             R"({"items":[{"sku_id":")" + sku + R"(","quantity":3}]})", ""},
                 [&answered](HttpResponse r) { answered.set_value(std::move(r)); });
  HttpResponse r = answered.get_future().get();
  EXPECT_EQ(r.status, 201);
  ASSERT_TRUE(r.render);
  EXPECT_EQ(r.body, "");
  const std::string& body = r.Body();
  EXPECT_FALSE(r.render);
  EXPECT_EQ(Field(body, "status"), "pending_payment");
  EXPECT_NE(body.find(R"("quantity":3)"), std::string::npos) << body;
  EXPECT_EQ(r.Body(), body);  // Rendered once.
  // The same order read back renders the same fields.
  auto read = Call("GET", "/v1/orders/" + Field(body, "id"), "", shopper);
  EXPECT_EQ(Field(read.body, "status"), "pending_payment");
  EXPECT_EQ(Field(read.body, "id"), Field(body, "id"));
}

TEST_F(RouterTest, OrderAnswersPendingWhenTheWaitRunsOut) {
  auto [seller_token, sku] = SellerWithSku(10);
  std::string shopper = Shopper();
  // Hold the catalog so the order cannot be decided, then let the wait run out.
  std::promise<void> release;
  p_.catalog->worker().Post([f = release.get_future().share()] { f.wait(); });
  std::promise<HttpResponse> answered;
  router_.Handle(HttpRequest{"POST", "/v1/orders", "Bearer " + shopper, "application/json", "",
                             R"({"items":[{"sku_id":")" + sku + R"(","quantity":1}]})", ""},
                 [&answered](HttpResponse r) { answered.set_value(std::move(r)); });
  // The wait is swept every tenth of it: ten sweeps in, it has not run out yet...
  auto got = answered.get_future();
  for (int i = 0; i < 10; ++i) timers_.FireAll();
  EXPECT_EQ(got.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  timers_.FireAll();  // ...the eleventh answers.
  ASSERT_EQ(got.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  HttpResponse r = got.get();
  release.set_value();
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(Field(r.body, "status"), "pending");
  std::string id = Field(r.body, "id");
  p_.Settle();
  auto later = Call("GET", "/v1/orders/" + id, "", "op");
  EXPECT_EQ(Field(later.body, "status"), "pending_payment");
}

TEST_F(RouterTest, LifecycleOverHttp) {
  auto [seller_token, sku] = SellerWithSku(10);
  auto alice = Shopper();
  auto placed =
      Call("POST", "/v1/orders", R"({"items":[{"sku_id":")" + sku + R"(","quantity":2}]})", alice);
  std::string id = Field(placed.body, "id");
  // Shipping before payment is a conflict that names the current state.
  auto early = Call("POST", "/v1/orders/" + id + "/ship", R"({"carrier":"EMS","tracking_no":"E1"})",
                    seller_token);
  EXPECT_EQ(early.status, 409);
  EXPECT_NE(early.body.find("pending_payment"), std::string::npos) << early.body;
  EXPECT_EQ(Call("POST", "/v1/orders/" + id + "/pay", "", seller_token).status, 403);
  auto paid = Call("POST", "/v1/orders/" + id + "/pay", "", alice);
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(Field(paid.body, "status"), "paid");
  EXPECT_EQ(Call("POST", "/v1/orders/" + id + "/ship", R"({"carrier":"EMS"})", seller_token).status,
            422);
  auto shipped = Call("POST", "/v1/orders/" + id + "/ship",
                      R"({"carrier":"EMS","tracking_no":"E1"})", seller_token);
  ASSERT_EQ(shipped.status, 200) << shipped.body;
  EXPECT_NE(shipped.body.find(R"("tracking_no":"E1")"), std::string::npos);
  EXPECT_EQ(Call("POST", "/v1/orders/" + id + "/confirm", "", alice).status, 200);
  auto refund = Call(
      "POST", "/v1/orders/" + id + "/refunds",
      R"({"items":[{"sku_id":")" + sku + R"(","quantity":1}],"with_return":true,"reason":"坏了"})",
      alice);
  ASSERT_EQ(refund.status, 201) << refund.body;
  simdjson::dom::parser parser;
  std::string_view refund_id;
  ASSERT_FALSE(parser.parse(refund.body)["refunds"].at(0)["id"].get(refund_id));
  std::string rid(refund_id);
  EXPECT_EQ(Call("POST", "/v1/refunds/" + rid + "/approve", "", alice).status, 403);
  auto approved = Call("POST", "/v1/refunds/" + rid + "/approve", "", seller_token);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_NE(approved.body.find(R"("status":"refunded")"), std::string::npos);
  auto got = Call("GET", "/v1/orders/" + id, "", alice);
  for (const char* type : {"order.placed", "order.reserved", "order.paid", "suborder.shipped",
                           "suborder.completed", "refund.requested", "refund.completed"}) {
    EXPECT_NE(got.body.find(std::string(R"("type":")") + type + "\""), std::string::npos) << type;
  }
  auto mine = Call("GET", "/v1/orders?limit=10", "", alice);
  EXPECT_EQ(mine.status, 200);
  EXPECT_NE(mine.body.find(id), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/orders?seller_id=sel_x", "", alice).status, 403);
  EXPECT_EQ(Call("GET", "/v1/orders?limit=0", "", alice).status, 422);
  // Received, then refunded: completed, and listed under that status only.
  EXPECT_EQ(Field(got.body, "status"), "completed");
  auto completed = Call("GET", "/v1/orders?status=completed", "", alice);
  EXPECT_EQ(completed.status, 200);
  EXPECT_NE(completed.body.find(id), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/orders?status=paid", "", alice).body.find(id), std::string::npos);
  auto typo = Call("GET", "/v1/orders?status=shipped", "", alice);
  EXPECT_EQ(typo.status, 422);
  EXPECT_NE(typo.body.find("give one of pending, pending_payment, paid"), std::string::npos)
      << typo.body;
}

TEST_F(RouterTest, PaymentNotificationsNeedAValidSignature) {
  auto [seller_token, sku] = SellerWithSku(10);
  auto alice = Shopper();
  auto placed =
      Call("POST", "/v1/orders", R"({"items":[{"sku_id":")" + sku + R"(","quantity":1}]})", alice);
  std::string body = R"({"order_id":")" + Field(placed.body, "id") +
                     R"(","txn_id":"wx-1","amount_fen":2990,"provider":"wechat"})";
  auto notify = [&](const std::string& signature) {
    HttpRequest req{"POST", "/v1/payments/notify", "", "application/json", "", body, signature};
    std::promise<HttpResponse> done;
    router_.Handle(req, [&done](HttpResponse r) { done.set_value(std::move(r)); });
    HttpResponse r = done.get_future().get();
    r.Body();
    return r;
  };
  EXPECT_EQ(notify("").status, 401);
  EXPECT_EQ(notify("sha256=" + std::string(64, '0')).status, 401);
  const std::string good = SignBody("notify-secret", body);
  auto first = notify(good);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Field(first.body, "status"), "paid");
  auto again = notify(good);  // The provider retries: nothing changes.
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body.find("refund_due"), std::string::npos);
}

TEST_F(RouterTest, TraceCodesServeJsonQrAndAPage) {
  auto s = Call("POST", "/v1/sellers", R"({"name":"古丈茶农<b>","place_code":"433126"})", "op");
  std::string token = Field(s.body, "token");
  auto p =
      Call("POST", "/v1/products",
           R"({"title":"古丈毛尖","skus":[{"spec":"100g","price_fen":16800,"stock":5}]})", token);
  std::string product = Field(p.body, "id");
  auto bad = Call("POST", "/v1/products/" + product + "/batches",
                  R"({"production_base":"x","harvest_date":"2026-13-01"})", token);
  EXPECT_EQ(bad.status, 422);
  // Body fields hold days of the calendar too: a harvest on 30 February is refused, naming it.
  auto feb30 = Call("POST", "/v1/products/" + product + "/batches",
                    R"({"production_base":"x","harvest_date":"2026-02-30"})", token);
  EXPECT_EQ(feb30.status, 422) << feb30.body;
  EXPECT_NE(feb30.body.find("harvest_date"), std::string::npos) << feb30.body;
  auto b = Call("POST", "/v1/products/" + product + "/batches",
                R"({"production_base":"古阳镇茶园","harvest_date":"2026-04-01",
                    "farming":[{"date":"2026-03-20","operation":"人工除草"}],
                    "inspection_report":"HN-2026-118 有机认证抽检合格"})",
                token);
  ASSERT_EQ(b.status, 201) << b.body;
  std::string code = Field(b.body, "trace_code");
  auto trace = Call("GET", "/v1/trace/" + code);
  ASSERT_EQ(trace.status, 200);
  EXPECT_NE(trace.body.find("人工除草"), std::string::npos);
  auto svg = Call("GET", "/v1/trace/" + code + "/qr.svg");
  EXPECT_EQ(svg.content_type, "image/svg+xml");
  EXPECT_EQ(svg.body.rfind("<svg", 0), 0u);
  auto png = Call("GET", "/v1/trace/" + code + "/qr.png");
  EXPECT_EQ(png.content_type, "image/png");
  ASSERT_GT(png.body.size(), 24u);
  EXPECT_EQ(png.body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // Width from IHDR: whole modules plus the quiet zone, 8 px each.
  uint32_t width = 0;
  for (int i = 16; i < 20; ++i) width = (width << 8) | static_cast<unsigned char>(png.body[i]);
  EXPECT_EQ(width % 8, 0u);
  EXPECT_GE(width, (21u + 8u) * 8u);
  auto page = Call("GET", "/trace/" + code);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("古丈毛尖"), std::string::npos);
  EXPECT_NE(page.body.find("古丈茶农&lt;b&gt;"), std::string::npos);  // Escaped.
  EXPECT_EQ(Call("GET", "/trace/NOPE").status, 404);
  EXPECT_EQ(Call("GET", "/v1/trace/NOPE/qr.png").status, 404);
  // Opened from a shared link, with the parameters a messaging app appends.
  auto shared = Call("GET", "/trace/" + code + "?from=singlemessage&isappinstalled=0");
  EXPECT_EQ(shared.status, 200);
  EXPECT_EQ(shared.body, page.body);
  EXPECT_EQ(Call("GET", "/v1/trace/" + code + "/qr.svg?from=groupmessage").status, 200);
}

TEST_F(RouterTest, BrowseProducts) {
  SellerWithSku(5);
  auto r = Call("GET", "/v1/products?q=%E5%B0%8F%E7%B1%B3&place_code=1404&in_stock=true");  // 小米
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("沁州黄小米"), std::string::npos);
  EXPECT_NE(r.body.find(R"("next_cursor":null)"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/products?q=%E8%8C%B6").body.find("沁州黄"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/products?limit=500").status, 422);
  EXPECT_EQ(Call("GET", "/v1/products?min_price_fen=abc").status, 422);
  EXPECT_EQ(Call("GET", "/v1/products?sort=best").status, 422);
  auto s = Call("POST", "/v1/sellers", R"({"name":"六安茶业","place_code":"341524"})", "op");
  std::string token = Field(s.body, "token");
  auto tea = Call("POST", "/v1/products",
                  R"({"title":"六安瓜片","category":"tea","brand":"六安瓜片",
                      "certifications":[{"type":"sc_licence","number":"SC1","valid_to":"2099-12-31"},
                                        {"type":"organic","number":"O1","valid_to":"2001-01-01"}],
                      "skus":[{"spec":"125g","price_fen":19800,"stock":3}]})",
                  token);
  ASSERT_EQ(tea.status, 201) << tea.body;
  EXPECT_NE(tea.body.find(R"("claims":["sc_licence"])"), std::string::npos) << tea.body;
  EXPECT_NE(tea.body.find(R"("valid":false)"), std::string::npos);
  auto no_sc = Call(
      "POST", "/v1/products",
      R"({"title":"x","category":"tea","skus":[{"spec":"1","price_fen":1,"stock":1}]})", token);
  EXPECT_EQ(no_sc.status, 422);
  auto found = Call(
      "GET", "/v1/products?brand=%E5%85%AD%E5%AE%89%E7%93%9C%E7%89%87&certification=sc_licence");
  EXPECT_NE(found.body.find("六安瓜片"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/products?certification=organic").body.find("六安瓜片"),
            std::string::npos);
}

TEST_F(RouterTest, ImportsNdjsonPacks) {
  auto s = Call("POST", "/v1/sellers", R"({"name":"次村村服务站","place_code":"140430"})", "op");
  std::string token = Field(s.body, "token");
  const std::string pack =
      "{\"outer_id\":\"A\",\"title\":\"沁县南瓜籽\",\"skus\":[{\"spec\":\"500g\",\"price_fen\":"
      "2680,\"stock\":9}]}\n"
      "{\"outer_id\":\"B\",\"title\":5}\n";
  EXPECT_EQ(Call("POST", "/v1/packs", pack, token).status, 415);
  auto r = Call("POST", "/v1/packs", pack, token, "", "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("created":1)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"({"row":2,"message":"title: expected a string"})"), std::string::npos);
  EXPECT_EQ(Call("POST", "/v1/packs", pack, "op", "", "application/x-ndjson").status, 422);
  auto again = Call("POST", "/v1/packs", pack, token, "", "application/x-ndjson");
  EXPECT_NE(again.body.find(R"("unchanged":1)"), std::string::npos);
  // A product made through the API, then the export: importing it changes nothing.
  ASSERT_EQ(
      Call(
          "POST", "/v1/products",
          R"({"title":"沁县核桃仁","brand":"沁州黄","skus":[{"spec":"250g","price_fen":3580,"stock":7}]})",
          token)
          .status,
      201);
  auto exported = Call("GET", "/v1/packs", "", token);
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.content_type, "application/x-ndjson");
  EXPECT_NE(exported.body.find(R"("outer_id":"A")"), std::string::npos) << exported.body;
  EXPECT_NE(exported.body.find("沁县核桃仁"), std::string::npos);
  const uint64_t head = p_.store->head();
  auto round = Call("POST", "/v1/packs", exported.body, token, "", "application/x-ndjson");
  EXPECT_NE(round.body.find(R"("created":0,"updated":0,"unchanged":2,"rejected":0)"),
            std::string::npos)
      << round.body;
  EXPECT_EQ(p_.store->head(), head);  // No event: nothing changed.
  EXPECT_EQ(Call("GET", "/v1/packs", "", "op").status, 422);
}

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(PAVILION_TEST_DATA) + "/packs/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(RouterTest, ZippedPacksImagesAndProductEdits) {
  auto s = Call("POST", "/v1/sellers",
                R"({"name":"古丈茶农","place_code":"433126","supplier_type":"cooperative"})", "op");
  std::string token = Field(s.body, "token");
  auto r = Call("POST", "/v1/packs", ReadFixture("native.zip"), token, "", "application/zip");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("rows":4,"created":2,"updated":0,"unchanged":0,"rejected":2)"),
            std::string::npos)
      << r.body;
  auto unsafe =
      Call("POST", "/v1/packs", ReadFixture("traversal.zip"), token, "", "application/zip");
  EXPECT_EQ(unsafe.status, 422);
  EXPECT_EQ(ErrorCode(unsafe), "invalid_pack");
  EXPECT_NE(unsafe.body.find("climb out"), std::string::npos);
  auto taobao =
      Call("POST", "/v1/packs", ReadFixture("taobao_utf16.zip"), token, "", "application/zip");
  EXPECT_NE(taobao.body.find(R"("rejected":4)"), std::string::npos) << taobao.body;

  // The product's images are served by their ref.
  simdjson::dom::parser parser;
  auto list = Call("GET", "/v1/products?q=%E5%8F%A4%E4%B8%88");  // 古丈
  std::string_view image, product_id;
  auto first = parser.parse(list.body)["products"].at(0);
  ASSERT_FALSE(first["images"].at(0).get(image)) << list.body;
  ASSERT_FALSE(first["id"].get(product_id));
  std::string product(product_id);
  // The 淘宝助理 pack had the same outer_id (GZ-001): it updated the product, JPEG first.
  auto jpg = Call("GET", std::string(image));
  ASSERT_EQ(jpg.status, 200);
  EXPECT_EQ(jpg.content_type, "image/jpeg");
  EXPECT_EQ(jpg.body.substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_EQ(jpg.headers.at(0).second, "public, max-age=31536000, immutable");
  EXPECT_EQ(Call("GET", "/v1/images/nothing.png").status, 404);
  auto upload = Call("POST", "/v1/images", ReadFixture("native.zip"), token, "", "image/jpeg");
  EXPECT_EQ(upload.status, 422);  // A zip is no image.
  auto jpeg =
      Call("POST", "/v1/images", std::string("\xFF\xD8\xFF\xE0 tiny"), token, "", "image/jpeg");
  ASSERT_EQ(jpeg.status, 201) << jpeg.body;
  EXPECT_EQ(Call("GET", Field(jpeg.body, "url")).body, "\xFF\xD8\xFF\xE0 tiny");

  // Edits: the owner may, another seller may not.
  const std::string edit =
      R"({"title":"古丈毛尖 新茶","category":"tea","certifications":[{"type":"sc_licence","number":"SC1","valid_to":"2099-12-31"}],)"
      R"("skus":[{"spec":"250g罐装","price_fen":13800,"stock":90}],"images":[")" +
      Field(jpeg.body, "ref") + R"("],"params":[{"name":"产地","value":"古丈"}]})";
  auto other = Call("POST", "/v1/sellers",
                    R"({"name":"别家","place_code":"140430","supplier_type":"cooperative"})", "op");
  auto denied = Call("PUT", "/v1/products/" + product, edit, Field(other.body, "token"));
  EXPECT_EQ(denied.status, 403);
  auto edited = Call("PUT", "/v1/products/" + product, edit, token);
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_NE(edited.body.find(R"("title":"古丈毛尖 新茶")"), std::string::npos);
  EXPECT_NE(edited.body.find(R"("params":[{"name":"产地","value":"古丈"}])"), std::string::npos);
  auto bad = Call(
      "PUT", "/v1/products/" + product,
      R"({"title":"x","skus":[{"spec":"a","price_fen":1,"stock":1}],"images":["no.jpg"]})", token);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("images[0]"), std::string::npos);

  // Exports: a native zip (importing it changes nothing) and a 淘宝助理 zip.
  auto zip = Call("GET", "/v1/packs?format=native", "", token);
  ASSERT_EQ(zip.status, 200);
  EXPECT_EQ(zip.content_type, "application/zip");
  const uint64_t head = p_.store->head();
  auto round = Call("POST", "/v1/packs", zip.body, token, "", "application/zip");
  EXPECT_NE(round.body.find(R"("rows":2,"created":0,"updated":0,"unchanged":2)"), std::string::npos)
      << round.body;
  EXPECT_EQ(p_.store->head(), head);
  auto tb = Call("GET", "/v1/packs?format=taobao", "", token);
  ASSERT_EQ(tb.status, 200);
  EXPECT_EQ(tb.body.substr(0, 2), "PK");
  EXPECT_EQ(Call("GET", "/v1/packs?format=xml", "", token).status, 422);
}

TEST_F(RouterTest, OneClickDistribution) {
  auto [supplier, reseller] = SupplierAndReseller();
  const std::string supplier_id = Field(supplier.body, "id"), token = Field(reseller.body, "token");
  ASSERT_EQ(Call("POST", "/v1/products",
                 R"({"title":"沁州黄小米","skus":[{"spec":"500g","price_fen":2990,"stock":5}]})",
                 Field(supplier.body, "token"))
                .status,
            201);
  EXPECT_EQ(Call("POST", "/v1/distributions", R"({"markup_percent":20})", token).status, 422);
  auto other = Call("POST", "/v1/distributions",
                    R"({"distributor_id":")" + supplier_id + R"(","supplier_id":"x"})", token);
  EXPECT_EQ(other.status, 403);
  auto r = Call("POST", "/v1/distributions",
                R"({"supplier_id":")" + supplier_id + R"(","markup_percent":20})", token);
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  std::string_view listing_id;
  ASSERT_FALSE(parser.parse(r.body)["listing_ids"].at(0).get(listing_id)) << r.body;
  const std::string listing(listing_id);
  auto product = Call("GET", "/v1/products/" + listing);
  EXPECT_NE(product.body.find(R"("listing":{"source_product_id":")"), std::string::npos);
  EXPECT_NE(product.body.find(R"("price_fen":3588,"stock":5)"), std::string::npos) << product.body;
  std::string_view sku;
  ASSERT_FALSE(parser.parse(product.body)["skus"].at(0)["id"].get(sku));
  EXPECT_EQ(Call("PUT", "/v1/products/" + listing,
                 R"({"title":"x","skus":[{"spec":"500g","price_fen":1,"stock":1}]})", token)
                .status,
            409);
  auto order =
      Call("POST", "/v1/orders",
           R"({"items":[{"sku_id":")" + std::string(sku) + R"(","quantity":2}]})", Shopper());
  ASSERT_EQ(order.status, 201) << order.body;
  EXPECT_NE(order.body.find(R"("seller_id":")" + supplier_id), std::string::npos);
  EXPECT_NE(
      order.body.find(R"("distribution":{"listing_seller_id":")" + Field(reseller.body, "id") +
                      R"(","supply_unit_price_fen":2990,"commissions":[{"seller_id":")"),
      std::string::npos)
      << order.body;
  EXPECT_NE(order.body.find(R"("unit_fen":598})"), std::string::npos);
}

// A distributor follows the supplier's sub-order that ships what its listing sold; the other
// lines of that sub-order (the supplier's own sales) stay hidden from it, whatever the
// sub-order's status.
TEST_F(RouterTest, ADistributorSeesOnlyTheLinesItsListingSold) {
  auto [supplier, reseller] = SupplierAndReseller();
  const std::string supplier_id = Field(supplier.body, "id"), token = Field(reseller.body, "token");
  auto millet =
      Call("POST", "/v1/products",
           R"({"title":"沁州黄小米","skus":[{"spec":"500g","price_fen":2990,"stock":5}]})",
           Field(supplier.body, "token"));
  ASSERT_EQ(millet.status, 201) << millet.body;
  simdjson::dom::parser parser;
  std::string_view own_sku;
  ASSERT_FALSE(parser.parse(millet.body)["skus"].at(0)["id"].get(own_sku));
  const std::string own(own_sku);
  auto r = Call("POST", "/v1/distributions",
                R"({"supplier_id":")" + supplier_id + R"(","markup_percent":20})", token);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string_view listing_id;
  ASSERT_FALSE(parser.parse(r.body)["listing_ids"].at(0).get(listing_id));
  auto listing = Call("GET", "/v1/products/" + std::string(listing_id));
  std::string_view listed_sku;
  ASSERT_FALSE(parser.parse(listing.body)["skus"].at(0)["id"].get(listed_sku));
  const std::string shopper = Shopper();
  auto order = Call("POST", "/v1/orders",
                    R"({"items":[{"sku_id":")" + own + R"(","quantity":1},{"sku_id":")" +
                        std::string(listed_sku) + R"(","quantity":1}]})",
                    shopper);
  ASSERT_EQ(order.status, 201) << order.body;
  const std::string id = Field(order.body, "id");
  ASSERT_EQ(Call("POST", "/v1/orders/" + id + "/pay", "", shopper).status, 200);
  auto seen = Call("GET", "/v1/orders/" + id, "", token);
  ASSERT_EQ(seen.status, 200) << seen.body;
  std::string_view first, second;
  ASSERT_FALSE(parser.parse(seen.body)["lines"].at(0)["status"].get(first)) << seen.body;
  ASSERT_FALSE(parser.parse(seen.body)["lines"].at(1)["status"].get(second)) << seen.body;
  EXPECT_EQ(first, "hidden") << seen.body;  // The supplier's own sale.
  EXPECT_EQ(second, "paid") << seen.body;   // What the listing sold: its sub-order's status.
}

// Query parameters holding a day must name one that exists: 2026-02-30 is no day.
TEST_F(RouterTest, ImpossibleDatesInTheQueryAreRefused) {
  auto feb30 = Call("GET", "/v1/stats/sales?from=2026-02-30", "", "op");
  EXPECT_EQ(feb30.status, 422) << feb30.body;
  EXPECT_EQ(ErrorCode(feb30), "invalid_field");
  EXPECT_NE(feb30.body.find("from: "), std::string::npos) << feb30.body;
  EXPECT_NE(feb30.body.find("YYYY-MM-DD"), std::string::npos) << feb30.body;
  auto not_leap = Call("GET", "/v1/stats/sales?to=2025-02-29", "", "op");
  EXPECT_EQ(not_leap.status, 422) << not_leap.body;
  EXPECT_NE(not_leap.body.find("to: "), std::string::npos) << not_leap.body;
  auto month = Call("GET", "/v1/stats/sales?group_by=place&to=2026-13-01", "", "op");
  EXPECT_EQ(month.status, 422);
  EXPECT_NE(month.body.find("to: "), std::string::npos) << month.body;
  EXPECT_EQ(Call("GET", "/v1/stats/sales?from=2026-04-31", "", "op").status, 422);
  EXPECT_EQ(Call("GET", "/v1/stats/sales?from=26-1-1", "", "op").status, 422);
  // Days that exist, leap days included, are served.
  EXPECT_EQ(Call("GET", "/v1/stats/sales?from=2024-02-29&to=2026-12-31", "", "op").status, 200);
  EXPECT_EQ(Call("GET", "/v1/stats/sales?from=2000-02-29&by_day=1", "", "op").status, 200);
}

// The operator's directory of the pavilion's orders: neither owner named; a place and business
// days that say what to fix when they are not one.
TEST_F(RouterTest, OperatorListsThePavilionsOrdersByPlaceAndDay) {
  auto [seller_token, sku] = SellerWithSku(5);
  auto alice = Shopper();
  auto placed =
      Call("POST", "/v1/orders", R"({"items":[{"sku_id":")" + sku + R"(","quantity":1}]})", alice);
  ASSERT_EQ(placed.status, 201) << placed.body;
  const std::string id = Field(placed.body, "id");
  const std::string today = events::BusinessDay(p_.store->clock().NowMicros());
  for (const std::string& query : std::vector<std::string>{
           "", "?place_code=1404", "?from=" + today + "&to=" + today, "?status=pending_payment"}) {
    auto page = Call("GET", "/v1/orders" + query, "", "op");
    EXPECT_EQ(page.status, 200) << query << page.body;
    EXPECT_NE(page.body.find(id), std::string::npos) << query << page.body;
  }
  EXPECT_EQ(Call("GET", "/v1/orders?place_code=6101", "", "op").body.find(id), std::string::npos);
  auto bad_place = Call("GET", "/v1/orders?place_code=14x", "", "op");
  EXPECT_EQ(bad_place.status, 422);
  EXPECT_NE(bad_place.body.find("place_code: a division code or its prefix"), std::string::npos);
  auto backwards = Call("GET", "/v1/orders?from=2026-11-02&to=2026-11-01", "", "op");
  EXPECT_EQ(backwards.status, 422);
  EXPECT_NE(backwards.body.find("to: 2026-11-01 is before from: 2026-11-02"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/orders?from=2026-02-30", "", "op").status, 422);
  // A shopper still sees only its own, whatever it leaves out.
  auto bob = Shopper();
  EXPECT_EQ(Call("GET", "/v1/orders", "", bob).body.find(id), std::string::npos);
}

// A query parameter a route does not take is refused, naming it and the ones the route takes,
// on every route; the caller is authenticated first.
TEST_F(RouterTest, UnknownQueryParametersAreRefused) {
  auto colour = Call("GET", "/v1/products?in_stock=1&colour=red");
  EXPECT_EQ(colour.status, 422) << colour.body;
  EXPECT_EQ(ErrorCode(colour), "unknown_parameter");
  EXPECT_NE(colour.body.find("colour: "), std::string::npos) << colour.body;
  EXPECT_NE(colour.body.find("q, place_code, seller_id"), std::string::npos) << colour.body;
  auto [seller_token, sku] = SellerWithSku(5);
  auto alice = Shopper();
  const uint64_t head = p_.store->head();
  auto debug = Call("POST", "/v1/orders?debug=1",
                    R"({"items":[{"sku_id":")" + sku + R"(","quantity":1}]})", alice);
  EXPECT_EQ(debug.status, 422) << debug.body;
  EXPECT_EQ(ErrorCode(debug), "unknown_parameter");
  EXPECT_NE(debug.body.find("debug: "), std::string::npos) << debug.body;
  EXPECT_NE(debug.body.find("takes none"), std::string::npos) << debug.body;
  EXPECT_EQ(p_.store->head(), head);  // Refused before anything was written.
  auto page = Call("GET", "/v1/orders?page=2", "", alice);
  EXPECT_EQ(page.status, 422);
  EXPECT_NE(page.body.find("shopper_id, seller_id, status, place_code, from, to, limit, cursor"),
            std::string::npos)
      << page.body;
  EXPECT_EQ(Call("GET", "/v1/stats/sales?group=seller", "", "op").status, 422);
  EXPECT_EQ(Call("GET", "/v1/packs?fmt=native", "", seller_token).status, 422);
  EXPECT_EQ(Call("GET", "/healthz?verbose").status, 422);
  // The pages and images a QR code or a shared link opens ignore what messaging apps append.
  EXPECT_EQ(Call("GET", "/trace/NOPE?from=singlemessage").status, 404);
  EXPECT_EQ(Call("GET", "/v1/images/nope?from=timeline").status, 404);
  EXPECT_EQ(Call("GET", "/v1/orders?page=2").status, 401);  // Who asks comes first.
  // The parameters a route does take still work, encoded or not.
  EXPECT_EQ(Call("GET", "/v1/orders?limit=5&cursor=", "", alice).status, 200);
  EXPECT_EQ(Call("GET", "/v1/products?%71=x").status, 200);  // %71 is q.
}

// Bytes sent as a zip that are none get told so (and what to send), not about CSV columns.
TEST_F(RouterTest, GarbageSentAsAZipIsNoReadableZip) {
  auto s = Call("POST", "/v1/sellers", R"({"name":"次村村服务站","place_code":"140430"})", "op");
  std::string token = Field(s.body, "token");
  for (const char* type : {"application/zip", "application/x-zip-compressed"}) {
    auto r = Call("POST", "/v1/packs", "this is no zip at all,\n1,2,3\n", token, "", type);
    EXPECT_EQ(r.status, 422) << type << " " << r.body;
    EXPECT_EQ(ErrorCode(r), "invalid_pack") << r.body;
    EXPECT_NE(r.body.find("not a readable zip"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("application/x-ndjson"), std::string::npos) << r.body;
  }
  auto gz = Call("POST", "/v1/packs", "plain text", token, "", "application/gzip");
  EXPECT_EQ(gz.status, 422);
  EXPECT_NE(gz.body.find("not a readable gzip"), std::string::npos) << gz.body;
  auto empty = Call("POST", "/v1/packs", "", token, "", "application/zip");
  EXPECT_EQ(empty.status, 422);
  EXPECT_NE(empty.body.find("not a readable zip"), std::string::npos) << empty.body;
  // Something that starts like a zip but is none is refused by the pack reader, as an archive.
  auto truncated =
      Call("POST", "/v1/packs", "PK\x03\x04 and then nothing", token, "", "application/zip");
  EXPECT_EQ(truncated.status, 422);
  EXPECT_EQ(ErrorCode(truncated), "invalid_pack");
  EXPECT_EQ(truncated.body.find("csv"), std::string::npos) << truncated.body;
}

// Once an order is split into sub-orders, a line shows its sub-order's status: after payment a
// line is no longer "reserved" but paid, then shipped…; after a cancel it is cancelled.
TEST_F(RouterTest, AnOrderLineShowsItsSubOrdersStatus) {
  auto [seller_token, sku] = SellerWithSku(10);
  auto alice = Shopper();
  const std::string items = R"({"items":[{"sku_id":")" + sku + R"(","quantity":1}]})";
  auto line_status = [](const std::string& json) {
    simdjson::dom::parser parser;
    std::string_view v;
    if (parser.parse(json)["lines"].at(0)["status"].get(v)) return std::string("?");
    return std::string(v);
  };
  auto placed = Call("POST", "/v1/orders", items, alice);
  ASSERT_EQ(placed.status, 201) << placed.body;
  EXPECT_EQ(line_status(placed.body), "pending_payment") << placed.body;
  // The line keeps what the reservation told: its product, seller and price.
  EXPECT_NE(placed.body.find(R"("unit_price_fen":2990)"), std::string::npos) << placed.body;
  const std::string id = Field(placed.body, "id");
  auto paid = Call("POST", "/v1/orders/" + id + "/pay", "", alice);
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(line_status(paid.body), "paid") << paid.body;
  EXPECT_EQ(line_status(Call("GET", "/v1/orders/" + id, "", alice).body), "paid");
  auto shipped = Call("POST", "/v1/orders/" + id + "/ship",
                      R"({"carrier":"EMS","tracking_no":"E1"})", seller_token);
  EXPECT_EQ(line_status(shipped.body), "shipped") << shipped.body;
  auto listed = Call("GET", "/v1/orders?limit=1", "", alice);
  simdjson::dom::parser parser;
  std::string_view listed_status;
  ASSERT_FALSE(
      parser.parse(listed.body)["orders"].at(0)["lines"].at(0)["status"].get(listed_status))
      << listed.body;
  EXPECT_EQ(listed_status, "shipped");
  auto other = Call("POST", "/v1/orders", items, alice);
  auto cancelled = Call("POST", "/v1/orders/" + Field(other.body, "id") + "/cancel", "", alice);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(line_status(cancelled.body), "cancelled") << cancelled.body;
  // A rejected order was never split: its lines show the stock's answer.
  auto rejected = Call("POST", "/v1/orders",
                       R"({"items":[{"sku_id":")" + sku + R"(","quantity":1000}]})", alice);
  EXPECT_EQ(line_status(rejected.body), "rejected") << rejected.body;
}

TEST_F(RouterTest, MetricsCountRequestsAndEvents) {
  Call("GET", "/healthz");
  auto m = Call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find(R"(pavilion_http_requests_total{route="GET /healthz",code="2xx"} 1)"),
            std::string::npos);
  EXPECT_NE(m.body.find("pavilion_events_appended_total"), std::string::npos);
  EXPECT_NE(
      m.body.find(
          R"(pavilion_http_request_duration_seconds_bucket{route="GET /healthz",le="+Inf"} 1)"),
      std::string::npos);
  EXPECT_NE(m.body.find(R"(pavilion_http_request_duration_seconds_count{route="GET /healthz"} 1)"),
            std::string::npos);
}

// The event store's sync and append latencies are histograms; each event append adds one to both.
TEST_F(RouterTest, MetricsShowTheStoresSyncAndAppendLatency) {
  const auto count = pavilion::testing::MetricValue;
  const std::string before = Call("GET", "/metrics").body;
  const int64_t syncs = count(before, "pavilion_store_sync_seconds_count");
  const int64_t appends = count(before, "pavilion_store_append_seconds_count");
  ASSERT_GE(syncs, 0) << before;
  ASSERT_GE(appends, 0) << before;
  events::NewEvent e;
  e.stream_id = "metrics-test";
  e.expected_version = events::kAnyVersion;
  e.type = "test.happened";
  e.payload = "p";
  events::AppendRequest req;
  req.events.push_back(std::move(e));
  ASSERT_TRUE(p_.store->AppendAndWait(std::move(req)).ok());
  const std::string after = Call("GET", "/metrics").body;
  EXPECT_EQ(count(after, "pavilion_store_sync_seconds_count"), syncs + 1);
  EXPECT_EQ(count(after, "pavilion_store_append_seconds_count"), appends + 1);
  EXPECT_NE(
      after.find(R"(pavilion_store_sync_seconds_bucket{le="+Inf"} )" + std::to_string(syncs + 1)),
      std::string::npos);
}

// A pack is read on a blocking job's thread, never on the thread that handles the request (an
// HTTP thread in the server): a pack the reader refuses is answered from the job, and /healthz
// is answered while an import is in progress.
TEST(RouterPacks, PacksAreReadOffTheRequestThreadAndHealthzAnswersMeanwhile) {
  testing::GatedWriteKvStore kv;
  testing::InProcess p(&kv);
  Identity identity(p.kv());
  FakeTimers timers;
  Router router(Services{*p.catalog, *p.orders, *p.settlement, *p.store}, identity, timers,
                RouterOptions{5'000, "notify-secret"});
  ASSERT_FALSE(identity.Register("op", Principal{Role::kOperator, ""}));
  struct Answer {
    HttpResponse response;
    std::thread::id thread;
  };
  auto send = [&](std::string method, std::string target, std::string body, std::string token,
                  std::string type) {
    auto done = std::make_shared<std::promise<Answer>>();
    auto answered = done->get_future();
    router.Handle(
        HttpRequest{std::move(method), std::move(target), token.empty() ? "" : "Bearer " + token,
                    std::move(type), "", std::move(body), ""},
        [done](HttpResponse r) {
          r.Body();
          done->set_value({std::move(r), std::this_thread::get_id()});
        });
    return answered;
  };
  auto seller = send("POST", "/v1/sellers",
                     R"({"name":"沁县合作社","place_code":"140430","supplier_type":"cooperative"})",
                     "op", "application/json")
                    .get();
  ASSERT_EQ(seller.response.status, 201) << seller.response.body;
  simdjson::dom::parser parser;
  std::string_view token;
  ASSERT_FALSE(parser.parse(seller.response.body)["token"].get(token));
  const std::string seller_token(token);

  // Refused by the reader: answered from the job's thread, not the one that sent it.
  auto refused =
      send("POST", "/v1/packs", "PK\x03\x04 and then nothing", seller_token, "application/zip")
          .get();
  EXPECT_EQ(refused.response.status, 422) << refused.response.body;
  EXPECT_NE(refused.thread, std::this_thread::get_id());

  // An import held at the store's gate is in progress; /healthz answers meanwhile.
  kv.Set(false);
  auto import = send(
      "POST", "/v1/packs",
      R"({"outer_id":"H-1","title":"沁州黄小米","skus":[{"spec":"500g","price_fen":2990,"stock":5}]})"
      "\n",
      seller_token, "application/x-ndjson");
  ASSERT_TRUE(kv.AwaitWaiting());
  auto health = send("GET", "/healthz", "", "", "").get();
  EXPECT_EQ(health.response.status, 200);
  EXPECT_EQ(import.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  kv.Set(true);
  auto imported = import.get();
  EXPECT_EQ(imported.response.status, 200) << imported.response.body;
  EXPECT_NE(imported.response.body.find("\"created\":1"), std::string::npos);
}

TEST_F(RouterTest, ControlCharactersAndNegativeFloorPricesAreRefusedByField) {
  auto [token, sku] = SellerWithSku();
  auto product = [&](const std::string& fields) {
    return Call("POST", "/v1/products",
                "{" + fields + R"(,"skus":[{"spec":"500g","price_fen":2990,"stock":1}]})", token);
  };
  auto nul = product(R"("title":"沁州黄\u0000小米")");
  EXPECT_EQ(nul.status, 422) << nul.body;
  EXPECT_NE(nul.body.find("title: contains the control character U+0000"), std::string::npos)
      << nul.body;
  auto floor = product(R"("title":"沁州黄小米","floor_price_fen":-5)");
  EXPECT_EQ(floor.status, 422) << floor.body;
  EXPECT_NE(floor.body.find("floor_price_fen: "), std::string::npos) << floor.body;
  auto twice = Call("POST", "/v1/products",
                    R"({"title":"小米","skus":[{"spec":"1kg","price_fen":1,"stock":1},)"
                    R"({"spec":"1kg","price_fen":2,"stock":1}]})",
                    token);
  EXPECT_EQ(twice.status, 422) << twice.body;
  EXPECT_NE(twice.body.find("skus[1].spec: "), std::string::npos) << twice.body;
  auto lines = product(R"("title":"沁州黄小米","description":"<p>一</p>\n\t<p>二</p>")");
  EXPECT_EQ(lines.status, 201) << lines.body;
}

// --- HTTP semantics the route table answers (RFC 9110) ---

std::string Header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class HttpSemanticsTest : public RouterTest {
 protected:
  HttpResponse Send(HttpRequest req) { return testing::AnswerOf(router_, std::move(req)); }
};

// HEAD is served wherever GET is, with the GET's answer (the server leaves out the body); before,
// it was 405 with a body, which desynchronised keep-alive clients.
TEST_F(HttpSemanticsTest, HeadIsServedOnEveryGetRoute) {
  auto get = Call("GET", "/v1/openapi.json");
  auto head = Call("HEAD", "/v1/openapi.json");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body.size(), get.body.size());
  EXPECT_EQ(Call("HEAD", "/healthz").status, 200);
  EXPECT_EQ(Call("HEAD", "/v1/products/nope").status, 404);
  // Every GET route answers HEAD with something other than 405.
  for (const auto& route : Router::Routes()) {
    if (route.method != "GET") continue;
    std::string target = route.pattern;
    for (size_t at; (at = target.find('{')) != std::string::npos;) {
      target.replace(at, target.find('}', at) - at + 1, "x");
    }
    EXPECT_NE(Call("HEAD", target).status, 405) << target;
  }
}

TEST_F(HttpSemanticsTest, MethodNotAllowedListsTheMethodsInAllow) {
  auto r = Call("DELETE", "/v1/products/p1");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(ErrorCode(r), "method_not_allowed");
  EXPECT_EQ(Header(r, "Allow"), "GET, HEAD, PUT, OPTIONS");
  EXPECT_EQ(Header(Call("PUT", "/v1/packs"), "Allow"), "POST, GET, HEAD, OPTIONS");
  auto options = Call("OPTIONS", "/v1/orders");
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(Header(options, "Allow"), "POST, GET, HEAD, OPTIONS");
  EXPECT_EQ(Header(options, "Access-Control-Allow-Origin"), "");  // CORS is off by default.
  EXPECT_EQ(Call("OPTIONS", "/v1/no-such").status, 404);
}

TEST_F(HttpSemanticsTest, CorsAnswersOnlyTheConfiguredOrigins) {
  RouterOptions options{5'000, "notify-secret"};
  options.cors_origins = {"https://shop.example", "http://localhost:5173"};
  Router router(Services{*p_.catalog, *p_.orders, *p_.settlement, *p_.store}, identity_, timers_,
                options);
  auto send = [&router](std::string method, std::string target, std::string origin) {
    HttpRequest req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.origin = std::move(origin);
    std::promise<HttpResponse> done;
    router.Handle(std::move(req), [&done](HttpResponse r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  };
  // The preflight of a browser about to place an order from the shop's own site.
  auto preflight = send("OPTIONS", "/v1/orders", "https://shop.example");
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(Header(preflight, "Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_EQ(Header(preflight, "Access-Control-Allow-Methods"), "POST, GET, HEAD, OPTIONS");
  const std::string allowed = Header(preflight, "Access-Control-Allow-Headers");
  for (const char* h : {"Authorization", "Content-Type", "Idempotency-Key"}) {
    EXPECT_NE(allowed.find(h), std::string::npos) << h;
  }
  EXPECT_EQ(Header(preflight, "Vary"), "Origin");
  auto get = send("GET", "/healthz", "http://localhost:5173");
  EXPECT_EQ(Header(get, "Access-Control-Allow-Origin"), "http://localhost:5173");
  EXPECT_NE(Header(get, "Access-Control-Expose-Headers").find("ETag"), std::string::npos);
  // Errors carry them too, so the page can read the error.
  auto refused = send("POST", "/v1/orders", "https://shop.example");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(Header(refused, "Access-Control-Allow-Origin"), "https://shop.example");
  // Any other origin gets no CORS header at all.
  for (const auto& r :
       {send("OPTIONS", "/v1/orders", "https://evil.example"),
        send("GET", "/healthz", "https://evil.example"), send("GET", "/healthz", "")}) {
    EXPECT_EQ(Header(r, "Access-Control-Allow-Origin"), "");
    EXPECT_EQ(Header(r, "Access-Control-Allow-Methods"), "");
  }
  options.cors_origins = {"*"};
  Router any(Services{*p_.catalog, *p_.orders, *p_.settlement, *p_.store}, identity_, timers_,
             options);
  HttpRequest req;
  req.method = "GET";
  req.target = "/healthz";
  req.origin = "https://anyone.example";
  std::promise<HttpResponse> done;
  any.Handle(std::move(req), [&done](HttpResponse r) { done.set_value(std::move(r)); });
  EXPECT_EQ(Header(done.get_future().get(), "Access-Control-Allow-Origin"), "*");
}

// Products, images and trace answers carry a strong ETag; asking again with it gets 304 and no
// body, and a changed product a new tag.
TEST_F(HttpSemanticsTest, EtagsAndNotModified) {
  auto [token, sku] = SellerWithSku();
  auto list = Call("GET", "/v1/products");
  simdjson::dom::parser parser;
  std::string_view id;
  ASSERT_FALSE(parser.parse(list.body)["products"].at(0)["id"].get(id)) << list.body;
  const std::string product(id);
  auto first = Call("GET", "/v1/products/" + product);
  const std::string tag = Header(first, "ETag");
  ASSERT_EQ(tag.size() > 2 && tag.front() == '"' && tag.back() == '"', true) << tag;
  EXPECT_EQ(Header(Call("GET", "/v1/products/" + product), "ETag"), tag);  // Stable.
  HttpRequest again{"GET", "/v1/products/" + product, "", "", "", "", ""};
  again.if_none_match = "\"other\", " + tag;
  auto not_modified = Send(again);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(Header(not_modified, "ETag"), tag);
  again.if_none_match = "W/" + tag;  // If-None-Match compares weakly.
  EXPECT_EQ(Send(again).status, 304);
  again.if_none_match = "\"stale\"";
  EXPECT_EQ(Send(again).status, 200);
  // HEAD with the tag: 304 as well.
  again.method = "HEAD";
  again.if_none_match = tag;
  EXPECT_EQ(Send(again).status, 304);
  auto edit = Call(
      "PUT", "/v1/products/" + product,
      R"({"title":"沁州黄小米 新米","skus":[{"spec":"500g","price_fen":2990,"stock":10}]})", token);
  ASSERT_EQ(edit.status, 200) << edit.body;
  again.method = "GET";
  auto changed = Send(again);
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(Header(changed, "ETag"), tag);
  // Images and trace answers are tagged; lists and errors are not.
  auto image = Call("POST", "/v1/images", std::string("\x89PNG\r\n\x1a\n", 8) + "pixels", token, "",
                    "image/png");
  ASSERT_EQ(image.status, 201) << image.body;
  auto got = Call("GET", Field(image.body, "url"));
  // An image's tag is its ref (the hash of its bytes): nothing is hashed per request. There is
  // one ETag header, and a client holding it gets 304.
  const std::string image_tag = "\"" + Field(image.body, "ref") + "\"";
  EXPECT_EQ(Header(got, "ETag"), image_tag);
  EXPECT_EQ(std::count_if(got.headers.begin(), got.headers.end(),
                          [](const auto& h) { return h.first == "ETag"; }),
            1);
  HttpRequest conditional;
  conditional.method = "GET";
  conditional.target = Field(image.body, "url");
  conditional.if_none_match = image_tag;
  auto held = Send(std::move(conditional));
  EXPECT_EQ(held.status, 304);
  EXPECT_EQ(Header(held, "ETag"), image_tag);
  EXPECT_EQ(Header(list, "ETag"), "");
  EXPECT_EQ(Header(Call("GET", "/v1/products/nope"), "ETag"), "");
}

// Media types compare without regard to case, with parameters (RFC 9110 §8.3.1).
TEST_F(HttpSemanticsTest, MediaTypesCompareCaseInsensitively) {
  auto r =
      Call("POST", "/v1/shoppers", R"({"name":"x"})", "", "", "Application/JSON; charset=UTF-8");
  EXPECT_EQ(r.status, 201) << r.body;
  auto [token, sku] = SellerWithSku();
  auto image = Call("POST", "/v1/images", std::string("\x89PNG\r\n\x1a\n", 8) + "pixels", token, "",
                    " IMAGE/PNG ");
  EXPECT_EQ(image.status, 201) << image.body;
  EXPECT_EQ(Call("POST", "/v1/shoppers", R"({"name":"x"})", "", "", "text/json").status, 415);
}

// The checks that need no body, made from the head alone: the server answers these without
// reading a body it would throw away (an anonymous 200 MiB pack upload is 401 at once).
TEST_F(HttpSemanticsTest, CheckHeadRefusesWhatTheHeadAlreadyDecides) {
  auto check = [this](std::string method, std::string target, std::string token,
                      std::string type = "application/zip") {
    HttpRequest head;
    head.method = std::move(method);
    head.target = std::move(target);
    head.authorization = token.empty() ? "" : "Bearer " + token;
    head.content_type = std::move(type);
    return router_.CheckHead(head, true);
  };
  auto anonymous = check("POST", "/v1/packs", "");
  ASSERT_TRUE(anonymous.refusal);
  EXPECT_EQ(anonymous.refusal->status, 401);
  auto wrong = check("POST", "/v1/packs", "not-a-token");
  ASSERT_TRUE(wrong.refusal);
  EXPECT_EQ(wrong.refusal->status, 401);
  const std::string shopper = Shopper();
  auto shopper_pack = check("POST", "/v1/packs", shopper);
  ASSERT_TRUE(shopper_pack.refusal);
  EXPECT_EQ(shopper_pack.refusal->status, 403);
  auto ok = check("POST", "/v1/packs", "op");
  EXPECT_FALSE(ok.refusal);
  EXPECT_EQ(ok.body, BodyKind::kPack);
  auto bad_type = check("POST", "/v1/packs", "op", "image/png");
  ASSERT_TRUE(bad_type.refusal);
  EXPECT_EQ(bad_type.refusal->status, 415);
  EXPECT_EQ(check("POST", "/v1/packs", "op", "Application/Zip").refusal, std::nullopt);
  EXPECT_EQ(check("POST", "/v1/images", "op", "image/png").body, BodyKind::kImage);
  EXPECT_EQ(check("POST", "/v1/images", "op", "text/plain").refusal->status, 415);
  EXPECT_EQ(check("POST", "/v1/nothing-here", "op").refusal->status, 404);
  auto not_allowed = check("DELETE", "/v1/packs", "op");
  EXPECT_EQ(not_allowed.refusal->status, 405);
  EXPECT_EQ(Header(*not_allowed.refusal, "Allow"), "POST, GET, HEAD, OPTIONS");
  EXPECT_EQ(check("POST", "/v1/packs?nope=1", "op").refusal->status, 422);
  EXPECT_EQ(check("POST", "/v1/shoppers", "", "application/json").body, BodyKind::kJson);
  EXPECT_FALSE(check("POST", "/v1/shoppers", "", "application/json").refusal);
  // A body a route ignores is no reason to refuse.
  EXPECT_FALSE(check("POST", "/v1/orders/o1/pay", shopper, "text/plain").refusal);
  // Refusals are counted like any other answer: 401, 401, 403, 415, 422.
  auto m = Call("GET", "/metrics").body;
  EXPECT_EQ(pavilion::testing::MetricValue(
                m, R"(pavilion_http_requests_total{route="POST /v1/packs",code="4xx"})"),
            5)
      << m;
}

}  // namespace
}  // namespace pavilion::gateway
