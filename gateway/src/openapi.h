// The OpenAPI document in two parts: what is written by hand in openapi.cc (summaries, parameters,
// bodies, the answers particular to a route) and what openapi_complete.cc derives from the route
// table when the document is first asked for, so a new route cannot forget it: each operation's
// operationId, its security (none for a public route, the bearer token otherwise) and the error
// answers every route of its kind can give (401/403 with roles, 400/413/415 with a body, 404 with
// a path parameter, 422 for refused query parameters, 405, 500). What the hand-written part says
// wins: it is only completed, never overwritten. Immutable once built: thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

// The hand-written document (openapi.cc).
std::string_view HandWrittenOpenApi();

// `hand` completed from `routes` as described above. Throws std::invalid_argument when `hand` is
// not JSON or two operations end up with one operationId: a programmer's error, which the
// gateway's tests catch.
std::string CompleteOpenApi(std::string_view hand, const std::vector<RouteInfo>& routes);

}  // namespace pavilion::gateway
