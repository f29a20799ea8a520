// Reads for the HTTP side of observability that no other store serves: a
// liveness round trip, the recent runs across jobs (/api/runs), and the
// firing alerts per schedule and rule (/metrics). Read-only. Thread-
// compatible: one ObserveStore per thread, like its connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"

namespace chime::db {

// Runs are read from the ledger's final rows (one per job that finished:
// its last attempt, carrying the job's outcome); with `attempts`, every
// attempt is listed instead.
struct RunListParams {
  std::optional<std::string> schedule;  // A schedule name; NotFound when unknown.
  std::optional<std::string> kind;
  // The run's final outcome: succeeded, partial, failed, skipped,
  // cancelled, or waiting (a fan-out parent whose children are not done).
  // Implies final rows. Anything else is InvalidArgument.
  std::optional<std::string> outcome;
  std::optional<TimePoint> since;       // Finished at or after.
  bool attempts = false;                // Every attempt, not only final rows.
  std::optional<int64_t> before_id;     // Keyset cursor: runs older than this run.
  int limit = 50;                       // 1..1000.
};

// The outcomes RunListParams::outcome takes, for error messages and --help.
inline constexpr const char* kRunOutcomeFilters = "succeeded, partial, failed, skipped, cancelled, waiting";

// A run with what it ran, for lists that span jobs.
struct RunListItem {
  Run run;
  std::string kind;
  std::string queue;
  std::optional<int64_t> schedule_id;
  std::optional<std::string> schedule;  // Unset when not fired by a schedule (or it was deleted).
  std::optional<TimePoint> scheduled_for;  // The tick, for a schedule's runs.
};

struct RunPage {
  std::vector<RunListItem> runs;          // Newest finished first.
  std::optional<int64_t> next_before_id;  // Set when more rows may follow.
};

// Jobs enqueued so far into one (queue, kind), by every route.
struct EnqueuedCount {
  std::string queue;
  std::string kind;
  int64_t count = 0;
};

struct FiringAlertCount {
  std::string schedule;
  std::string rule;
  int64_t count = 0;
};

class ObserveStore {
 public:
  // `conn` must outlive the store.
  explicit ObserveStore(Connection& conn) : conn_(conn) {}

  // One round trip (SELECT 1); Unavailable when the server cannot be reached.
  [[nodiscard]] Result<void> Ping();

  // Runs newest finished first, filtered; InvalidArgument for a bad limit,
  // kind or cursor, NotFound for an unknown schedule.
  [[nodiscard]] Result<RunPage> RunsList(const RunListParams& params);

  // Alerts in state 'firing', per schedule and rule (chime.alerts).
  [[nodiscard]] Result<std::vector<FiringAlertCount>> AlertsFiringCounts();
  // From chime.jobs_enqueued (migration 0007): one row per (queue, kind).
  [[nodiscard]] Result<std::vector<EnqueuedCount>> JobsEnqueuedCounts();

 private:
  Connection& conn_;
};

}  // namespace chime::db
