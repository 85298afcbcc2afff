// Fuzz target: request bodies through the real Router and services (in memory). Every input
// must get exactly one well-formed answer; none may crash the server.
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <string>

#include "../support/in_process.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/router.h"

namespace {

using namespace pavilion;

class NoTimers final : public gateway::Timers {
 public:
  void After(int64_t, std::function<void()>) override {}
};

struct World {
  World()
      : identity(p.kv()),
        router({*p.catalog, *p.orders, *p.settlement, *p.store}, identity, timers) {
    (void)identity.Register("op", gateway::Principal{Role::kOperator, ""});
  }
  testing::InProcess p;
  gateway::Identity identity;
  NoTimers timers;
  gateway::Router router;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();  // One world for the whole run, like a live server.
  static const char* kTargets[] = {"/v1/orders", "/v1/products", "/v1/sellers", "/v1/shoppers"};
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  gateway::HttpRequest req{"POST", kTargets[data[0] % 4], "Bearer op", "application/json", "", body,
                           ""};
  std::promise<gateway::HttpResponse> done;
  auto f = done.get_future();
  world->router.Handle(std::move(req),
                       [&done](gateway::HttpResponse r) { done.set_value(std::move(r)); });
  // Orders wait for their outcome, which the in-memory services deliver promptly.
  auto r = f.get();
  if (r.status < 200 || r.status > 599 || r.Body().empty()) __builtin_trap();
  return 0;
}
