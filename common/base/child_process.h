// Runs a binary as a child process (integration tests, chime-bench): its
// own environment, stdout+stderr to a log file, signals on demand. The
// destructor kills (SIGKILL) and reaps a child that is still running, so a
// failed test or bench leaves no process behind. Thread-compatible.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chime {

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

// The path of a built binary under $CHIME_BIN_DIR (the build directory;
// ctest sets it for integration tests), e.g. "scheduler/chime-scheduler".
// Aborts with a message when CHIME_BIN_DIR is not set.
std::string BinaryPath(const std::string& relative);

// Resident set size of a process in bytes (from /proc), or nullopt.
std::optional<int64_t> ResidentBytes(pid_t pid);

}  // namespace chime
