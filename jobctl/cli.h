// jobctl's command line: parses arguments with CLI11, builds the backend only
// once a command is ready to run (so --help and usage errors never connect),
// runs the command and maps its error to an exit code (see exit_code.h).
// Everything the process would take from its surroundings comes in through
// CliEnvironment, so tests drive it with a fake backend. Thread-compatible.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "jobctl/admin_backend.h"
#include "common/base/text_format.h"

namespace chime::jobctl {

// Where a command's backend should point.
struct BackendTarget {
  std::string database_url;  // May be empty when a scheduler is set.
  std::string scheduler;     // Comma-separated endpoints; empty: talk to the database.
  // --token-file: the named token to sign with (else CHIME_TOKEN(_FILE),
  // else CHIME_ADMIN_SECRET(_FILE)). Only a scheduler needs a credential.
  std::optional<std::string> token_file;
};

struct CliEnvironment {
  std::ostream& out;
  std::ostream& err;
  std::istream& in;
  // $CHIME_DATABASE_URL; --database-url overrides it.
  std::optional<std::string> database_url = std::nullopt;
  // $CHIME_SCHEDULER; --scheduler overrides it. When set, every command but
  // migrate goes through the scheduler, signed with a named token or the
  // bootstrap admin secret.
  std::optional<std::string> scheduler = std::nullopt;
  std::function<TimePoint()> now = [] { return std::chrono::system_clock::now(); };
  // Makes the backend for a parsed command. Unset: a ZmqBackend when
  // target.scheduler is set, else a DbBackend for target.database_url.
  std::function<Result<std::unique_ptr<AdminBackend>>(const BackendTarget& target)> make_backend =
      nullptr;
  // Pauses between polls of `enqueue --wait`. Unset: sleeps for real.
  std::function<void(std::chrono::milliseconds)> pause = nullptr;
  // Sets up process logging at the --log-level given. Unset: chime::InitLogging.
  std::function<void(const std::string& level)> init_logging = nullptr;
  // Whether `out` is a terminal (main: isatty(1)); see CommandContext.
  bool out_is_terminal = false;
};

// Runs one jobctl invocation; returns the process exit code. Output goes to
// env.out, errors to env.err as one line "jobctl: <message>".
int RunCli(int argc, const char* const* argv, CliEnvironment& env);

}  // namespace chime::jobctl
