// The HTTP server against hostile and careless clients, over raw sockets to `pavilion serve` run
// as a child process: clients that pipeline without reading, that close mid-answer, that send
// oversized heads and bodies or malformed requests, too many connections, a descriptor limit
// reached; and what RFC 9110/9112 ask of every answer (HEAD, Date, 100-continue, gzip, nosniff).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../support/child_process.h"
#include "../support/http_client.h"
#include "../support/metrics.h"
#include "../support/serve_process.h"
#include "../support/temp_dir.h"
#include "pavilion/events/clock.h"

namespace pavilion {
namespace {

using testing::ChildProcess;
using testing::HttpClient;
using testing::MetricValue;
using testing::ServeProcess;
using namespace std::chrono_literals;

constexpr const char* kOperator = "http-test-operator-token-0123456789abcdef";

ServeProcess Serve(const std::string& dir, std::vector<std::string> extra) {
  extra.push_back("--no-demo");
  return ServeProcess(PAVILION_BIN, dir, kOperator, std::move(extra));
}

template <typename Fn>
bool Eventually(Fn fn, int64_t timeout_ms = 20'000) {
  const int64_t deadline = events::SystemClock::Instance().MonotonicMicros() / 1000 + timeout_ms;
  while (events::SystemClock::Instance().MonotonicMicros() / 1000 < deadline) {
    if (fn()) return true;
    poll(nullptr, 0, 20);
  }
  return fn();
}

// Bytes read past the answer last read, per socket: pipelined answers arrive together.
std::map<int, std::string>& Pending() {
  static std::map<int, std::string> pending;
  return pending;
}

int Connect(uint16_t port) {
  const int fd = testing::ConnectLoopback(port);
  Pending().erase(fd);
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t at = 0;
  while (at < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

struct Answer {
  int status = 0;
  std::string head;  // Status line and headers.
  std::string body;
  bool closed = false;  // The server closed the connection after it.
  bool reset = false;   // ... with a reset (ECONNRESET), not an orderly close.

  std::string Header(const std::string& name) const {
    const std::string key = "\r\n" + name + ": ";
    const size_t at = head.find(key);
    if (at == std::string::npos) return "";
    const size_t end = head.find("\r\n", at + key.size());
    return head.substr(at + key.size(), end - at - key.size());
  }
};

// Reads one answer from `fd` (its head, then Content-Length bytes unless `head_only`); with
// `to_close`, then reads until the server closes. Bounded by `timeout_ms` per read.
Answer ReadAnswer(int fd, bool head_only = false, bool to_close = false, int timeout_ms = 10'000) {
  Answer a;
  std::string& got = Pending()[fd];
  char buf[65536];
  auto more = [&]() {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
      a.closed = true;
      a.reset = n < 0 && errno == ECONNRESET;
      return false;
    }
    got.append(buf, static_cast<size_t>(n));
    return true;
  };
  size_t end;
  while ((end = got.find("\r\n\r\n")) == std::string::npos) {
    if (!more()) return a;
  }
  a.head = got.substr(0, end);
  if (a.head.compare(0, 7, "HTTP/1.") == 0) a.status = std::stoi(a.head.substr(9, 3));
  std::string length = a.Header("Content-Length");
  const size_t want = head_only || length.empty() ? 0 : std::stoul(length);
  while (got.size() < end + 4 + want) {
    if (!more()) break;
  }
  a.body = got.substr(end + 4, want);
  got.erase(0, std::min(got.size(), end + 4 + want));
  if (to_close) {
    while (!a.closed && more()) {
    }
  }
  return a;
}

int64_t Metric(const ServeProcess& server, const std::string& series) {
  HttpClient c = server.Client();
  return MetricValue(c.Get("/metrics").body, series);
}

// Resident memory of a process in KiB, from /proc.
int64_t ResidentKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// Pipelines up to `bytes` of GET /v1/openapi.json on each of `fds` without reading an answer,
// taking turns, as far as the server takes them: it ends once no socket has taken a byte for
// about a second (the server stopped reading and the socket buffers are full) or all is sent.
void PipelineWithoutReading(
    const std::vector<int>& fds, size_t bytes,
    const std::string& one = "GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n") {
  std::string all;
  while (all.size() < bytes) all += one;
  std::vector<size_t> at(fds.size(), 0);
  for (int fd : fds) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  for (int stalls = 0; stalls < 50;) {
    bool progress = false, pending = false;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (at[i] >= all.size()) continue;
      pending = true;
      const ssize_t n = send(fds[i], all.data() + at[i], all.size() - at[i], MSG_NOSIGNAL);
      if (n > 0) {
        at[i] += static_cast<size_t>(n);
        progress = true;
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        at[i] = all.size();  // The server closed it.
      }
    }
    if (!pending) break;
    stalls = progress ? 0 : stalls + 1;
    if (!progress) poll(nullptr, 0, 20);
  }
}

// A string field of a flat JSON answer ("id", "token", "ref"); empty when absent.
std::string Field(const std::string& json, const std::string& name) {
  const size_t key = json.find("\"" + name + "\":\"");
  if (key == std::string::npos) return "";
  const size_t at = key + name.size() + 4;
  return json.substr(at, json.find('"', at) - at);
}

// The token of a new seller the operator registers.
std::string SellerToken(HttpClient& client) {
  auto seller =
      client.Post("/v1/sellers", R"({"name":"沁县合作社","place_code":"140430"})", kOperator);
  EXPECT_EQ(seller.status, 201) << seller.body;
  return Field(seller.body, "token");
}

// Pipelines 64 × `get` on one connection without reading an answer; returns once the server
// has closed the connection and freed what it queued for it (or the bounds passed), and checks
// it still answers. `while_held` runs once the client has stopped sending.
void PipelineUntilClosed(
    const ServeProcess& server, const std::string& get,
    const std::function<void()>& while_held = [] {}) {
  const int64_t baseline = Metric(server, "pavilion_http_connections");
  const int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  PipelineWithoutReading({fd}, 64 * get.size(), get);
  while_held();
  EXPECT_TRUE(
      Eventually([&] { return Metric(server, "pavilion_http_connections") == baseline; }, 10'000))
      << Metric(server, "pavilion_http_connections");
  EXPECT_TRUE(Eventually([&] { return Metric(server, "pavilion_http_queued_bytes") == 0; }))
      << Metric(server, "pavilion_http_queued_bytes");
  close(fd);
  EXPECT_EQ(server.Client().Get("/healthz").status, 200);
}

// Finding 1: one connection pipelining GET /v1/openapi.json without reading took the server to
// 1 GB. Answers queued per connection are now bounded (reading stops until they drain), and a
// connection whose answers are not taken is closed after the read timeout.
TEST(Http, ClientsThatPipelineWithoutReadingAreBoundedAndClosed) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {"--read-timeout-ms", "500"});
  ASSERT_NE(server.port(), 0);
  const int64_t baseline = Metric(server, "pavilion_http_connections");
  const int64_t rss_before = ResidentKib(server.process().pid());
  constexpr int kClients = 8;
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    fds.push_back(Connect(server.port()));
    ASSERT_GE(fds.back(), 0);
  }
  PipelineWithoutReading(fds, 256 << 10);  // ~5,800 requests a client, 200 MB of answers.
  // Bounded: 1 MiB queued per connection, plus the answers in progress when reading stopped.
  const int64_t queued = Metric(server, "pavilion_http_queued_bytes");
  EXPECT_GE(queued, 0) << "no pavilion_http_queued_bytes in /metrics";
  EXPECT_LE(queued, int64_t{kClients} * (4 << 20));
  EXPECT_LE(ResidentKib(server.process().pid()) - rss_before, 300 * 1024);
  // Stalled writes time out: the server closes all of them while the clients still hold theirs.
  EXPECT_TRUE(Eventually([&] { return Metric(server, "pavilion_http_connections") == baseline; }))
      << Metric(server, "pavilion_http_connections");
  // Eventually: the answer to the previous /metrics may still be counted for a moment after its
  // client read it (the server's write handler runs after the bytes left).
  EXPECT_TRUE(Eventually([&] { return Metric(server, "pavilion_http_queued_bytes") == 0; }))
      << Metric(server, "pavilion_http_queued_bytes");
  for (int fd : fds) close(fd);
  // The server still answers.
  EXPECT_EQ(server.Client().Get("/healthz").status, 200);
}

// Found in review: reading stops at the queued-bytes bound, but the requests already in
// progress (up to the pipeline depth) still answer, and a client that pipelined 64 reads of a
// large image and took nothing had them all held for it (601 MB over four connections, kept
// until the read timeout). Past 16 times the bound the connection is closed and what it held is
// freed at once, long before the 30 s read timeout.
TEST(Http, PipelinedLargeAnswersNotTakenCloseTheConnection) {
  testing::TempDir dir;
  // Answers over 100 KB from the catalog's thread, 64 asked for at once: they arrive after
  // reading has gone on, past 16 × the bound of 64 KiB (the read timeout stays at 30 s).
  ServeProcess server = Serve(dir.str(), {"--max-queued-bytes", "65536"});
  ASSERT_NE(server.port(), 0);
  HttpClient client = server.Client();
  const std::string seller_token = SellerToken(client);
  ASSERT_FALSE(seller_token.empty());
  auto product =
      client.Post("/v1/products",
                  R"({"title":"沁州黄小米","description":")" + std::string(100'000, 'd') +
                      R"(","skus":[{"spec":"500g","price_fen":2990,"stock":5}]})",
                  seller_token);
  ASSERT_EQ(product.status, 201) << product.body;
  const std::string get =
      "GET /v1/products/" + Field(product.body, "id") + " HTTP/1.1\r\nHost: x\r\n\r\n";
  PipelineUntilClosed(server, get);
}

