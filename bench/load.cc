// pavilion-load: a load generator for `pavilion serve`.
//
// Opens N keep-alive connections, each with its own shopper, and sends POST /v1/orders (or
// GET /healthz) back to back for a bounded duration, then prints throughput and latency
// percentiles. Setup (a seller, products, shoppers) goes through the public API with the
// operator token.
//
//   pavilion-load --target 127.0.0.1:8080 --token T --connections 64 --duration 10
//                 [--mode orders|healthz] [--skus 1000 | --hot-stock 100000] [--threads 1]
//                 [--shoppers N]   (default: one per connection)
//                 [--pipeline D]   (requests in flight per connection, default 1: HTTP/1.1
//                                   pipelining past 1; latency is from queueing to answer)
//                 [--requests N]   (stop after N requests, or at the duration if sooner)
//                 [--rate R]       (open loop: R requests a second in all, each connection on
//                                   its own fixed schedule whatever the answers; latency is from
//                                   the scheduled time, so a slow answer delays no measurement)
//                 [--tick-us T]    (open loop: each thread wakes at most once every T µs,
//                                   default 500, and sends what is due by then; a request sent
//                                   late by up to T µs counts that against its latency)
//                 [--timeline 1]   (also print, for each second of the run, the answers that
//                                   arrived in it with their p50, p99 and slowest: a stall shows
//                                   as the second it happened in)
//
// Besides throughput and latency it prints how busy the machine was over the run (all cores,
// from /proc/stat) and the CPU time that cost per request: with the load generator on the same
// machine, a tail that grows while the machine is nearly busy is queueing, not a stall.
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string token;
  std::string mode = "orders";
  int connections = 64;
  int shoppers = 0;  // 0: one per connection. More spread a flash sale under the hold cap.
  int threads = 1;
  int pipeline = 1;  // Requests in flight per connection (HTTP/1.1 pipelining past 1).
  double duration_s = 10;
  int skus = 1000;
  int64_t hot_stock = 0;  // > 0: one hot SKU with this stock (a flash sale).
  int64_t requests = 0;   // > 0: send no more than this many in all.
  double rate = 0;        // > 0: requests a second in all, on a fixed schedule (open loop).
  int64_t tick_us = 500;  // --rate: the shortest sleep of a thread's ticker.
  bool timeline = false;  // Per-second latency lines as well (--timeline 1).
};

// What is left of --requests, shared by every connection (unused without it).
std::atomic<int64_t> requests_left{0};
Clock::time_point run_start;

[[noreturn]] void Die(const std::string& m) {
  std::fprintf(stderr, "pavilion-load: %s\n", m.c_str());
  std::exit(2);
}

http::response<http::string_body> Call(const Options& o, http::verb verb, const std::string& target,
                                       const std::string& body, const std::string& token) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  tcp::resolver resolver(ioc);
  stream.connect(resolver.resolve(o.host, o.port));
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, o.host);
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res);
  return res;
}

std::string JsonString(const std::string& json, const char* key) {
  simdjson::dom::parser p;
  std::string_view v;
  if (p.parse(json)[key].get(v)) Die("unexpected answer: " + json);
  return std::string(v);
}

struct Setup {
  std::vector<std::string> sku_ids;
  std::vector<std::string> shopper_tokens;
  std::string product_id;
};

Setup Prepare(const Options& o) {
  Setup s;
  if (o.mode != "orders") return s;
  auto seller =
      Call(o, http::verb::post, "/v1/sellers",
           R"({"name":"压测合作社","place_code":"140430","supplier_type":"cooperative"})", o.token);
  if (seller.result_int() != 201) Die("cannot create a seller: " + seller.body());
  std::string seller_id = JsonString(seller.body(), "id");
  int remaining = o.hot_stock > 0 ? 1 : o.skus;
  while (remaining > 0) {
    int n = std::min(remaining, 200);
    std::string body = R"({"seller_id":")" + seller_id + R"(","title":"沁州黄小米","skus":[)";
    for (int i = 0; i < n; ++i) {
      body += (i ? "," : "") + std::string(R"({"spec":"规格)") + std::to_string(i) +
              R"(","price_fen":2990,"stock":)" +
              std::to_string(o.hot_stock > 0 ? o.hot_stock : 1'000'000'000) + "}";
    }
    body += "]}";
    auto p = Call(o, http::verb::post, "/v1/products", body, o.token);
    if (p.result_int() != 201) Die("cannot create products: " + p.body());
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(p.body());
    s.product_id = std::string(doc["id"].get_string().value());
    for (auto sku : doc["skus"].get_array()) {
      s.sku_ids.emplace_back(sku["id"].get_string().value());
    }
    remaining -= n;
  }
  for (int i = 0; i < std::max(o.connections, o.shoppers); ++i) {
    auto r = Call(o, http::verb::post, "/v1/shoppers", "{}", "");
    s.shopper_tokens.push_back(JsonString(r.body(), "token"));
  }
  return s;
}

