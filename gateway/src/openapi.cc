// The OpenAPI 3 document served at GET /v1/openapi.json. A test checks that every route of the
// router appears here with its method.
#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

std::string_view Router::OpenApiDocument() {
  static constexpr std::string_view kDoc = R"JSON({
  "openapi": "3.0.3",
  "info": {
    "title": "Pavilion",
    "version": "0.1.0",
    "description": "Event-sourced marketplace core for county special pavilions. Money is always integer fen. Errors are {\"error\": {\"code\", \"message\"}}."
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
      "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string", "example": "invalid_field"},
        "message": {"type": "string"}}, "required": ["code", "message"]}}},
      "SellerInput": {"type": "object", "required": ["name", "place_code"], "properties": {
        "name": {"type": "string", "maxLength": 200},
        "place_code": {"type": "string", "description": "Administrative-division code, 6, 9 or 12 digits", "example": "140430"},
        "supplier_type": {"type": "string", "enum": ["poor_household", "cooperative", "family_farm", "leading_enterprise", "individual", "village_station", "enterprise"], "default": "enterprise"}}},
      "Seller": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "place_code": {"type": "string"},
        "supplier_type": {"type": "string"}, "created_micros": {"type": "integer"},
        "token": {"type": "string", "description": "Only in the answer to POST /v1/sellers"}}},
      "Shopper": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "token": {"type": "string"}}},
      "SkuInput": {"type": "object", "required": ["spec", "price_fen", "stock"], "properties": {
        "spec": {"type": "string", "example": "500g"},
        "price_fen": {"type": "integer", "minimum": 1, "example": 2990},
        "stock": {"type": "integer", "minimum": 0}}},
      "Certification": {"type": "object", "required": ["type", "number"], "properties": {
        "type": {"type": "string", "enum": ["pollution_free", "green_food", "organic", "geographic_indication", "sc_licence", "iso"]},
        "number": {"type": "string"}, "issuer": {"type": "string"},
        "valid_from": {"type": "string", "format": "date"}, "valid_to": {"type": "string", "format": "date"},
        "valid": {"type": "boolean", "readOnly": true, "description": "In force today (UTC+8); expired certificates are not claims"}}},
      "ProductInput": {"type": "object", "required": ["title", "skus"], "properties": {
        "seller_id": {"type": "string", "description": "Required for the operator; a seller's own id by default"},
        "title": {"type": "string", "maxLength": 300},
        "brand": {"type": "string", "description": "A regional public brand (沁州黄, 滋味永川, 古丈毛尖) or the seller's own"},
        "category": {"type": "string", "default": "other", "enum": ["grain", "tea", "condiment", "honey", "nuts", "processed_food", "fruit", "vegetable", "eggs", "livestock", "herbs", "handicraft", "other"],
          "description": "grain, tea, condiment, honey, nuts and processed_food are processed food: they need an sc_licence valid today"},
        "place_code": {"type": "string", "description": "Origin, any level (6, 9 or 12 digits); default the seller's place"},
        "certifications": {"type": "array", "items": {"$ref": "#/components/schemas/Certification"}},
        "floor_price_fen": {"type": "integer", "description": "Protective price no SKU may undercut; for poor households it defaults to the lowest SKU price"},
        "skus": {"type": "array", "minItems": 1, "maxItems": 200, "items": {"$ref": "#/components/schemas/SkuInput"}}}},
      "Sku": {"type": "object", "properties": {
        "id": {"type": "string"}, "spec": {"type": "string"}, "price_fen": {"type": "integer"},
        "stock": {"type": "integer", "description": "Units available to order"},
        "reserved": {"type": "integer", "description": "Units held by unpaid orders"},
        "sold": {"type": "integer", "description": "Units paid for"}}},
      "Product": {"type": "object", "properties": {
        "id": {"type": "string"}, "seller_id": {"type": "string"}, "title": {"type": "string"},
        "place_code": {"type": "string"}, "created_micros": {"type": "integer"},
        "brand": {"type": "string"}, "category": {"type": "string"},
        "poverty_zone": {"type": "boolean", "description": "Supplied by a registered poor household (扶贫专区)"},
        "floor_price_fen": {"type": "integer"},
        "claims": {"type": "array", "items": {"type": "string"}, "description": "Certificate types valid today"},
        "certifications": {"type": "array", "items": {"$ref": "#/components/schemas/Certification"}},
        "skus": {"type": "array", "items": {"$ref": "#/components/schemas/Sku"}}}},
      "OrderInput": {"type": "object", "required": ["items"], "properties": {
        "shopper_id": {"type": "string", "description": "Required for the operator; the shopper's own id by default"},
        "items": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "object",
          "required": ["sku_id", "quantity"], "properties": {
            "sku_id": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000}}}}}},
      "Order": {"type": "object", "properties": {
        "id": {"type": "string"}, "shopper_id": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "rejected", "pending_payment", "paid", "cancelled", "completed"]},
        "cancel_reason": {"type": "string", "enum": ["shopper", "operator", "payment_timeout"]},
        "total_fen": {"type": "integer"}, "created_micros": {"type": "integer"}, "updated_micros": {"type": "integer"},
        "pay_deadline_micros": {"type": "integer"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {
          "sku_id": {"type": "string"}, "quantity": {"type": "integer"},
          "status": {"type": "string", "enum": ["pending", "reserved", "rejected"]},
          "reason": {"type": "string", "enum": ["unknown_sku", "insufficient_stock", "hold_limit"]},
          "product_id": {"type": "string"}, "seller_id": {"type": "string"}, "place_code": {"type": "string"},
          "unit_price_fen": {"type": "integer"}, "amount_fen": {"type": "integer"}}}},
        "sub_orders": {"type": "array", "description": "One per seller; each is fulfilled on its own", "items": {"type": "object", "properties": {
          "id": {"type": "string"}, "seller_id": {"type": "string"},
          "status": {"type": "string", "enum": ["pending_payment", "paid", "shipped", "delivered", "completed", "cancelled"]},
          "total_fen": {"type": "integer"}, "refunded_fen": {"type": "integer"},
          "lines": {"type": "array", "items": {"type": "integer"}},
          "carrier": {"type": "string"}, "tracking_no": {"type": "string"},
          "shipped_micros": {"type": "integer"}, "delivered_micros": {"type": "integer"}, "completed_micros": {"type": "integer"}}}},
        "payments": {"type": "array", "items": {"type": "object", "properties": {
          "provider": {"type": "string"}, "txn_id": {"type": "string"}, "amount_fen": {"type": "integer"},
          "outcome": {"type": "string", "enum": ["applied", "pending_reinstate", "refund_due"]}, "micros": {"type": "integer"}}}},
        "refunds": {"type": "array", "items": {"$ref": "#/components/schemas/Refund"}},
        "history": {"type": "array", "description": "GET /v1/orders/{id} only: the order's events", "items": {"type": "object", "properties": {
          "type": {"type": "string"}, "version": {"type": "integer"}, "time_micros": {"type": "integer"}, "event_id": {"type": "string"}}}}}},
      "Refund": {"type": "object", "properties": {
        "id": {"type": "string"}, "sub_order_id": {"type": "string"},
        "status": {"type": "string", "enum": ["requested", "rejected", "refunded"]},
        "amount_fen": {"type": "integer"}, "with_return": {"type": "boolean"},
        "reason": {"type": "string"}, "reject_reason": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object", "properties": {"sku_id": {"type": "string"}, "quantity": {"type": "integer"}}}}}},
      "TraceRecord": {"type": "object", "required": ["production_base"], "properties": {
        "production_base": {"type": "string", "description": "生产基地"},
        "farming": {"type": "array", "description": "农事操作", "items": {"type": "object", "properties": {
          "date": {"type": "string", "format": "date"}, "operation": {"type": "string"}}}},
        "soil_water_inspection": {"type": "string", "description": "土壤/水质检测"},
        "harvest_date": {"type": "string", "format": "date"}, "packing_date": {"type": "string", "format": "date"},
        "inspection_report": {"type": "string", "description": "检测报告"}}},
      "Batch": {"type": "object", "properties": {
        "id": {"type": "string"}, "product_id": {"type": "string"}, "seller_id": {"type": "string"},
        "trace_code": {"type": "string"}, "trace_url": {"type": "string"}, "qr_svg": {"type": "string"}, "qr_png": {"type": "string"},
        "created_micros": {"type": "integer"}, "record": {"$ref": "#/components/schemas/TraceRecord"}}},
      "SubOrderRef": {"type": "object", "properties": {
        "sub_order_id": {"type": "string", "description": "Needed when the order has several sub-orders and the caller is not their seller"}}},
      "SalesStats": {"type": "object", "properties": {
        "group_by": {"type": "string"}, "total_amount_fen": {"type": "integer"},
        "rows": {"type": "array", "items": {"type": "object", "properties": {
          "seller_id": {"type": "string"}, "place_code": {"type": "string"}, "day": {"type": "string"},
          "amount_fen": {"type": "integer"}, "orders": {"type": "integer"}, "units": {"type": "integer"}}}}}}
    },
    "parameters": {
      "OrderId": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
      "TraceCode": {"name": "code", "in": "path", "required": true, "schema": {"type": "string"}}
    },
    "responses": {
      "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Order": {"description": "The order after the change", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}
    }
  },
  "paths": {
    "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics: requests and latency by route, events appended, projection lag", "responses": {"200": {"description": "text/plain"}}}},
    "/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3"}}}},
    "/v1/sellers": {"post": {"summary": "Register a seller (operator). The answer carries the seller's token, shown once.",
      "security": [{"bearer": []}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SellerInput"}}}},
      "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Seller"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"},
        "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/sellers/{id}": {"get": {"summary": "A seller", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "The seller", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Seller"}}}},
        "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/shoppers": {"post": {"summary": "Register a shopper; the answer carries its token, shown once.",
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}},
      "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Shopper"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}}}},
    "/v1/products": {"get": {"summary": "Browse and search products, from the catalog's indexes (public)",
      "parameters": [
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Words of the title; Chinese works (character n-grams), every word must appear"},
        {"name": "place_code", "in": "query", "schema": {"type": "string"}, "description": "Origin prefix: 14 (Shanxi), 1404, 140430 (Qin County)"},
        {"name": "seller_id", "in": "query", "schema": {"type": "string"}},
        {"name": "in_stock", "in": "query", "schema": {"type": "boolean"}},
        {"name": "brand", "in": "query", "schema": {"type": "string"}},
        {"name": "category", "in": "query", "schema": {"type": "string"}},
        {"name": "certification", "in": "query", "schema": {"type": "string"}, "description": "A certificate type valid today, e.g. organic"},
        {"name": "poverty_zone", "in": "query", "schema": {"type": "boolean"}, "description": "Only products of registered poor households"},
        {"name": "min_price_fen", "in": "query", "schema": {"type": "integer"}},
        {"name": "max_price_fen", "in": "query", "schema": {"type": "integer"}},
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["newest", "price_asc", "price_desc"], "default": "newest"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
      "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "products": {"type": "array", "items": {"$ref": "#/components/schemas/Product"}}, "next_cursor": {"type": "string", "nullable": true}}}}}},
        "422": {"$ref": "#/components/responses/Error"}}},
      "post": {"summary": "Create a product with its SKUs (the seller itself, or the operator)",
      "security": [{"bearer": []}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProductInput"}}}},
      "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Product"}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
        "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"},
        "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/products/{id}": {"get": {"summary": "A product with each SKU's current stock",
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "The product", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Product"}}}},
        "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/orders": {"get": {"summary": "List orders, newest first: a shopper's own, or a seller's (its sub-orders' orders); the operator names either", "security": [{"bearer": []}],
      "parameters": [
        {"name": "shopper_id", "in": "query", "schema": {"type": "string"}},
        {"name": "seller_id", "in": "query", "schema": {"type": "string"}},
        {"name": "status", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next_cursor of the previous page"}],
      "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "orders": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}, "next_cursor": {"type": "string", "nullable": true}}}}}},
        "403": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}},
      "post": {"summary": "Place an order. Waits (bounded) for the placement: 201 pending_payment (stock reserved, split per seller) or rejected; 202 pending if the wait ran out.",
      "security": [{"bearer": []}],
      "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 128},
        "description": "Retries with the same key and body return the same order; the same key with another body gets 409."}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrderInput"}}}},
      "responses": {"201": {"description": "Confirmed or rejected", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
        "202": {"description": "Still pending; poll GET /v1/orders/{id}"},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
        "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"},
        "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/products/{id}/batches": {"post": {"summary": "Register a batch (lot) of a product with its trace record; the answer carries its trace code and QR links (the product's seller or the operator)",
      "security": [{"bearer": []}],
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TraceRecord"}}}},
      "responses": {"201": {"description": "The batch", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}},
        "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
        "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/packs": {"get": {"summary": "Export a seller's catalogue as an NDJSON pack in the format POST /v1/packs takes; importing it changes nothing",
      "security": [{"bearer": []}],
      "parameters": [{"name": "seller_id", "in": "query", "schema": {"type": "string"}, "description": "Required for the operator"}],
      "responses": {"200": {"description": "application/x-ndjson, one product per line"}, "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}}},
      "post": {"summary": "Import a product data pack (数据包) as NDJSON, one product per line keyed by the seller's outer_id. Valid rows are created or updated (changed content only), unchanged rows write nothing, invalid rows are reported with their row and change nothing; the whole import is one atomic write. A row's stock sets the SKU's available stock.",
      "security": [{"bearer": []}],
      "parameters": [{"name": "seller_id", "in": "query", "schema": {"type": "string"}, "description": "Required for the operator"}],
      "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string",
        "description": "Lines like {\"outer_id\":\"QZH-001\",\"title\":\"沁州黄小米\",\"category\":\"grain\",\"certifications\":[…],\"skus\":[{\"spec\":\"500g\",\"price_fen\":2990,\"stock\":500}]} with the fields of ProductInput"}}}},
      "responses": {"200": {"description": "The import report", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "rows": {"type": "integer"}, "created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
          "rejected": {"type": "integer"}, "errors": {"type": "array", "items": {"type": "object", "properties": {
            "row": {"type": "integer"}, "message": {"type": "string", "description": "Starts with the field"}}}}}}}}},
        "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
        "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}}}},
    "/v1/trace/{code}": {"get": {"summary": "A trace record by its code (public)",
      "parameters": [{"$ref": "#/components/parameters/TraceCode"}],
      "responses": {"200": {"description": "Batch, product and seller", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "batch": {"$ref": "#/components/schemas/Batch"}, "product": {"type": "object"}, "seller": {"type": "object"}}}}}},
        "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/trace/{code}/qr.svg": {"get": {"summary": "The QR code of the trace page, SVG", "parameters": [{"$ref": "#/components/parameters/TraceCode"}],
      "responses": {"200": {"description": "image/svg+xml"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/trace/{code}/qr.png": {"get": {"summary": "The QR code of the trace page, PNG", "parameters": [{"$ref": "#/components/parameters/TraceCode"}],
      "responses": {"200": {"description": "image/png"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/trace/{code}": {"get": {"summary": "The trace page a phone opens from the QR code (plain HTML)", "parameters": [{"$ref": "#/components/parameters/TraceCode"}],
      "responses": {"200": {"description": "text/html"}, "404": {"description": "text/html"}}}},
    "/v1/orders/{id}/pay": {"post": {"summary": "Pay with the configured provider (the built-in one pays at once)", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/OrderId"}],
      "responses": {"200": {"$ref": "#/components/responses/Order"}, "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
    "/v1/orders/{id}/cancel": {"post": {"summary": "Cancel an unpaid order (shopper or operator); the stock is released", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/OrderId"}],
      "responses": {"200": {"$ref": "#/components/responses/Order"}, "404": {"$ref": "#/components/responses/Error"},
        "409": {"$ref": "#/components/responses/Error"}}}},
    "/v1/orders/{id}/ship": {"post": {"summary": "Ship a paid sub-order (its seller or the operator)", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/OrderId"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/SubOrderRef"},
        {"type": "object", "required": ["carrier", "tracking_no"], "properties": {"carrier": {"type": "string"}, "tracking_no": {"type": "string"}}}]}}}},
      "responses": {"200": {"$ref": "#/components/responses/Order"}, "404": {"$ref": "#/components/responses/Error"},
        "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/orders/{id}/deliver": {"post": {"summary": "Mark a shipped sub-order delivered (its seller or the operator)", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/OrderId"}],
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SubOrderRef"}}}},
      "responses": {"200": {"$ref": "#/components/responses/Order"}, "404": {"$ref": "#/components/responses/Error"},
        "409": {"$ref": "#/components/responses/Error"}}}},
    "/v1/orders/{id}/confirm": {"post": {"summary": "Confirm receipt (the shopper); without sub_order_id, of everything shipped. Done automatically N days after shipping.", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/OrderId"}],
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SubOrderRef"}}}},
      "responses": {"200": {"$ref": "#/components/responses/Order"}, "404": {"$ref": "#/components/responses/Error"},
        "409": {"$ref": "#/components/responses/Error"}}}},
    "/v1/orders/{id}/refunds": {"post": {"summary": "Ask for a refund: a whole sub-order, some lines, or an amount; with or without returning goods", "security": [{"bearer": []}],
      "parameters": [{"$ref": "#/components/parameters/OrderId"}],
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/SubOrderRef"},
        {"type": "object", "properties": {
          "items": {"type": "array", "items": {"type": "object", "properties": {"sku_id": {"type": "string"}, "quantity": {"type": "integer"}}}},
          "amount_fen": {"type": "integer", "description": "Default: the value of the items, or what is left on the sub-order"},
          "with_return": {"type": "boolean"}, "reason": {"type": "string"}}}]}}}},
      "responses": {"201": {"$ref": "#/components/responses/Order"}, "404": {"$ref": "#/components/responses/Error"},
        "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/refunds/{id}/approve": {"post": {"summary": "Approve a refund (the sub-order's seller or the operator); the money goes back and returned goods are restocked", "security": [{"bearer": []}],
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"$ref": "#/components/responses/Order"}, "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
    "/v1/refunds/{id}/reject": {"post": {"summary": "Reject a refund with a reason", "security": [{"bearer": []}],
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"reason": {"type": "string"}}}}}},
      "responses": {"200": {"$ref": "#/components/responses/Order"}, "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
    "/v1/payments/notify": {"post": {"summary": "A payment provider's notification. Signed: X-Pavilion-Signature: sha256=<hex HMAC-SHA256 of the raw body with the payment secret>. Idempotent by (provider, txn_id). A payment after an automatic cancel takes the stock again if it is there; otherwise it is recorded as refund_due.",
      "parameters": [{"name": "X-Pavilion-Signature", "in": "header", "required": true, "schema": {"type": "string"}}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["order_id", "txn_id", "amount_fen"], "properties": {
        "order_id": {"type": "string"}, "txn_id": {"type": "string"}, "amount_fen": {"type": "integer"}, "provider": {"type": "string", "default": "builtin"}}}}}},
      "responses": {"200": {"$ref": "#/components/responses/Order"}, "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
    "/v1/orders/{id}": {"get": {"summary": "An order with its sub-orders, payments, refunds and event history (its shopper, a seller with a sub-order in it, or the operator)",
      "security": [{"bearer": []}],
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
      "responses": {"200": {"description": "The order", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
        "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/v1/stats/sales": {"get": {"summary": "Confirmed sales per seller or per place (operator)",
      "security": [{"bearer": []}],
      "parameters": [
        {"name": "group_by", "in": "query", "schema": {"type": "string", "enum": ["seller", "place"], "default": "seller"}},
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "First business day (UTC+8), inclusive"},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "Last business day, inclusive"},
        {"name": "by_day", "in": "query", "schema": {"type": "boolean"}, "description": "One row per key and day"}],
      "responses": {"200": {"description": "Totals", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SalesStats"}}}},
        "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
        "422": {"$ref": "#/components/responses/Error"}}}}
  }
})JSON";
  return kDoc;
}

}  // namespace pavilion::gateway
