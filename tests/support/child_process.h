// Runs a child process with its stdout piped, for integration tests. The destructor kills it
// (SIGKILL) and reaps it, so no test leaves a process behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pavilion::testing {

class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // The next line of stdout, or nullopt at EOF or after `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Reads lines until one contains `needle`; returns that line.
  std::optional<std::string> WaitForLine(const std::string& needle,
                                         std::chrono::milliseconds timeout);
  void Kill(int signal);
  // Waits for exit; returns the exit status as from waitpid, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  const std::string& output() const { return all_output_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::string all_output_;
  bool reaped_ = false;
};

}  // namespace pavilion::testing
