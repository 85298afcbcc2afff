// The route table and authentication: which handler serves each method and path, which roles it
// admits and which query parameters it takes. Handle() matches the path, authenticates the
// caller for the route's roles, refuses query parameters the route does not declare, then calls
// the handler (routes/). Everything a route needs to be read is in its row.
#include "pavilion/gateway/router.h"

#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "routes/routes.h"

namespace pavilion::gateway {
namespace {

// Who may call a route: a set of roles, or anyone (kPublic: no token needed).
using Roles = unsigned;
constexpr Roles kPublic = 0, kOperator = 1, kSeller = 2, kShopper = 4;

struct Route {
  std::string method;
  std::string pattern;
  Roles roles;
  std::vector<std::string_view> query;  // The query parameters it takes; any other gets 422,
  Handler handler;
  // unless the route ignores what it does not take: the pages and images a QR code or a shared
  // link opens, where messaging apps append their own (`?from=singlemessage`).
  bool ignores_unknown_query = false;
};

// A route with its pattern split at '/', as paths are matched.
struct TableRoute : Route {
  std::vector<std::string> segments;
};

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    out.push_back(PercentDecode(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

const std::vector<TableRoute>& Table() {
  using namespace routes;
  static const std::vector<TableRoute> table = [] {
    const Roles kSellers = kOperator | kSeller, kShoppers = kOperator | kShopper;
    const Roles kAnyone = kOperator | kSeller | kShopper;
    const Route rows[] = {
        {"GET", "/healthz", kPublic, {}, &Health},
        {"GET", "/metrics", kPublic, {}, &GetMetrics},
        {"GET", "/v1/openapi.json", kPublic, {}, &OpenApi},
        {"POST", "/v1/sellers", kOperator, {}, &CreateSeller},
        {"GET", "/v1/sellers/{id}", kPublic, {}, &GetSeller},
        {"POST", "/v1/shoppers", kPublic, {}, &CreateShopper},
        {"POST", "/v1/products", kSellers, {}, &CreateProduct},
        {"GET",
         "/v1/products",
         kPublic,
         {"q", "place_code", "seller_id", "in_stock", "brand", "category", "certification",
          "poverty_zone", "min_price_fen", "max_price_fen", "sort", "limit", "cursor"},
         &ListProducts},
        {"GET", "/v1/products/{id}", kPublic, {}, &GetProduct},
        {"PUT", "/v1/products/{id}", kSellers, {}, &UpdateProduct},
        {"POST", "/v1/images", kSellers, {}, &UploadImage},
        {"POST", "/v1/distributions", kSellers, {}, &Distribute},
        {"GET", "/v1/images/{ref}", kPublic, {}, &GetImage, true},
        {"POST", "/v1/products/{id}/batches", kSellers, {}, &RegisterBatch},
        {"POST", "/v1/packs", kSellers, {"seller_id"}, &ImportPack},
        {"GET", "/v1/packs", kSellers, {"seller_id", "format"}, &ExportPack},
        {"GET", "/v1/trace/{code}", kPublic, {}, &GetTrace},
        {"GET", "/v1/trace/{code}/qr.svg", kPublic, {}, &TraceQrSvg, true},
        {"GET", "/v1/trace/{code}/qr.png", kPublic, {}, &TraceQrPng, true},
        {"GET", "/trace/{code}", kPublic, {}, &TracePage, true},
        {"POST", "/v1/orders", kShoppers, {}, &CreateOrder},
        {"GET",
         "/v1/orders",
         kAnyone,
         {"shopper_id", "seller_id", "status", "limit", "cursor"},
         &ListOrders},
        {"GET", "/v1/orders/{id}", kAnyone, {}, &GetOrder},
        {"POST", "/v1/orders/{id}/pay", kShoppers, {}, &PayOrder},
        {"POST", "/v1/orders/{id}/cancel", kShoppers, {}, &CancelOrder},
        {"POST", "/v1/orders/{id}/ship", kSellers, {}, &ShipOrder},
        {"POST", "/v1/orders/{id}/deliver", kSellers, {}, &DeliverOrder},
        {"POST", "/v1/orders/{id}/confirm", kShoppers, {}, &ConfirmOrder},
        {"POST", "/v1/orders/{id}/refunds", kShoppers, {}, &RequestRefund},
        {"POST", "/v1/refunds/{id}/approve", kSellers, {}, &ApproveRefund},
        {"POST", "/v1/refunds/{id}/reject", kSellers, {}, &RejectRefund},
        {"POST", "/v1/payments/notify", kPublic, {}, &PaymentNotify},
        {"GET", "/v1/stats/sales", kOperator, {"group_by", "from", "to", "by_day"}, &SalesStats},
    };
    std::vector<TableRoute> t;
    for (const auto& r : rows) t.push_back({r, Split(r.pattern)});
    return t;
  }();
  return table;
}

std::vector<std::string> RouteNames() {
  std::vector<std::string> names;
  for (const auto& r : Table()) names.push_back(r.method + " " + r.pattern);
  names.push_back("unmatched");
  return names;
}

bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::vector<std::string>* params) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i].front() == '{') {
      if (path[i].empty()) return false;
      params->push_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

Roles RoleOf(Role role) {
  switch (role) {
    case Role::kOperator:
      return kOperator;
    case Role::kSeller:
      return kSeller;
    case Role::kShopper:
      return kShopper;
  }
  return kPublic;
}

// The caller, admitted for one of `roles`; or the error to answer.
std::optional<Principal> Authenticate(Identity& identity, const HttpRequest& req, Roles roles,
                                      std::optional<HttpResponse>* error) {
  std::string_view auth = req.authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.substr(0, kBearer.size()) != kBearer) {
    *error = ErrorResponse(kUnauthorized, "send Authorization: Bearer <token>");
    return std::nullopt;
  }
  auto who = identity.Authenticate(auth.substr(kBearer.size()));
  if (!who) {
    *error = ErrorResponse(kUnauthorized, "the bearer token is not valid");
    return std::nullopt;
  }
  if ((RoleOf(who->role) & roles) == 0) {
    std::string list;
    for (auto [bit, name] : {std::pair{kOperator, "operator"}, std::pair{kSeller, "seller"},
                             std::pair{kShopper, "shopper"}}) {
      if (roles & bit) list += (list.empty() ? "" : " or ") + std::string(name);
    }
    *error = ErrorResponse(kForbidden, "this route needs the " + list + " role");
    return std::nullopt;
  }
  return who;
}

std::string UnknownParameter(const Route& route, const std::string& name) {
  std::string takes;
  for (auto p : route.query) takes += (takes.empty() ? "" : ", ") + std::string(p);
  return name + ": unknown query parameter; " + route.method + " " + route.pattern + " takes " +
         (takes.empty() ? "none" : takes);
}

}  // namespace

