#include "pavilion/gateway/router.h"

#include <simdjson.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <map>
#include <optional>

#include "pavilion/catalog/pack.h"
#include "pavilion/catalog/pack_file.h"
#include "pavilion/base/json_writer.h"
#include "qr.h"
#include "signature.h"

namespace pavilion::gateway {
namespace {

namespace od = simdjson::ondemand;
using base::JsonWriter;
using events::svc_errc;

constexpr size_t kMaxIdempotencyKey = 128;

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse Error(int status, std::string_view code, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Field("code", code).Field("message", message);
  w.EndObject().EndObject();
  return Json(status, w.Take());
}

HttpResponse FromServiceError(const pavilion::Error& e) {
  if (e.code.category() == events::svc_category()) {
    switch (static_cast<svc_errc>(e.code.value())) {
      case svc_errc::invalid_argument: return Error(422, "invalid_field", e.message);
      case svc_errc::not_found: return Error(404, "not_found", e.message);
      case svc_errc::forbidden: return Error(403, "forbidden", e.message);
      case svc_errc::conflict: return Error(409, "conflict", e.message);
      case svc_errc::timed_out: return Error(504, "timed_out", e.message);
      default: break;
    }
  }
  return Error(500, "internal", e.message);
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    auto eq = part.find('=');
    out[PercentDecode(part.substr(0, eq))] =
        eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

// The query parameters of a request's target.
std::map<std::string, std::string> QueryOf(const HttpRequest& req) {
  auto q = req.target.find('?');
  return q == std::string::npos ? std::map<std::string, std::string>{}
                                : ParseQuery(std::string_view(req.target).substr(q + 1));
}

// Reads a JSON body field by field and remembers the first problem as an HTTP error.
class Body {
 public:
  using FieldFn = std::function<bool(std::string_view key, od::value& v)>;

  // Parses `body` as one JSON object, calling `fn` per field. False if anything failed.
  bool Object(const HttpRequest& req, const FieldFn& fn) {
    std::string_view ct = req.content_type;
    if (ct.substr(0, ct.find(';')) != "application/json") {
      return Fail(415, "unsupported_media_type",
                  "send the body as JSON with Content-Type: application/json");
    }
    thread_local od::parser parser;
    padded_ = simdjson::padded_string(req.body);
    od::document doc;
    if (auto err = parser.iterate(padded_).get(doc)) return Malformed(err);
    od::object obj;
    if (auto err = doc.get_object().get(obj)) return Malformed(err, "the body must be a JSON object");
    if (!Fields(obj, "", fn)) return false;
    const char* rest = nullptr;
    if (doc.current_location().get(rest) == simdjson::SUCCESS) {
      return Fail(400, "malformed_json", "unexpected content after the JSON object");
    }
    return true;
  }

  bool Fields(od::object& obj, std::string_view where, const FieldFn& fn) {
    for (auto field : obj) {
      std::string_view key;
      if (auto err = field.unescaped_key().get(key)) return Malformed(err);
      od::value v;
      if (auto err = field.value().get(v)) return Malformed(err);
      path_ = std::string(where) + std::string(key);
      if (!fn(key, v)) return false;
    }
    return true;
  }

  bool Array(od::value& v, const std::function<bool(size_t, od::value&)>& fn) {
    od::array arr;
    if (auto err = v.get_array().get(arr)) return Type(err, "an array");
    size_t i = 0;
    for (auto el : arr) {
      od::value item;
      if (auto err = el.get(item)) return Malformed(err);
      if (!fn(i++, item)) return false;
    }
    return true;
  }

  bool NestedObject(od::value& v, std::string where, const FieldFn& fn) {
    od::object obj;
    if (auto err = v.get_object().get(obj)) return Type(err, "an object");
    return Fields(obj, where, fn);
  }

  bool String(od::value& v, std::string& out, size_t max = 1000) {
    std::string_view s;
    if (auto err = v.get_string().get(s)) return Type(err, "a string");
    if (s.size() > max) {
      return Fail(422, "invalid_field",
                  path_ + ": too long; use at most " + std::to_string(max) + " bytes");
    }
    out.assign(s);
    return true;
  }

  bool Int(od::value& v, int64_t& out) {
    if (auto err = v.get_int64().get(out)) return Type(err, "an integer");
    return true;
  }

  bool Fail(int status, std::string code, std::string message) {
    if (!error_) error_ = Error(status, code, message);
    return false;
  }
  bool Missing(std::string_view field) {
    return Fail(422, "invalid_field", std::string(field) + ": required");
  }
  HttpResponse TakeError() { return std::move(*error_); }

 private:
  bool Type(simdjson::error_code err, std::string_view expected) {
    if (err == simdjson::INCORRECT_TYPE || err == simdjson::NUMBER_OUT_OF_RANGE ||
        err == simdjson::NUMBER_ERROR) {
      return Fail(422, "invalid_field", path_ + ": expected " + std::string(expected));
    }
    return Malformed(err);
  }
  bool Malformed(simdjson::error_code err, std::string_view what = {}) {
    if (err == simdjson::INCORRECT_TYPE && !what.empty()) {
      return Fail(400, "malformed_json", std::string(what));
    }
    return Fail(400, "malformed_json",
                std::string("the body is not valid JSON: ") + simdjson::error_message(err));
  }

  simdjson::padded_string padded_;
  std::string path_;
  std::optional<HttpResponse> error_;
};

void WriteSku(JsonWriter& w, const catalog::Sku& s) {
  w.BeginObject();
  w.Field("id", s.id).Field("spec", s.spec).Field("price_fen", s.price.value());
  w.Field("stock", s.stock).Field("reserved", s.reserved).Field("sold", s.sold);
  if (!s.source_sku_id.empty()) w.Field("source_sku_id", s.source_sku_id);
  w.EndObject();
}

bool IsUrlRef(std::string_view image) { return image.find("://") != std::string_view::npos; }

// `today` (YYYY-MM-DD, UTC+8) decides which certificates are still claims.
std::string ProductJson(const catalog::Product& p, const std::string& today) {
  JsonWriter w;
  w.BeginObject();
  w.Field("id", p.id).Field("seller_id", p.seller_id).Field("title", p.title);
  w.Field("place_code", p.place_code).Field("created_micros", p.created_micros);
  w.Field("brand", p.brand).Field("category", p.category);
  w.Field("poverty_zone", p.poverty_zone).Field("floor_price_fen", p.floor_price.value());
  w.Key("claims").BeginArray();
  for (const auto& c : p.certifications) {
    if (catalog::CertificationValid(c, today)) w.String(c.type);
  }
  w.EndArray().Key("certifications").BeginArray();
  for (const auto& c : p.certifications) {
    w.BeginObject().Field("type", c.type).Field("number", c.number).Field("issuer", c.issuer);
    w.Field("valid_from", c.valid_from).Field("valid_to", c.valid_to);
    w.Field("valid", catalog::CertificationValid(c, today)).EndObject();
  }
  w.EndArray();
  const auto& d = p.details;
  w.Field("subtitle", d.subtitle).Field("description", d.description);
  w.Key("images").BeginArray();
  for (const auto& image : d.images) w.String(IsUrlRef(image) ? image : "/v1/images/" + image);
  w.EndArray().Key("params").BeginArray();
  for (const auto& param : d.params) {
    w.BeginObject().Field("name", param.name).Field("value", param.value).EndObject();
  }
  w.EndArray();
  w.Field("weight_grams", d.weight_grams).Field("barcode", d.barcode);
  if (p.level > 0) {
    w.Key("listing").BeginObject().Field("source_product_id", p.source_product_id);
    w.Field("level", p.level).Field("markup_percent", p.markup_percent);
    w.Field("markup_fen", p.markup_fen).EndObject();
  }
  w.Key("skus").BeginArray();
  for (const auto& s : p.skus) WriteSku(w, s);
  w.EndArray().EndObject();
  return w.Take();
}

std::string SellerJson(const catalog::Seller& s, const std::string* token) {
  JsonWriter w;
  w.BeginObject();
  w.Field("id", s.id).Field("name", s.name).Field("place_code", s.place_code);
  w.Field("supplier_type", s.supplier_type).Field("created_micros", s.created_micros);
  if (token) w.Field("token", *token);
  w.EndObject();
  return w.Take();
}

void WriteOrder(JsonWriter& w, const order::Order& o) {
  w.BeginObject();
  w.Field("id", o.id).Field("shopper_id", o.shopper_id).Field("status", o.status);
  if (!o.cancel_reason.empty()) w.Field("cancel_reason", o.cancel_reason);
  w.Field("total_fen", o.total.value());
  w.Field("created_micros", o.created_micros).Field("updated_micros", o.updated_micros);
  if (o.pay_deadline_micros) w.Field("pay_deadline_micros", o.pay_deadline_micros);
  w.Key("lines").BeginArray();
  for (const auto& l : o.lines) {
    w.BeginObject();
    w.Field("sku_id", l.sku_id).Field("quantity", l.quantity).Field("status", l.status);
    if (l.status == "reserved") {
      w.Field("product_id", l.product_id).Field("seller_id", l.seller_id);
      w.Field("place_code", l.place_code);
      w.Field("unit_price_fen", l.unit_price.value()).Field("amount_fen", l.amount.value());
    }
    if (!l.reason.empty()) w.Field("reason", l.reason);
    if (const auto& d = l.distribution; !d.listing_seller_id.empty()) {
      w.Key("distribution").BeginObject().Field("listing_seller_id", d.listing_seller_id);
      w.Field("supply_unit_price_fen", d.supply_price.value()).Key("commissions").BeginArray();
      for (const auto& c : d.commissions) {
        w.BeginObject().Field("seller_id", c.seller_id).Field("unit_fen", c.unit.value()).EndObject();
      }
      w.EndArray().EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("sub_orders").BeginArray();
  for (const auto& s : o.sub_orders) {
    w.BeginObject().Field("id", s.id).Field("seller_id", s.seller_id).Field("status", s.status);
    w.Field("total_fen", s.total.value()).Field("refunded_fen", s.refunded.value());
    w.Key("lines").BeginArray();
    for (uint32_t i : s.lines) w.Int(i);
    w.EndArray();
    if (!s.carrier.empty()) w.Field("carrier", s.carrier).Field("tracking_no", s.tracking_no);
    if (s.shipped_micros) w.Field("shipped_micros", s.shipped_micros);
    if (s.delivered_micros) w.Field("delivered_micros", s.delivered_micros);
    if (s.completed_micros) w.Field("completed_micros", s.completed_micros);
    w.EndObject();
  }
  w.EndArray();
  w.Key("payments").BeginArray();
  for (const auto& p : o.payments) {
    w.BeginObject().Field("provider", p.provider).Field("txn_id", p.txn_id);
    w.Field("amount_fen", p.amount.value()).Field("outcome", p.outcome);
    w.Field("micros", p.micros).EndObject();
  }
  w.EndArray();
  w.Key("refunds").BeginArray();
  for (const auto& r : o.refunds) {
    w.BeginObject().Field("id", r.id).Field("sub_order_id", r.sub_id).Field("status", r.status);
    w.Field("amount_fen", r.amount.value()).Field("with_return", r.with_return);
    if (!r.reason.empty()) w.Field("reason", r.reason);
    if (!r.reject_reason.empty()) w.Field("reject_reason", r.reject_reason);
    w.Key("items").BeginArray();
    for (const auto& it : r.items) {
      w.BeginObject().Field("sku_id", it.sku_id).Field("quantity", it.quantity).EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
  w.EndObject();
}

std::string OrderJson(const order::Order& o) {
  JsonWriter w(1024);
  WriteOrder(w, o);
  return w.Take();
}

// An order answered by the order service, on its thread: the JSON is rendered by whoever writes
// the response (the connection's thread), so the thread every order goes through only moves it.
HttpResponse OrderResponse(int status, order::Order o) {
  HttpResponse r;
  r.status = status;
  r.render = [o = std::move(o)] { return OrderJson(o); };
  return r;
}

void WriteTraceRecord(JsonWriter& w, const events::schema::TraceRecord& r) {
  w.BeginObject().Field("production_base", r.production_base);
  w.Key("farming").BeginArray();
  for (const auto& step : r.farming) {
    w.BeginObject().Field("date", step.date).Field("operation", step.operation).EndObject();
  }
  w.EndArray();
  w.Field("soil_water_inspection", r.soil_water_inspection);
  w.Field("harvest_date", r.harvest_date).Field("packing_date", r.packing_date);
  w.Field("inspection_report", r.inspection_report).EndObject();
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace

class Router::Impl {
 public:
  using Params = std::vector<std::string>;
  using Handler = void (Impl::*)(const HttpRequest&, const Params&, Respond);

  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };

  Impl(Services s, Identity& identity, Timers& timers, RouterOptions options)
      : s_(s),
        identity_(identity),
        timers_(timers),
        options_(options),
        metrics_(Names()),
        order_waits_(std::make_shared<OrderWaits>(timers, options.order_wait_ms)) {}

  static const std::vector<Route>& Table() {
    static const std::vector<Route> table = [] {
      std::vector<Route> t = {
          {"GET", "/healthz", {}, &Impl::Health},
          {"GET", "/metrics", {}, &Impl::GetMetrics},
          {"GET", "/v1/openapi.json", {}, &Impl::OpenApi},
          {"POST", "/v1/sellers", {}, &Impl::CreateSeller},
          {"GET", "/v1/sellers/{id}", {}, &Impl::GetSeller},
          {"POST", "/v1/shoppers", {}, &Impl::CreateShopper},
          {"POST", "/v1/products", {}, &Impl::CreateProduct},
          {"GET", "/v1/products", {}, &Impl::ListProducts},
          {"GET", "/v1/products/{id}", {}, &Impl::GetProduct},
          {"PUT", "/v1/products/{id}", {}, &Impl::UpdateProduct},
          {"POST", "/v1/images", {}, &Impl::UploadImage},
          {"POST", "/v1/distributions", {}, &Impl::Distribute},
          {"GET", "/v1/images/{ref}", {}, &Impl::GetImage},
          {"POST", "/v1/products/{id}/batches", {}, &Impl::RegisterBatch},
          {"POST", "/v1/packs", {}, &Impl::ImportPack},
          {"GET", "/v1/packs", {}, &Impl::ExportPack},
          {"GET", "/v1/trace/{code}", {}, &Impl::GetTrace},
          {"GET", "/v1/trace/{code}/qr.svg", {}, &Impl::TraceQrSvg},
          {"GET", "/v1/trace/{code}/qr.png", {}, &Impl::TraceQrPng},
          {"GET", "/trace/{code}", {}, &Impl::TracePage},
          {"POST", "/v1/orders", {}, &Impl::CreateOrder},
          {"GET", "/v1/orders", {}, &Impl::ListOrders},
          {"GET", "/v1/orders/{id}", {}, &Impl::GetOrder},
          {"POST", "/v1/orders/{id}/pay", {}, &Impl::PayOrder},
          {"POST", "/v1/orders/{id}/cancel", {}, &Impl::CancelOrder},
          {"POST", "/v1/orders/{id}/ship", {}, &Impl::ShipOrder},
          {"POST", "/v1/orders/{id}/deliver", {}, &Impl::DeliverOrder},
          {"POST", "/v1/orders/{id}/confirm", {}, &Impl::ConfirmOrder},
          {"POST", "/v1/orders/{id}/refunds", {}, &Impl::RequestRefund},
          {"POST", "/v1/refunds/{id}/approve", {}, &Impl::ApproveRefund},
          {"POST", "/v1/refunds/{id}/reject", {}, &Impl::RejectRefund},
          {"POST", "/v1/payments/notify", {}, &Impl::PaymentNotify},
          {"GET", "/v1/stats/sales", {}, &Impl::SalesStats},
      };
      for (auto& r : t) r.segments = Split(r.pattern);
      return t;
    }();
    return table;
  }

  static std::vector<std::string> Names() {
    std::vector<std::string> names;
    for (const auto& r : Table()) names.push_back(r.method + " " + r.pattern);
    names.push_back("unmatched");
    return names;
  }

  void Handle(HttpRequest req, Respond respond) {
    const int64_t start = s_.store.clock().MonotonicMicros();
    std::string_view target = req.target;
    std::string_view path = target.substr(0, target.find('?'));
    std::vector<std::string> segments = Split(path);
    size_t index = Table().size();
    bool path_matched = false;
    Params params;
    for (size_t i = 0; i < Table().size(); ++i) {
      params.clear();
      if (!Match(Table()[i].segments, segments, &params)) continue;
      path_matched = true;
      if (Table()[i].method == req.method) {
        index = i;
        break;
      }
    }
    Respond observed = [this, index, start, respond = std::move(respond)](HttpResponse r) {
      metrics_.Observe(index, r.status, s_.store.clock().MonotonicMicros() - start);
      respond(std::move(r));
    };
    if (index == Table().size()) {
      if (path_matched) {
        return observed(Error(405, "method_not_allowed", req.method + " is not served on this path"));
      }
      return observed(Error(404, "not_found", "no route for " + std::string(path)));
    }
    (this->*Table()[index].handler)(req, params, std::move(observed));
  }

  void SetMetricsHook(std::function<void(std::string&)> hook) { metrics_hook_ = std::move(hook); }
  void SetPublicUrl(std::string url) { options_.public_url = std::move(url); }

 private:
  static std::vector<std::string> Split(std::string_view path) {
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

  static bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                    Params* params) {
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

  // The caller's identity, or an error response already sent.
  std::optional<Principal> Authenticate(const HttpRequest& req, const Respond& respond) {
    std::string_view auth = req.authorization;
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.substr(0, kBearer.size()) != kBearer) {
      respond(Error(401, "unauthorized", "send Authorization: Bearer <token>"));
      return std::nullopt;
    }
    auto who = identity_.Authenticate(auth.substr(kBearer.size()));
    if (!who) respond(Error(401, "unauthorized", "the bearer token is not valid"));
    return who;
  }

  std::optional<Principal> Require(const HttpRequest& req, const Respond& respond,
                                   std::initializer_list<std::string_view> roles) {
    auto who = Authenticate(req, respond);
    if (!who) return who;
    for (auto role : roles) {
      if (who->role == role) return who;
    }
    std::string list;
    for (auto role : roles) list += (list.empty() ? "" : " or ") + std::string(role);
    respond(Error(403, "forbidden", "this route needs the " + list + " role"));
    return std::nullopt;
  }

  // Whom a request acts for: a seller or shopper only for itself (the field may be left out),
  // the operator for anyone it names. Returns the error to send, if any.
  static std::optional<HttpResponse> ActFor(const Principal& who, std::string_view role,
                                            std::string_view field, std::string& id) {
    if (who.role == role) {
      if (id.empty()) id = who.subject;
      if (id != who.subject) {
        return Error(403, "forbidden",
                     std::string(field) + ": a " + std::string(role) + " may act only for itself");
      }
    } else if (id.empty()) {
      return Error(422, "invalid_field", std::string(field) + ": required for the operator");
    }
    return std::nullopt;
  }

  void Health(const HttpRequest&, const Params&, Respond respond) {
    respond(Json(200, R"({"status":"ok"})"));
  }

  void GetMetrics(const HttpRequest&, const Params&, Respond respond) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    metrics_.Render(r.body);
    r.body += "# TYPE pavilion_events_appended_total counter\npavilion_events_appended_total " +
              std::to_string(s_.store.events_appended()) + "\n";
    r.body += "# TYPE pavilion_event_batches_total counter\npavilion_event_batches_total " +
              std::to_string(s_.store.batches_written()) + "\n";
    r.body += "# TYPE pavilion_log_head gauge\npavilion_log_head " +
              std::to_string(s_.store.head()) + "\n";
    r.body += "# HELP pavilion_store_sync_seconds Time each sync of the event store (fdatasync "
              "of the RocksDB WAL) took.\n# TYPE pavilion_store_sync_seconds histogram\n";
    s_.store.sync_latency().Render(r.body, "pavilion_store_sync_seconds", "");
    r.body += "# HELP pavilion_store_append_seconds Time from an append to its durable answer "
              "(queue, write, sync).\n# TYPE pavilion_store_append_seconds histogram\n";
    s_.store.append_latency().Render(r.body, "pavilion_store_append_seconds", "");
    // The storage engine's own figures (bytes on disk and in memory per column family, level-0
    // files, compaction debt, write stalls), each name's series under one TYPE line.
    std::map<std::string, std::string> figures;
    for (const auto& f : s_.store.kv().Figures()) {
      const std::string name = "pavilion_store_" + f.name;
      figures[name] += name + (f.family.empty() ? "" : "{family=\"" + f.family + "\"}") + " " +
                       std::to_string(f.value) + "\n";
    }
    for (const auto& [name, series] : figures) {
      r.body += "# TYPE " + name + (name.ends_with("_total") ? " counter\n" : " gauge\n") + series;
    }
    if (metrics_hook_) metrics_hook_(r.body);
    respond(std::move(r));
  }

  void OpenApi(const HttpRequest&, const Params&, Respond respond) {
    respond(Json(200, std::string(Router::OpenApiDocument())));
  }

  void CreateSeller(const HttpRequest& req, const Params&, Respond respond) {
    if (!Require(req, respond, {"operator"})) return;
    catalog::SellerInput in;
    Body body;
    bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
      if (key == "name") return body.String(v, in.name, 200);
      if (key == "place_code") return body.String(v, in.place_code, 12);
      if (key == "supplier_type") return body.String(v, in.supplier_type, 40);
      return true;
    });
    if (!ok) return respond(body.TakeError());
    if (in.supplier_type.empty()) in.supplier_type = "enterprise";
    s_.catalog.RegisterSeller(in, [this, respond](Result<catalog::Seller> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      auto token = identity_.Issue("seller", r->id);
      if (!token.ok()) return respond(Error(500, "internal", "could not store the seller's token"));
      respond(Json(201, SellerJson(*r, &*token)));
    });
  }

  void GetSeller(const HttpRequest&, const Params& p, Respond respond) {
    s_.catalog.GetSeller(p[0], [respond](Result<catalog::Seller> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      respond(Json(200, SellerJson(*r, nullptr)));
    });
  }

  void CreateShopper(const HttpRequest& req, const Params&, Respond respond) {
    std::string name;
    if (!req.body.empty()) {
      Body body;
      bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
        if (key == "name") return body.String(v, name, 200);
        return true;
      });
      if (!ok) return respond(body.TakeError());
    }
    std::string id = events::NewId("shp");
    auto token = identity_.Issue("shopper", id);
    if (!token.ok()) return respond(Error(500, "internal", "could not store the shopper's token"));
    JsonWriter w;
    w.BeginObject().Field("id", id).Field("name", name).Field("token", *token).EndObject();
    respond(Json(201, w.Take()));
  }

  // A product as JSON (POST /v1/products, PUT /v1/products/{id}): the fields of a pack row.
  static bool ReadProduct(const HttpRequest& req, Body& body, catalog::ProductInput& in) {
    return body.Object(req, [&](std::string_view key, od::value& v) {
      if (key == "seller_id") return body.String(v, in.seller_id, 64);
      if (key == "title") return body.String(v, in.title, 300);
      if (key == "brand") return body.String(v, in.brand, 100);
      if (key == "category") return body.String(v, in.category, 40);
      if (key == "place_code") return body.String(v, in.place_code, 12);
      if (key == "floor_price_fen") return body.Int(v, in.floor_price_fen);
      auto& d = in.details;
      if (key == "subtitle") return body.String(v, d.subtitle, 300);
      if (key == "description") return body.String(v, d.description, 100'000);
      if (key == "weight_grams") return body.Int(v, d.weight_grams);
      if (key == "barcode") return body.String(v, d.barcode, 32);
      if (key == "images") {
        return body.Array(v, [&](size_t, od::value& item) {
          return body.String(item, d.images.emplace_back(), 1000);
        });
      }
      if (key == "params") {
        return body.Array(v, [&](size_t i, od::value& item) {
          auto& param = d.params.emplace_back();
          return body.NestedObject(item, "params[" + std::to_string(i) + "].",
                                   [&](std::string_view k, od::value& fv) {
                                     if (k == "name") return body.String(fv, param.name, 60);
                                     if (k == "value") return body.String(fv, param.value, 500);
                                     return true;
                                   });
        });
      }
      if (key == "certifications") {
        return body.Array(v, [&](size_t i, od::value& item) {
          events::schema::Certification c;
          bool fields_ok = body.NestedObject(
              item, "certifications[" + std::to_string(i) + "].",
              [&](std::string_view k, od::value& fv) {
                if (k == "type") return body.String(fv, c.type, 40);
                if (k == "number") return body.String(fv, c.number, 100);
                if (k == "issuer") return body.String(fv, c.issuer, 200);
                if (k == "valid_from") return body.String(fv, c.valid_from, 10);
                if (k == "valid_to") return body.String(fv, c.valid_to, 10);
                return true;
              });
          if (fields_ok) in.certifications.push_back(std::move(c));
          return fields_ok;
        });
      }
      if (key != "skus") return true;
      return body.Array(v, [&](size_t i, od::value& item) {
        if (i >= 200) return body.Fail(422, "invalid_field", "skus: give at most 200 SKUs");
        catalog::SkuInput sku;
        bool has_price = false, has_stock = false;
        std::string where = "skus[" + std::to_string(i) + "].";
        bool fields_ok = body.NestedObject(item, where, [&](std::string_view k, od::value& fv) {
          if (k == "spec") return body.String(fv, sku.spec, 100);
          int64_t n = 0;
          if (k == "price_fen") {
            has_price = true;
            if (!body.Int(fv, n)) return false;
            sku.price = Fen(n);
          } else if (k == "stock") {
            has_stock = true;
            if (!body.Int(fv, n)) return false;
            sku.stock = n;
          }
          return true;
        });
        if (!fields_ok) return false;
        if (!has_price) return body.Missing(where + "price_fen");
        if (!has_stock) return body.Missing(where + "stock");
        in.skus.push_back(std::move(sku));
        return true;
      });
    });
  }

  void CreateProduct(const HttpRequest& req, const Params&, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    catalog::ProductInput in;
    Body body;
    bool ok = ReadProduct(req, body, in);
    if (!ok) return respond(body.TakeError());
    if (auto denied = ActFor(*who, "seller", "seller_id", in.seller_id)) {
      return respond(std::move(*denied));
    }
    s_.catalog.CreateProduct(std::move(in), [respond, today = Today()](Result<catalog::Product> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      respond(Json(201, ProductJson(*r, today)));
    });
  }

  // Sellers edit only their own products; the operator any.
  void UpdateProduct(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    catalog::ProductInput in;
    Body body;
    if (!ReadProduct(req, body, in)) return respond(body.TakeError());
    std::string acting = who->role == "seller" ? who->subject : "";
    s_.catalog.UpdateProduct(p[0], std::move(in), std::move(acting),
                             [respond, today = Today()](Result<catalog::Product> r) {
                               if (!r.ok()) return respond(FromServiceError(r.error_detail()));
                               respond(Json(200, ProductJson(*r, today)));
                             });
  }

  // One-click distribution: a seller (or the operator for it) resells a supplier's products.
  void Distribute(const HttpRequest& req, const Params&, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    catalog::DistributeInput in;
    Body body;
    bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
      if (key == "distributor_id") return body.String(v, in.distributor_id, 64);
      if (key == "supplier_id") return body.String(v, in.supplier_id, 64);
      if (key == "markup_percent") return body.Int(v, in.markup_percent);
      if (key == "markup_fen") return body.Int(v, in.markup_fen);
      if (key == "product_ids") {
        return body.Array(v, [&](size_t i, od::value& item) {
          if (i >= 100'000) return body.Fail(422, "invalid_field", "product_ids: at most 100000");
          return body.String(item, in.product_ids.emplace_back(), 64);
        });
      }
      return true;
    });
    if (!ok) return respond(body.TakeError());
    if (in.supplier_id.empty()) {
      body.Missing("supplier_id");
      return respond(body.TakeError());
    }
    if (auto denied = ActFor(*who, "seller", "distributor_id", in.distributor_id)) {
      return respond(std::move(*denied));
    }
    s_.catalog.Distribute(std::move(in), [respond](Result<catalog::DistributeReport> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      JsonWriter w;
      w.BeginObject().Field("created", r->created).Field("updated", r->updated);
      w.Field("unchanged", r->unchanged).Key("listing_ids").BeginArray();
      for (const auto& id : r->listing_ids) w.String(id);
      w.EndArray().Field("rejected", static_cast<int>(r->errors.size())).Key("errors").BeginArray();
      for (const auto& e : r->errors) {
        w.BeginObject().Field("row", e.row).Field("message", e.message).EndObject();
      }
      w.EndArray().EndObject();
      respond(Json(200, w.Take()));
    });
  }

  // An image as the raw body (image/jpeg, image/png, image/gif, image/webp), stored by content.
  void UploadImage(const HttpRequest& req, const Params&, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    if (req.content_type.substr(0, 6) != "image/") {
      return respond(Error(415, "unsupported_media_type",
                           "send the image itself with Content-Type: image/jpeg (png, gif, webp)"));
    }
    s_.catalog.StoreImage(req.body, [respond](Result<std::string> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      JsonWriter w;
      w.BeginObject().Field("ref", *r).Field("url", "/v1/images/" + *r).EndObject();
      respond(Json(201, w.Take()));
    });
  }

  void GetImage(const HttpRequest&, const Params& p, Respond respond) {
    s_.catalog.GetImage(p[0], [respond, ref = p[0]](Result<std::string> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      HttpResponse out;
      std::string_view type = catalog::ImageType(*r);
      out.content_type = type == "jpg" ? "image/jpeg" : "image/" + std::string(type);
      // The ref names the content, so it never changes.
      out.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
      out.body = std::move(r).value();
      respond(std::move(out));
    });
  }

  std::string Today() const { return events::BusinessDay(s_.store.clock().NowMicros()); }

  std::string TraceUrl(const std::string& code) const {
    return options_.public_url + "/trace/" + code;
  }

  void WriteBatch(JsonWriter& w, const catalog::Batch& b) const {
    w.BeginObject().Field("id", b.id).Field("product_id", b.product_id);
    w.Field("seller_id", b.seller_id).Field("trace_code", b.trace_code);
    w.Field("trace_url", TraceUrl(b.trace_code));
    w.Field("qr_svg", "/v1/trace/" + b.trace_code + "/qr.svg");
    w.Field("qr_png", "/v1/trace/" + b.trace_code + "/qr.png");
    w.Field("created_micros", b.created_micros);
    w.Key("record");
    WriteTraceRecord(w, b.record);
    w.EndObject();
  }

  void RegisterBatch(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    catalog::BatchInput in;
    in.product_id = p[0];
    if (who->role == "seller") in.acting_seller_id = who->subject;
    auto& r = in.record;
    Body body;
    bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
      if (key == "production_base") return body.String(v, r.production_base, 200);
      if (key == "soil_water_inspection") return body.String(v, r.soil_water_inspection, 2000);
      if (key == "harvest_date") return body.String(v, r.harvest_date, 10);
      if (key == "packing_date") return body.String(v, r.packing_date, 10);
      if (key == "inspection_report") return body.String(v, r.inspection_report, 2000);
      if (key != "farming") return true;
      return body.Array(v, [&](size_t i, od::value& item) {
        events::schema::FarmingStep step;
        bool fields_ok = body.NestedObject(item, "farming[" + std::to_string(i) + "].",
                                           [&](std::string_view k, od::value& fv) {
                                             if (k == "date") return body.String(fv, step.date, 10);
                                             if (k == "operation") {
                                               return body.String(fv, step.operation, 200);
                                             }
                                             return true;
                                           });
        if (fields_ok) r.farming.push_back(std::move(step));
        return fields_ok;
      });
    });
    if (!ok) return respond(body.TakeError());
    s_.catalog.RegisterBatch(std::move(in), [this, respond](Result<catalog::Batch> b) {
      if (!b.ok()) return respond(FromServiceError(b.error_detail()));
      JsonWriter w;
      WriteBatch(w, *b);
      respond(Json(201, w.Take()));
    });
  }