// Images are read on the connection's own thread (not the catalog's): each answer is queued
// before the next request is read, so reading stops at the bound and a client asking for 2 MiB
// images without reading holds one or two of them, never 64; its stalled write times out.
TEST(Http, PipelinedImageReadsNotTakenStayBounded) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {"--read-timeout-ms", "1000"});
  ASSERT_NE(server.port(), 0);
  HttpClient client = server.Client();
  const std::string seller_token = SellerToken(client);
  ASSERT_FALSE(seller_token.empty());
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png += std::string(2 << 20, 'p');
  auto image =
      client.Request("POST", "/v1/images", png, seller_token, {{"Content-Type", "image/png"}});
  ASSERT_EQ(image.status, 201) << image.body;
  const std::string get =
      "GET /v1/images/" + Field(image.body, "ref") + " HTTP/1.1\r\nHost: x\r\n\r\n";
  // 128 MiB of answers asked for; one or two images held.
  PipelineUntilClosed(
      server, get, [&] { EXPECT_LE(Metric(server, "pavilion_http_queued_bytes"), 3 * (2 << 20)); });
}

// Finding 2: 100 connections that pipelined 840 KB of GET /v1/openapi.json each without reading,
// then closed, stayed open for 15+ minutes: the server's send failed with ECONNRESET and nothing
// closed the socket. Now a write error (ECONNRESET, EPIPE) closes the socket at once: well
// before the 30 s read timeout. The clients close only once answers have reached every one of
// them (the server is writing to each, its writes stalled), as in the issue: on the old server
// all 100 then stayed open (closed sooner, before any answer was written, most were freed).
TEST(Http, ConnectionsClosedByHostileClientsAreFreed) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {});  // The read timeout stays at 30 s.
  ASSERT_NE(server.port(), 0);
  const int64_t baseline = Metric(server, "pavilion_http_connections");
  constexpr int kClients = 100;
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    fds.push_back(Connect(server.port()));
    ASSERT_GE(fds.back(), 0);
  }
  PipelineWithoutReading(fds, 840 << 10);
  EXPECT_EQ(Metric(server, "pavilion_http_connections"), baseline + kClients);
  // Answers are waiting, unread, on every client socket.
  EXPECT_TRUE(Eventually([&] {
    for (int fd : fds) {
      int unread = 0;
      if (ioctl(fd, FIONREAD, &unread) != 0 || unread == 0) return false;
    }
    return true;
  }));
  for (int fd : fds) close(fd);  // With answers unread: the kernel resets the connections.
  EXPECT_TRUE(
      Eventually([&] { return Metric(server, "pavilion_http_connections") == baseline; }, 10'000))
      << Metric(server, "pavilion_http_connections");
  // Eventually: the answer to the previous /metrics may still be counted for a moment after its
  // client read it (the server's write handler runs after the bytes left).
  EXPECT_TRUE(Eventually([&] { return Metric(server, "pavilion_http_queued_bytes") == 0; }))
      << Metric(server, "pavilion_http_queued_bytes");
}

// Finding 7, first half: past --max-connections a new connection is answered 503 with
// Retry-After and closed; once one goes, a new one is served.
TEST(Http, ConnectionsPastTheCapAreRefusedPolitely) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {"--max-connections", "3"});
  ASSERT_NE(server.port(), 0);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(Connect(server.port()));
    ASSERT_GE(held.back(), 0);
  }
  ASSERT_TRUE(Eventually([&] {
    int fd = Connect(server.port());
    SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    Answer a = ReadAnswer(fd, false, true);
    close(fd);
    return a.status == 503;
  }));
  int fd = Connect(server.port());
  ASSERT_TRUE(SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  Answer refused = ReadAnswer(fd, false, true);
  close(fd);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.Header("Retry-After"), "1");
  EXPECT_NE(refused.body.find("too_many_connections"), std::string::npos) << refused.body;
  EXPECT_TRUE(refused.closed);
  for (int h : held) close(h);
  EXPECT_TRUE(Eventually([&] {
    int c = Connect(server.port());
    SendAll(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    Answer a = ReadAnswer(c, false, true);
    close(c);
    return a.status == 200;
  }));
}

