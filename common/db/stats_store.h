// Run statistics per schedule or per job kind over a time range, from the
// hourly rollup that triggers keep equal to the run ledger
// (migrations/0005_run_stats.sql, 0018_runs_ledger.sql) plus the raw rows of
// the first, partial hour, so a report is exact to the microsecond and its
// cost does not grow with the number of runs (< 50 ms with 1,000,000 runs:
// chime-bench stats).
//
// Runs, not attempts (DESIGN.md rule 7): a run is one job (a schedule
// tick's) through all its attempts, counted once, by its final outcome,
// when its final attempt ends (a fan-out parent when its last child does).
// A run that failed twice and succeeded on its third attempt is one
// succeeded run; retries in flight count nothing yet.
//   runs       succeeded, partial (done, with errors), failed (out of
//              attempts or a permanent failure), skipped (the work declined
//              the tick) and cancelled;
//   success_rate = (succeeded + partial) / (runs - skipped - cancelled),
//   failure_rate = failed / (runs - skipped - cancelled): neither a skipped
//   tick nor a cancel_running overlap policy makes a schedule look
//   unhealthy. Unset when no run counts.
// Attempts, beneath the runs (AttemptCounts): every attempt but `released`
// (a shutdown hand-back uses none); failed ones are failed, discarded and
// lease_expired (the worker vanished).
// Durations (average, p95) are of attempts a handler ended: not
// lease_expired (its end is the rescue's clock) nor released. p95 comes from
// a log-scale histogram (4 buckets per doubling): within 9.05 % of the exact
// nearest-rank p95 for durations from 1 ms to 9.9 days; under 1 ms it reads
// 0.5 ms. last_execution, last_status, last_success and
// consecutive_failures look at the whole ledger, not just the range:
// consecutive_failures counts failed runs after the newest succeeded or
// partial run (skipped and cancelled runs neither break nor extend a
// streak). Runs deleted by the retention cleanup leave the reports too.
//
// Thread-compatible: one StatsStore per thread, like the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"

namespace chime::db {

enum class StatsScope { kSchedule, kKind };
std::string_view StatsScopeName(StatsScope scope);  // "schedule" | "kind".
std::optional<StatsScope> ParseStatsScope(std::string_view name);

inline constexpr std::chrono::hours kMinStatsRange{1};
inline constexpr std::chrono::hours kMaxStatsRange{168};

struct StatsParams {
  StatsScope scope = StatsScope::kSchedule;
  // One schedule name or kind; unset = every schedule (also those without
  // runs) or every kind with runs in the range.
  std::optional<std::string> name;
  std::chrono::hours range{24};  // 1..168 hours back from now (database time).
  int recent_failures = 5;       // Newest failures per row, 0..50.

  // InvalidArgument naming the field ("range: 200h is out of range 1-168 hours").
  [[nodiscard]] Result<void> Validate() const;
};

// A failed run, from its final attempt's row.
struct RecentFailure {
  int64_t job_id = 0;
  int attempt = 0;       // The final attempt's number: the attempts the run took.
  TimePoint finished_at;
  std::string outcome;   // That attempt's: failed | discarded | lease_expired.
  std::string error;     // Its last error (at most 500 characters), or "".
  // What the endpoint answered (the summary's `response`, else its
  // `bodyExcerpt`), at most 300 characters; "" when there is none.
  std::string response;
};

// The attempts beneath the runs.
struct AttemptCounts {
  int64_t total = 0;      // Every attempt but released.
  int64_t succeeded = 0;
  int64_t partial = 0;
  int64_t skipped = 0;
  int64_t failed = 0;     // failed, discarded, lease_expired.
  int64_t cancelled = 0;
};

struct StatsRow {
  std::string name;                     // Schedule name or kind.
  std::optional<int64_t> schedule_id;   // Set in schedule scope.
  // Runs that ended in the range, by final outcome.
  int64_t total = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t partial = 0;
  int64_t skipped = 0;
  int64_t cancelled = 0;
  std::optional<double> success_rate;   // 0..1.
  std::optional<double> failure_rate;   // 0..1.
  AttemptCounts attempts;               // In the range.
  std::optional<double> avg_duration_ms;  // Per attempt.
  std::optional<double> p95_duration_ms;
  std::optional<TimePoint> last_execution;   // Newest run's end, any time.
  std::optional<std::string> last_status;    // Its final outcome.
  std::optional<TimePoint> last_success;     // Newest succeeded or partial run, any time.
  std::optional<int64_t> last_success_job_id;  // That run's job,
  int last_success_attempts = 0;               // and the attempts it took.
  // Failed runs between the success before last_success and last_success:
  // the streak that the newest success ended.
  int64_t failures_before_last_success = 0;
  int64_t consecutive_failures = 0;          // Failed runs since last_success.
  std::vector<RecentFailure> recent_failures;  // Failed runs, newest first, within the range.

  // Runs that decide the rates: neither skipped nor cancelled.
  int64_t decided() const { return total - skipped - cancelled; }
};

struct StatsReport {
  StatsScope scope = StatsScope::kSchedule;
  TimePoint since, until;   // until = the database's now(); since = until - range.
  std::chrono::hours range{24};
  std::vector<StatsRow> rows;  // By name.
};

// The p95 estimate from histogram counts (index as in run_duration_bucket,
// 0-based here); nullopt for an empty histogram. Exposed for tests.
std::optional<double> HistogramPercentile(const std::vector<int64_t>& buckets, double quantile);
inline constexpr int kDurationBuckets = 121;

// The longest-running live attempt of one schedule's jobs.
struct OldestRunning {
  int64_t schedule_id = 0;
  int64_t job_id = 0;
  TimePoint since;  // The attempt's claim.
};

class StatsStore {
 public:
  // `conn` must outlive the store.
  explicit StatsStore(Connection& conn);

  // One report in one read-only snapshot. NotFound when `name` names no
  // schedule (schedule scope); an unknown kind is an empty row.
  [[nodiscard]] Result<StatsReport> StatsQuery(const StatsParams& params);

  // Per schedule with a running job: its oldest running attempt. Reads only
  // running jobs (a partial index).
  [[nodiscard]] Result<std::vector<OldestRunning>> OldestRunningPerSchedule();

 private:
  Connection& conn_;
};

}  // namespace chime::db