struct Stats {
  std::vector<uint32_t> latencies_us;
  std::vector<uint16_t> answered_s;  // With --timeline: the second of the run each arrived in.
  uint64_t confirmed = 0, rejected = 0, pending = 0, other = 0, errors = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& ioc, const Options& o, const Setup& s, int index,
             Clock::time_point deadline, Stats& stats)
      : stream_(ioc), o_(o), s_(s), index_(index), deadline_(deadline), stats_(stats) {}

  void Start(const tcp::resolver::results_type& endpoints) {
    stream_.async_connect(
        endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (ec) {
            ++self->stats_.errors;
            self->next_at_ = self->deadline_;  // Nothing to send.
            self->connecting_ = false;
            return;
          }
          self->stream_.socket().set_option(tcp::no_delay(true));
          self->connecting_ = false;
          if (self->o_.rate > 0) {
            // Connection c sends at start + (c + k·N) / rate: together, `rate` a second, evenly.
            self->period_ = std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double>(self->o_.connections / self->o_.rate));
            self->next_at_ = Clock::now() + self->period_ * self->index_ / self->o_.connections;
            self->SendDue(Clock::now());
          } else {
            self->Fill();
          }
        });
  }

  // Open loop (the thread's Ticker calls it): queues every request whose time has come by `now`,
  // answered or not before it (they are pipelined), and sends them in one write.
  void SendDue(Clock::time_point now) {
    if (connecting_) return;
    while (next_at_ <= now && next_at_ < deadline_) {
      if (!Budget()) {
        next_at_ = deadline_;
        break;
      }
      Queue(next_at_);
      next_at_ += period_;
    }
    Flush();
    if (!reading_ && !sent_.empty()) Receive();
  }

  // Open loop: when the next request is due (the deadline once none is); a connection still
  // connecting is due at once, so the ticker keeps coming back until it has connected.
  Clock::time_point next_at() const { return connecting_ ? Clock::time_point::min() : next_at_; }

 private:
  // Takes one request from what --requests allows.
  bool Budget() {
    return o_.requests == 0 || requests_left.fetch_sub(1, std::memory_order_relaxed) > 0;
  }

  // Keeps `--pipeline` requests in flight: one more is queued for each answer, and the queued
  // ones go out together in one write whenever no write is in progress.
  void Fill() {
    if (o_.rate > 0) {  // Open loop: the schedule sends, not the answers.
      if (!reading_ && !sent_.empty()) Receive();
      return;
    }
    while (sent_.size() < static_cast<size_t>(o_.pipeline) && Clock::now() < deadline_ &&
           Budget()) {
      Queue(Clock::now());
    }
    // The send waits for the answers already read to queue theirs: one write for them all.
    if (o_.pipeline == 1) {
      Flush();
    } else if (!flush_scheduled_ && !pending_.empty()) {
      flush_scheduled_ = true;
      asio::post(stream_.get_executor(), [self = shared_from_this()] {
        self->flush_scheduled_ = false;
        self->Flush();
      });
    }
    if (!reading_ && !sent_.empty()) Receive();
  }

  // Queues one request; its latency counts from `at`.
  void Queue(Clock::time_point at) {
    std::string& out = pending_;
    if (o_.mode == "orders") {
      const std::string& sku = s_.sku_ids[(next_ * 7919 + index_) % s_.sku_ids.size()];
      // Connection c speaks for shoppers c, c + N, c + 2N, ... in turn.
      size_t shoppers_here =
          (s_.shopper_tokens.size() - index_ + o_.connections - 1) / o_.connections;
      size_t shopper = index_ + (next_ % shoppers_here) * o_.connections;
      const size_t body_size = sizeof R"({"items":[{"sku_id":"","quantity":1}]})" - 1 + sku.size();
      out.append("POST /v1/orders HTTP/1.1\r\nHost: ").append(o_.host);
      out.append("\r\nAuthorization: Bearer ").append(s_.shopper_tokens[shopper]);
      out.append("\r\nContent-Type: application/json\r\nContent-Length: ");
      out.append(std::to_string(body_size)).append("\r\n\r\n");
      out.append(R"({"items":[{"sku_id":")").append(sku).append(R"(","quantity":1}]})");
    } else {
      out.append("GET /healthz HTTP/1.1\r\nHost: ").append(o_.host).append("\r\n\r\n");
    }
    ++next_;
    sent_.push_back(at);
  }

  void Flush() {
    if (writing_ || pending_.empty()) return;
    writing_ = true;
    std::swap(writing_buf_, pending_);
    pending_.clear();
    asio::async_write(stream_, asio::buffer(writing_buf_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) {
                          ++self->stats_.errors;
                          return;
                        }
                        self->Flush();
                      });
  }

  // Reads whatever the server has sent and takes every complete answer out of it. The answers
  // are split by hand (status line, Content-Length, body): Beast's parser cost more per answer
  // than the rest of this generator.
  void Receive() {
    reading_ = true;
    if (in_.size() - in_used_ < 16384) in_.resize(std::max<size_t>(65536, 2 * in_.size()));
    stream_.async_read_some(asio::buffer(in_.data() + in_used_, in_.size() - in_used_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->reading_ = false;
                              self->OnRead(ec, n);
                            });
  }

  void OnRead(beast::error_code ec, size_t n) {
    if (ec) {
      ++stats_.errors;
      return;
    }
    in_used_ += n;
    std::string_view data(in_.data(), in_used_);
    size_t at = 0;
    for (;;) {
      const size_t head_end = data.find("\r\n\r\n", at);
      if (head_end == std::string_view::npos) break;
      std::string_view head = data.substr(at, head_end - at);
      const size_t length_at = head.find("Content-Length: ");
      if (head.size() < 12 || length_at == std::string_view::npos) {
        ++stats_.errors;
        return;
      }
      size_t length = 0;
      for (size_t i = length_at + 16; i < head.size() && head[i] >= '0' && head[i] <= '9'; ++i) {
        length = length * 10 + static_cast<size_t>(head[i] - '0');
      }
      if (data.size() < head_end + 4 + length) break;  // The body is not all here yet.
      const int status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
      OnResponse(status, data.substr(head_end + 4, length));
      at = head_end + 4 + length;
    }
    if (at > 0) {  // Keeps the unfinished answer's bytes at the front.
      std::memmove(in_.data(), in_.data() + at, in_used_ - at);
      in_used_ -= at;
    }
    Fill();
  }

  void OnResponse(int status, std::string_view body) {
    const auto now = Clock::now();
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - sent_.front());
    sent_.pop_front();
    stats_.latencies_us.push_back(static_cast<uint32_t>(us.count()));
    if (o_.timeline) {
      stats_.answered_s.push_back(static_cast<uint16_t>(
          std::chrono::duration_cast<std::chrono::seconds>(now - run_start).count()));
    }
    if (o_.mode != "orders") {
      (status == 200 ? stats_.confirmed : stats_.other)++;
    } else if (body.find(R"("status":"pending_payment")") != std::string_view::npos) {
      ++stats_.confirmed;
    } else if (body.find(R"("status":"rejected")") != std::string_view::npos) {
      ++stats_.rejected;
    } else if (status == 202) {
      ++stats_.pending;
    } else {
      ++stats_.other;
    }
  }

  beast::tcp_stream stream_;
  bool connecting_ = true;     // --rate: not yet connected (nor failed to).
  Clock::duration period_{};   // --rate: this connection's time between requests.
  Clock::time_point next_at_;  // --rate: when the next request is due.
  const Options& o_;
  const Setup& s_;
  int index_;
  Clock::time_point deadline_;
  Stats& stats_;
  std::vector<char> in_;  // What the server sent: in_used_ bytes, the rest room for the next read.
  size_t in_used_ = 0;
  std::deque<Clock::time_point> sent_;  // When each request in flight was queued, oldest first.
  std::string pending_, writing_buf_;
  bool writing_ = false, reading_ = false, flush_scheduled_ = false;
  uint64_t next_ = 0;
};