// Finding 7, second half: at the descriptor limit the accept loop spun at 100 % of a core logging
// "Too many open files" 527,000 times a second. It now pauses on a timer and logs once per
// pause; freed descriptors let it serve again.
TEST(Http, OutOfDescriptorsTheAcceptLoopBacksOff) {
  testing::TempDir dir;
  const std::string log = dir.str() + "/stderr";
  ChildProcess proc({"/bin/sh", "-c",
                     "ulimit -n 64 && exec \"$0\" serve --data-dir \"$1\" --listen 127.0.0.1:0 "
                     "--no-demo --max-connections 1000 2>\"$2\"",
                     PAVILION_BIN, dir.str(), log},
                    {{"PAVILION_OPERATOR_TOKEN", kOperator}});
  auto line = proc.WaitForLine("listening on http://", 60s);
  ASSERT_TRUE(line);
  const auto port = static_cast<uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  auto read_log = [&log] {
    std::ifstream in(log);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  std::vector<int> fds;
  for (int i = 0; i < 80; ++i) {
    int fd = Connect(port);  // Completed by the kernel's backlog even when not accepted.
    if (fd >= 0) fds.push_back(fd);
  }
  ASSERT_TRUE(Eventually([&] { return read_log().find("pausing accepts") != std::string::npos; }))
      << read_log();
  poll(nullptr, 0, 300);  // Held at the limit a while: a spinning loop would log thousands.
  const std::string during = read_log();
  EXPECT_EQ(count(during, "Too many open files"), 1u) << during.substr(0, 2000);
  for (int fd : fds) close(fd);
  EXPECT_TRUE(Eventually([&] {
    int fd = Connect(port);
    SendAll(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    Answer a = ReadAnswer(fd, false, true, 2'000);
    close(fd);
    return a.status == 200;
  }));
  EXPECT_NE(read_log().find("accepting connections again"), std::string::npos) << read_log();
}

// Finding 6 (the HTTP part): an anonymous 200 MiB pack upload was read whole before the 401. The
// head decides it: 401 at once, the body not read (the server stops after a bounded linger).
TEST(Http, AnonymousUploadsAreRefusedBeforeTheBodyIsRead) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {});
  ASSERT_NE(server.port(), 0);
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  const size_t total = size_t{200} << 20;
  ASSERT_TRUE(SendAll(fd,
                      "POST /v1/packs HTTP/1.1\r\nHost: x\r\nContent-Type: application/zip\r\n"
                      "Content-Length: " +
                          std::to_string(total) + "\r\n\r\n"));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  const std::string chunk(1 << 16, 'z');
  size_t sent = 0;
  std::string got;
  char buf[4096];
  for (int rounds = 0; rounds < 100'000 && sent < total; ++rounds) {
    pollfd p{fd, POLLIN | POLLOUT, 0};
    if (poll(&p, 1, 10'000) != 1) break;
    if (p.revents & POLLIN) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
      if (got.find("\r\n\r\n") != std::string::npos) break;
    } else if (p.revents & POLLOUT) {
      ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    } else {
      break;
    }
  }
  close(fd);
  EXPECT_EQ(got.compare(0, 12, "HTTP/1.1 401"), 0) << got.substr(0, 200);
  EXPECT_LT(sent, total / 4);  // The server stopped taking it long before the end.
  // With Expect: 100-continue the refusal comes instead of the 100.
  fd = Connect(server.port());
  ASSERT_TRUE(SendAll(fd,
                      "POST /v1/packs HTTP/1.1\r\nHost: x\r\nContent-Type: application/zip\r\n"
                      "Expect: 100-continue\r\nContent-Length: 209715200\r\n\r\n"));
  Answer a = ReadAnswer(fd, false, true);
  close(fd);
  EXPECT_EQ(a.status, 401);
  EXPECT_TRUE(a.closed);
}

// Expect: 100-continue is answered before the body is read (curl waited a second on every pack
// upload).
TEST(Http, ExpectContinueIsAnswered) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {});
  ASSERT_NE(server.port(), 0);
  int fd = Connect(server.port());
  const std::string body = R"({"name":"x"})";
  ASSERT_TRUE(SendAll(fd,
                      "POST /v1/shoppers HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n"));
  Answer interim = ReadAnswer(fd, true);
  EXPECT_EQ(interim.status, 100) << interim.head;
  ASSERT_TRUE(SendAll(fd, body));
  Answer final_answer = ReadAnswer(fd);
  EXPECT_EQ(final_answer.status, 201) << final_answer.head;
  close(fd);
}

