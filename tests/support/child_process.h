// Runs a Chime binary as a child process for integration tests: its own
// environment, stdout+stderr to a log file, signals on demand. The
// destructor kills (SIGKILL) and reaps a child that is still running, so a
// failed test leaves no process behind. Thread-compatible.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chime::testing {

class ChildProcess {
 public:
  // `env` adds to (or overrides) this process's environment.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts the child; false (and a message in log()) if it could not.
  bool Start();
  void Signal(int signal);
  // Waits up to `timeout` for the child to exit; its exit status as
  // returned by waitpid, or nullopt if it is still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool running();
  pid_t pid() const { return pid_; }

  // Everything the child wrote so far.
  std::string log() const;
  // Waits up to `timeout` for a line containing `needle`; returns that line.
  std::optional<std::string> WaitForLog(const std::string& needle, std::chrono::milliseconds timeout);

 private:
  std::vector<std::string> argv_;
  std::map<std::string, std::string> env_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// The path of a built binary, from the CHIME_BIN_DIR environment variable
// that ctest sets (e.g. CHIME_BIN_DIR/scheduler/chime-scheduler).
std::string BinaryPath(const std::string& relative);

}  // namespace chime::testing