// Open loop: one timer per thread sends every connection's due requests. A timer per connection
// woke the thread for every request — 8,000 wake-ups a second at --rate 8000, which cost this
// generator more CPU than the server's HTTP threads spent on the same orders, on the same two
// cores. The ticker sleeps until the earliest request is due, but at least --tick-us, so the
// requests due meanwhile go out together; each one's latency still counts from its own
// scheduled time.
class Ticker : public std::enable_shared_from_this<Ticker> {
 public:
  Ticker(asio::io_context& ioc, Clock::duration tick, Clock::time_point deadline)
      : timer_(ioc), tick_(tick), deadline_(deadline) {}

  void Add(std::shared_ptr<Connection> c) { connections_.push_back(std::move(c)); }

  void Tick() {
    const auto now = Clock::now();
    auto earliest = deadline_;
    for (const auto& c : connections_) {
      c->SendDue(now);
      earliest = std::min(earliest, c->next_at());
    }
    if (earliest >= deadline_ || now >= deadline_) {
      connections_.clear();  // Their reads keep them while answers are due.
      return;
    }
    timer_.expires_at(std::max(earliest, now + tick_));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->Tick();
    });
  }

 private:
  asio::steady_timer timer_;
  const Clock::duration tick_;
  const Clock::time_point deadline_;
  std::vector<std::shared_ptr<Connection>> connections_;
};

