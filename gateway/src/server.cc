#include "pavilion/gateway/server.h"

#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
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
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <thread>
#include <utility>  // Boost 1.74 with GCC 12 needs it before Asio; server.h includes it first.
#include <vector>

#include "body.h"
#include "errors.h"
#include "rate_limiter.h"

namespace pavilion::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A request line (method, target, version) longer than this is answered 414; the whole head is
// limited to kHeaderLimit (431).
constexpr size_t kMaxTarget = 4096;
constexpr uint32_t kHeaderLimit = 8192;

void fail(beast::error_code ec, const char* what) {
  // Peers going away are routine; anything else is worth a line.
  if (ec == asio::error::operation_aborted || ec == beast::error::timeout ||
      ec == asio::error::connection_reset || ec == asio::error::eof ||
      ec == http::error::end_of_stream || ec == asio::error::broken_pipe ||
      ec == asio::error::bad_descriptor || ec == http::error::partial_message) {
    return;  // A client that leaves mid-request is a peer going away too (one line each would
             // let any client fill the log).
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

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

// What the answer to one request depends on besides the response itself.
struct Exchange {
  unsigned version = 11;
  bool keep_alive = false;
  bool head = false;  // HEAD: the GET's headers, no body.
  bool gzip = false;  // Accept-Encoding allows gzip.
};

// The Date header's value, formatted once per second per thread (RFC 9110 §6.6.1). The coarse
// clock is read from the vDSO: no system call.
std::string_view HttpDate() {
  thread_local time_t formatted = -1;
  thread_local char text[40];
  thread_local size_t length = 0;
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != formatted) {
    tm parts{};
    gmtime_r(&now.tv_sec, &parts);
    length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    formatted = now.tv_sec;
  }
  return {text, length};
}

// Compresses `body` as gzip into a buffer of this thread; null if zlib fails. The deflate state
// is kept per thread and reset, not rebuilt, for each answer.
const std::string* Gzip(std::string_view body) {
  struct Deflater {
    Deflater() { ok = deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK; }
    ~Deflater() {
      if (ok) deflateEnd(&z);
    }
    z_stream z{};
    bool ok = false;
    std::string out;
  };
  thread_local Deflater d;
  if (!d.ok || deflateReset(&d.z) != Z_OK) return nullptr;
  d.out.resize(deflateBound(&d.z, static_cast<uLong>(body.size())));
  d.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  d.z.avail_in = static_cast<uInt>(body.size());
  d.z.next_out = reinterpret_cast<Bytef*>(d.out.data());
  d.z.avail_out = static_cast<uInt>(d.out.size());
  if (deflate(&d.z, Z_FINISH) != Z_STREAM_END) return nullptr;
  d.out.resize(d.z.total_out);
  return &d.out;
}

// A request target as the router reads it: the absolute form a client sends to a proxy (RFC 9112
// §3.2.2, "http://host/path?q", which a server must accept) becomes its path and query; the
// origin form ("/path?q") and the asterisk form ("*", OPTIONS) stay as they are.
std::string OriginForm(std::string_view target) {
  if (target.empty() || target.front() == '/' || target == "*") return std::string(target);
  const size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return std::string(target);
  const std::string_view rest = target.substr(scheme + 3);
  const size_t path = rest.find_first_of("/?");
  if (path == std::string_view::npos) return "/";
  if (rest[path] == '?') return "/" + std::string(rest.substr(path));
  return std::string(rest.substr(path));
}

// Whether a Transfer-Encoding value is exactly "chunked" (case-insensitive, spaces around).
bool IsChunked(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return beast::iequals(beast::string_view(value.data(), value.size()), "chunked");
}

// Appends one response's bytes: status line, headers, body. Connection headers as Beast's
// keep_alive() sets them (HTTP/1.1 says close; HTTP/1.0 says keep-alive). 1xx, 204 and 304 carry
// no body and no Content-Length; HEAD carries the GET's Content-Length and no body.
void AppendResponse(HttpResponse& r, const Exchange& x, std::string& out) {
  const bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
  std::string_view body = r.Body();
  // Compressible bodies worth it vary with Accept-Encoding, whether this one asked or not.
  const bool varies = !bodiless && VariesByEncoding(body.size(), r.content_type);
  const std::string* zipped = varies && x.gzip ? Gzip(body) : nullptr;
  if (zipped != nullptr) body = *zipped;
  const auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
  out.append(x.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(r.status)).append(" ").append(reason.data(), reason.size());
  out.append("\r\nServer: pavilion\r\nDate: ").append(HttpDate());
  out.append("\r\nX-Content-Type-Options: nosniff");
  if (!r.content_type.empty()) {
    out.append("\r\nContent-Type: ").append(r.content_type);
    // The trace page is plain HTML with inline style: nothing else may load or run in it.
    if (MediaTypeIs(r.content_type, "text/html")) {
      out.append(
          "\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
          "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    }
  }
  for (const auto& [k, v] : r.headers) {
    out.append("\r\n").append(k).append(": ");
    // The gzip body is another representation: its strong ETag differs (W/-free "…-gz").
    if (zipped != nullptr && k == "ETag" && v.size() >= 2 && v.back() == '"') {
      out.append(v, 0, v.size() - 1).append("-gz\"");
    } else {
      out.append(v);
    }
  }
  if (varies) out.append("\r\nVary: Accept-Encoding");
  if (zipped != nullptr) out.append("\r\nContent-Encoding: gzip");
  if (!bodiless) out.append("\r\nContent-Length: ").append(std::to_string(body.size()));
  if (!x.keep_alive && x.version != 10) out.append("\r\nConnection: close");
  if (x.keep_alive && x.version == 10) out.append("\r\nConnection: keep-alive");
  out.append("\r\n\r\n");
  if (!bodiless && !x.head) out.append(body);
}

// What the server counts over all connections, for /metrics.
struct Counters {
  std::atomic<int64_t> open{0};
  std::atomic<int64_t> queued{0};
};

// One connection. Requests are read and handed to the router as they arrive, up to
// `pipeline_depth` at once and while fewer than `max_queued_bytes` of answers wait for the client
// to take them: a client that pipelines (sends requests without waiting for the answers) has them
// all in progress together, and one that never reads stops being read. Answers are written in
// request order, as HTTP/1.1 requires; those ready together go out in one write. Any read or
// write error closes the socket at once; the session ends when its last handler returns.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `counted`: a connection served (in Counters::open); a refused one is not.
  Session(tcp::socket&& socket, Router& router, const ServerOptions& options, Counters& counters,
          bool counted)
      : socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        router_(router),
        options_(options),
        counters_(counters),
        counted_(counted) {
    if (counted_) counters_.open.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    if (!ec) peer_ = RateLimiter::ClientKey(remote.address().to_string());
  }
  ~Session() {
    if (counted_) counters_.open.fetch_sub(1, std::memory_order_relaxed);
    counters_.queued.fetch_sub(static_cast<int64_t>(queued_), std::memory_order_relaxed);
  }

  void Start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->WatchIdle();
      self->Read();
    });
  }

  // Over the connection cap: 503 with Retry-After, then a lingering close.
  void TurnAway() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      HttpResponse r = ErrorResponse(
          kTooManyConnections, "the server has as many connections as it serves; retry shortly");
      r.headers.emplace_back("Retry-After", "1");
      self->Refuse(Exchange{}, std::move(r));
    });
  }

 private:
  // Reads the next request unless the connection is closing, enough are in progress, or enough
  // answers wait for the client to read them.
  void Read() {
    if (reading_ || closing_ || in_flight_ >= options_.pipeline_depth ||
        queued_ >= options_.max_queued_bytes) {
      return;
    }
    reading_ = true;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // The header is checked against the largest limit; OnHeader applies the route's own.
    parser_->body_limit(
        std::max<size_t>({options_.body_limit, options_.pack_body_limit, 8u << 20}));
    http::async_read_header(socket_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // A connection that is reading with nothing in progress, or writing, is closed when it makes
  // no progress for the read timeout: an idle client, one that sends half a request and stops,
  // or one that stops reading its answers. One timer per connection, armed when it opens and
  // re-armed only when it fires; requests read and bytes written just count as activity (no
  // clock read, no timer system call, where arming and cancelling a timer per request cost
  // two). A connection found waiting on its client at two firings in a row with no activity
  // between them is closed: after between one and two timeouts of silence. The handler holds
  // the session weakly, so a closed connection goes at once.
  void WatchIdle() {
    idle_timer_.expires_after(std::chrono::milliseconds(options_.read_timeout_ms));
    idle_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || !self->socket_.is_open() || self->lingering_) return;
      const bool waiting = self->writing_ || (self->reading_ && self->in_flight_ == 0);
      if (waiting && self->activity_ == self->activity_seen_) {
        return self->CloseNow();  // Fails the pending read or write; the session then ends.
      }
      self->activity_seen_ = self->activity_;
      self->WatchIdle();
    });
  }

  size_t LimitOf(BodyKind kind) const {
    switch (kind) {
      case BodyKind::kPack:
        return std::max(options_.body_limit, options_.pack_body_limit);
      case BodyKind::kImage:
        return std::max<size_t>(options_.body_limit, 8u << 20);
      default:
        return options_.body_limit;
    }
  }

  // The request's head as the router reads it (no body).
  void Fill(const http::request<http::string_body>& msg, HttpRequest& req) const {
    req.method = std::string(msg.method_string());
    req.target = OriginForm(View(msg.target()));
    req.authorization = std::string(msg[http::field::authorization]);
    req.content_type = std::string(msg[http::field::content_type]);
    req.idempotency_key = std::string(msg["Idempotency-Key"]);
    req.signature = std::string(msg["X-Pavilion-Signature"]);
    if (auto it = msg.find(http::field::origin); it != msg.end()) req.origin = View(it->value());
    if (auto it = msg.find(http::field::if_none_match); it != msg.end()) {
      req.if_none_match = View(it->value());
    }
    if (auto it = msg.find(http::field::accept_encoding); it != msg.end()) {
      req.accepts_gzip = AcceptsGzip(View(it->value()));
    }
    req.peer = peer_;
  }

  // What can be known from the head is decided before the body is read: a request refused
  // anyway (an unknown route, a missing or wrong token, a media type the route does not read, a
  // body over its limit) is answered without reading its body. Small bodies already read with
  // the head go straight to the router, which checks the same things: the hot path asks once.
  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnRead(ec, 0);
    auto& msg = parser_->get();
    Exchange x{msg.version(), msg.keep_alive(), msg.method() == http::verb::head, false};
    if (msg.target().size() > kMaxTarget) return Refuse(x, TargetTooLong());
    if (x.version >= 11 && msg.find(http::field::host) == msg.end()) {
      return Refuse(x, ErrorResponse(kInvalidHeader,
                                     "Host: required on HTTP/1.1 requests; send the host name "
                                     "the server is reached by"));
    }
    if (msg.count(http::field::host) > 1) {  // RFC 9112 §3.2: more than one is a bad request.
      return Refuse(x, ErrorResponse(kInvalidHeader, "Host: send it once"));
    }
    // RFC 9112 §6.1: a transfer coding the server does not know is 501. Only "chunked" is known
    // here; taking "gzip, chunked" as chunked would read a compressed body as the JSON itself.
    if (auto te = msg.find(http::field::transfer_encoding); te != msg.end()) {
      if (msg.count(http::field::transfer_encoding) > 1 || !IsChunked(View(te->value()))) {
        return Refuse(x, ErrorResponse(kNotImplemented,
                                       "Transfer-Encoding: only chunked is understood; send the "
                                       "body as it is, with Content-Length or chunked"));
      }
    }
    const auto length = parser_->content_length();
    const bool chunked = parser_->chunked();
    const bool has_body = chunked || (length && *length > 0);
    // An HTTP/1.0 client does not know 100 Continue and must not be sent one (RFC 9110 §10.1.1).
    const bool expect =
        has_body && x.version >= 11 && beast::iequals(msg[http::field::expect], "100-continue");
    size_t limit = options_.body_limit;
    if (has_body && (expect || chunked || *length > limit || *length > buffer_.size())) {
      HttpRequest head;
      Fill(msg, head);
      HeadCheck check = router_.CheckHead(head, true);
      if (check.refusal) return Refuse(x, std::move(*check.refusal), /*counted=*/true);
      limit = LimitOf(check.body);
    }
    if (length && *length > limit) return Refuse(x, TooLarge(limit));
    limit_ = limit;
    parser_->body_limit(limit);  // Chunked bodies.
    // 100 Continue goes out only with nothing before it to answer: interim answers keep the
    // order of requests. A client pipelining behind an Expect waits for its own timer instead.
    if (expect && in_flight_ == 0) {
      Enqueue("HTTP/1.1 100 Continue\r\n\r\n");
      Write();
    }
    exchange_ = x;
    http::async_read(socket_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  static HttpResponse TargetTooLong() {
    return ErrorResponse(kTargetTooLong, "the request target is longer than " +
                                             std::to_string(kMaxTarget) +
                                             " bytes; send the parameters in fewer bytes");
  }

  static HttpResponse TooLarge(size_t limit) {
    return ErrorResponse(kPayloadTooLarge,
                         "the body is larger than the server accepts; send at most " +
                             std::to_string(limit) + " bytes");
  }

  void OnRead(beast::error_code ec, size_t) {
    reading_ = false;
    ++activity_;
    if (ec == http::error::end_of_stream) {
      closing_ = true;  // The client sent all it will; answer what is in progress, then close.
      MaybeClose();
      return;
    }
    if (ec == http::error::body_limit) return Refuse(exchange_, TooLarge(limit_));
    if (ec == http::error::header_limit) {
      // Which part is too long: the parser consumes the request line and each whole header line
      // as it goes (so the buffer shows only the rest); no target yet means the request line
      // itself did not end within the limit.
      if (parser_->get().target().empty()) return Refuse({}, TargetTooLong());
      return Refuse({},
                    ErrorResponse(kHeadersTooLarge, "the request's headers are larger than " +
                                                        std::to_string(kHeaderLimit) +
                                                        " bytes; send fewer or shorter headers"));
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message) {
      return Refuse(
          {}, ErrorResponse(kMalformedRequest, std::string("the request is not valid HTTP/1.1 (") +
                                                   ec.message() + "); send a well-formed request"));
    }
    if (ec) {
      fail(ec, "read");
      return CloseNow();
    }
    auto& msg = parser_->get();
    Exchange x = exchange_;
    if (!x.keep_alive) closing_ = true;  // Nothing after this request is read.
    HttpRequest req;
    Fill(msg, req);
    x.gzip = req.accepts_gzip;
    req.body = std::move(msg.body());
    const uint64_t seq = next_seq_++;
    ++in_flight_;
    router_.Handle(std::move(req), [self = shared_from_this(), seq, x](HttpResponse r) {
      asio::post(self->socket_.get_executor(), [self, seq, x, r = std::move(r)]() mutable {
        self->Answer(seq, x, std::move(r));
      });
    });
    Read();
  }

  // Answers a request whose body is not read; the connection then closes, lingering. The
  // router counts the answers it makes; the server counts its own.
  void Refuse(Exchange x, HttpResponse r, bool counted = false) {
    if (!counted) router_.CountResponse(r.status);
    reading_ = false;
    ++activity_;
    closing_ = true;
    linger_ = true;
    x.keep_alive = false;
    const uint64_t seq = next_seq_++;
    ++in_flight_;
    Answer(seq, x, std::move(r));
  }

  void Enqueue(std::string_view bytes) {
    out_.append(bytes);
    Count(static_cast<int64_t>(bytes.size()));
  }
  void Count(int64_t bytes) {
    queued_ = static_cast<size_t>(static_cast<int64_t>(queued_) + bytes);
    counters_.queued.fetch_add(bytes, std::memory_order_relaxed);
  }

  // Reading stops at max_queued_bytes, but the requests already in progress still answer: a
  // client that pipelined large reads and takes nothing would have them all held for it. Past
  // kHoardFactor times the bound, with answers waiting behind the one being sent, the
  // connection is closed and what it held freed. One large answer alone (a catalog export) is
  // not hoarding: it is sent as fast as the client takes it.
  static constexpr size_t kHoardFactor = 16;
  bool CloseIfHoarding() {
    const bool waiting_behind = !ready_.empty() || (writing_ && !out_.empty());
    if (!waiting_behind || queued_ <= options_.max_queued_bytes * kHoardFactor) return false;
    CloseNow();
    return true;
  }

  // Queues the answer to request `seq`; writes every answer whose turn has come.
  void Answer(uint64_t seq, Exchange x, HttpResponse r) {
    if (!socket_.is_open()) return;  // Closed on an error or a timeout: nobody to answer.
    if (seq != next_to_write_) {     // An earlier answer is still to come: this one waits.
      std::string bytes;
      AppendResponse(r, x, bytes);
      Count(static_cast<int64_t>(bytes.size()));
      ready_.emplace(seq, std::move(bytes));
      CloseIfHoarding();
      return;
    }
    const size_t before = out_.size();
    AppendResponse(r, x, out_);
    Count(static_cast<int64_t>(out_.size() - before));
    ++next_to_write_;
    --in_flight_;
    for (auto it = ready_.begin(); it != ready_.end() && it->first == next_to_write_;
         it = ready_.erase(it)) {
      out_.append(it->second);
      ++next_to_write_;
      --in_flight_;
    }
    if (CloseIfHoarding()) return;
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
    if (writing_ || out_.empty() || !socket_.is_open()) return;
    writing_ = true;
    std::swap(writing_buf_, out_);
    out_.clear();
    written_ = 0;
    WriteSome();
  }

  // Writes piece by piece, each piece progress the idle timer sees: a client that takes its
  // answers slowly is served, one that takes nothing is closed.
  void WriteSome() {
    socket_.async_write_some(
        asio::buffer(writing_buf_.data() + written_, writing_buf_.size() - written_),
        beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t n) {
    if (ec) {
      writing_ = false;
      fail(ec, "write");
      return CloseNow();
    }
    written_ += n;
    Count(-static_cast<int64_t>(n));
    ++activity_;
    if (written_ < writing_buf_.size()) {
      Read();  // Resumes reading once the queued answers are under the bound.
      return WriteSome();
    }
    writing_ = false;
    // One large answer does not keep its buffer for the connection's life.
    if (writing_buf_.capacity() > options_.max_queued_bytes) std::string().swap(writing_buf_);
    if (!out_.empty()) return Write();
    if (MaybeClose()) return;
    Read();  // Reading had stopped at the pipeline depth or the queued bytes.
  }

  // Once closing and everything in progress is answered and written: half-close, or linger.
  bool MaybeClose() {
    if (!closing_ || in_flight_ > 0 || writing_ || write_scheduled_ || !out_.empty())
      return closing_;
    if (linger_) return Linger(), true;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    return true;
  }

  // A lingering close (RFC 9112 §9.6): the answer is sent and the sending side shut; what the
  // client still sends (the body that was not read) is read and thrown away, for a bounded time
  // and number of bytes, so that closing does not reset the connection before the client has
  // read the answer.
  void Linger() {
    if (lingering_ || !socket_.is_open()) return;
    lingering_ = true;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    linger_timer_.emplace(
        socket_.get_executor(),
        std::chrono::milliseconds(std::min(options_.linger_ms, options_.read_timeout_ms)));
    // Weakly held, as the idle timer: the drain's read keeps the session; the timer only ends it.
    linger_timer_->async_wait([weak = weak_from_this()](beast::error_code e) {
      if (auto self = weak.lock(); !e && self) self->CloseNow();
    });
    buffer_.clear();
    drain_.resize(16 * 1024);
    Drain();
  }

  void Drain() {
    socket_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ >= self->options_.linger_bytes) {
                                return self->CloseNow();  // The client closed, or sent enough.
                              }
                              self->Drain();
                            });
  }

  void CloseNow() {
    closing_ = true;
    beast::error_code ignored;
    socket_.close(ignored);
    if (linger_timer_) linger_timer_->cancel();
    // Nobody will read what is queued: free it now, not when the last request in progress
    // answers (a write in flight keeps its buffer until it fails).
    for (const auto& [seq, bytes] : ready_) Count(-static_cast<int64_t>(bytes.size()));
    Count(-static_cast<int64_t>(out_.size()));
    std::map<uint64_t, std::string>().swap(ready_);
    std::string().swap(out_);
  }

  tcp::socket socket_;
  asio::steady_timer idle_timer_;
  uint64_t activity_ = 0;       // Requests read and bytes written.
  uint64_t activity_seen_ = 0;  // activity_ when the idle timer last fired.
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Router& router_;
  const ServerOptions& options_;
  Counters& counters_;
  const bool counted_;
  size_t limit_ = 0;
  Exchange exchange_;  // The request whose body is being read.
  bool reading_ = false, writing_ = false, write_scheduled_ = false, closing_ = false;
  bool linger_ = false, lingering_ = false;
  size_t in_flight_ = 0;  // Requests read and not yet answered.
  uint64_t next_seq_ = 0, next_to_write_ = 0;
  std::map<uint64_t, std::string> ready_;  // Answers waiting for an earlier one.
  std::string out_, writing_buf_;
  size_t written_ = 0;  // Bytes of writing_buf_ sent.
  size_t queued_ = 0;   // Bytes in ready_, out_ and writing_buf_ not yet sent.
  std::string peer_;    // The client's address as limits count it (ClientKey), read once.
  std::optional<asio::steady_timer> linger_timer_;
  std::string drain_;  // Where a lingering close throws what it reads.
  size_t drained_ = 0;
};

