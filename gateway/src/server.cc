#include <utility>  // Before Asio: Boost 1.74 with GCC 12 needs it for awaitable.hpp.

#include "pavilion/gateway/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

namespace pavilion::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

void fail(beast::error_code ec, const char* what) {
  // Peers going away are routine; anything else is worth a line.
  if (ec == asio::error::operation_aborted || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == asio::error::eof ||
      ec == http::error::end_of_stream || ec == asio::error::broken_pipe) {
    return;
  }
  std::fprintf(stderr, "pavilion: %s: %s\n", what, ec.message().c_str());
}

class AsioTimers final : public Timers {
 public:
  explicit AsioTimers(asio::io_context& ioc) : ioc_(ioc) {}
  void After(int64_t millis, std::function<void()> fn) override {
    auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(millis));
    timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
      if (!ec) fn();
    });
  }

 private:
  asio::io_context& ioc_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Router& router, const ServerOptions& options)
      : stream_(std::move(socket)), router_(router), options_(options) {}

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    // The header is checked against the largest limit; OnHeader applies the route's own.
    parser_->body_limit(std::max<size_t>({options_.body_limit, options_.pack_body_limit, 8u << 20}));
    stream_.expires_after(std::chrono::milliseconds(options_.read_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // The body limit depends on the route: packs and images are larger than API calls.
  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnRead(ec, 0);
    auto beast_target = parser_->get().target();
    std::string_view target(beast_target.data(), beast_target.size());
    limit_ = target.substr(0, 9) == "/v1/packs"    ? std::max(options_.body_limit, options_.pack_body_limit)
             : target.substr(0, 10) == "/v1/images" ? std::max<size_t>(options_.body_limit, 8u << 20)
                                                   : options_.body_limit;
    parser_->body_limit(limit_);  // Chunked bodies.
    if (auto length = parser_->content_length(); length && *length > limit_) {
      return OnRead(http::error::body_limit, 0);
    }
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) return Close();
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      return Write(HttpResponse{413, "application/json",
                                R"({"error":{"code":"payload_too_large","message":"the body is )"
                                R"(larger than the server accepts; send at most )" +
                                    std::to_string(limit_) + R"( bytes"}})",
                                {}});
    }
    if (ec) return fail(ec, "read");
    stream_.expires_never();
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.authorization = std::string(msg[http::field::authorization]);
    req.content_type = std::string(msg[http::field::content_type]);
    req.idempotency_key = std::string(msg["Idempotency-Key"]);
    req.signature = std::string(msg["X-Pavilion-Signature"]);
    req.body = std::move(msg.body());
    router_.Handle(std::move(req), [self = shared_from_this()](HttpResponse r) {
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    });
  }

  void Write(HttpResponse r) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "pavilion");
    res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        self->OnWrite(ec);
                      });
  }

  void OnWrite(beast::error_code ec) {
    if (ec) return fail(ec, "write");
    if (!keep_alive_) return Close();
    Read();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Router& router_;
  const ServerOptions& options_;
  bool keep_alive_ = true;
  size_t limit_ = 0;
  unsigned version_ = 11;
};

}  // namespace

class Server::Impl {
 public:
  explicit Impl(ServerOptions options)
      : options_(options),
        ioc_(options.threads),
        acceptor_(ioc_),
        signals_(ioc_, SIGINT, SIGTERM),
        timers_(ioc_) {}

  Result<uint16_t> Listen(Router& router, const std::string& host, uint16_t port) {
    router_ = &router;
    beast::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return pavilion::Error{ec, "listen: bad address " + host};
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return pavilion::Error{ec, "listen on " + host + ":" + std::to_string(port) + ": " +
                                           ec.message()};
    Accept();
    return acceptor_.local_endpoint().port();
  }

  void Run() {
    signals_.async_wait([this](beast::error_code ec, int) {
      if (!ec) Stop();
    });
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
  }

  void Stop() { ioc_.stop(); }
  Timers& timers() { return timers_; }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        fail(ec, "accept");
        if (ec == asio::error::operation_aborted) return;
      } else {
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(s), *router_, options_)->Start();
      }
      Accept();
    });
  }

  Router* router_ = nullptr;
  ServerOptions options_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  AsioTimers timers_;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(options)) {}
Server::~Server() = default;
Result<uint16_t> Server::Listen(Router& router, const std::string& host, uint16_t port) {
  return impl_->Listen(router, host, port);
}
void Server::Run() { impl_->Run(); }
void Server::Stop() { impl_->Stop(); }
Timers& Server::timers() { return impl_->timers(); }

}  // namespace pavilion::gateway
