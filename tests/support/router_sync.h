// AnswerOf: one request through a Router, waited for, its body rendered — for router tests that
// need the whole answer (status, headers, body) on the test's thread; JsonRequest builds one.
#pragma once

#include <future>
#include <string>
#include <utility>

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

// A request as a client sends one: a JSON body, a bearer token when given, from `peer`.
inline gateway::HttpRequest JsonRequest(std::string method, std::string target,
                                        std::string body = "", const std::string& token = "",
                                        std::string peer = "192.0.2.1") {
  gateway::HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  if (!token.empty()) req.authorization = "Bearer " + token;
  req.content_type = "application/json";
  req.body = std::move(body);
  req.peer = std::move(peer);
  return req;
}

}  // namespace pavilion::testing