// The machine's CPU time in clock ticks from /proc/stat's first line: busy (user, nice, system,
// irq, softirq, steal) and all (busy plus idle and iowait). The load generator shares the
// machine with the server, so what a request costs is the machine's, both sides together.
struct MachineTicks {
  unsigned long long busy = 0, all = 0;
};
MachineTicks ReadMachineTicks() {
  MachineTicks t;
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return t;
  unsigned long long v[8] = {};
  if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                  &v[4], &v[5], &v[6], &v[7]) == 8) {
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    t.all = t.busy + v[3] + v[4];
  }
  std::fclose(f);
  return t;
}

}  // namespace

// One line per second of the run: answers that arrived in it, their p50, p99 and slowest.
void PrintTimeline(const std::vector<Stats>& stats) {
  std::vector<std::vector<uint32_t>> by_second;
  for (const auto& s : stats) {
    for (size_t i = 0; i < s.answered_s.size(); ++i) {
      if (s.answered_s[i] >= by_second.size()) by_second.resize(s.answered_s[i] + 1);
      by_second[s.answered_s[i]].push_back(s.latencies_us[i]);
    }
  }
  for (size_t sec = 0; sec < by_second.size(); ++sec) {
    auto& l = by_second[sec];
    if (l.empty()) continue;
    std::sort(l.begin(), l.end());
    std::printf("second=%zu answers=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", sec, l.size(),
                l[l.size() / 2] / 1000.0, l[std::min(l.size() - 1, l.size() * 99 / 100)] / 1000.0,
                l.back() / 1000.0);
  }
}

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--target") {
      auto c = v.rfind(':');
      o.host = v.substr(0, c);
      o.port = v.substr(c + 1);
    } else if (k == "--token") {
      o.token = v;
    } else if (k == "--mode") {
      o.mode = v;
    } else if (k == "--connections") {
      o.connections = std::stoi(v);
    } else if (k == "--shoppers") {
      o.shoppers = std::stoi(v);
    } else if (k == "--threads") {
      o.threads = std::stoi(v);
    } else if (k == "--duration") {
      o.duration_s = std::stod(v);
    } else if (k == "--skus") {
      o.skus = std::stoi(v);
    } else if (k == "--hot-stock") {
      o.hot_stock = std::stoll(v);
    } else if (k == "--pipeline") {
      o.pipeline = std::stoi(v);
    } else if (k == "--rate") {
      o.rate = std::stod(v);
    } else if (k == "--tick-us") {
      o.tick_us = std::stoll(v);
    } else if (k == "--timeline") {
      o.timeline = v == "1";
    } else if (k == "--requests") {
      o.requests = std::stoll(v);
    } else {
      Die("unknown option " + k);
    }
  }
  if (o.pipeline < 1) Die("--pipeline takes a count of at least 1");
  if (o.requests < 0) Die("--requests takes a count");
  if (o.rate < 0) Die("--rate takes requests a second");
  if (o.tick_us < 1) Die("--tick-us takes microseconds, at least 1");
  requests_left = o.requests;
  if (o.mode != "orders" && o.mode != "healthz") {
    Die("--mode takes orders or healthz (a flash sale is --mode orders --hot-stock N)");
  }
  if (o.mode == "orders" && o.token.empty()) Die("--token (the operator token) is required");
  Setup setup = Prepare(o);

  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<Stats> stats(static_cast<size_t>(o.threads));
  const MachineTicks ticks_before = ReadMachineTicks();
  auto start = Clock::now();
  run_start = start;
  auto deadline = start + std::chrono::milliseconds(static_cast<int64_t>(o.duration_s * 1000));
  for (int t = 0; t < o.threads; ++t) {
    iocs.push_back(std::make_unique<asio::io_context>(1));
    tcp::resolver resolver(*iocs.back());
    auto endpoints = resolver.resolve(o.host, o.port);
    std::shared_ptr<Ticker> ticker;
    if (o.rate > 0) {
      ticker =
          std::make_shared<Ticker>(*iocs.back(), std::chrono::microseconds(o.tick_us), deadline);
    }
    for (int c = t; c < o.connections; c += o.threads) {
      auto connection = std::make_shared<Connection>(*iocs.back(), o, setup, c, deadline, stats[t]);
      connection->Start(endpoints);
      if (ticker) ticker->Add(std::move(connection));
    }
    if (ticker) asio::post(*iocs.back(), [ticker] { ticker->Tick(); });
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) threads.emplace_back([&, t] { iocs[t]->run(); });
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const MachineTicks ticks_after = ReadMachineTicks();

  if (o.timeline) PrintTimeline(stats);
  Stats all;
  for (auto& s : stats) {
    all.latencies_us.insert(all.latencies_us.end(), s.latencies_us.begin(), s.latencies_us.end());
    all.confirmed += s.confirmed;
    all.rejected += s.rejected;
    all.pending += s.pending;
    all.other += s.other;
    all.errors += s.errors;
  }
  std::sort(all.latencies_us.begin(), all.latencies_us.end());
  auto pct = [&](double p) -> double {
    if (all.latencies_us.empty()) return 0;
    size_t i = std::min(all.latencies_us.size() - 1,
                        static_cast<size_t>(p * static_cast<double>(all.latencies_us.size())));
    return all.latencies_us[i] / 1000.0;
  };
  double rps = static_cast<double>(all.latencies_us.size()) / elapsed;
  std::printf(
      "mode=%s connections=%d pipeline=%d requests=%zu seconds=%.2f rps=%.0f p50_ms=%.3f "
      "p99_ms=%.3f "
      "p999_ms=%.3f placed=%llu rejected=%llu pending=%llu other=%llu errors=%llu\n",
      o.mode.c_str(), o.connections, o.pipeline, all.latencies_us.size(), elapsed, rps, pct(0.50),
      pct(0.99), pct(0.999), static_cast<unsigned long long>(all.confirmed),
      static_cast<unsigned long long>(all.rejected), static_cast<unsigned long long>(all.pending),
      static_cast<unsigned long long>(all.other), static_cast<unsigned long long>(all.errors));
  if (o.rate > 0) std::printf("open_loop rate=%.0f (scheduled requests a second)\n", o.rate);
  if (ticks_after.all > ticks_before.all && !all.latencies_us.empty()) {
    // Busy ticks over all ticks, and the busy CPU time per answered request (µs).
    const double busy = static_cast<double>(ticks_after.busy - ticks_before.busy);
    const double total = static_cast<double>(ticks_after.all - ticks_before.all);
    const double tick_us = 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::printf("machine busy_pct=%.1f cpu_us_per_request=%.1f cores=%u\n", 100 * busy / total,
                busy * tick_us / static_cast<double>(all.latencies_us.size()),
                std::thread::hardware_concurrency());
  }
  if (o.hot_stock > 0) {
    auto p = Call(o, http::verb::get, "/v1/products/" + setup.product_id, "", "");
    std::printf("flash_sale stock_initial=%lld product=%s\n", static_cast<long long>(o.hot_stock),
                p.body().c_str());
  }
  return 0;
}
