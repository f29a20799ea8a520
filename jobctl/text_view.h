// Human-readable renderings of jobs, runs, stats and schedules: aligned tables
// and key/value blocks, plus the schedule file format. Times are RFC 3339 UTC to the second; every cell is one
// line (control characters removed). Thread-safe (pure).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/text_format.h"
#include "common/db/job.h"
#include "common/db/limit_store.h"
#include "common/db/migrations.h"
#include "common/db/schedule_store.h"
#include "common/schedule/schedule_spec.h"
#include "jobctl/admin_backend.h"

namespace chime::jobctl {

// A plain text table: a header row and aligned columns separated by two
// spaces. Right-aligned columns suit numbers. The last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right_aligned = {});
  void AddRow(std::vector<std::string> cells);  // Missing cells are empty.
  std::string Render() const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// A job's outcome for people: "partial", "waiting for 3 children" (a
// fan-out whose children are not done), "-" while it is live.
std::string OutcomeText(const db::Job& job);

// `list`: one row per job, then "next page: --before-id N" when more follow.
std::string RenderJobPage(const db::JobPage& page);
// "more jobs: repeat with --before-id N\n" when more pages follow, else "".
std::string JobPageHint(const db::JobPage& page);

// `show`: every field of the job, then its runs with errors and summaries.
// Fields its layout does not place (kShowPlacedFields) follow the layout's as
// "json_key: value", so a field added to the job (common/db/job_fields.h)
// shows before anyone writes its line.
std::string RenderJobWithRuns(const db::JobWithRuns& job);
// The JSON keys (db::kJobFields) whose members `show` places in its layout.
extern const std::vector<std::string_view> kShowPlacedFields;
// Every job field whose JSON key is not in `placed`, one "json_key: value"
// line each, in db::kJobFields' order; the value as in the JSON view, on
// one line, "-" for null.
std::string RenderUnplacedJobFields(const db::Job& job, const std::vector<std::string_view>& placed);
// "limit github-rate (partition github): 2 of 2 running" or "...: 10 started
// in the last 5s, next slot at <time>": why a ready job is not claimed.
std::string DescribeLimitWait(const db::LimitWait& wait);
// "2 at once", "5000/1h" or "2 at once, 100/1m".
std::string LimitBudget(const schedule::LimitSpec& spec);
// For jobctl stats: per limit, its budget, running and ready jobs.
std::string RenderLimitUse(const std::vector<db::LimitRow>& limits);

// `stats`: counts per (queue, kind) across states with totals, then ready
// depth and oldest ready age per queue.
std::string RenderStats(const db::Stats& stats);
std::string RenderWorkers(const std::vector<WorkerView>& workers);

// `migrate`: versions and the files applied by this call.
std::string RenderMigration(const db::MigrationStatus& status, bool applied);

// `schedule show`, `create`, `update`: every field of the schedule, then
// `next_fires` (computed by the caller; empty shows "-").
std::string RenderSchedule(const db::ScheduleRow& row, const std::vector<TimePoint>& next_fires);

// Gives a schedule's next fire time for the NEXT column; nullopt prints "-".
using NextFireFn = std::function<std::optional<TimePoint>(const db::ScheduleRow&)>;

// `schedule list`: one row per schedule (no header line for the leader; see
// LeaderLine), or "no schedules".
std::string RenderScheduleList(const std::vector<db::ScheduleStatus>& schedules,
                               const NextFireFn& next_fire);

// One line with its newline: "leader: HOLDER (epoch N, lease expires in 12s)",
// "leader: none (no scheduler is leading)" when the lease expired or never
// existed (judged by the database's clock), or "leader: unknown (<error>)".
std::string LeaderLine(const Result<std::optional<db::LeaderState>>& leader);

// `schedule leader`: LeaderLine, then the lease's holder, epoch and times.
std::string RenderLeader(const std::optional<db::LeaderState>& leader);

// A duration in the form ParseDuration reads back: "0s", "1h30m", "12s345ms".
std::string DurationForParse(std::chrono::milliseconds d);

// `specs` as a schedule file that schedule::ParseScheduleFile reads back to
// the same specs (strings and payloads are JSON-quoted, which YAML reads).
// `comment` (may be empty) becomes "# " lines at the top.
std::string RenderScheduleFile(const std::vector<schedule::ScheduleSpec>& specs,
                               std::string_view comment);

}  // namespace chime::jobctl