  void GetTrace(const HttpRequest&, const Params& p, Respond respond) {
    s_.catalog.GetTrace(p[0], [this, respond](Result<catalog::Trace> t) {
      if (!t.ok()) return respond(FromServiceError(t.error_detail()));
      JsonWriter w;
      w.BeginObject().Key("batch");
      WriteBatch(w, t->batch);
      w.Key("product").BeginObject().Field("id", t->product.id).Field("title", t->product.title);
      w.Field("place_code", t->product.place_code).EndObject();
      w.Key("seller").BeginObject().Field("id", t->seller.id).Field("name", t->seller.name);
      w.Field("place_code", t->seller.place_code);
      w.Field("supplier_type", t->seller.supplier_type).EndObject();
      w.EndObject();
      respond(Json(200, w.Take()));
    });
  }

  void TraceQr(const std::string& code, Respond respond, bool png) {
    // Only codes that exist get a QR code, so the endpoint is no free QR generator.
    s_.catalog.GetTrace(code, [this, code, respond, png](Result<catalog::Trace> t) {
      if (!t.ok()) return respond(FromServiceError(t.error_detail()));
      auto qr = EncodeQr(TraceUrl(code));
      if (!qr.ok()) return respond(FromServiceError(qr.error_detail()));
      HttpResponse r;
      r.content_type = png ? "image/png" : "image/svg+xml";
      r.body = png ? QrPng(*qr) : QrSvg(*qr);
      r.headers.emplace_back("Cache-Control", "public, max-age=86400");
      respond(std::move(r));
    });
  }
  void TraceQrSvg(const HttpRequest&, const Params& p, Respond respond) {
    TraceQr(p[0], std::move(respond), false);
  }
  void TraceQrPng(const HttpRequest&, const Params& p, Respond respond) {
    TraceQr(p[0], std::move(respond), true);
  }

