#include "views.h"

#include <algorithm>
#include <array>

namespace pavilion::gateway {
namespace {

using base::JsonWriter;

void WriteSku(JsonWriter& w, const catalog::Sku& s) {
  w.BeginObject();
  w.Field("id", s.id).Field("spec", s.spec).Field("price_fen", s.price.value());
  w.Field("stock", s.stock).Field("reserved", s.reserved).Field("sold", s.sold);
  if (!s.source_sku_id.empty()) w.Field("source_sku_id", s.source_sku_id);
  w.EndObject();
}

bool IsUrlRef(std::string_view image) { return image.find("://") != std::string_view::npos; }

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

}  // namespace

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string ProductJson(const catalog::Product& p, const std::string& today,
                        std::string_view place_name) {
  JsonWriter w;
  w.BeginObject();
  w.Field("id", p.id).Field("seller_id", p.seller_id).Field("title", p.title);
  w.Field("place_code", p.place_code).Field("place_name", place_name);
  w.Field("created_micros", p.created_micros);
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

void WriteSellerFields(JsonWriter& w, const catalog::Seller& s, const std::string* token,
                       std::string_view place_name) {
  w.Field("id", s.id).Field("name", s.name).Field("place_code", s.place_code);
  w.Field("place_name", place_name);
  w.Field("supplier_type", s.supplier_type).Field("created_micros", s.created_micros);
  if (token) w.Field("token", *token);
}

void WriteSalesTotals(JsonWriter& w, const settlement::SalesTotals& t) {
  w.Field("paid_fen", t.paid.value()).Field("refunded_fen", t.refunded.value());
  w.Field("net_fen", t.amount.value()).Field("orders", t.orders);
  w.Field("units_paid", t.units_paid).Field("units_refunded", t.units_refunded);
  w.Field("units", t.units).Field("selling_sellers", t.selling_sellers);
  w.Field("new_sellers", t.new_sellers);
}

std::string SellerJson(const catalog::Seller& s, const std::string* token,
                       std::string_view place_name) {
  JsonWriter w;
  w.BeginObject();
  WriteSellerFields(w, s, token, place_name);
  w.EndObject();
  return w.Take();
}

// A line's own status is the stock's answer to it (pending, reserved, rejected) and stays
// "reserved" for good once the stock is held. Once the order is split into sub-orders a client
// wants to know where the goods are, so a reserved line shows its sub-order's status instead
// (paid, shipped, …, cancelled): line and sub-order never disagree. A line hidden from a seller
// stays "hidden", though its sub-order is one the seller follows.
static std::string_view LineStatusName(const order::Order& o, const order::OrderLine& l,
                                       uint32_t i) {
  if (l.status != order::LineStatus::kReserved) return ToString(l.status);
  for (const auto& s : o.sub_orders) {
    if (std::find(s.lines.begin(), s.lines.end(), i) != s.lines.end()) return ToString(s.status);
  }
  return ToString(l.status);  // Not split yet.
}

namespace {

// The requests to the payment provider for refund `r`, and the latest one's id and failure
// beside the refund's status. Nothing for a refund not approved (or an older record).
void WriteRefundAttempts(JsonWriter& w, const order::Order& o, const order::Refund& r) {
  const order::RefundAttempt* last = nullptr;
  for (const auto& a : o.refund_attempts) {
    if (a.refund_id == r.id) last = &a;
  }
  if (last == nullptr) return;
  w.Field("provider_refund_id", last->provider_refund_id);
  if (r.status == order::RefundStatus::kFailed) w.Field("failure_reason", last->failure);
  w.Key("attempts").BeginArray();
  for (const auto& a : o.refund_attempts) {
    if (a.refund_id != r.id) continue;
    w.BeginObject().Field("provider_refund_id", a.provider_refund_id);
    w.Field("status", ToString(a.status));
    if (!a.failure.empty()) w.Field("failure_reason", a.failure);
    w.Field("requested_micros", a.requested_micros);
    if (a.notified_micros) w.Field("notified_micros", a.notified_micros);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

void WriteOrder(JsonWriter& w, const order::Order& o) {
  w.BeginObject();
  w.Field("id", o.id).Field("shopper_id", o.shopper_id).Field("status", ToString(o.status));
  if (!o.cancel_reason.empty()) w.Field("cancel_reason", o.cancel_reason);
  w.Field("total_fen", o.total.value());
  w.Field("created_micros", o.created_micros).Field("updated_micros", o.updated_micros);
  if (o.pay_deadline_micros) w.Field("pay_deadline_micros", o.pay_deadline_micros);
  w.Key("lines").BeginArray();
  for (size_t i = 0; i < o.lines.size(); ++i) {
    const auto& l = o.lines[i];
    w.BeginObject();
    w.Field("sku_id", l.sku_id).Field("quantity", l.quantity);
    w.Field("status", LineStatusName(o, l, static_cast<uint32_t>(i)));
    if (l.status == order::LineStatus::kReserved) {
      w.Field("product_id", l.product_id).Field("seller_id", l.seller_id);
      w.Field("place_code", l.place_code);
      w.Field("unit_price_fen", l.unit_price.value()).Field("amount_fen", l.amount.value());
    }
    if (!l.reason.empty()) w.Field("reason", l.reason);
    if (const auto& d = l.distribution; !d.listing_seller_id.empty()) {
      w.Key("distribution").BeginObject().Field("listing_seller_id", d.listing_seller_id);
      w.Field("supply_unit_price_fen", d.supply_price.value()).Key("commissions").BeginArray();
      for (const auto& c : d.commissions) {
        w.BeginObject().Field("seller_id", c.seller_id).Field("unit_fen", c.unit.value());
        w.EndObject();
      }
      w.EndArray().EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("sub_orders").BeginArray();
  for (const auto& s : o.sub_orders) {
    w.BeginObject()
        .Field("id", s.id)
        .Field("seller_id", s.seller_id)
        .Field("status", ToString(s.status));
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
    w.Field("amount_fen", p.amount.value()).Field("outcome", ToString(p.outcome));
    w.Field("micros", p.micros).EndObject();
  }
  w.EndArray();
  w.Key("refunds").BeginArray();
  for (const auto& r : o.refunds) {
    w.BeginObject()
        .Field("id", r.id)
        .Field("sub_order_id", r.sub_id)
        .Field("status", ToString(r.status));
    w.Field("amount_fen", r.amount.value()).Field("with_return", r.with_return);
    if (!r.reason.empty()) w.Field("reason", r.reason);
    if (!r.reject_reason.empty()) w.Field("reject_reason", r.reject_reason);
    w.Key("items").BeginArray();
    for (const auto& it : r.items) {
      w.BeginObject().Field("sku_id", it.sku_id).Field("quantity", it.quantity).EndObject();
    }
    w.EndArray();
    WriteRefundAttempts(w, o, r);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

std::string OrderJson(const order::Order& o) {
  JsonWriter w(1024);
  WriteOrder(w, o);
  return w.Take();
}

HttpResponse OrderResponse(int status, order::Order o) {
  HttpResponse r;
  r.status = status;
  r.render = [o = std::move(o)] { return OrderJson(o); };
  return r;
}

void WriteBatch(JsonWriter& w, const catalog::Batch& b, std::string_view public_url) {
  w.BeginObject().Field("id", b.id).Field("product_id", b.product_id);
  w.Field("seller_id", b.seller_id).Field("trace_code", b.trace_code);
  w.Field("trace_url", std::string(public_url) + "/trace/" + b.trace_code);
  w.Field("qr_svg", "/v1/trace/" + b.trace_code + "/qr.svg");
  w.Field("qr_png", "/v1/trace/" + b.trace_code + "/qr.png");
  w.Field("created_micros", b.created_micros);
  w.Key("record");
  WriteTraceRecord(w, b.record);
  w.EndObject();
}

}  // namespace pavilion::gateway
