// The per-schedule health rules as pure functions: a snapshot of one
// schedule (its settings, its statistics over the monitor's window, its
// longest-running live job) and the defaults go in; the rules that hold come
// out, each with a one-line message and the figures behind it. No I/O, no
// clock: `now` is given. Thread-safe.
//
// Rules count runs, not attempts (DESIGN.md rule 7): a run is one tick's
// job through all its attempts, judged by its final outcome; one that failed
// twice and then succeeded is a success, and retries in flight count
// nothing. Skipped and cancelled runs decide nothing.
//
// Rules and defaults (seeds 001 and 003; each can be overridden or turned
// off per schedule under `health:` or with `jobctl schedule update
// --health`, see common/schedule/health_spec.h):
//   failure_rate          failed / decided runs > 0.5, with at least
//                         min_runs (5) decided runs in the window;
//   success_rate          (succeeded + partial) / decided runs < 0.8, with
//                         at least min_runs;
//   consecutive_failures  >= 3 failed runs since the newest successful one;
//   average_duration      average attempt duration in the window > 5 min;
//   run_duration          a live attempt has been running longer than the
//                         schedule's override, else its timeout, else 1 h;
//   no_success_within     no succeeded or partial run for 12 h (or, when the
//                         schedule fires less often, 2 of its periods),
//                         counted from its creation when it never succeeded.
// A message names the newest failed run: its job, attempts, last error and
// the endpoint's answer (values: "job_id"), so an alert says what to open.
// A paused schedule, or one with `enabled: false`, holds no rule.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/stats_store.h"
#include "common/schedule/health_spec.h"

namespace chime::health {

struct HealthDefaults {
  int min_runs = 5;
  double failure_rate = 0.5;
  int consecutive_failures = 3;
  std::chrono::milliseconds average_duration = std::chrono::minutes(5);
  std::chrono::milliseconds run_duration = std::chrono::hours(1);  // When the schedule has no timeout.
  std::chrono::milliseconds no_success_within = std::chrono::hours(12);
  double success_rate = 0.8;

  // InvalidArgument naming the field, as the scheduler's flags spell it.
  [[nodiscard]] Result<void> Validate() const;
};

struct ScheduleSnapshot {
  int64_t schedule_id = 0;
  std::string name;
  bool paused = false;
  db::TimePoint created_at;
  std::optional<std::chrono::milliseconds> timeout;  // The schedule's job timeout.
  // The time between two fires of its cron expression (the longest of the
  // next few), for the dead-man's window; unset when unknown.
  std::optional<std::chrono::milliseconds> period;
  schedule::HealthSpec health;
  db::StatsRow stats;  // Over the monitor's window.
  // The start of the oldest attempt of its jobs still running, if any.
  std::optional<db::TimePoint> oldest_running_since;
  std::optional<int64_t> oldest_running_job;
};

struct Finding {
  schedule::HealthRule rule;
  std::string message;      // "sync-github: 4 consecutive failed runs (threshold 3); newest: ..."
  std::string values_json;  // {"consecutive_failures": 4, "threshold": 3, "job_id": 812}
};

// The rules that hold for `s` at `now`, in kAllHealthRules order.
std::vector<Finding> Evaluate(const ScheduleSnapshot& s, const HealthDefaults& defaults,
                              db::TimePoint now, std::chrono::hours window);

// How a schedule stands now, for the notice of an alert that stopped
// holding: which run recovered and after how many failed runs ("recovered
// by job 815 (succeeded on attempt 3, tick 2026-...) after 4 failed runs"),
// or the current figures when no new success ended it.
struct Recovery {
  std::string message;
  std::optional<int64_t> job_id;  // The recovering run's job.
};
Recovery DescribeRecovery(const db::StatsRow& stats);

}  // namespace chime::health
