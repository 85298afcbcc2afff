#include "pavilion/gateway/server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <map>
#include <optional>
#include <thread>
#include <utility>  // Boost 1.74 with GCC 12 needs it before Asio; server.h includes it first.
#include <vector>

#include "errors.h"

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

// Appends one response's bytes: status line, headers, body. Connection headers as Beast's
// keep_alive() sets them (HTTP/1.1 says close; HTTP/1.0 says keep-alive).
void AppendResponse(HttpResponse& r, unsigned version, bool keep_alive, std::string& out) {
  const std::string& body = r.Body();
  const auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(r.status)).append(" ").append(reason.data(), reason.size());
  out.append("\r\nServer: pavilion\r\nContent-Type: ").append(r.content_type);
  for (const auto& [k, v] : r.headers) out.append("\r\n").append(k).append(": ").append(v);
  out.append("\r\nContent-Length: ").append(std::to_string(body.size()));
  if (!keep_alive && version != 10) out.append("\r\nConnection: close");
  if (keep_alive && version == 10) out.append("\r\nConnection: keep-alive");
  out.append("\r\n\r\n").append(body);
}

// One connection. Requests are read and handed to the router as they arrive, up to
// `pipeline_depth` at once: a client that pipelines (sends requests without waiting for the
// answers) has them all in progress together. Answers are written in request order, as HTTP/1.1
// requires; those ready together go out in one write.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Router& router, const ServerOptions& options,
          std::atomic<int64_t>& open)
      : socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        router_(router),
        options_(options),
        open_(open) {
    open_.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    if (!ec) peer_ = remote.address().to_string();
  }
  ~Session() { open_.fetch_sub(1, std::memory_order_relaxed); }

  void Start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->WatchIdle();
      self->Read();
    });
  }

 private:
  // Reads the next request unless the connection is closing or enough are in progress.
  void Read() {
    if (reading_ || closing_ || in_flight_ >= options_.pipeline_depth) return;
    reading_ = true;
    parser_.emplace();
    // The header is checked against the largest limit; OnHeader applies the route's own.
    parser_->body_limit(
        std::max<size_t>({options_.body_limit, options_.pack_body_limit, 8u << 20}));
    http::async_read_header(socket_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // A connection that is reading with nothing in progress is closed after the read timeout: an
  // idle client, or one that sends half a request and stops. One timer per connection, armed
  // when it opens and re-armed only when it fires; requests and answers just count as activity
  // (no clock read, no timer system call, where arming and cancelling a timer per request cost
  // two). A connection found idle at two firings in a row with no activity between them is
  // closed: after between one and two timeouts of silence. The handler holds the session
  // weakly, so a closed connection goes at once.
  void WatchIdle() {
    idle_timer_.expires_after(std::chrono::milliseconds(options_.read_timeout_ms));
    idle_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || !self->socket_.is_open()) return;
      const bool idle = self->reading_ && self->in_flight_ == 0 && !self->writing_;
      if (idle && self->activity_ == self->activity_seen_) {
        beast::error_code ignored;
        self->socket_.close(ignored);  // Fails the pending read; the session then ends.
        return;
      }
      self->activity_seen_ = self->activity_;
      self->WatchIdle();
    });
  }

  // The body limit depends on the route: packs and images are larger than API calls.
  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnRead(ec, 0);
    auto beast_target = parser_->get().target();
    std::string_view target(beast_target.data(), beast_target.size());
    limit_ =
        target.substr(0, 9) == "/v1/packs" ? std::max(options_.body_limit, options_.pack_body_limit)
        : target.substr(0, 10) == "/v1/images" ? std::max<size_t>(options_.body_limit, 8u << 20)
                                               : options_.body_limit;
    parser_->body_limit(limit_);  // Chunked bodies.
    if (auto length = parser_->content_length(); length && *length > limit_) {
      return OnRead(http::error::body_limit, 0);
    }
    http::async_read(socket_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    reading_ = false;
    ++activity_;
    if (ec == http::error::end_of_stream) {
      closing_ = true;  // The client sent all it will; answer what is in progress, then close.
      MaybeClose();
      return;
    }
    if (ec == http::error::body_limit) {
      closing_ = true;
      router_.CountResponse(413);
      const uint64_t seq = next_seq_++;
      ++in_flight_;
      return Answer(seq, 11, false,
                    ErrorResponse(kPayloadTooLarge,
                                  "the body is larger than the server accepts; send at most " +
                                      std::to_string(limit_) + " bytes"));
    }
    if (ec) {
      closing_ = true;
      return fail(ec, "read");
    }
    auto& msg = parser_->get();
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    if (!keep_alive) closing_ = true;  // Nothing after this request is read.
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.authorization = std::string(msg[http::field::authorization]);
    req.content_type = std::string(msg[http::field::content_type]);
    req.idempotency_key = std::string(msg["Idempotency-Key"]);
    req.signature = std::string(msg["X-Pavilion-Signature"]);
    req.body = std::move(msg.body());
    req.peer = peer_;
    const uint64_t seq = next_seq_++;
    ++in_flight_;
    router_.Handle(std::move(req),
                   [self = shared_from_this(), seq, version, keep_alive](HttpResponse r) {
                     asio::post(self->socket_.get_executor(),
                                [self, seq, version, keep_alive, r = std::move(r)]() mutable {
                                  self->Answer(seq, version, keep_alive, std::move(r));
                                });
                   });
    Read();
  }

  // Queues the answer to request `seq`; writes every answer whose turn has come.
  void Answer(uint64_t seq, unsigned version, bool keep_alive, HttpResponse r) {
    if (seq != next_to_write_) {  // An earlier answer is still to come: this one waits.
      std::string bytes;
      AppendResponse(r, version, keep_alive, bytes);
      ready_.emplace(seq, std::move(bytes));
      return;
    }
    AppendResponse(r, version, keep_alive, out_);
    ++next_to_write_;
    --in_flight_;
    for (auto it = ready_.begin(); it != ready_.end() && it->first == next_to_write_;
         it = ready_.erase(it)) {
      out_.append(it->second);
      ++next_to_write_;
      --in_flight_;
    }
    // With more answers to come, not at once: answers of one group commit arrive as a burst of
    // tasks on this strand; the write waits until those already queued have added theirs, so
    // they share one send.
    if (in_flight_ == 0) return Write();
    if (write_scheduled_ || writing_ || out_.empty()) return;
    write_scheduled_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->write_scheduled_ = false;
      self->Write();
    });
  }

  void Write() {
    if (writing_ || out_.empty()) return;
    writing_ = true;
    std::swap(writing_buf_, out_);
    out_.clear();
    asio::async_write(socket_, asio::buffer(writing_buf_),
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    writing_ = false;
    if (ec) {
      closing_ = true;
      return fail(ec, "write");
    }
    if (!out_.empty()) return Write();
    if (MaybeClose()) return;
    ++activity_;
    if (!reading_) Read();  // Reading had stopped at the pipeline depth.
  }

  // Once closing and everything in progress is answered and written: half-close.
  bool MaybeClose() {
    if (!closing_ || in_flight_ > 0 || writing_ || write_scheduled_ || !out_.empty())
      return closing_;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    return true;
  }

  tcp::socket socket_;
  asio::steady_timer idle_timer_;
  uint64_t activity_ = 0;       // Requests read and answers written.
  uint64_t activity_seen_ = 0;  // activity_ when the idle timer last fired.
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Router& router_;
  const ServerOptions& options_;
  std::atomic<int64_t>& open_;  // The server's count of sessions alive.
  size_t limit_ = 0;
  bool reading_ = false, writing_ = false, write_scheduled_ = false, closing_ = false;
  size_t in_flight_ = 0;  // Requests read and not yet answered.
  uint64_t next_seq_ = 0, next_to_write_ = 0;
  std::map<uint64_t, std::string> ready_;  // Answers waiting for an earlier one.
  std::string out_, writing_buf_;
  std::string peer_;  // The client's address, read once.
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
    if (ec)
      return pavilion::Error{
          ec, "listen on " + host + ":" + std::to_string(port) + ": " + ec.message()};
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
  int64_t open_connections() const { return open_.load(std::memory_order_relaxed); }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        fail(ec, "accept");
        if (ec == asio::error::operation_aborted) return;
      } else {
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(s), *router_, options_, open_)->Start();
      }
      Accept();
    });
  }

  Router* router_ = nullptr;
  ServerOptions options_;
  std::atomic<int64_t> open_{0};
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
int64_t Server::open_connections() const { return impl_->open_connections(); }

}  // namespace pavilion::gateway
