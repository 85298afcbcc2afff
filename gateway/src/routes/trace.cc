// Traceability: a seller registers a batch (lot) of a product with its trace record and gets a
// trace code; anyone reads the record by that code as JSON, as a QR code (SVG or PNG) pointing at
// the public page, and as that page (plain HTML, no script, for phones).
#include "../qr.h"
#include "../views.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void TraceQr(Context& cx, const std::string& code, Respond respond, bool png) {
  // Only codes that exist get a QR code, so the endpoint is no free QR generator.
  cx.s.catalog.GetTrace(code, [&cx, code, respond, png](Result<catalog::Trace> t) {
    if (!t.ok()) return respond(FromServiceError(t.error_detail()));
    auto qr = EncodeQr(cx.options.public_url + "/trace/" + code);
    if (!qr.ok()) return respond(FromServiceError(qr.error_detail()));
    HttpResponse r;
    r.content_type = png ? "image/png" : "image/svg+xml";
    r.body = png ? QrPng(*qr) : QrSvg(*qr);
    r.headers.emplace_back("Cache-Control", "public, max-age=86400");
    respond(std::move(r));
  });
}

}  // namespace

void RegisterBatch(Context& cx, const Request& r, Respond respond) {
  catalog::BatchInput in;
  in.product_id = r.params[0];
  if (r.who->role == Role::kSeller) in.acting_seller_id = r.who->subject;
  auto& rec = in.record;
  Body body;
  bool ok = body.Object(r.http, [&](std::string_view key, od::value& v) {
    if (key == "production_base") return body.String(v, rec.production_base, 200);
    if (key == "soil_water_inspection") return body.String(v, rec.soil_water_inspection, 2000);
    if (key == "harvest_date") return body.String(v, rec.harvest_date, 10);
    if (key == "packing_date") return body.String(v, rec.packing_date, 10);
    if (key == "inspection_report") return body.String(v, rec.inspection_report, 2000);
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
      if (fields_ok) rec.farming.push_back(std::move(step));
      return fields_ok;
    });
  });
  if (!ok) return respond(body.TakeError());
  // An operator scoped to a place registers batches of its sellers' products only.
  ForProductSeller(cx, *r.who, r.params[0], respond, [&cx, respond, in = std::move(in)]() mutable {
    cx.s.catalog.RegisterBatch(std::move(in), [&cx, respond](Result<catalog::Batch> b) {
      if (!b.ok()) return respond(FromServiceError(b.error_detail()));
      base::JsonWriter w;
      WriteBatch(w, *b, cx.options.public_url);
      respond(JsonResponse(201, w.Take()));
    });
  });
}

void GetTrace(Context& cx, const Request& r, Respond respond) {
  cx.s.catalog.GetTrace(r.params[0], [&cx, respond](Result<catalog::Trace> t) {
    if (!t.ok()) return respond(FromServiceError(t.error_detail()));
    base::JsonWriter w;
    w.BeginObject().Key("batch");
    WriteBatch(w, t->batch, cx.options.public_url);
    w.Key("product").BeginObject().Field("id", t->product.id).Field("title", t->product.title);
    w.Field("place_code", t->product.place_code);
    w.Field("place_name", cx.PlaceName(t->product.place_code)).EndObject();
    w.Key("seller").BeginObject().Field("id", t->seller.id).Field("name", t->seller.name);
    w.Field("place_code", t->seller.place_code);
    w.Field("place_name", cx.PlaceName(t->seller.place_code));
    w.Field("supplier_type", t->seller.supplier_type).EndObject();
    w.EndObject();
    respond(JsonResponse(200, w.Take()));
  });
}

void TraceQrSvg(Context& cx, const Request& r, Respond respond) {
  TraceQr(cx, r.params[0], std::move(respond), false);
}

void TraceQrPng(Context& cx, const Request& r, Respond respond) {
  TraceQr(cx, r.params[0], std::move(respond), true);
}

void TracePage(Context& cx, const Request& r, Respond respond) {
  cx.s.catalog.GetTrace(r.params[0], [&cx, respond](Result<catalog::Trace> t) {
    HttpResponse page;
    page.content_type = "text/html; charset=utf-8";
    auto row = [&page](std::string_view label, std::string_view value) {
      if (value.empty()) return;
      page.body += "<tr><th>" + HtmlEscape(label) + "</th><td>" + HtmlEscape(value) + "</td></tr>";
    };
    page.body =
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
        "content=\"width=device-width,initial-scale=1\"><title>溯源 Trace</title><style>"
        "body{font-family:sans-serif;margin:1em;max-width:40em}th{text-align:left;padding-right:"
        "1em;vertical-align:top}</style></head><body>";
    if (!t.ok()) {
      page.status = 404;
      page.body += "<h1>未找到 Not found</h1><p>" + HtmlEscape(t.message()) + "</p></body></html>";
      return respond(std::move(page));
    }
    const auto& rec = t->batch.record;
    page.body += "<h1>" + HtmlEscape(t->product.title) + "</h1><table>";
    row("溯源码 Trace code", t->batch.trace_code);
    row("生产者 Producer", t->seller.name);
    // The origin by name (山西省长治市沁县) when the directory knows it, else its code.
    const std::string origin = cx.PlaceName(t->product.place_code);
    row("产地 Origin", origin.empty() ? t->product.place_code : origin);
    row("生产基地 Production base", rec.production_base);
    row("采收日期 Harvested", rec.harvest_date);
    row("包装日期 Packed", rec.packing_date);
    row("土壤/水质检测 Soil and water", rec.soil_water_inspection);
    row("检测报告 Inspection report", rec.inspection_report);
    page.body += "</table>";
    if (!rec.farming.empty()) {
      page.body += "<h2>农事记录 Farming record</h2><ul>";
      for (const auto& step : rec.farming) {
        page.body += "<li>" + HtmlEscape(step.date) + " " + HtmlEscape(step.operation) + "</li>";
      }
      page.body += "</ul>";
    }
    page.body += "</body></html>";
    respond(std::move(page));
  });
}

}  // namespace pavilion::gateway::routes