// The cap on connections when none is set: what RLIMIT_NOFILE allows, less room for RocksDB's
// files, the log and the listening socket.
size_t DefaultMaxConnections() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 10'000;
  const auto soft = static_cast<size_t>(limit.rlim_cur);
  return soft > 512 ? soft - 256 : std::max<size_t>(soft / 2, 1);
}

bool OutOfDescriptors(const beast::error_code& ec) {
  if (ec.category() != asio::error::get_system_category()) return false;
  return ec.value() == EMFILE || ec.value() == ENFILE || ec.value() == ENOBUFS ||
         ec.value() == ENOMEM;
}

}  // namespace

class Server::Impl {
 public:
  explicit Impl(ServerOptions options)
      : options_(WithDefaults(options)),
        ioc_(options.threads),
        acceptor_(ioc_),
        accept_timer_(ioc_),
        signals_(ioc_, SIGINT, SIGTERM),
        timers_(ioc_) {}

  static ServerOptions WithDefaults(ServerOptions options) {
    if (options.max_connections == 0) options.max_connections = DefaultMaxConnections();
    return options;
  }

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
  int64_t open_connections() const { return counters_.open.load(std::memory_order_relaxed); }
  int64_t queued_bytes() const { return counters_.queued.load(std::memory_order_relaxed); }
  size_t max_connections() const { return options_.max_connections; }

