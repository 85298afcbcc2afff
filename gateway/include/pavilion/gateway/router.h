// Router: the HTTP API as a plain function from request to response, testable without sockets.
//
// Handle() finds the route, authenticates the bearer token for the roles the route admits,
// refuses query parameters the route does not take (422 unknown_parameter), parses the JSON body
// with simdjson (rejecting malformed JSON, wrong types and bad values with 400/415/422 before
// any event is written), calls a service and answers through `respond` exactly once, on whatever
// thread the service answered on. Every error body is {"error": {"code": "...", "message":
// "..."}}, its code one of the list in src/errors.h. The route table (src/router.cc) is the one
// source of each route's method, path, roles and query parameters; Routes() exposes it, and a
// test checks it against OpenApiDocument() (src/openapi.cc, completed from this table).
// Thread-safe: Handle may be called from many threads at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pavilion/catalog/catalog_service.h"
#include "pavilion/events/event_store.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/metrics.h"
#include "pavilion/order/order_service.h"
#include "pavilion/settlement/settlement_service.h"

namespace pavilion::gateway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // Path and query, e.g. "/v1/stats/sales?group_by=seller".
  std::string authorization;
  std::string content_type;
  std::string idempotency_key;
  std::string body;
  std::string signature;  // X-Pavilion-Signature, on payment notifications.
  std::string peer;       // The client's IP address (no port), for limits per client address.
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

struct RouterOptions {
  // How long POST /v1/orders waits for the order's outcome before answering 202 pending.
  int64_t order_wait_ms = 5'000;
  // The secret payment providers sign notifications with; empty refuses every notification.
  std::string payment_secret;
  // Where the public reaches this server; trace QR codes point at PUBLIC_URL/trace/CODE.
  std::string public_url = "http://127.0.0.1:8080";
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
};

class Router {
 public:
  Router(Services services, Identity& identity, Timers& timers, RouterOptions options = {});
  ~Router();

  void Handle(HttpRequest request, Respond respond);

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
