// Following one schedule from jobctl (issue 17): `jobctl runs` lists runs
// (each finished job's final attempt, with the job's outcome and how many
// attempts it took) or every attempt; `jobctl schedule fires NAME` lists a
// schedule's recorded ticks, skipped overlaps and misfires included. Both
// page by keyset like `jobctl list`. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/base/error.h"
#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"
#include "jobctl/commands.h"

namespace chime::jobctl {

struct RunsOptions {
  std::optional<std::string> schedule;
  std::optional<std::string> kind;
  std::optional<std::string> outcome;  // succeeded, partial, failed, skipped, cancelled, waiting.
  std::optional<std::string> since;    // RFC 3339, or a duration ago.
  bool attempts = false;               // Every attempt, not runs.
  int limit = 50;
  std::optional<int64_t> before_id;
  bool json = false;
};

struct ScheduleFiresOptions {
  std::string name;
  std::optional<std::string> before;  // RFC 3339: ticks before this one.
  int limit = 50;
  bool json = false;
};

// Validates and converts the flags; errors name the flag.
[[nodiscard]] Result<db::RunListParams> BuildRunListParams(const RunsOptions& options, TimePoint now);

// One row per run (or attempt), then the next page's cursor when more follow.
std::string RenderRunPage(const db::RunPage& page, bool attempts);
// One row per tick of `schedule`, then the next page's cursor.
std::string RenderFirePage(const db::FirePage& page, const std::string& schedule);

[[nodiscard]] Result<void> RunRuns(CommandContext& ctx, const RunsOptions& options);
[[nodiscard]] Result<void> RunScheduleFires(CommandContext& ctx, const ScheduleFiresOptions& options);

}  // namespace chime::jobctl
