// Router: the HTTP API as a plain function from request to response, testable without sockets.
//
// Handle() finds the route, authenticates the bearer token for the roles the route admits,
// refuses query parameters the route does not take (422 unknown_parameter), parses the JSON body
// with simdjson (rejecting malformed JSON, wrong types and bad values with 400/415/422 before
// any event is written), calls a service and answers through `respond` exactly once, on whatever
// thread the service answered on. Every error body is {"error": {"code": "...", "message":
// "..."}}, its code one of the list in src/errors.h. The route table (src/router.cc) is the one
// source of each route's method, path, roles and query parameters; Routes() exposes it, and a
// test checks it against OpenApiDocument() (src/openapi.cc, completed from this table). The table
// also answers what HTTP asks of every route: HEAD wherever GET is served, OPTIONS (with CORS
// preflight for the configured origins), 405 with Allow, strong ETags and 304 on the cacheable
// reads; and CheckHead() refuses from a request's head alone what would be refused anyway, so the
// server need not read a body it will throw away. Thread-safe: Handle may be called from many
// threads at once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/events/event_store.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/metrics.h"
#include "pavilion/order/order_service.h"
#include "pavilion/places/place_directory.h"
#include "pavilion/settlement/settlement_service.h"

namespace pavilion::gateway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // Path and query, e.g. "/v1/stats/sales?group_by=seller".
  std::string authorization;
  std::string content_type;
  std::string idempotency_key;
  std::string body;
  std::string signature;    // X-Pavilion-Signature, on payment notifications.
  std::string peer = {};    // The client's address for limits per client (RateLimiter::ClientKey).
  std::string origin = {};  // Origin, for CORS; empty when the request carries none.
  std::string if_none_match = {};
  bool accepts_gzip = false;  // Accept-Encoding allows gzip: the answer may be compressed.
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is rendered by whoever writes the response (the server, on the
  // connection's own thread): a service that answers on its single thread hands over what to
  // render instead of rendering it there. Body() renders it into `body`, once, and returns it.
  std::function<std::string()> render;

  const std::string& Body() {
    if (render) {
      body = render();
      render = nullptr;
    }
    return body;
  }
};

using Respond = std::function<void(HttpResponse)>;

// Runs a function after a delay; the server backs it with Asio timers, tests with a fake.
class Timers {
 public:
  virtual ~Timers() = default;
  virtual void After(int64_t millis, std::function<void()> fn) = 0;
};

struct RateLimit {
  double per_second = 0;  // Sustained rate per client address; 0: no limit.
  double burst = 0;       // What an address may do at once after a quiet spell.
};

struct RouterOptions {
  // How long POST /v1/orders waits for the order's outcome before answering 202 pending.
  int64_t order_wait_ms = 5'000;
  // The secret payment providers sign notifications with; empty refuses every notification.
  std::string payment_secret;
  // Where the public reaches this server; trace QR codes point at PUBLIC_URL/trace/CODE.
  std::string public_url = "http://127.0.0.1:8080";
  // Origins (scheme://host[:port]) whose pages may call the API from a browser (CORS); "*" lets
  // any. Empty: no CORS headers at all.
  std::vector<std::string> cors_origins = {};
  // Per client address (HttpRequest::peer): shopper registrations and order placements (each
  // holds stock unpaid). Off unless set; `pavilion serve` sets both.
  RateLimit shopper_registrations = {};
  RateLimit order_placements = {};
};

// What a route reads as its body; it also picks the body limit the server applies.
enum class BodyKind { kNone, kJson, kImage, kPack };

// The verdict on a request's head, before its body is read.
struct HeadCheck {
  // Set when the request is refused whatever its body holds (404, 405, 401, 403, 415): the server
  // answers it without reading the body.
  std::optional<HttpResponse> refusal;
  BodyKind body = BodyKind::kNone;
};

struct RouteInfo {
  std::string method;
  std::string pattern;                 // e.g. "/v1/products/{id}"
  std::vector<std::string> query;      // The query parameters it takes.
  std::vector<std::string> roles;      // "operator", "seller", "shopper" it admits; none: public.
  bool ignores_unknown_query = false;  // Pages and images shared links open (router.cc).
};

struct Services {
  catalog::CatalogService& catalog;
  order::OrderService& orders;
  settlement::SettlementService& settlement;
  events::EventStore& store;
  places::PlaceDirectory* places = nullptr;  // The divisions (--places); null: not loaded.
};

class Router {
 public:
  Router(Services services, Identity& identity, Timers& timers, RouterOptions options = {});
  ~Router();

  void Handle(HttpRequest request, Respond respond);

  // The checks of Handle() that need no body: route and method, bearer token and role, and the
  // body's media type (`head.body` is ignored; `has_body` says whether one follows). Counted in
  // the metrics when it refuses.
  HeadCheck CheckHead(const HttpRequest& head, bool has_body);

  // Set before serving: the bound port is known only after Listen.
  void SetPublicUrl(std::string url);

  // Extra Prometheus series (projection lag, Kafka); appended to GET /metrics.
  void SetMetricsHook(std::function<void(std::string&)> hook);
  // Counts an answer the server gave without the router (a 413 before any route is found) in
  // pavilion_http_responses_total, with those the router gives. Lock-free, any thread.
  void CountResponse(int status);

  static const std::vector<RouteInfo>& Routes();
  // The hand-written document completed from Routes() (src/openapi.h); built on first use.
  static std::string_view OpenApiDocument();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::gateway