std::optional<HttpResponse> ActFor(const Principal& who, Role role, std::string_view field,
                                   std::string& id) {
  if (who.role == role) {
    if (id.empty()) id = who.subject;
    if (id != who.subject) {
      return ErrorResponse(kForbidden, std::string(field) + ": a " + std::string(ToString(role)) +
                                           " may act only for itself");
    }
  } else if (id.empty()) {
    return ErrorResponse(kInvalidField, std::string(field) + ": required for the operator");
  }
  return std::nullopt;
}

std::string Context::Today() const { return events::BusinessDay(s.store.clock().NowMicros()); }

class Router::Impl {
 public:
  Impl(Services s, Identity& identity, Timers& timers, RouterOptions options)
      : cx_(s, identity, timers, std::move(options), RouteNames()) {}

  void Handle(HttpRequest req, Respond respond) {
    const int64_t start = cx_.s.store.clock().MonotonicMicros();
    std::string_view target = req.target;
    std::string_view path = target.substr(0, target.find('?'));
    std::vector<std::string> segments = Split(path);
    const auto& table = Table();
    size_t index = table.size();
    bool path_matched = false;
    std::vector<std::string> params;
    for (size_t i = 0; i < table.size(); ++i) {
      params.clear();
      if (!Match(table[i].segments, segments, &params)) continue;
      path_matched = true;
      if (table[i].method == req.method) {
        index = i;
        break;
      }
    }
    Respond observed = [this, index, start, respond = std::move(respond)](HttpResponse r) {
      cx_.metrics.Observe(index, r.status, cx_.s.store.clock().MonotonicMicros() - start);
      respond(std::move(r));
    };
    if (index == table.size()) {
      if (path_matched) {
        return observed(
            ErrorResponse(kMethodNotAllowed, req.method + " is not served on this path"));
      }
      return observed(ErrorResponse(kNotFound, "no route for " + std::string(path)));
    }
    const Route& route = table[index];
    std::optional<Principal> who;
    if (route.roles != kPublic) {
      std::optional<HttpResponse> error;  // Built only on failure: no allocation otherwise.
      who = Authenticate(cx_.identity, req, route.roles, &error);
      if (!who) return observed(std::move(*error));
    }
    const Query query = Query::Of(target);
    const std::string* unknown =
        route.ignores_unknown_query ? nullptr : query.FirstUnknown(route.query);
    if (unknown != nullptr) {
      return observed(ErrorResponse(kUnknownParameter, UnknownParameter(route, *unknown)));
    }
    route.handler(cx_, Request{req, params, query, who ? &*who : nullptr}, std::move(observed));
  }

  Context cx_;
};

Router::Router(Services services, Identity& identity, Timers& timers, RouterOptions options)
    : impl_(std::make_unique<Impl>(services, identity, timers, std::move(options))) {}

Router::~Router() = default;

void Router::Handle(HttpRequest request, Respond respond) {
  impl_->Handle(std::move(request), std::move(respond));
}

void Router::SetPublicUrl(std::string url) { impl_->cx_.options.public_url = std::move(url); }

void Router::CountResponse(int status) { impl_->cx_.metrics.CountResponse(status); }

void Router::SetMetricsHook(std::function<void(std::string&)> hook) {
  impl_->cx_.metrics_hook = std::move(hook);
}

const std::vector<RouteInfo>& Router::Routes() {
  static const std::vector<RouteInfo> routes = [] {
    std::vector<RouteInfo> out;
    for (const auto& r : Table()) {
      RouteInfo info{r.method, r.pattern, {r.query.begin(), r.query.end()}, {}, false};
      for (auto [bit, name] : {std::pair{kOperator, "operator"}, std::pair{kSeller, "seller"},
                               std::pair{kShopper, "shopper"}}) {
        if (r.roles & bit) info.roles.emplace_back(name);
      }
      info.ignores_unknown_query = r.ignores_unknown_query;
      out.push_back(std::move(info));
    }
    return out;
  }();
  return routes;
}

}  // namespace pavilion::gateway