// A client that sends an oversized body reads the 413 instead of a connection reset: the server
// answers from the head, then reads and throws away what the client still sends (up to 8 MiB,
// 2 s) before closing. The body (7 MiB) is more than the socket buffers hold while the server
// does not read (the client's send buffer grows to 4 MiB, tcp_wmem; the server's receive buffer
// stays near its initial 128 KiB, tcp_rmem), so the client is still sending when the 413 comes.
// The old server closed at once with the body unread: the kernel reset the connection and the
// client's send failed with ECONNRESET/EPIPE (a 3 MiB body fitted in the buffers and passed).
TEST(Http, OversizedBodiesGetA413NotAReset) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {});
  ASSERT_NE(server.port(), 0);
  const std::string body(7 << 20, 'x');
  for (int i = 0; i < 3; ++i) {
    int fd = Connect(server.port());
    ASSERT_GE(fd, 0);
    // Written whole before reading, as a simple client does.
    const bool sent = SendAll(fd,
                              "POST /v1/shoppers HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              "application/json\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_TRUE(sent) << i << ": " << std::strerror(errno);
    Answer a = ReadAnswer(fd, false, true);
    close(fd);
    EXPECT_EQ(a.status, 413) << i;
    EXPECT_NE(a.body.find("payload_too_large"), std::string::npos) << a.body;
    EXPECT_TRUE(a.closed) << i;
    EXPECT_FALSE(a.reset) << i;
  }
}

