// JSON renderings of jobs, runs, schedules, workers and stats, shared by
// `jobctl ... --json` and the scheduler's HTTP API (/api/...), so one object
// has one JSON shape everywhere. Field names are snake_case and stable:
// scripts, the dashboard and later tooling parse them.
// Times are RFC 3339 UTC with milliseconds; absent values are null; payloads
// and summaries are embedded as JSON, not as strings. Thread-safe (pure).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base/text_format.h"
#include "common/db/job.h"
#include "common/db/limit_store.h"
#include "common/db/migrations.h"
#include "common/db/observe_store.h"
#include "common/db/queue_store.h"
#include "common/db/schedule_store.h"
#include "common/db/worker_directory.h"
#include "common/schedule/schedule_spec.h"

namespace chime::view {

// A worker as the schedulers see it (jobctl workers, /api/workers).
using WorkerView = db::WorkerRow;

// A job, with the schedule that fired it ("schedule_id", "schedule",
// "scheduled_for", each null when none did); "outcome" is null while it is
// live and while a fan-out waits for its children ("waiting_for_children":
// N, when JobGet counted them).
nlohmann::ordered_json JobJson(const db::Job& job);
// One attempt; "final" marks the one that ended its job, whose
// "job_outcome" is the run's outcome.
nlohmann::ordered_json RunJson(const db::Run& run);
// A run with its job's kind, queue, schedule and tick (jobctl runs, /api/runs).
nlohmann::ordered_json RunItemJson(const db::RunListItem& item);
// {"runs": [...], "next_before_id": N | null}
nlohmann::ordered_json RunPageJson(const db::RunPage& page);
// {"fires": [{"scheduled_for", "fired_at", "origin", "outcome", "job_id",
//  "leader_epoch", "job_state", "job_outcome", "attempts"}], "next_before"}
nlohmann::ordered_json FirePageJson(const db::FirePage& page);
// The job's fields plus "runs": [...], oldest first, and its children
// counted by state ("children") and by outcome ("children_outcomes", with
// "live" for those not finished).
nlohmann::ordered_json JobWithRunsJson(const db::JobWithRuns& job);
// {"jobs": [...], "next_before_id": N | null, "searched_to_id": N | null}
nlohmann::ordered_json JobPageJson(const db::JobPage& page);
// {"id": N, "existing": bool, "state": "..."}
nlohmann::ordered_json EnqueueResultJson(const db::EnqueueResult& result);
// {"states": {every state: count summed over queues and kinds},
//  "rows": [{"queue","kind","state","count"}],
//  "queues": [{"queue","ready","oldest_ready_age_ms"}]}
nlohmann::ordered_json StatsJson(const db::Stats& stats);
nlohmann::ordered_json WorkersJson(const std::vector<WorkerView>& workers);
// {"current_version", "latest_version", "up_to_date", "applied_now": [...]}
nlohmann::ordered_json MigrationJson(const db::MigrationStatus& status);

// {"name", "cron", "time_zone", "kind", "payload" (embedded), "queue",
//  "priority", "max_attempts", "timeout_ms" | null, "jitter_ms", "overlap",
//  "misfire", "paused"}
nlohmann::ordered_json ScheduleSpecJson(const schedule::ScheduleSpec& spec);
// {"id", the spec's fields, "source", "last_fired_for" | null, "created_at",
//  "updated_at", "next_fires": [...]}
nlohmann::ordered_json ScheduleJson(const db::ScheduleRow& row,
                                    const std::vector<TimePoint>& next_fires);
// ScheduleJson's fields but next_fires, then "state" ("active" | "paused"),
// "next_fire" | null, "last_fire_for", "last_fire_outcome", "last_job_id",
// "last_job_state", "last_run_outcome", "last_run_finished_at" (each | null).
nlohmann::ordered_json ScheduleStatusJson(const db::ScheduleStatus& status,
                                          const std::optional<TimePoint>& next_fire);
// {"holder", "epoch", "acquired_at", "expires_at", "db_now", "leading",
//  "expires_in_ms"} (negative when expired), or null when none ever led.
// A limit with its use: {"name", "queue", "kind", "partition_by",
// "concurrency", "rate" ("100/1m"), "source", "running", "ready",
// "partitions_in_use", "partitions": [{"partition", "running",
// "started_in_window"}], "created_at", "updated_at"}.
nlohmann::ordered_json LimitJson(const db::LimitRow& row);
// {"limits": [...]}.
nlohmann::ordered_json LimitsJson(const std::vector<db::LimitRow>& rows);
// {"queue", "paused", "paused_at" | null, "changed_by" | null, "changed_at" | null,
//  "ready", "scheduled", "running", "oldest_ready_age_ms"}.
nlohmann::ordered_json QueueJson(const db::QueueRow& row);
// {"queues": [...]}, as `jobctl queue list --json` and GET /api/queues print them.
nlohmann::ordered_json QueuesJson(const std::vector<db::QueueRow>& rows);
nlohmann::ordered_json LeaderJson(const std::optional<db::LeaderState>& leader);
// {"schedule_id", "scheduled_for", "outcome" | null (already recorded), "job_id" | null}
nlohmann::ordered_json FireResultJson(const db::FireResult& fire);

// Pretty-printed (indent 2) with a trailing newline; invalid UTF-8 is replaced.
std::string DumpJson(const nlohmann::ordered_json& value);

}  // namespace chime::view
