// AnswerOf: one request through a Router, waited for, its body rendered — for router tests that
// need the whole answer (status, headers, body) on the test's thread.
#pragma once

#include <future>

#include "pavilion/gateway/router.h"

namespace pavilion::testing {

inline gateway::HttpResponse AnswerOf(gateway::Router& router, gateway::HttpRequest req) {
  std::promise<gateway::HttpResponse> done;
  auto answered = done.get_future();
  router.Handle(std::move(req), [&done](gateway::HttpResponse r) { done.set_value(std::move(r)); });
  gateway::HttpResponse r = answered.get();
  r.Body();
  return r;
}

}  // namespace pavilion::testing