 private:
  // Accepts the next connection. Over the cap it is answered 503 and closed; when descriptors
  // run out (EMFILE, ENFILE) accepting pauses on a timer, doubling up to a second while they
  // stay out, with one line in the log per pause rather than one per attempt: the connection
  // waits in the listen backlog meanwhile.
  void Accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (OutOfDescriptors(ec)) return BackOff(ec);
      if (ec) {
        fail(ec, "accept");
      } else {
        if (paused_attempts_ > 0) {
          std::fprintf(stderr, "pavilion: accepting connections again\n");
          paused_attempts_ = 0;
          pause_ms_ = kFirstPauseMs;
        }
        s.set_option(tcp::no_delay(true), ec);
        const bool over = static_cast<size_t>(open_connections()) >= options_.max_connections;
        auto session =
            std::make_shared<Session>(std::move(s), *router_, options_, counters_, !over);
        if (over) {
          session->TurnAway();
        } else {
          session->Start();
        }
      }
      Accept();
    });
  }

  void BackOff(beast::error_code ec) {
    if (paused_attempts_++ == 0) {
      std::fprintf(stderr,
                   "pavilion: accept: %s (%lld connections open); pausing accepts until "
                   "descriptors are free\n",
                   ec.message().c_str(), static_cast<long long>(open_connections()));
    }
    accept_timer_.expires_after(std::chrono::milliseconds(pause_ms_));
    pause_ms_ = std::min<int64_t>(pause_ms_ * 2, 1'000);
    accept_timer_.async_wait([this](beast::error_code e) {
      if (!e) Accept();
    });
  }

  static constexpr int64_t kFirstPauseMs = 50;
  Router* router_ = nullptr;
  ServerOptions options_;
  Counters counters_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;
  asio::signal_set signals_;
  AsioTimers timers_;
  int64_t paused_attempts_ = 0;  // Accepts refused for want of descriptors since the last success.
  int64_t pause_ms_ = kFirstPauseMs;
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
int64_t Server::queued_bytes() const { return impl_->queued_bytes(); }
size_t Server::max_connections() const { return impl_->max_connections(); }

}  // namespace pavilion::gateway
