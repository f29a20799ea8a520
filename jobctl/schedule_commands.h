// jobctl's `cron` and `schedule` subcommands: the cron calculator and schedule
// file linter run locally; the rest validate their flags with
// schedule::Validate before calling the AdminBackend, and compute next fire
// times locally with the cron library. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/base/text_format.h"
#include "common/schedule/schedule_spec.h"
#include "jobctl/commands.h"

namespace chime::jobctl {

// `cron next EXPR`.
struct CronNextOptions {
  std::string expression;
  std::string time_zone = "UTC";
  std::optional<std::string> from;  // RFC 3339; unset: now.
  int count = 5;                    // 1-1000.
  bool json = false;
};

// `schedule lint FILE`.
struct ScheduleLintOptions {
  std::string file;  // "-": stdin.
};

// The flags `schedule create` and `schedule update` share. Unset flags keep
// the spec's value (the defaults on create, the stored value on update).
struct ScheduleFlags {
  std::optional<std::string> cron;
  std::optional<std::string> kind;
  std::optional<std::string> time_zone;
  std::optional<std::string> payload;       // JSON text.
  std::optional<std::string> payload_file;  // A path, or "-" for stdin.
  std::optional<std::string> queue;
  std::optional<int> priority;
  std::optional<int> max_attempts;
  std::optional<std::string> timeout;  // Duration, or "none" for the worker's default.
  std::optional<std::string> jitter;   // Duration.
  std::optional<std::string> overlap;  // skip | allow | buffer_one | cancel_running.
  std::optional<std::string> misfire;  // skip | run_once | run_all.
  // Health-rule settings, "key=value" or "defaults" (schedule::ApplyHealthSettings).
  std::vector<std::string> health;

  bool any() const;
};

struct ScheduleCreateOptions {
  std::string name;
  ScheduleFlags flags;
  bool paused = false;
  bool json = false;
};

struct ScheduleUpdateOptions {
  std::string name;
  ScheduleFlags flags;
  bool json = false;
};

// delete, show, pause, resume, trigger.
struct ScheduleNameOptions {
  std::string name;
  bool json = false;
};

struct ScheduleListOptions {
  bool json = false;
};

struct ScheduleBackfillOptions {
  std::string name;
  std::string from;  // RFC 3339, exclusive.
  std::string to;    // RFC 3339, inclusive.
  bool json = false;
};


struct ScheduleLeaderOptions {
  bool json = false;
};

// The first `count` fire times of `expression` in `time_zone` strictly after
// `after` (fewer only past the cron library's ten-year horizon). A bad
// expression or zone is InvalidArgument naming the field.
[[nodiscard]] Result<std::vector<TimePoint>> NextFireTimes(const std::string& expression,
                                                           const std::string& time_zone,
                                                           TimePoint after, int count);

// Applies the flags given to `spec` and validates the result;
// `payload_text` is the payload already read from --payload or
// --payload-file (nullopt when neither was given). Errors name the flag:
// "--cron: minute: 60 is out of range 0-59".
[[nodiscard]] Result<schedule::ScheduleSpec> ApplyScheduleFlags(
    schedule::ScheduleSpec spec, const ScheduleFlags& flags,
    const std::optional<std::string>& payload_text);

[[nodiscard]] Result<void> RunCronNext(LocalContext& ctx, const CronNextOptions& options);
[[nodiscard]] Result<void> RunScheduleLint(LocalContext& ctx, const ScheduleLintOptions& options);
[[nodiscard]] Result<void> RunScheduleCreate(CommandContext& ctx, const ScheduleCreateOptions& options);
[[nodiscard]] Result<void> RunScheduleUpdate(CommandContext& ctx, const ScheduleUpdateOptions& options);
[[nodiscard]] Result<void> RunScheduleDelete(CommandContext& ctx, const ScheduleNameOptions& options);
[[nodiscard]] Result<void> RunScheduleShow(CommandContext& ctx, const ScheduleNameOptions& options);
[[nodiscard]] Result<void> RunSchedulePause(CommandContext& ctx, const ScheduleNameOptions& options);
[[nodiscard]] Result<void> RunScheduleResume(CommandContext& ctx, const ScheduleNameOptions& options);
[[nodiscard]] Result<void> RunScheduleList(CommandContext& ctx, const ScheduleListOptions& options);
[[nodiscard]] Result<void> RunScheduleTrigger(CommandContext& ctx, const ScheduleNameOptions& options);
[[nodiscard]] Result<void> RunScheduleBackfill(CommandContext& ctx,
                                               const ScheduleBackfillOptions& options);
[[nodiscard]] Result<void> RunScheduleLeader(CommandContext& ctx, const ScheduleLeaderOptions& options);

}  // namespace chime::jobctl
