// Views: the JSON the API answers with for its resources (products, sellers, orders, batches and
// trace records), written with base::JsonWriter straight from the services' structs.
//
// Field names and values are the API's contract (the OpenAPI document describes them); the
// services' structs are never serialized as they are. An order's view is rendered off the order
// service's thread (OrderResponse), so it must only read the order it is given. Stateless and
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "pavilion/base/json_writer.h"
#include "pavilion/catalog/catalog_service.h"
#include "pavilion/gateway/router.h"
#include "pavilion/order/order_service.h"
#include "pavilion/settlement/sales.h"

namespace pavilion::gateway {

HttpResponse JsonResponse(int status, std::string body);

// `today` (YYYY-MM-DD, UTC+8) decides which certificates are still claims. `place_name`: the
// full name of the place code (Context::PlaceName), empty when unknown.
std::string ProductJson(const catalog::Product& p, const std::string& today,
                        std::string_view place_name);
// `token` only in the answer that registers the seller.
std::string SellerJson(const catalog::Seller& s, const std::string* token,
                       std::string_view place_name);
// A sales projection's totals, as GET /v1/stats/sales writes them (into a begun object).
void WriteSalesTotals(base::JsonWriter& w, const settlement::SalesTotals& t);
// The same fields as SellerJson, into an object the caller has begun (and may add to).
void WriteSellerFields(base::JsonWriter& w, const catalog::Seller& s, const std::string* token,
                       std::string_view place_name);

void WriteOrder(base::JsonWriter& w, const order::Order& o);
std::string OrderJson(const order::Order& o);
// An order answered by the order service, on its thread: the JSON is rendered by whoever writes
// the response (the connection's thread), so the thread every order goes through only moves it.
HttpResponse OrderResponse(int status, order::Order o);

// A batch with its trace links; `public_url` is where the trace page is reached.
void WriteBatch(base::JsonWriter& w, const catalog::Batch& b, std::string_view public_url);

}  // namespace pavilion::gateway
