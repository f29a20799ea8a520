// jobctl's subcommands as functions over an AdminBackend: each takes its
// parsed options, validates them (InvalidArgument names the flag), calls the
// backend and writes text or JSON to `out`. The Build* helpers are pure so the
// flag semantics can be tested without a backend. Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/job.h"
#include "jobctl/admin_backend.h"
#include "common/base/text_format.h"

namespace chime::jobctl {

// What every command needs besides its options.
struct CommandContext {
  AdminBackend& backend;
  std::ostream& out;
  std::istream& in;  // Read by `--payload-file -`.
  TimePoint now;     // For "24h ago" and "5m from now".
  // Pauses between polls of `enqueue --wait`. Unset: sleeps for real.
  std::function<void(std::chrono::milliseconds)> pause = nullptr;
  // Notes for people beside the output (token create's "shown once").
  std::ostream* err = nullptr;
  // Whether `out` is a terminal: hints meant for a person (list's "more
  // jobs") go to `out` then, to `err` otherwise, so a pipe gets data only.
  bool out_is_terminal = false;
  // A command that succeeded but must say something with its exit code
  // (enqueue --wait of a partial or skipped run) sets it here.
  std::optional<int> exit_code;
};

// What a command that needs no backend gets (cron next, schedule lint,
// schedule import-vercel --dry-run): no backend is made for it.
struct LocalContext {
  std::ostream& out;
  std::ostream& err;  // For multi-line reports (lint problems); errors are still returned.
  std::istream& in;   // Read for a FILE of "-".
  TimePoint now;
};

struct AppSchemaOptions {
  bool demo_data = false;
};

// jobctl app-schema [--demo-data]: prints what it created or inserted.
[[nodiscard]] Result<void> RunAppSchema(CommandContext& ctx, const AppSchemaOptions& o);

struct MigrateOptions {
  bool status_only = false;
  bool json = false;
};

struct EnqueueOptions {
  std::string kind;
  std::optional<std::string> payload;       // JSON text.
  std::optional<std::string> payload_file;  // A path, or "-" for stdin.
  std::string queue = "default";
  int priority = 0;
  std::optional<std::string> run_at;  // RFC 3339.
  std::optional<std::string> delay;   // Duration, counted in database time.
  std::optional<std::string> unique_key;
  int max_attempts = 20;
  std::optional<std::string> timeout;  // Duration.
  bool dry_run = false;
  bool json = false;
  int count = 1;                            // Identical jobs to enqueue (1-100000).
  bool wait = false;                        // Block until the job finishes.
  std::optional<std::string> wait_timeout;  // Duration; unset waits forever.
};

struct ListOptions {
  std::vector<std::string> states;     // Each may be a comma-separated list.
  std::optional<std::string> kind;
  std::optional<std::string> queue;
  std::optional<std::string> schedule;  // A schedule's name.
  std::optional<std::string> since;    // RFC 3339, or a duration ago.
  int limit = 50;
  std::optional<int64_t> before_id;
  bool json = false;
};

struct JobIdOptions {
  std::string id;
  bool json = false;
};

struct StatsOptions {
  bool json = false;
};

struct WorkersOptions {
  bool json = false;
};

// Reads a whole file, or `in` when path is "-". Reads at most one byte past
// `limit`, so /dev/zero cannot exhaust memory. Errors are InvalidArgument
// starting with `what` and the path ("--payload-file x.json: cannot open").
[[nodiscard]] Result<std::string> ReadInputFile(std::string_view what, const std::string& path,
                                                std::istream& in, size_t limit);

// Validates and converts enqueue flags; `payload_text` is the payload already
// read from --payload or --payload-file ("{}" when neither was given).
// --delay stays relative: the database adds it to its own clock.
[[nodiscard]] Result<db::EnqueueParams> BuildEnqueueParams(const EnqueueOptions& options,
                                                           const std::string& payload_text);

// A job's run outcome once it has one: its stored outcome, or for a job
// finished before outcomes were stored, its state's. nullopt while it is
// live and while a fan-out waits for its children.
std::optional<db::JobOutcome> FinalOutcome(const db::Job& job);

// Validates and converts list flags. An unknown state is InvalidArgument
// listing the valid ones.
[[nodiscard]] Result<db::ListParams> BuildListParams(const ListOptions& options, TimePoint now);

[[nodiscard]] Result<void> RunMigrate(CommandContext& ctx, const MigrateOptions& options);
[[nodiscard]] Result<void> RunEnqueue(CommandContext& ctx, const EnqueueOptions& options);
[[nodiscard]] Result<void> RunList(CommandContext& ctx, const ListOptions& options);
[[nodiscard]] Result<void> RunShow(CommandContext& ctx, const JobIdOptions& options);
[[nodiscard]] Result<void> RunCancel(CommandContext& ctx, const JobIdOptions& options);
[[nodiscard]] Result<void> RunRetry(CommandContext& ctx, const JobIdOptions& options);
[[nodiscard]] Result<void> RunStats(CommandContext& ctx, const StatsOptions& options);
[[nodiscard]] Result<void> RunWorkers(CommandContext& ctx, const WorkersOptions& options);

}  // namespace chime::jobctl
