// Server: the HTTP/1.1 front of the Router on Boost.Beast.
//
// Keep-alive connections, one strand per connection, HTTP/1.1 pipelining (up to
// `pipeline_depth` requests of a connection in progress at once, answered in request order,
// answers ready together sent in one write), an explicit body limit (413), a read timeout that
// closes idle or slow connections, and one fail() path for connection errors. Asio types stay in
// server.cc.
// The Router is built with timers(), then handed to Listen.
// Thread-safety: Listen before Run; Stop may be called from any thread or a signal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pavilion/gateway/router.h"

namespace pavilion::gateway {

struct ServerOptions {
  int threads = 2;
  size_t body_limit = 1u << 20;
  size_t pack_body_limit = 256u << 20;  // POST /v1/packs (zipped packs with images).
  int64_t read_timeout_ms = 30'000;
  // Requests of one connection in progress at once; past it the server reads no further until
  // answers go out (the client's sends then wait in the socket buffers).
  size_t pipeline_depth = 64;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // Binds host:port (port 0 picks a free one), serves `router` there, returns the bound port.
  Result<uint16_t> Listen(Router& router, const std::string& host, uint16_t port);
  // Serves until Stop() or SIGINT/SIGTERM; returns when all threads are done.
  void Run();
  void Stop();
  Timers& timers();
  // Connections open now (sessions alive), for /metrics.
  int64_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::gateway
