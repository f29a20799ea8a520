// Checks a run's event histories (common/history: JSON lines from every
// worker, scheduler and jobctl of the run) against the database the run left
// behind, and returns the broken rules - empty when the run was correct:
//
//   lost_job            an enqueued or fired job is missing, or (settled runs)
//                       not finished; an accepted completion has no run row
//   double_completion   more than one accepted completion per lease, per
//                       attempt or (finished outcomes) per job; more than one
//                       ending run (completion or lease_expired) per attempt
//   side_effects        more side effects than claims of that attempt, or
//                       than the job's attempts in the run ledger
//   stale_lease         a completion accepted although a later attempt had
//                       been claimed before it was sent
//   tick                more than one job for a (schedule, tick); a fire whose
//                       job is not that tick's; a tick missing between a
//                       schedule's fires that its misfire policy does not excuse
//   epoch               two processes leading or firing in one epoch; a fire
//                       under an epoch its process never led, or sent after a
//                       newer epoch had been taken; a fire row whose epoch
//                       differs from the history's
//   malformed           a history line that is not an event
//
// Times compared across processes are one host's wall clock. Every rule
// errs towards silence: a violation is reported only when the recorded
// times prove it. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace chime::testing {

struct JobRow {
  int64_t id = 0;
  std::string state;
  int attempt = 0;
  std::optional<int64_t> schedule_id;
  std::optional<int64_t> scheduled_for;  // Unix micros.
};

struct RunRow {
  int64_t job_id = 0;
  int attempt = 0;
  std::string outcome;
};

struct FireRow {
  int64_t schedule_id = 0;
  int64_t scheduled_for = 0;  // Unix micros.
  std::optional<int64_t> job_id;
  int64_t epoch = 0;
  std::string outcome;
  std::string origin;
};

struct ScheduleRow {
  int64_t id = 0;
  std::string name;
  std::string cron;
  std::string time_zone = "UTC";
  std::string misfire = "run_once";
};

// What the checker reads from the database.
struct DbSnapshot {
  std::vector<JobRow> jobs;
  std::vector<RunRow> runs;
  std::vector<FireRow> fires;
  std::vector<ScheduleRow> schedules;
  int64_t leader_epoch = 0;  // 0: no leader row.
};

// Reads chime.jobs, runs, fires, schedules and leader at `url`. Throws
// (pqxx) when the database cannot be read.
DbSnapshot ReadSnapshot(const std::string& url);

struct CheckerOptions {
  // Every enqueued and fired job must have finished.
  bool require_settled = true;
  // Schedules use six fields (chime-scheduler --cron-seconds).
  bool cron_seconds = false;
  // chime-scheduler --misfire-run-all-cap.
  int run_all_cap = 100;
};

struct Violation {
  std::string rule;
  std::string detail;
};
std::string ToString(const std::vector<Violation>& violations);

class HistoryChecker {
 public:
  explicit HistoryChecker(CheckerOptions options = {}) : options_(options) {}

  // Adds JSON lines (any number of processes', interleaved).
  void AddHistory(std::string_view text);
  // Adds a file's lines; false (and a malformed violation) if unreadable.
  bool AddHistoryFile(const std::string& path);

  std::vector<Violation> Check(const DbSnapshot& db) const;
  size_t events() const { return events_.size(); }
  // Events by kind ("claim 120, complete 118 (3 refused), ..."), for logs.
  std::string Summary() const;

 private:
  CheckerOptions options_;
  std::vector<nlohmann::json> events_;
  std::vector<Violation> malformed_;
};

}  // namespace chime::testing