  // The page a phone opens from the QR code: plain HTML, no script.
  void TracePage(const HttpRequest&, const Params& p, Respond respond) {
    s_.catalog.GetTrace(p[0], [respond](Result<catalog::Trace> t) {
      HttpResponse r;
      r.content_type = "text/html; charset=utf-8";
      auto row = [&r](std::string_view label, std::string_view value) {
        if (value.empty()) return;
        r.body += "<tr><th>" + HtmlEscape(label) + "</th><td>" + HtmlEscape(value) + "</td></tr>";
      };
      r.body =
          "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
          "content=\"width=device-width,initial-scale=1\"><title>溯源 Trace</title><style>"
          "body{font-family:sans-serif;margin:1em;max-width:40em}th{text-align:left;padding-right:"
          "1em;vertical-align:top}</style></head><body>";
      if (!t.ok()) {
        r.status = 404;
        r.body += "<h1>未找到 Not found</h1><p>" + HtmlEscape(t.message()) + "</p></body></html>";
        return respond(std::move(r));
      }
      const auto& rec = t->batch.record;
      r.body += "<h1>" + HtmlEscape(t->product.title) + "</h1><table>";
      row("溯源码 Trace code", t->batch.trace_code);
      row("生产者 Producer", t->seller.name);
      row("产地 Origin", t->product.place_code);
      row("生产基地 Production base", rec.production_base);
      row("采收日期 Harvested", rec.harvest_date);
      row("包装日期 Packed", rec.packing_date);
      row("土壤/水质检测 Soil and water", rec.soil_water_inspection);
      row("检测报告 Inspection report", rec.inspection_report);
      r.body += "</table>";
      if (!rec.farming.empty()) {
        r.body += "<h2>农事记录 Farming record</h2><ul>";
        for (const auto& step : rec.farming) {
          r.body += "<li>" + HtmlEscape(step.date) + " " + HtmlEscape(step.operation) + "</li>";
        }
        r.body += "</ul>";
      }
      r.body += "</body></html>";
      respond(std::move(r));
    });
  }

