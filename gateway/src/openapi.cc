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
      "ProductInput": {"type": "object", "required": ["title", "skus"], "properties": {
        "seller_id": {"type": "string", "description": "Required for the operator; a seller's own id by default"},
        "title": {"type": "string", "maxLength": 300},
        "skus": {"type": "array", "minItems": 1, "maxItems": 200, "items": {"$ref": "#/components/schemas/SkuInput"}}}},
      "Sku": {"type": "object", "properties": {
        "id": {"type": "string"}, "spec": {"type": "string"}, "price_fen": {"type": "integer"},
        "stock": {"type": "integer", "description": "Units available to order"},
        "reserved": {"type": "integer", "description": "Units held by orders"}}},
      "Product": {"type": "object", "properties": {
        "id": {"type": "string"}, "seller_id": {"type": "string"}, "title": {"type": "string"},
        "place_code": {"type": "string"}, "created_micros": {"type": "integer"},
        "skus": {"type": "array", "items": {"$ref": "#/components/schemas/Sku"}}}},
      "OrderInput": {"type": "object", "required": ["items"], "properties": {
        "shopper_id": {"type": "string", "description": "Required for the operator; the shopper's own id by default"},
        "items": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "object",
          "required": ["sku_id", "quantity"], "properties": {
            "sku_id": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000}}}}}},
      "Order": {"type": "object", "properties": {
        "id": {"type": "string"}, "shopper_id": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "confirmed", "rejected"]},
        "total_fen": {"type": "integer"}, "created_micros": {"type": "integer"}, "updated_micros": {"type": "integer"},
        "lines": {"type": "array", "items": {"type": "object", "properties": {
          "sku_id": {"type": "string"}, "quantity": {"type": "integer"},
          "status": {"type": "string", "enum": ["pending", "reserved", "rejected"]},
          "reason": {"type": "string", "enum": ["unknown_sku", "insufficient_stock"]},
          "product_id": {"type": "string"}, "seller_id": {"type": "string"}, "place_code": {"type": "string"},
          "unit_price_fen": {"type": "integer"}, "amount_fen": {"type": "integer"}}}}}},
      "SalesStats": {"type": "object", "properties": {
        "group_by": {"type": "string"}, "total_amount_fen": {"type": "integer"},
        "rows": {"type": "array", "items": {"type": "object", "properties": {
          "seller_id": {"type": "string"}, "place_code": {"type": "string"}, "day": {"type": "string"},
          "amount_fen": {"type": "integer"}, "orders": {"type": "integer"}, "units": {"type": "integer"}}}}}}
    },
    "responses": {
      "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
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
    "/v1/products": {"post": {"summary": "Create a product with its SKUs (the seller itself, or the operator)",
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
    "/v1/orders": {"post": {"summary": "Place an order. Waits (bounded) for the outcome: 201 confirmed or rejected; 202 pending if the wait ran out.",
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
    "/v1/orders/{id}": {"get": {"summary": "An order (its shopper, a seller with a line in it, or the operator)",
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