// 414, 431 and 400 instead of a silent close; the connection then closes.
TEST(Http, UnparsableRequestsGetAnAnswer) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {});
  ASSERT_NE(server.port(), 0);
  auto ask = [&](const std::string& request) {
    int fd = Connect(server.port());
    SendAll(fd, request);
    Answer a = ReadAnswer(fd, false, true);
    close(fd);
    return a;
  };
  Answer uri =
      ask("GET /v1/products?q=" + std::string(20'000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(uri.status, 414) << uri.head;
  EXPECT_NE(uri.body.find("target_too_long"), std::string::npos);
  EXPECT_TRUE(uri.closed);
  std::string headers;
  for (int i = 0; i < 200; ++i)
    headers += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'h') + "\r\n";
  Answer big = ask("GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n");
  EXPECT_EQ(big.status, 431) << big.head;
  EXPECT_NE(big.body.find("headers_too_large"), std::string::npos);
  // One header line alone over the limit is the head's fault, not the target's (found in review:
  // answered 414).
  Answer one_long =
      ask("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'h') + "\r\n\r\n");
  EXPECT_EQ(one_long.status, 431) << one_long.head;
  // RFC 9112 §6.1: a transfer coding the server does not understand is 501, not a body read as
  // if it were plain (found in review: "gzip, chunked" was read as chunked).
  Answer coded =
      ask("POST /v1/shoppers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(coded.status, 501) << coded.head;
  EXPECT_NE(coded.body.find("not_implemented"), std::string::npos) << coded.body;
  EXPECT_NE(coded.body.find("Transfer-Encoding"), std::string::npos) << coded.body;
  Answer chunked =
      ask("POST /v1/shoppers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 201) << chunked.head << chunked.body;
  Answer no_host = ask("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(no_host.status, 400) << no_host.head;
  EXPECT_NE(no_host.body.find("Host"), std::string::npos) << no_host.body;
  EXPECT_TRUE(no_host.closed);
  EXPECT_EQ(ask("GET /healthz HTTP/1.0\r\n\r\n").status, 200);  // HTTP/1.0 needs no Host.
  // RFC 9112 §3.2.2: a server accepts the absolute form proxies are sent (found in review: 404).
  EXPECT_EQ(ask("GET http://x/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status,
            200);
  Answer products =
      ask("GET http://x:8080/v1/products?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(products.status, 200) << products.body;
  EXPECT_NE(products.body.find("\"products\""), std::string::npos) << products.body;
  // RFC 9110 §9.3.7: OPTIONS * asks about the server (found in review: 404).
  Answer server_wide = ask("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(server_wide.status, 204) << server_wide.head;
  EXPECT_EQ(server_wide.Header("Allow"), "GET, HEAD, POST, PUT, DELETE, OPTIONS")
      << server_wide.head;
  EXPECT_EQ(ask("GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status, 404);
  // RFC 9112 §3.2: two Host headers are a bad request (found in review: answered 200).
  Answer two_hosts = ask("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_EQ(two_hosts.status, 400) << two_hosts.head;
  EXPECT_NE(two_hosts.body.find("Host: send it once"), std::string::npos) << two_hosts.body;
  Answer garbage = ask("GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
  EXPECT_EQ(garbage.status, 400) << garbage.head;
  EXPECT_NE(garbage.body.find("malformed_request"), std::string::npos) << garbage.body;
  EXPECT_TRUE(garbage.closed);
  EXPECT_EQ(ask("POST /v1/shoppers HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\n").status, 400);
}

// HEAD, Date, nosniff, CSP and gzip as they reach a client.
TEST(Http, EveryAnswerCarriesWhatClientsAndProxiesExpect) {
  testing::TempDir dir;
  ServeProcess server = Serve(dir.str(), {"--cors-origin", "https://shop.example"});
  ASSERT_NE(server.port(), 0);
  int fd = Connect(server.port());
  // HEAD then GET on one keep-alive connection: the HEAD's answer has no body, so the GET's
  // answer is read right after it.
  ASSERT_TRUE(SendAll(fd,
                      "HEAD /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"));
  Answer head = ReadAnswer(fd, true);
  Answer get = ReadAnswer(fd);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), std::to_string(get.body.size()));
  EXPECT_EQ(get.body.front(), '{');
  // Compressible, though not asked (and with CORS configured, per origin too).
  EXPECT_NE(get.head.find("\r\nVary: Accept-Encoding"), std::string::npos) << get.head;
  EXPECT_NE(get.head.find("\r\nVary: Origin"), std::string::npos) << get.head;
  for (const Answer* a : {&head, &get}) {
    EXPECT_EQ(a->Header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(a->Header("Date").size(), 29u)
        << a->Header("Date");  // "Sun, 06 Nov 1994 08:49:37 GMT"
  }
  // gzip when asked, for bodies worth it; small API answers are sent as they are.
  ASSERT_TRUE(
      SendAll(fd,
              "GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip\r\n\r\n"
              "GET /healthz HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
              "GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0\r\n\r\n"));
  Answer zipped = ReadAnswer(fd);
  Answer small = ReadAnswer(fd);
  Answer refused_gzip = ReadAnswer(fd);
  EXPECT_EQ(zipped.Header("Content-Encoding"), "gzip");
  EXPECT_LT(zipped.body.size(), get.body.size() / 3);
  std::string inflated(get.body.size() + 16, '\0');
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(zipped.body.data());
  z.avail_in = static_cast<uInt>(zipped.body.size());
  z.next_out = reinterpret_cast<Bytef*>(inflated.data());
  z.avail_out = static_cast<uInt>(inflated.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  inflated.resize(z.total_out);
  inflateEnd(&z);
  EXPECT_EQ(inflated, get.body);
  EXPECT_EQ(small.Header("Content-Encoding"), "");
  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(refused_gzip.Header("Content-Encoding"), "");
  // CORS through the flag: the configured origin only.
  ASSERT_TRUE(SendAll(fd,
                      "OPTIONS /v1/orders HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\n"
                      "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: "
                      "authorization, content-type\r\n\r\n"
                      "GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n"));
  Answer preflight = ReadAnswer(fd);
  Answer other = ReadAnswer(fd);
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Origin"), "https://shop.example");
  EXPECT_NE(preflight.Header("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  EXPECT_EQ(other.Header("Access-Control-Allow-Origin"), "");
  // The trace page (HTML) carries a content security policy.
  ASSERT_TRUE(SendAll(fd, "GET /trace/NOPE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  Answer page = ReadAnswer(fd, false, true);
  EXPECT_EQ(page.status, 404);
  EXPECT_NE(page.Header("Content-Security-Policy").find("default-src 'none'"), std::string::npos)
      << page.head;
  close(fd);
}

// A client that took the gzip answer holds the gzip form's ETag ("…-gz"); asking again with it
// gets 304 naming that form, as a client that took the plain answer gets 304 with the plain one.
TEST(Http, ConditionalRequestsMatchTheRepresentationTheClientHolds) {
  testing::TempDir dir;
  ServeProcess server(PAVILION_BIN, dir.str(), kOperator, {});  // With the demo pavilion.
  ASSERT_NE(server.port(), 0);
  int fd = Connect(server.port());
  ASSERT_TRUE(SendAll(fd, "GET /v1/products?limit=50 HTTP/1.1\r\nHost: x\r\n\r\n"));
  Answer list = ReadAnswer(fd);
  ASSERT_EQ(list.status, 200) << list.body;
  Answer zipped, plain;
  std::string path;
  for (size_t at = 0; (at = list.body.find("\"id\":\"prd_", at)) != std::string::npos;) {
    at += 6;
    path = "/v1/products/" + list.body.substr(at, list.body.find('"', at) - at);
    ASSERT_TRUE(
        SendAll(fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"));
    zipped = ReadAnswer(fd);
    if (zipped.Header("Content-Encoding") == "gzip") break;
  }
  ASSERT_EQ(zipped.Header("Content-Encoding"), "gzip") << "no demo product answer is over 1 KiB";
  ASSERT_TRUE(SendAll(fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  plain = ReadAnswer(fd);
  const std::string gz_tag = zipped.Header("ETag"), plain_tag = plain.Header("ETag");
  ASSERT_FALSE(plain_tag.empty());
  EXPECT_EQ(gz_tag, plain_tag.substr(0, plain_tag.size() - 1) + "-gz\"");
  ASSERT_TRUE(SendAll(fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n" +
                              "If-None-Match: " + gz_tag + "\r\n\r\n"));
  Answer again_zipped = ReadAnswer(fd);
  EXPECT_EQ(again_zipped.status, 304) << again_zipped.head;
  EXPECT_EQ(again_zipped.Header("ETag"), gz_tag);
  EXPECT_TRUE(again_zipped.body.empty());
  // RFC 9110 §15.4.5: the 304 carries the Vary its 200 would (found in review: none).
  EXPECT_NE(again_zipped.head.find("\r\nVary: Accept-Encoding"), std::string::npos)
      << again_zipped.head;
  // A client no longer accepting gzip but holding the gzip form's tag gets the plain body, not a
  // 304 for a representation it cannot read (found in review: 304).
  ASSERT_TRUE(
      SendAll(fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + gz_tag + "\r\n\r\n"));
  Answer no_longer_gzip = ReadAnswer(fd);
  EXPECT_EQ(no_longer_gzip.status, 200) << no_longer_gzip.head;
  EXPECT_EQ(no_longer_gzip.Header("Content-Encoding"), "");
  EXPECT_EQ(no_longer_gzip.body, plain.body);
  ASSERT_TRUE(SendAll(
      fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\nIf-None-Match: W/" + plain_tag + "\r\n\r\n"));
  Answer again_plain = ReadAnswer(fd);
  EXPECT_EQ(again_plain.status, 304) << again_plain.head;
  EXPECT_EQ(again_plain.Header("ETag"), plain_tag);
  ASSERT_TRUE(
      SendAll(fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"other\"\r\n\r\n"));
  EXPECT_EQ(ReadAnswer(fd).status, 200);
  close(fd);
}

}  // namespace
}  // namespace pavilion