  static std::optional<int64_t> QueryInt(std::map<std::string, std::string>& q, const char* name,
                                         int64_t min, int64_t max, std::string* error) {
    if (!q.count(name) || q[name].empty()) return std::nullopt;
    int64_t v = 0;
    const std::string& text = q[name];
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
      *error = std::string(name) + ": give a whole number from " + std::to_string(min) + " to " +
               std::to_string(max);
      return std::nullopt;
    }
    return v;
  }

  // A product data pack: a zipped native or 淘宝助理 pack, a bare NDJSON or a Taobao CSV. Packs
  // are imported on a thread of their own (at most kMaxImports at once), in pieces.
  void ImportPack(const HttpRequest& req, const Params&, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    std::string_view ct = req.content_type;
    ct = ct.substr(0, ct.find(';'));
    if (ct != "application/x-ndjson" && ct != "application/zip" && ct != "text/csv" &&
        ct != "application/x-zip-compressed" && ct != "application/gzip") {
      return respond(Error(415, "unsupported_media_type",
                           "send a pack as application/zip (native or 淘宝助理), "
                           "application/x-ndjson or text/csv"));
    }
    auto q = QueryOf(req);
    std::string seller_id = q["seller_id"];
    if (auto denied = ActFor(*who, "seller", "seller_id", seller_id)) {
      return respond(std::move(*denied));
    }
    auto pack = catalog::PackFile::OpenBytes(req.body);
    if (!pack.ok()) return respond(Error(422, "invalid_pack", pack.message()));
    OffThread(respond, [this, seller_id, pack = std::shared_ptr<catalog::PackFile>(
                                             std::move(pack).value())]() {
      auto r = catalog::ImportPackFile(s_.catalog, *pack, seller_id);
      if (!r.ok()) {
        return r.error() == svc_errc::invalid_argument
                   ? Error(422, "invalid_pack", r.message())
                   : FromServiceError(r.error_detail());
      }
      JsonWriter w;
      w.BeginObject().Field("rows", r->rows).Field("created", r->created);
      w.Field("updated", r->updated).Field("unchanged", r->unchanged);
      w.Field("rejected", static_cast<int>(r->errors.size()));
      w.Key("errors").BeginArray();
      for (const auto& e : r->errors) {
        w.BeginObject().Field("row", e.row).Field("message", e.message).EndObject();
      }
      w.EndArray().EndObject();
      return Json(200, w.Take());
    });
  }

  // Runs a blocking job (pack import or export) on a thread of its own, at most kMaxImports at
  // once; the router waits for them when it is destroyed.
  void OffThread(const Respond& respond, std::function<HttpResponse()> job) {
    {
      std::lock_guard lock(jobs_mu_);
      if (busy_jobs_ >= kMaxImports) {
        return respond(Error(429, "busy", "two packs are being processed; try again shortly"));
      }
      ++busy_jobs_;
      ++jobs_;
    }
    std::thread([this, respond, job = std::move(job)] {
      HttpResponse response = job();
      {
        // The slot is free before the answer leaves: a client that sends its next pack as soon
        // as this one is answered is never told "busy" by a job that is already done.
        std::lock_guard lock(jobs_mu_);
        --busy_jobs_;
      }
      respond(std::move(response));
      std::lock_guard lock(jobs_mu_);
      --jobs_;
      jobs_cv_.notify_all();
    }).detach();
  }

  // The seller's catalogue as a pack: format=ndjson (default), native (zip with images) or
  // taobao (淘宝助理 zip).
  void ExportPack(const HttpRequest& req, const Params&, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    auto q = QueryOf(req);
    std::string seller_id = q["seller_id"];
    if (auto denied = ActFor(*who, "seller", "seller_id", seller_id)) {
      return respond(std::move(*denied));
    }
    std::string format = q.count("format") ? q["format"] : "ndjson";
    if (format == "native" || format == "taobao") {
      return OffThread(respond, [this, seller_id, format] {
        auto zip = catalog::ExportPackFile(
            s_.catalog, seller_id,
            format == "native" ? catalog::PackFormat::kNative : catalog::PackFormat::kTaobao);
        if (!zip.ok()) return FromServiceError(zip.error_detail());
        HttpResponse r;
        r.content_type = "application/zip";
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + seller_id +
                                                          (format == "native" ? ".pack.zip\""
                                                                              : ".taobao.zip\""));
        r.body = std::move(zip).value();
        return r;
      });
    }
    if (format != "ndjson") {
      return respond(Error(422, "invalid_field", "format: use ndjson, native or taobao"));
    }
    s_.catalog.ExportPack(seller_id, [respond](Result<std::vector<catalog::PackRow>> rows) {
      if (!rows.ok()) return respond(FromServiceError(rows.error_detail()));
      HttpResponse r;
      r.content_type = "application/x-ndjson";
      for (const auto& row : *rows) {
        r.body += catalog::PackRowJson(row);
        r.body += '\n';
      }
      respond(std::move(r));
    });
  }

  void ListProducts(const HttpRequest& req, const Params&, Respond respond) {
    auto q = QueryOf(req);
    catalog::ProductQuery query;
    query.q = q["q"];
    query.place_code = q["place_code"];
    query.seller_id = q["seller_id"];
    query.in_stock = q["in_stock"] == "true" || q["in_stock"] == "1";
    query.poverty_zone = q["poverty_zone"] == "true" || q["poverty_zone"] == "1";
    query.brand = q["brand"];
    query.category = q["category"];
    query.certification = q["certification"];
    if (!q["sort"].empty()) query.sort = q["sort"];
    query.cursor = q["cursor"];
    std::string error;
    auto limit = QueryInt(q, "limit", 1, 100, &error);
    auto min_price = QueryInt(q, "min_price_fen", 0, INT64_MAX, &error);
    auto max_price = QueryInt(q, "max_price_fen", 0, INT64_MAX, &error);
    if (!error.empty()) return respond(Error(422, "invalid_field", error));
    query.limit = static_cast<int>(limit.value_or(20));
    query.min_price_fen = min_price.value_or(-1);
    query.max_price_fen = max_price.value_or(-1);
    s_.catalog.ListProducts(std::move(query), [respond, today = Today()](Result<catalog::ProductPage> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      std::string json = "{\"products\":[";
      for (size_t i = 0; i < r->products.size(); ++i) {
        if (i) json += ",";
        json += ProductJson(r->products[i], today);
      }
      json += "],\"next_cursor\":";
      if (r->next_cursor.empty()) {
        json += "null}";
      } else {
        JsonWriter w;
        w.String(r->next_cursor);
        json += w.Take() + "}";
      }
      respond(Json(200, std::move(json)));
    });
  }

  void GetProduct(const HttpRequest&, const Params& p, Respond respond) {
    s_.catalog.GetProduct(p[0], [respond, today = Today()](Result<catalog::Product> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      respond(Json(200, ProductJson(*r, today)));
    });
  }

  struct PendingCall {
    explicit PendingCall(Respond r) : respond(std::move(r)) {}
    Respond respond;
    std::string order_id;
    std::atomic<bool> answered{false};
    bool Claim() { return !answered.exchange(true); }
  };

  // POST /v1/orders answers 202 pending once order_wait_ms pass without an outcome. One sweep
  // every tenth of that wait serves all the orders in flight, where a timer per order cost each
  // request a timer's system calls and a wake-up of an HTTP thread when it ran out (thousands a
  // second under load). An order waits between order_wait_ms and a tenth more. Swept only while
  // some order waits.
  class OrderWaits : public std::enable_shared_from_this<OrderWaits> {
   public:
    OrderWaits(Timers& timers, int64_t wait_ms) : timers_(timers), wait_ms_(wait_ms) {}

    void Add(std::shared_ptr<PendingCall> call) {
      bool arm = false;
      {
        std::lock_guard lock(mu_);
        // kTicks whole periods from the next sweep, which is less than one period away.
        waiting_.push_back({tick_ + kTicks + 1, std::move(call)});
        arm = !armed_;
        armed_ = true;
      }
      if (arm) Arm();
    }

   private:
    static constexpr uint64_t kTicks = 10;
    struct Waiting {
      uint64_t due_tick;
      std::shared_ptr<PendingCall> call;
    };

    void Arm() {
      timers_.After(std::max<int64_t>(1, wait_ms_ / static_cast<int64_t>(kTicks)),
                    [self = shared_from_this()] { self->Sweep(); });
    }

    // Answers the orders whose wait ran out and forgets those answered meanwhile (oldest first:
    // every order waits as long, so the queue is in the order they run out).
    void Sweep() {
      std::vector<std::shared_ptr<PendingCall>> due;
      bool again = false;
      {
        std::lock_guard lock(mu_);
        ++tick_;
        while (!waiting_.empty() && (waiting_.front().call->answered.load() ||
                                     waiting_.front().due_tick <= tick_)) {
          if (!waiting_.front().call->answered.load()) due.push_back(waiting_.front().call);
          waiting_.pop_front();
        }
        again = armed_ = !waiting_.empty();
      }
      for (auto& call : due) {
        if (!call->Claim()) continue;
        JsonWriter w;
        w.BeginObject().Field("id", call->order_id).Field("status", "pending").EndObject();
        HttpResponse r = Json(202, w.Take());
        r.headers.emplace_back("Location", "/v1/orders/" + call->order_id);
        std::move(call->respond)(std::move(r));
      }
      if (again) Arm();
    }

    Timers& timers_;
    const int64_t wait_ms_;
    std::mutex mu_;
    std::deque<Waiting> waiting_;
    uint64_t tick_ = 0;
    bool armed_ = false;
  };

  void CreateOrder(const HttpRequest& req, const Params&, Respond respond) {
    auto who = Require(req, respond, {"operator", "shopper"});
    if (!who) return;
    order::PlaceOrderInput in;
    Body body;
    bool has_items = false;
    bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
      if (key == "shopper_id") return body.String(v, in.shopper_id, 64);
      if (key != "items") return true;
      has_items = true;
      return body.Array(v, [&](size_t i, od::value& item) {
        if (i >= order::kMaxOrderLines) {
          return body.Fail(422, "invalid_field",
                           "items: give at most " + std::to_string(order::kMaxOrderLines));
        }
        events::schema::OrderItem line;
        bool has_qty = false;
        std::string where = "items[" + std::to_string(i) + "].";
        bool fields_ok = body.NestedObject(item, where, [&](std::string_view k, od::value& fv) {
          if (k == "sku_id") return body.String(fv, line.sku_id, 64);
          if (k == "quantity") {
            has_qty = true;
            return body.Int(fv, line.quantity);
          }
          return true;
        });
        if (!fields_ok) return false;
        if (line.sku_id.empty()) return body.Missing(where + "sku_id");
        if (!has_qty) return body.Missing(where + "quantity");
        in.items.push_back(std::move(line));
        return true;
      });
    });
    if (!ok) return respond(body.TakeError());
    if (!has_items) return respond(Error(422, "invalid_field", "items: required"));
    if (auto denied = ActFor(*who, "shopper", "shopper_id", in.shopper_id)) {
      return respond(std::move(*denied));
    }
    if (req.idempotency_key.size() > kMaxIdempotencyKey) {
      return respond(Error(400, "invalid_header", "Idempotency-Key: use at most 128 characters"));
    }
    in.idempotency_key = req.idempotency_key;

    auto call = std::make_shared<PendingCall>(std::move(respond));
    call->order_id = s_.orders.Place(std::move(in), [call](Result<order::Order> r) {
      if (!call->Claim()) return;
      // Moved out: the session it holds need not wait for the sweep to drop the call.
      auto respond = std::move(call->respond);
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      respond(OrderResponse(201, std::move(*r)));
    });
    order_waits_->Add(std::move(call));  // Only the sweep reads order_id, after this.
  }

  static order::Actor ActorOf(const Principal& who) { return {who.role, who.subject}; }

  // Answers a lifecycle command with the order, or its error.
  static std::function<void(Result<order::Order>)> OrderAnswer(Respond respond, int status = 200) {
    return [respond = std::move(respond), status](Result<order::Order> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      respond(OrderResponse(status, std::move(*r)));
    };
  }

  void GetOrder(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "shopper", "seller"});
    if (!who) return;
    s_.orders.Get(p[0], ActorOf(*who), [this, respond](Result<order::Order> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      // The order with its event history, oldest first.
      std::string json = OrderJson(*r);
      JsonWriter h;
      h.BeginArray();
      if (auto history = s_.store.ReadStream(r->id); history.ok()) {
        for (const auto& e : *history) {
          h.BeginObject().Field("type", e.type).Field("version", e.stream_version);
          h.Field("time_micros", e.time_micros).Field("event_id", e.event_id).EndObject();
        }
      }
      h.EndArray();
      json.pop_back();
      json += ",\"history\":" + h.Take() + "}";
      respond(Json(200, std::move(json)));
    });
  }

  void ListOrders(const HttpRequest& req, const Params&, Respond respond) {
    auto who = Require(req, respond, {"operator", "shopper", "seller"});
    if (!who) return;
    auto q = QueryOf(req);
    order::ListQuery query{q["shopper_id"], q["seller_id"], q["status"], q["cursor"], 20};
    if (!q["limit"].empty()) {
      int limit = 0;
      auto [ptr, ec] = std::from_chars(q["limit"].data(), q["limit"].data() + q["limit"].size(), limit);
      if (ec != std::errc() || limit < 1 || limit > 100) {
        return respond(Error(422, "invalid_field", "limit: give 1 to 100"));
      }
      query.limit = limit;
    }
    // Shoppers list their own orders, sellers their own sub-orders.
    if (who->role == "shopper") {
      if (!query.seller_id.empty()) return respond(Error(403, "forbidden", "seller_id: not yours"));
      if (auto denied = ActFor(*who, "shopper", "shopper_id", query.shopper_id)) {
        return respond(std::move(*denied));
      }
    } else if (who->role == "seller") {
      if (!query.shopper_id.empty()) return respond(Error(403, "forbidden", "shopper_id: not yours"));
      if (auto denied = ActFor(*who, "seller", "seller_id", query.seller_id)) {
        return respond(std::move(*denied));
      }
    }
    s_.orders.List(query, [respond](Result<order::OrderPage> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      JsonWriter w;
      w.BeginObject().Key("orders").BeginArray();
      for (const auto& o : r->orders) WriteOrder(w, o);
      w.EndArray();
      if (r->next_cursor.empty()) {
        w.Key("next_cursor").Null();
      } else {
        w.Field("next_cursor", r->next_cursor);
      }
      w.EndObject();
      respond(Json(200, w.Take()));
    });
  }

  // Parses an optional JSON body of string fields; an empty body is an empty object.
  bool OptionalFields(const HttpRequest& req, Respond& respond,
                      std::initializer_list<std::pair<std::string_view, std::string*>> fields) {
    if (req.body.empty()) return true;
    Body body;
    bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
      for (auto [name, out] : fields) {
        if (key == name) return body.String(v, *out, 200);
      }
      return true;
    });
    if (!ok) respond(body.TakeError());
    return ok;
  }

  void PayOrder(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "shopper"});
    if (!who) return;
    s_.orders.Pay(p[0], ActorOf(*who), OrderAnswer(std::move(respond)));
  }

  void CancelOrder(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "shopper"});
    if (!who) return;
    s_.orders.Cancel(p[0], ActorOf(*who), OrderAnswer(std::move(respond)));
  }

  void ShipOrder(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    std::string sub, carrier, tracking;
    if (!OptionalFields(req, respond,
                        {{"sub_order_id", &sub}, {"carrier", &carrier}, {"tracking_no", &tracking}})) {
      return;
    }
    s_.orders.Ship(p[0], sub, carrier, tracking, ActorOf(*who), OrderAnswer(std::move(respond)));
  }

  void DeliverOrder(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    std::string sub;
    if (!OptionalFields(req, respond, {{"sub_order_id", &sub}})) return;
    s_.orders.Deliver(p[0], sub, ActorOf(*who), OrderAnswer(std::move(respond)));
  }

  void ConfirmOrder(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "shopper"});
    if (!who) return;
    std::string sub;
    if (!OptionalFields(req, respond, {{"sub_order_id", &sub}})) return;
    s_.orders.Confirm(p[0], sub, ActorOf(*who), OrderAnswer(std::move(respond)));
  }

  void RequestRefund(const HttpRequest& req, const Params& p, Respond respond) {
    auto who = Require(req, respond, {"operator", "shopper"});
    if (!who) return;
    order::RefundInput in;
    in.order_id = p[0];
    if (!req.body.empty()) {
      Body body;
      bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
        if (key == "sub_order_id") return body.String(v, in.sub_id, 100);
        if (key == "reason") return body.String(v, in.reason, 500);
        if (key == "amount_fen") return body.Int(v, in.amount_fen);
        if (key == "with_return") {
          if (v.get_bool().get(in.with_return)) {
            return body.Fail(422, "invalid_field", "with_return: expected true or false");
          }
          return true;
        }
        if (key != "items") return true;
        return body.Array(v, [&](size_t i, od::value& item) {
          events::schema::OrderItem line;
          std::string where = "items[" + std::to_string(i) + "].";
          bool fields_ok = body.NestedObject(item, where, [&](std::string_view k, od::value& fv) {
            if (k == "sku_id") return body.String(fv, line.sku_id, 64);
            if (k == "quantity") return body.Int(fv, line.quantity);
            return true;
          });
          if (!fields_ok) return false;
          if (line.sku_id.empty()) return body.Missing(where + "sku_id");
          in.items.push_back(std::move(line));
          return true;
        });
      });
      if (!ok) return respond(body.TakeError());
      if (in.amount_fen < -1) return respond(Error(422, "invalid_field", "amount_fen: must be positive"));
    }
    s_.orders.RequestRefund(std::move(in), ActorOf(*who), OrderAnswer(std::move(respond), 201));
  }

  void DecideRefund(const HttpRequest& req, const Params& p, Respond respond, bool approve) {
    auto who = Require(req, respond, {"operator", "seller"});
    if (!who) return;
    std::string reason;
    if (!OptionalFields(req, respond, {{"reason", &reason}})) return;
    s_.orders.DecideRefund(p[0], approve, reason, ActorOf(*who), OrderAnswer(std::move(respond)));
  }
  void ApproveRefund(const HttpRequest& req, const Params& p, Respond respond) {
    DecideRefund(req, p, std::move(respond), true);
  }
  void RejectRefund(const HttpRequest& req, const Params& p, Respond respond) {
    DecideRefund(req, p, std::move(respond), false);
  }

  // A payment provider's notification. Authenticated by an HMAC-SHA256 of the raw body with the
  // shared secret, sent as "X-Pavilion-Signature: sha256=<hex>"; idempotent by txn_id.
  void PaymentNotify(const HttpRequest& req, const Params&, Respond respond) {
    if (options_.payment_secret.empty() ||
        !VerifySignature(options_.payment_secret, req.body, req.signature)) {
      return respond(Error(401, "bad_signature",
                           "X-Pavilion-Signature must be sha256=<hex HMAC-SHA256 of the body>"));
    }
    order::PaymentNotice n;
    int64_t amount = -1;
    n.provider = "builtin";
    Body body;
    bool ok = body.Object(req, [&](std::string_view key, od::value& v) {
      if (key == "order_id") return body.String(v, n.order_id, 64);
      if (key == "txn_id") return body.String(v, n.txn_id, 128);
      if (key == "provider") return body.String(v, n.provider, 40);
      if (key == "amount_fen") return body.Int(v, amount);
      return true;
    });
    if (!ok) return respond(body.TakeError());
    if (n.order_id.empty()) return respond(Error(422, "invalid_field", "order_id: required"));
    if (n.txn_id.empty()) return respond(Error(422, "invalid_field", "txn_id: required"));
    if (amount < 1) return respond(Error(422, "invalid_field", "amount_fen: give the amount paid"));
    n.amount = Fen(amount);
    s_.orders.PaymentReceived(std::move(n), OrderAnswer(std::move(respond)));
  }

  void SalesStats(const HttpRequest& req, const Params&, Respond respond) {
    if (!Require(req, respond, {"operator"})) return;
    auto q = QueryOf(req);
    settlement::SalesQuery query;
    if (q.count("group_by")) query.group_by = q["group_by"];
    query.from_day = q["from"];
    query.to_day = q["to"];
    query.by_day = q["by_day"] == "true" || q["by_day"] == "1";
    s_.settlement.Sales(query, [query, respond](Result<std::vector<settlement::SalesRow>> r) {
      if (!r.ok()) return respond(FromServiceError(r.error_detail()));
      JsonWriter w;
      w.BeginObject().Field("group_by", query.group_by).Key("rows").BeginArray();
      Fen total;
      for (const auto& row : *r) {
        w.BeginObject().Field(query.group_by == "seller" ? "seller_id" : "place_code", row.key);
        if (!row.day.empty()) w.Field("day", row.day);
        w.Field("amount_fen", row.totals.amount.value()).Field("orders", row.totals.orders);
        w.Field("units", row.totals.units).EndObject();
        total += row.totals.amount;
      }
      w.EndArray().Field("total_amount_fen", total.value()).EndObject();
      respond(Json(200, w.Take()));
    });
  }

  Services s_;
  Identity& identity_;
  Timers& timers_;
  RouterOptions options_;
  Metrics metrics_;
  std::shared_ptr<OrderWaits> order_waits_;  // Shared with its armed sweep.
  std::function<void(std::string&)> metrics_hook_;
  static constexpr int kMaxImports = 2;
  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  int jobs_ = 0;       // Job threads alive (the destructor waits for them).
  int busy_jobs_ = 0;  // Jobs not yet done: at most kMaxImports.

 public:
  ~Impl() {
    std::unique_lock lock(jobs_mu_);
    jobs_cv_.wait(lock, [this] { return jobs_ == 0; });
  }
};

Router::Router(Services services, Identity& identity, Timers& timers, RouterOptions options)
    : impl_(std::make_unique<Impl>(services, identity, timers, options)) {}

Router::~Router() = default;

void Router::Handle(HttpRequest request, Respond respond) {
  impl_->Handle(std::move(request), std::move(respond));
}

void Router::SetPublicUrl(std::string url) { impl_->SetPublicUrl(std::move(url)); }

void Router::SetMetricsHook(std::function<void(std::string&)> hook) {
  impl_->SetMetricsHook(std::move(hook));
}

const std::vector<RouteInfo>& Router::Routes() {
  static const std::vector<RouteInfo> routes = [] {
    std::vector<RouteInfo> out;
    for (const auto& r : Impl::Table()) out.push_back(RouteInfo{r.method, r.pattern});
    return out;
  }();
  return routes;
}

}  // namespace pavilion::gateway
