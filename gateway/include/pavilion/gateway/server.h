// Server: the HTTP/1.1 front of the Router on Boost.Beast.
//
// Keep-alive connections, one strand per connection, HTTP/1.1 pipelining (up to
// `pipeline_depth` requests of a connection in progress at once, answered in request order,
// answers ready together sent in one write), an explicit body limit (413), a read timeout that
// closes idle or slow connections and stalled writes, a bound on the answers queued per
// connection (past it the server stops reading until they drain), a cap on connections (503
// past it) with an accept loop that backs off when descriptors run out, and one fail() path for
// connection errors: any read or write error closes the socket. What RFC 9110/9112 ask of a
// server is done here: HEAD answered without a body, Date, 100-continue, 400/414/431 for what
// cannot be parsed, a lingering close after a refusal so the client reads it, gzip when asked.
// Asio types stay in server.cc.
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
  // Bytes of answers one connection may have queued (written to it but not yet taken by the
  // client) before the server stops reading its requests.
  size_t max_queued_bytes = 1u << 20;
  // Connections served at once; past it a new one is answered 503 and closed. 0: from the
  // descriptor limit (RLIMIT_NOFILE), leaving room for the database's files.
  size_t max_connections = 0;
  // After refusing a request whose body is not read (401, 413, …), the server stops sending and
  // reads and discards what the client still sends, at most this long and this much, so the
  // client reads the answer instead of a connection reset.
  int64_t linger_ms = 2'000;
  size_t linger_bytes = 8u << 20;
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
  // Bytes of answers queued on every connection together, not yet taken by their clients.
  int64_t queued_bytes() const;
  // The connection cap in force (max_connections, or the one derived from RLIMIT_NOFILE).
  size_t max_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pavilion::gateway
