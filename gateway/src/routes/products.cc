// Products: create and edit (the seller itself, or the operator; one scoped to a place for the
// sellers in it), read and browse (public).
#include "../views.h"
#include "routes.h"

namespace pavilion::gateway::routes {
namespace {

// A product as JSON (POST /v1/products, PUT /v1/products/{id}): the fields of a pack row.
bool ReadProduct(const HttpRequest& req, Body& body, catalog::ProductInput& in) {
  return body.Object(req, [&](std::string_view key, od::value& v) {
    if (key == "seller_id") return body.String(v, in.seller_id, 64);
    if (key == "title") return body.String(v, in.title, 300);
    if (key == "brand") return body.String(v, in.brand, 100);
    if (key == "category") return body.String(v, in.category, 40);
    if (key == "place_code") return body.String(v, in.place_code, 12);
    if (key == "floor_price_fen") {
      // -1 is the catalog's "none": a body says none by leaving the field out.
      if (!body.Int(v, in.floor_price_fen)) return false;
      if (in.floor_price_fen >= 0) return true;
      return body.Fail(kInvalidField,
                       "floor_price_fen: give a price in fen between 0 and 10000000000, or leave "
                       "it out for none");
    }
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
        bool fields_ok = body.NestedObject(item, "certifications[" + std::to_string(i) + "].",
                                           [&](std::string_view k, od::value& fv) {
                                             if (k == "type") return body.String(fv, c.type, 40);
                                             if (k == "number") {
                                               return body.String(fv, c.number, 100);
                                             }
                                             if (k == "issuer") {
                                               return body.String(fv, c.issuer, 200);
                                             }
                                             if (k == "valid_from") {
                                               return body.String(fv, c.valid_from, 10);
                                             }
                                             if (k == "valid_to") {
                                               return body.String(fv, c.valid_to, 10);
                                             }
                                             return true;
                                           });
        if (fields_ok) in.certifications.push_back(std::move(c));
        return fields_ok;
      });
    }
    if (key != "skus") return true;
    return body.Array(v, [&](size_t i, od::value& item) {
      if (i >= 200) return body.Fail(kInvalidField, "skus: give at most 200 SKUs");
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

}  // namespace

void CreateProduct(Context& cx, const Request& r, Respond respond) {
  catalog::ProductInput in;
  Body body;
  if (!ReadProduct(r.http, body, in)) return respond(body.TakeError());
  if (auto denied = ActFor(*r.who, Role::kSeller, "seller_id", in.seller_id)) {
    return respond(std::move(*denied));
  }
  const std::string seller_id = in.seller_id;
  ForSeller(cx, *r.who, "seller_id", seller_id, respond,
            [&cx, respond, in = std::move(in)]() mutable {
              cx.s.catalog.CreateProduct(
                  std::move(in), [&cx, respond, today = cx.Today()](Result<catalog::Product> p) {
                    if (!p.ok()) return respond(FromServiceError(p.error_detail()));
                    respond(JsonResponse(201, ProductJson(*p, today, cx.PlaceName(p->place_code))));
                  });
            });
}

// Sellers edit only their own products; the operator any (one scoped to a place, its sellers').
void UpdateProduct(Context& cx, const Request& r, Respond respond) {
  catalog::ProductInput in;
  Body body;
  if (!ReadProduct(r.http, body, in)) return respond(body.TakeError());
  std::string acting = r.who->role == Role::kSeller ? r.who->subject : "";
  ForProductSeller(
      cx, *r.who, r.params[0], respond,
      [&cx, respond, id = r.params[0], in = std::move(in), acting = std::move(acting)]() mutable {
        cx.s.catalog.UpdateProduct(
            id, std::move(in), std::move(acting),
            [&cx, respond, today = cx.Today()](Result<catalog::Product> p) {
              if (!p.ok()) return respond(FromServiceError(p.error_detail()));
              respond(JsonResponse(200, ProductJson(*p, today, cx.PlaceName(p->place_code))));
            });
      });
}

void ListProducts(Context& cx, const Request& r, Respond respond) {
  const Query& q = r.query;
  catalog::ProductQuery query;
  query.q = q.Get("q");
  query.place_code = q.Get("place_code");
  query.seller_id = q.Get("seller_id");
  query.in_stock = q.Flag("in_stock");
  query.poverty_zone = q.Flag("poverty_zone");
  query.brand = q.Get("brand");
  query.category = q.Get("category");
  query.certification = q.Get("certification");
  if (!q.Get("sort").empty()) query.sort = q.Get("sort");
  query.cursor = q.Get("cursor");
  std::string error;
  auto limit = q.Int("limit", 1, 100, &error);
  auto min_price = q.Int("min_price_fen", 0, INT64_MAX, &error);
  auto max_price = q.Int("max_price_fen", 0, INT64_MAX, &error);
  if (!error.empty()) return respond(ErrorResponse(kInvalidField, error));
  query.limit = static_cast<int>(limit.value_or(20));
  query.min_price_fen = min_price.value_or(-1);
  query.max_price_fen = max_price.value_or(-1);
  cx.s.catalog.ListProducts(std::move(query),
                            [&cx, respond, today = cx.Today()](Result<catalog::ProductPage> page) {
                              if (!page.ok()) return respond(FromServiceError(page.error_detail()));
                              std::string json = "{\"products\":[";
                              for (size_t i = 0; i < page->products.size(); ++i) {
                                if (i) json += ",";
                                const auto& p = page->products[i];
                                json += ProductJson(p, today, cx.PlaceName(p.place_code));
                              }
                              json += "],\"next_cursor\":";
                              if (page->next_cursor.empty()) {
                                json += "null}";
                              } else {
                                base::JsonWriter w;
                                w.String(page->next_cursor);
                                json += w.Take() + "}";
                              }
                              respond(JsonResponse(200, std::move(json)));
                            });
}

void GetProduct(Context& cx, const Request& r, Respond respond) {
  cx.s.catalog.GetProduct(
      r.params[0], [&cx, respond, today = cx.Today()](Result<catalog::Product> p) {
        if (!p.ok()) return respond(FromServiceError(p.error_detail()));
        respond(JsonResponse(200, ProductJson(*p, today, cx.PlaceName(p->place_code))));
      });
}

}  // namespace pavilion::gateway::routes
