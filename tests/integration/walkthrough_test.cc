// The README's walkthrough, run as a newcomer would: scripts/walkthrough.sh against a fresh
// `pavilion serve` (ephemeral 127.0.0.1 port, temp data dir). The script checks every answer
// itself; this test asserts it exits 0. Also checks that a demo pavilion's seller tokens are
// printed and work, so the demo's sellers can be driven as sellers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../support/child_process.h"
#include "../support/http_client.h"
#include "../support/serve_process.h"
#include "../support/temp_dir.h"

namespace pavilion {
namespace {

using testing::ChildProcess;
using testing::HttpClient;
using testing::TempDir;
using namespace std::chrono_literals;

constexpr const char* kOperator = "walkthrough-operator-token-0123456789";

// The server under test, with this file's operator token.
class Server : public testing::ServeProcess {
 public:
  Server(const std::string& data_dir, std::vector<std::string> extra = {})
      : ServeProcess(PAVILION_BIN, data_dir, kOperator, std::move(extra)) {}
};

// The walkthrough script against `url`; stderr joins stdout so a failing step's message lands in
// the assertion.
std::vector<std::string> WalkthroughCommand(const std::string& url) {
  return {"/bin/bash",          "-c", "exec /bin/bash \"$0\" \"$@\" 2>&1",
          PAVILION_WALKTHROUGH, url,  kOperator};
}

// Reads the child's output to its end (two minutes at most between lines) and reaps it: its exit
// status as from waitpid.
int RunToEnd(ChildProcess& child) {
  while (child.ReadLine(120s)) {
  }
  return child.Wait(10s);
}

TEST(Walkthrough, ScriptRunsAgainstAFreshServer) {
  TempDir dir;
  Server server(dir.str(), {"--no-demo"});
  ASSERT_NE(server.port(), 0) << "the server did not start";
  ChildProcess script(WalkthroughCommand(server.url()));
  ASSERT_TRUE(script.started());
  const int status = RunToEnd(script);
  ASSERT_TRUE(WIFEXITED(status)) << script.output();
  EXPECT_EQ(WEXITSTATUS(status), 0) << script.output();
  EXPECT_NE(script.output().find("walkthrough: ok"), std::string::npos) << script.output();
}

// The README's "A first order" block, run as it stands (bash, every command checked) against a
// fresh server: what a newcomer copies works.
TEST(Walkthrough, TheReadmeBlockRunsAgainstAFreshServer) {
  TempDir dir;
  Server server(dir.str(), {"--no-demo"});
  ASSERT_NE(server.port(), 0) << "the server did not start";
  // The first ```sh block after the heading, then a line saying it got to the end.
  const std::string run =
      "set -euo pipefail; block=$(awk '/^## A first order/ {f = 1} "
      "f && /^```sh/ {g = 1; next} g && /^```/ {exit} g' \"$0\"); "
      "[ -n \"$block\" ] || { echo 'no sh block under A first order'; exit 1; }; "
      "eval \"$block\" > /dev/null; echo 'readme block: ok'";
  ChildProcess block(
      {"/bin/bash", "-c", "exec /bin/bash -c \"$0\" \"$1\" 2>&1", run, PAVILION_README},
      {{"BASE", server.url()}, {"PAVILION_OPERATOR_TOKEN", kOperator}});
  ASSERT_TRUE(block.started());
  const int status = RunToEnd(block);
  ASSERT_TRUE(WIFEXITED(status)) << block.output();
  EXPECT_EQ(WEXITSTATUS(status), 0) << block.output();
  EXPECT_NE(block.output().find("readme block: ok"), std::string::npos) << block.output();
}

// Runs twice on the same server: every step makes its own seller and shopper, so the second
// run finds what it expects too.
TEST(Walkthrough, ScriptRunsTwiceOnTheDemoPavilion) {
  TempDir dir;
  Server server(dir.str());
  ASSERT_NE(server.port(), 0) << "the server did not start";
  for (int run = 0; run < 2; ++run) {
    ChildProcess script(WalkthroughCommand(server.url()));
    const int status = RunToEnd(script);
    ASSERT_TRUE(WIFEXITED(status)) << script.output();
    EXPECT_EQ(WEXITSTATUS(status), 0) << "run " << run << ": " << script.output();
  }
}

TEST(Walkthrough, DemoPrintsEachSellersToken) {
  TempDir dir;
  Server server(dir.str());
  ASSERT_NE(server.port(), 0) << "the server did not start";
  // The seller lines come after "listening on", before the demo's trace pages.
  ASSERT_TRUE(server.process().WaitForLine("demo trace page", 10s)) << server.process().output();
  const std::string& out = server.process().output();
  std::istringstream lines(out);
  std::string line;
  int sellers = 0;
  HttpClient client("127.0.0.1", server.port());
  const std::string marker = "demo seller (id token name): ";
  while (std::getline(lines, line)) {
    auto at = line.find(marker);
    if (at == std::string::npos) continue;
    std::istringstream fields(line.substr(at + marker.size()));
    std::string id, token;
    fields >> id >> token;
    ++sellers;
    // A seller's own listing answers only to that seller (or the operator).
    auto own = client.Get("/v1/orders?seller_id=" + id, token);
    EXPECT_EQ(own.status, 200) << line << " " << own.body;
  }
  EXPECT_EQ(sellers, 7) << out;
}

}  // namespace
}  // namespace pavilion
