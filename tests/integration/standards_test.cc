// The standards a running `pavilion serve` is held to, checked with the tools that define them:
// GET /v1/openapi.json passes `redocly lint` (@redocly/cli, installed here with npm into the build
// directory, with the repository's redocly.yaml), and GET /metrics passes `promtool check metrics`
// (Debian's prometheus package, scripts/deps.sh) and counts answers by status code. CI has npm
// and promtool: a missing tool fails the test with what to install, it is never skipped.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "../support/child_process.h"
#include "../support/metrics.h"
#include "../support/serve_process.h"
#include "../support/temp_dir.h"

namespace pavilion {
namespace {

using testing::ChildProcess;
using testing::ServeProcess;
using testing::TempDir;

// 1.34.20: the newest @redocly/cli whose engines admit Debian 12's nodejs 18.19 (2.x needs
// node 20.19; 1.34.21 does not install on node 18).
constexpr const char* kRedoclyVersion = "1.34.20";
constexpr const char* kToken = "standards-test-operator-token-0123456789abcdef";

struct Ran {
  int exit_code = -1;  // -1: did not end in time, or was killed.
  std::string output;  // stdout and stderr together.
};

// Runs `command` with /bin/sh, stderr with stdout, for at most `seconds`.
Ran Shell(const std::string& command, int seconds) {
  ChildProcess child({"/bin/sh", "-c", command + " 2>&1"});
  child.WaitForLine("\x01never\x01", std::chrono::seconds(seconds));  // Reads to EOF.
  const int status = child.Wait(std::chrono::seconds(30));
  Ran run;
  run.output = child.output();
  if (status != -1 && WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

TEST(Standards, OpenApiPassesRedoclyLint) {
  // Installed once per build directory, outside the source tree; again only for another version.
  const std::filesystem::path tools = PAVILION_NPM_TOOLS;
  const std::filesystem::path redocly = tools / "node_modules" / ".bin" / "redocly";
  const std::filesystem::path stamp = tools / (std::string("redocly-") + kRedoclyVersion);
  if (!std::filesystem::exists(redocly) || !std::filesystem::exists(stamp)) {
    std::filesystem::create_directories(tools);
    const Ran install =
        Shell("npm install --prefix '" + tools.string() +
                  "' --no-audit --no-fund --no-save @redocly/cli@" + kRedoclyVersion,
              240);
    ASSERT_EQ(install.exit_code, 0)
        << "npm could not install @redocly/cli@" << kRedoclyVersion << " into " << tools
        << ". This test needs node 18+ and npm (scripts/deps.sh installs Debian's nodejs and npm) "
           "and the npm registry, which every machine and CI reach. npm said:\n"
        << install.output;
    WriteFile(stamp, "");
  }
  TempDir dir;
  ServeProcess server(PAVILION_BIN, (dir.path() / "data").string(), kToken);
  ASSERT_NE(server.port(), 0) << "pavilion serve did not start";
  auto doc = server.Client().Get("/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  WriteFile(dir.path() / "openapi.json", doc.body);
  // No telemetry or update check: the test reaches nothing but the server it started.
  const Ran lint = Shell(
      "cd '" + dir.str() + "' && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true '" +
          redocly.string() + "' lint --config '" PAVILION_SOURCE_DIR "/redocly.yaml' openapi.json",
      120);
  EXPECT_EQ(lint.exit_code, 0) << lint.output;
  // The document is held to no warnings either: redocly.yaml turns off, with its reasons, the
  // rules that do not fit.
  EXPECT_NE(lint.output.find("Woohoo! Your API description is valid."), std::string::npos)
      << lint.output;
  EXPECT_EQ(lint.output.find("warning"), std::string::npos) << lint.output;
}

TEST(Standards, MetricsPassPromtool) {
  const Ran version = Shell("promtool --version", 30);
  ASSERT_EQ(version.exit_code, 0) << "promtool not found: install Debian's prometheus package "
                                     "(scripts/deps.sh does)\n"
                                  << version.output;
  TempDir dir;
  ServeProcess server(PAVILION_BIN, (dir.path() / "data").string(), kToken,
                      {"--body-limit", "1000"});
  ASSERT_NE(server.port(), 0) << "pavilion serve did not start";
  auto client = server.Client();
  // Series of every kind on the page: routes, a 404, a 413 the server answers itself, an order.
  EXPECT_EQ(client.Get("/healthz").status, 200);
  EXPECT_EQ(client.Get("/no/such/route").status, 404);
  EXPECT_EQ(server.Client().Post("/v1/shoppers", std::string(5000, ' ')).status, 413);
  auto page = client.Get("/metrics");
  ASSERT_EQ(page.status, 200);
  WriteFile(dir.path() / "metrics.txt", page.body);
  const Ran check =
      Shell("promtool check metrics < '" + (dir.path() / "metrics.txt").string() + "'", 60);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool found problems:\n" << check.output;
  // Process metrics, as Prometheus' client libraries name them.
  for (const char* series : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                             "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_NE(page.body.find(std::string("\n") + series + " "), std::string::npos) << series;
  }
  EXPECT_GT(testing::MetricValue(page.body, "process_open_fds"), 3);  // Listener, store, ...
  EXPECT_GT(testing::MetricValue(page.body, "process_resident_memory_bytes"), 1 << 20);
}

// pavilion_http_responses_total moves with every answer, the server's own 413 included.
TEST(Standards, StatusCounterMoves) {
  TempDir dir;
  ServeProcess server(PAVILION_BIN, (dir.path() / "data").string(), kToken,
                      {"--body-limit", "1000"});
  ASSERT_NE(server.port(), 0) << "pavilion serve did not start";
  auto client = server.Client();
  const auto count = [&](int code) {
    const auto page = client.Get("/metrics").body;
    return std::max<int64_t>(testing::MetricValue(page, "pavilion_http_responses_total{code=\"" +
                                                            std::to_string(code) + "\"}"),
                             0);
  };
  const int64_t not_found = count(404), too_large = count(413), unauthorized = count(401);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.Get("/v1/nothing-here").status, 404);
  EXPECT_EQ(client.Post("/v1/sellers", "{}").status, 401);
  EXPECT_EQ(server.Client().Post("/v1/shoppers", std::string(5000, ' ')).status, 413);
  EXPECT_EQ(count(404), not_found + 3);
  EXPECT_EQ(count(401), unauthorized + 1);
  EXPECT_EQ(count(413), too_large + 1);
}

}  // namespace
}  // namespace pavilion
