// The route table and authentication: which handler serves each method and path, which roles it
// admits and which query parameters it takes. Handle() matches the path, authenticates the
// caller for the route's roles, refuses query parameters the route does not declare, then calls
// the handler (routes/). Everything a route needs to be read is in its row.
#include "pavilion/gateway/router.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "pavilion/places/place_directory.h"
#include "routes/routes.h"

namespace pavilion::gateway {
namespace {

// Who may call a route: a set of roles, or anyone (kPublic: no token needed). kOperator is the
// pavilion's operator; kScoped admits operators scoped to a place as well, whom the handler then
// limits to their place (routes.h, "Operators scoped to a place"). A route without it refuses
// them: whatever is not limited is the pavilion's alone.
using Roles = unsigned;
constexpr Roles kPublic = 0, kOperator = 1, kSeller = 2, kShopper = 4, kScoped = 8;

struct Route {
  std::string method;
  std::string pattern;
  Roles roles;
  std::vector<std::string_view> query;  // The query parameters it takes; any other gets 422,
  Handler handler;
  // unless the route ignores what it does not take: the pages and images a QR code or a shared
  // link opens, where messaging apps append their own (`?from=singlemessage`).
  bool ignores_unknown_query = false;
  // What it reads as its body (it sets the body limit, and the media types refused with 415 from
  // the head); unset: nothing for GET, JSON otherwise.
  std::optional<BodyKind> reads = std::nullopt;
  // A 200 carries a strong ETag (a hash of the body) and If-None-Match gets 304: the reads a
  // phone or a cache asks for again and again (products, images, trace).
  bool etag = false;
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
    // Scoped operators: on every route for sellers (acting for those in their place) and for
    // anyone, none acting for a shopper (shoppers lie in no place).
    const Roles kOperators = kOperator | kScoped;
    const Roles kSellers = kOperators | kSeller, kShoppers = kOperator | kShopper;
    const Roles kAnyone = kOperators | kSeller | kShopper;
    const Route rows[] = {
        {"GET", "/healthz", kPublic, {}, &Health},
        {"GET", "/metrics", kPublic, {}, &GetMetrics},
        {"GET", "/v1/openapi.json", kPublic, {}, &OpenApi},
        {"POST", "/v1/sellers", kOperators, {}, &CreateSeller},
        {"GET", "/v1/sellers/{id}", kPublic, {}, &GetSeller},
        {"GET",
         "/v1/sellers",
         kOperators,
         {"place_code", "supplier_type", "q", "from", "to", "after", "limit"},
         &ListSellers},
        {"GET", "/v1/places", kPublic, {"parent", "q", "after", "limit"}, &ListPlaces},
        {"GET", "/v1/places/{code}", kPublic, {}, &GetPlace},
        {"POST", "/v1/shoppers", kPublic, {}, &CreateShopper},
        {"GET", "/v1/categories", kPublic, {}, &ListCategories},
        {"PUT", "/v1/categories/{code}", kOperator, {}, &PutCategory},
        {"POST", "/v1/products", kSellers, {}, &CreateProduct},
        {"GET",
         "/v1/products",
         kPublic,
         {"q", "place_code", "seller_id", "in_stock", "brand", "category", "certification",
          "poverty_zone", "min_price_fen", "max_price_fen", "sort", "limit", "cursor"},
         &ListProducts},
        {"GET", "/v1/products/{id}", kPublic, {}, &GetProduct, false, {}, true},
        {"PUT", "/v1/products/{id}", kSellers, {}, &UpdateProduct},
        {"POST", "/v1/images", kSellers, {}, &UploadImage, false, BodyKind::kImage},
        {"POST", "/v1/distributions", kSellers, {}, &Distribute},
        {"GET", "/v1/images/{ref}", kPublic, {}, &GetImage, true, {}, true},
        {"POST", "/v1/products/{id}/batches", kSellers, {}, &RegisterBatch},
        {"POST", "/v1/packs", kSellers, {"seller_id"}, &ImportPack, false, BodyKind::kPack},
        {"GET", "/v1/packs", kSellers, {"seller_id", "format"}, &ExportPack},
        {"GET", "/v1/trace/{code}", kPublic, {}, &GetTrace, false, {}, true},
        {"GET", "/v1/trace/{code}/qr.svg", kPublic, {}, &TraceQrSvg, true, {}, true},
        {"GET", "/v1/trace/{code}/qr.png", kPublic, {}, &TraceQrPng, true, {}, true},
        {"GET", "/trace/{code}", kPublic, {}, &TracePage, true, {}, true},
        {"POST", "/v1/orders", kShoppers, {}, &CreateOrder},
        {"GET",
         "/v1/orders",
         kAnyone,
         {"shopper_id", "seller_id", "status", "place_code", "from", "to", "limit", "cursor"},
         &ListOrders},
        {"GET", "/v1/orders/{id}", kAnyone, {}, &GetOrder},
        {"POST", "/v1/orders/{id}/pay", kShoppers, {}, &PayOrder, false, BodyKind::kNone},
        {"POST", "/v1/orders/{id}/cancel", kShoppers, {}, &CancelOrder, false, BodyKind::kNone},
        {"POST", "/v1/orders/{id}/ship", kSellers, {}, &ShipOrder},
        {"POST", "/v1/orders/{id}/deliver", kSellers, {}, &DeliverOrder},
        {"POST", "/v1/orders/{id}/confirm", kShoppers, {}, &ConfirmOrder},
        {"POST", "/v1/orders/{id}/refunds", kShoppers, {}, &RequestRefund},
        {"POST", "/v1/refunds/{id}/approve", kSellers, {}, &ApproveRefund},
        {"POST", "/v1/refunds/{id}/reject", kSellers, {}, &RejectRefund},
        {"POST", "/v1/refunds/{id}/retry", kSellers, {}, &RetryRefund, false, BodyKind::kNone},
        {"POST", "/v1/payments/notify", kPublic, {}, &PaymentNotify},
        {"POST", "/v1/payments/refund-notify", kPublic, {}, &RefundNotify},
        {"GET",
         "/v1/stats/sales",
         kOperators,
         {"group_by", "from",       "to",        "by_day",        "period",
          "level",    "within",     "seller_id", "supplier_type", "brand",
          "category", "product_id", "channel",   "agricultural",  "poverty",
          "rural",    "brands",     "as_of",     "compare",       "top"},
         &SalesStats},
        {"POST", "/v1/targets", kOperators, {}, &DefineTarget},
        {"GET", "/v1/targets", kOperators, {"after", "limit", "retired"}, &ListTargets},
        {"GET", "/v1/targets/{id}", kOperators, {"as_of"}, &GetTarget},
        {"DELETE", "/v1/targets/{id}", kOperators, {}, &RetireTarget, false, BodyKind::kNone},
        {"POST", "/v1/award-rules", kOperators, {}, &DefineAwardRule},
        {"GET", "/v1/award-rules", kOperators, {"after", "limit", "retired"}, &ListAwardRules},
        {"GET", "/v1/award-rules/{id}", kOperators, {}, &GetAwardRule},
        {"DELETE",
         "/v1/award-rules/{id}",
         kOperators,
         {},
         &RetireAwardRule,
         false,
         BodyKind::kNone},
        {"GET", "/v1/award-rules/{id}/results", kOperators, {"as_of"}, &GetAwardResults},
        {"GET", "/v1/orders/{id}/settlement", kAnyone, {}, &GetOrderSettlement},
        {"GET", "/v1/accounts/{party_id}", kAnyone, {}, &GetAccount},
        {"GET",
         "/v1/accounts/{party_id}/entries",
         kAnyone,
         {"cursor", "limit", "from", "to"},
         &GetAccountEntries},
        {"GET", "/v1/ledger/audit", kOperator, {}, &GetLedgerAudit},
        {"GET", "/v1/fee-rules", kOperator, {}, &GetFeeRules},
        {"PUT", "/v1/fee-rules", kOperator, {}, &PutFeeRules},
        {"POST", "/v1/payouts/run", kOperator, {}, &RunPayouts, false, BodyKind::kNone},
        {"GET", "/v1/payouts", kSellers, {"party_id", "limit"}, &ListPayouts},
        {"POST", "/v1/payouts/{id}/confirm", kOperator, {}, &ConfirmPayout, false, BodyKind::kNone},
        {"POST", "/v1/payouts/{id}/return", kOperator, {}, &ReturnPayout},
        {"GET", "/v1/statements/{party_id}", kSellers, {"from", "to", "format"}, &GetStatement},
        {"GET",
         "/v1/poverty-ledger",
         kOperators,
         {"from", "to", "place_code", "by_month", "format"},
         &GetPovertyLedger},
        {"GET",
         "/v1/reports/sales",
         kOperators,
         {"place_code", "period", "format", "as_of", "top"},
         &GetSalesReport},
        {"POST", "/v1/tokens/rotate", kAnyone, {}, &RotateToken},
        {"POST", "/v1/tokens/revoke", kAnyone, {}, &RevokeToken},
        {"POST", "/v1/operator-tokens", kOperators, {}, &IssueOperatorToken},
        {"GET", "/v1/operator-tokens", kOperators, {}, &ListOperatorTokens},
    };
    std::vector<TableRoute> t;
    for (const auto& r : rows) {
      t.push_back({r, Split(r.pattern)});
      if (!r.reads) t.back().reads = r.method == "GET" ? BodyKind::kNone : BodyKind::kJson;
    }
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

Roles RoleOf(const Principal& who) {
  switch (who.role) {
    case Role::kOperator:
      return who.Scoped() ? kScoped : kOperator;
    case Role::kSeller:
      return kSeller;
    case Role::kShopper:
      return kShopper;
  }
  return kPublic;
}

// The caller, admitted for one of `roles`; or the error to answer.
std::optional<Principal> Authenticate(Context& cx, const HttpRequest& req, Roles roles,
                                      std::optional<HttpResponse>* error) {
  std::string_view auth = req.authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.substr(0, kBearer.size()) != kBearer) {
    *error = ErrorResponse(kUnauthorized, "send Authorization: Bearer <token>");
    return std::nullopt;
  }
  auto who = cx.identity.Authenticate(auth.substr(kBearer.size()));
  if (!who) {
    *error = ErrorResponse(kUnauthorized,
                           "the bearer token is not valid: unknown, revoked or expired (shopper "
                           "tokens expire; rotate one in time with POST /v1/tokens/rotate)");
    return std::nullopt;
  }
  if (who->Scoped() && (roles & kOperator) && !(roles & kScoped)) {
    *error = OutsideScope(cx, *who,
                          "this route needs the pavilion's operator (a token not scoped to a "
                          "place)");
    return std::nullopt;
  }
  if ((RoleOf(*who) & roles) == 0) {
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

std::string StrongETag(std::string_view body) {
  const auto* bytes = reinterpret_cast<const Bytef*>(body.data());
  const auto size = static_cast<uInt>(body.size());
  char tag[48];
  std::snprintf(tag, sizeof tag, "\"%zx-%08lx%08lx\"", body.size(), crc32(0, bytes, size),
                adler32(1, bytes, size));
  return tag;
}

// If-None-Match: "*" or a list of entity tags; weak ones (W/"…") compare by their tag alone, as
// RFC 9110 §13.1.2 says for this header. The server sends a gzip body's tag as `tag` with "-gz"
// before its closing quote (server.cc), so a client that took the compressed answer matches by
// that form, when `gzip_form` (the answer to this request would be compressed). Returns the form
// matched, empty for none.
std::string_view ETagMatch(std::string_view header, std::string_view tag, bool gzip_form) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view one = header.substr(0, comma);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    if (one.substr(0, 2) == "W/") one.remove_prefix(2);
    if (one == "*" || one == tag) return tag;
    const std::string_view stem = tag.substr(0, tag.size() - 1);  // Without the closing quote.
    if (gzip_form && one.size() == tag.size() + 3 && one.substr(0, stem.size()) == stem &&
        one.substr(stem.size()) == "-gz\"") {
      return one;
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return {};
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

std::string Context::PlaceName(std::string_view code) const {
  return s.places != nullptr && !code.empty() ? s.places->FullName(code) : "";
}

class Router::Impl {
 public:
  Impl(Services s, Identity& identity, Timers& timers, RouterOptions options)
      : cx_(s, identity, timers, std::move(options), RouteNames()) {
    for (const auto& o : cx_.options.cors_origins) any_origin_ = any_origin_ || o == "*";
  }

  void Handle(HttpRequest req, Respond respond) {
    const int64_t start = cx_.s.store.clock().MonotonicMicros();
    std::string_view target = req.target;
    const auto& table = Table();
    auto [path, segments, params, path_matched, index] = Look(req);
    const std::string* origin = AllowedOrigin(req.origin);
    const bool etag = index < table.size() && table[index].etag;
    Respond observed = [this, index, start, origin, etag,
                        if_none_match = etag ? std::move(req.if_none_match) : std::string(),
                        gzip = req.accepts_gzip, respond = std::move(respond)](HttpResponse r) {
      if (etag && r.status == 200) Tag(r, if_none_match, gzip);
      Decorate(r, origin);
      cx_.metrics.Observe(index, r.status, cx_.s.store.clock().MonotonicMicros() - start);
      respond(std::move(r));
    };
    if (index == table.size()) {
      if (path_matched && req.method == "OPTIONS") return observed(Options(segments, origin));
      return observed(NoRoute(req.method, path, segments, path_matched));
    }
    const Route& route = table[index];
    std::optional<Principal> who;
    if (route.roles != kPublic) {
      std::optional<HttpResponse> error;  // Built only on failure: no allocation otherwise.
      who = Authenticate(cx_, req, route.roles, &error);
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

  HeadCheck CheckHead(const HttpRequest& req, bool has_body) {
    HeadCheck out;
    std::string_view target = req.target;
    const auto& table = Table();
    const auto [path, segments, params, path_matched, index] = Look(req);
    if (index == table.size()) {
      if (path_matched && req.method == "OPTIONS") return out;  // Handle answers it.
      out.refusal = NoRoute(req.method, path, segments, path_matched);
    } else {
      const Route& route = table[index];
      out.body = *route.reads;
      if (route.roles != kPublic) Authenticate(cx_, req, route.roles, &out.refusal);
      const Query query = Query::Of(target);
      const std::string* unknown =
          route.ignores_unknown_query ? nullptr : query.FirstUnknown(route.query);
      if (!out.refusal && unknown != nullptr) {
        out.refusal = ErrorResponse(kUnknownParameter, UnknownParameter(route, *unknown));
      }
      if (!out.refusal && has_body) out.refusal = CheckMediaType(out.body, req.content_type);
    }
    if (out.refusal) {
      Decorate(*out.refusal, AllowedOrigin(req.origin));
      cx_.metrics.Observe(index, out.refusal->status, 0);
    }
    return out;
  }

  Context cx_;

 private:
  // Where a request's target leads: its path, split; the route serving it (Table().size() when
  // none) with its path parameters; whether any route has the path (405 rather than 404).
  struct Lookup {
    std::string_view path;
    std::vector<std::string> segments;
    std::vector<std::string> params;
    bool path_matched = false;
    size_t index = 0;
  };
  static Lookup Look(const HttpRequest& req) {
    Lookup at;
    at.path = std::string_view(req.target).substr(0, req.target.find('?'));
    if (at.path == "*") {  // RFC 9110 §9.3.7: OPTIONS about the server, not a resource.
      at.segments = {"*"};
      at.path_matched = req.method == "OPTIONS";
      at.index = Table().size();
      return at;
    }
    at.segments = Split(at.path);
    at.index = Find(req.method, at.segments, &at.params, &at.path_matched);
    return at;
  }

  // The route serving `method` (HEAD is served by GET's) on `segments`, with its path
  // parameters in *params; Table().size() when none, *path_matched telling 405 from 404.
  static size_t Find(std::string_view method, const std::vector<std::string>& segments,
                     std::vector<std::string>* params, bool* path_matched) {
    if (method == "HEAD") method = "GET";
    const auto& table = Table();
    for (size_t i = 0; i < table.size(); ++i) {
      params->clear();
      if (!Match(table[i].segments, segments, params)) continue;
      *path_matched = true;
      if (table[i].method == method) return i;
    }
    return table.size();
  }

  // "GET, HEAD, PUT, OPTIONS": what the routes of a path serve, for Allow; for "*" (OPTIONS *),
  // what any route serves.
  static std::string AllowedMethods(const std::vector<std::string>& segments) {
    const bool server = segments.size() == 1 && segments[0] == "*";
    std::string allow;
    std::vector<std::string> params;
    for (const auto& route : Table()) {
      params.clear();
      if (!server && !Match(route.segments, segments, &params)) continue;
      const std::string one = route.method + (route.method == "GET" ? ", HEAD, " : ", ");
      if (server && allow.find(route.method + ",") != std::string::npos) continue;
      allow += one;
    }
    return allow + "OPTIONS";
  }

  static HttpResponse NoRoute(const std::string& method, std::string_view path,
                              const std::vector<std::string>& segments, bool path_matched) {
    if (!path_matched) return ErrorResponse(kNotFound, "no route for " + std::string(path));
    std::string allow = AllowedMethods(segments);
    HttpResponse r =
        ErrorResponse(kMethodNotAllowed, method + " is not served on this path; use " + allow);
    r.headers.emplace_back("Allow", std::move(allow));
    return r;
  }

  // OPTIONS on a path: its methods, and for an allowed origin the CORS preflight's answer.
  HttpResponse Options(const std::vector<std::string>& segments, const std::string* origin) {
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    std::string allow = AllowedMethods(segments);
    if (origin != nullptr) {
      r.headers.emplace_back("Access-Control-Allow-Methods", allow);
      r.headers.emplace_back("Access-Control-Allow-Headers",
                             "Authorization, Content-Type, Idempotency-Key, X-Pavilion-Signature");
      r.headers.emplace_back("Access-Control-Max-Age", "600");
    }
    r.headers.emplace_back("Allow", std::move(allow));
    return r;
  }

  // The Origin to echo in Access-Control-Allow-Origin ("*" when any may call), or null when the
  // request's origin is not one allowed.
  const std::string* AllowedOrigin(const std::string& origin) const {
    static const std::string kAny = "*";
    if (origin.empty()) return nullptr;
    if (any_origin_) return &kAny;
    for (const auto& o : cx_.options.cors_origins) {
      if (o == origin) return &o;
    }
    return nullptr;
  }

  void Decorate(HttpResponse& r, const std::string* origin) const {
    if (cx_.options.cors_origins.empty()) return;
    // The answer depends on Origin (unless any may call): caches must keep one per origin.
    if (!any_origin_) r.headers.emplace_back("Vary", "Origin");
    if (origin == nullptr) return;
    r.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    r.headers.emplace_back("Access-Control-Expose-Headers", "ETag, Retry-After");
  }

  // A strong ETag from the body's length and two checksums (fast enough for megabyte images);
  // a request already holding it gets 304 and no body. The gzip form of the tag matches only
  // when this answer would be compressed for this request: a client that no longer accepts
  // gzip gets the plain body, not a 304 for one it cannot read.
  static void Tag(HttpResponse& r, const std::string& if_none_match, bool accepts_gzip) {
    // A route whose content has a name (an image's ref, the hash of its bytes) gives the tag
    // itself: hashing megabytes per request is what it saves.
    auto given = std::find_if(r.headers.begin(), r.headers.end(),
                              [](const auto& h) { return h.first == "ETag"; });
    std::string tag = given != r.headers.end() ? given->second : StrongETag(r.Body());
    const bool varies = VariesByEncoding(r.Body().size(), r.content_type);
    // A 304 names the representation the client holds: the gzip one's tag when it matched that.
    const std::string_view held = ETagMatch(if_none_match, tag, varies && accepts_gzip);
    const bool matched = !held.empty();
    if (matched) {
      r.status = 304;
      r.body.clear();
      if (held.data() != tag.data()) tag = std::string(held);
    }
    if (given != r.headers.end()) {
      given->second = std::move(tag);
    } else {
      r.headers.emplace_back("ETag", std::move(tag));
    }
    // RFC 9110 §15.4.5: a 304 carries the Vary its 200 would (the server adds it to bodies only).
    // After the ETag: adding a header may move the others.
    if (matched && varies) r.headers.emplace_back("Vary", "Accept-Encoding");
  }

  static std::optional<HttpResponse> CheckMediaType(BodyKind kind, std::string_view type) {
    switch (kind) {
      case BodyKind::kNone:
        return std::nullopt;
      case BodyKind::kJson:
        if (MediaTypeIs(type, "application/json")) return std::nullopt;
        return ErrorResponse(kUnsupportedMediaType,
                             "send the body as JSON with Content-Type: application/json");
      case BodyKind::kImage:
        if (MediaTypeIs(type, "image/")) return std::nullopt;
        return ErrorResponse(
            kUnsupportedMediaType,
            "send the image itself with Content-Type: image/jpeg (png, gif, webp)");
      case BodyKind::kPack:
        if (!PackMediaType(type).empty()) return std::nullopt;
        return ErrorResponse(kUnsupportedMediaType,
                             "send a pack as application/zip (native or 淘宝助理), "
                             "application/x-ndjson or text/csv");
    }
    return std::nullopt;
  }

  bool any_origin_ = false;
};

Router::Router(Services services, Identity& identity, Timers& timers, RouterOptions options)
    : impl_(std::make_unique<Impl>(services, identity, timers, std::move(options))) {}

Router::~Router() = default;

void Router::Handle(HttpRequest request, Respond respond) {
  impl_->Handle(std::move(request), std::move(respond));
}

HeadCheck Router::CheckHead(const HttpRequest& head, bool has_body) {
  return impl_->CheckHead(head, has_body);
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
