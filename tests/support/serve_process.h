// ServeProcess: `pavilion serve` as a child process on an ephemeral 127.0.0.1 port, for the
// integration tests. Stopped (SIGTERM, then reaped) on destruction, so no test leaves a server
// behind. Not thread-safe.
#pragma once

#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "http_client.h"

namespace pavilion::testing {

class ServeProcess {
 public:
  // `binary serve --data-dir DIR --listen 127.0.0.1:0 FIXTURE… EXTRA…` with
  // PAVILION_OPERATOR_TOKEN set to `operator_token`. port() is 0 when it did not start listening
  // within a minute. FIXTURE: the instant payment provider (a test's /pay pays), and no limits
  // per address or on new shoppers' holds, since every test client is 127.0.0.1 and every
  // shopper new; the tests of those pass their own flags in EXTRA, which win.
  ServeProcess(const std::string& binary, const std::string& data_dir,
               const std::string& operator_token, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {binary,
                                     "serve",
                                     "--data-dir",
                                     data_dir,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--payment-provider",
                                     "instant",
                                     "--order-rate",
                                     "0",
                                     "--shopper-rate",
                                     "0",
                                     "--new-shopper-hold-cap",
                                     "0",
                                     "--new-client-hold-cap",
                                     "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<ChildProcess>(
        argv, std::map<std::string, std::string>{{"PAVILION_OPERATOR_TOKEN", operator_token}});
    auto line = proc_->WaitForLine("listening on http://", std::chrono::seconds(60));
    if (!line) return;
    auto colon = line->find(':', line->find("http://") + 7);
    port_ = static_cast<uint16_t>(std::stoi(line->substr(colon + 1)));
  }
  ~ServeProcess() { Stop(SIGTERM); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Sends `signal` and waits (30 s at most) for the process to end.
  void Stop(int signal) {
    if (!proc_) return;
    proc_->Kill(signal);
    proc_->Wait(std::chrono::seconds(30));
    proc_.reset();
  }

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  HttpClient Client() const { return HttpClient("127.0.0.1", port_); }
  ChildProcess& process() { return *proc_; }

 private:
  std::unique_ptr<ChildProcess> proc_;
  uint16_t port_ = 0;
};

}  // namespace pavilion::testing
