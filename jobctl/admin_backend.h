// The operations jobctl performs, independent of how they reach the system.
// DbBackend talks to PostgreSQL directly; ZmqBackend sends the same requests
// to the scheduler over ZeroMQ. Commands depend only on this interface, so
// swapping the transport does not touch them.
// Implementations are thread-compatible: one command uses one backend at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/auth/api_token.h"
#include "common/auth/scope.h"
#include "common/base/error.h"
#include "common/db/alert_store.h"
#include "common/db/auth_store.h"
#include "common/db/job.h"
#include "common/db/limit_store.h"
#include "common/db/migrations.h"
#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"
#include "common/db/stats_store.h"
#include "common/view/json_view.h"
#include "common/app/app_schema.h"

namespace chime::jobctl {

// A worker as a scheduler sees it (jobctl workers); shared with the HTTP API.
using WorkerView = view::WorkerView;

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // Applies pending schema migrations; reports the versions and files applied.
  [[nodiscard]] virtual Result<db::MigrationStatus> Migrate() = 0;
  // Reports schema versions without changing anything.
  [[nodiscard]] virtual Result<db::MigrationStatus> MigrationState() = 0;

  // Creates the default application schema chime_app the seeds' kinds read
  // (common/app/app_schema.sql) and, with demo_data, inserts the demo rows
  // that are missing; returns the rows inserted. Needs the database itself:
  // FailedPrecondition from backends that only reach a scheduler.
  [[nodiscard]] virtual Result<app::DemoCounts> AppSchemaApply(bool demo_data) {
    (void)demo_data;
    return Fail(ErrorCode::kFailedPrecondition, "app-schema needs the database (--database-url)");
  }

  // Enqueues one job; a live job with the same (kind, unique key) is
  // returned with existing=true instead. InvalidArgument names the field.
  [[nodiscard]] virtual Result<db::EnqueueResult> Enqueue(const db::EnqueueParams& params) = 0;

  // One page of jobs, newest first.
  [[nodiscard]] virtual Result<db::JobPage> List(const db::ListParams& params) = 0;

  // One job with its runs; NotFound if there is no such job.
  [[nodiscard]] virtual Result<db::JobWithRuns> Show(int64_t id) = 0;

  // NotFound if no such job; FailedPrecondition if it already finished.
  [[nodiscard]] virtual Result<db::CancelOutcome> Cancel(int64_t id) = 0;

  // Makes a failed, cancelled or pending job available now; returns it.
  // NotFound / FailedPrecondition (running or succeeded).
  [[nodiscard]] virtual Result<db::Job> Retry(int64_t id) = 0;

  [[nodiscard]] virtual Result<db::Stats> Stats() = 0;

  // Run statistics per schedule or kind over a range (db::StatsStore);
  // InvalidArgument names the field, NotFound an unknown schedule.
  [[nodiscard]] virtual Result<db::StatsReport> RunStats(const db::StatsParams& params) = 0;

  // Runs (each finished job's final attempt, with its outcome) or every
  // attempt, newest first (db::ObserveStore::RunsList); InvalidArgument
  // names the field, NotFound an unknown schedule.
  [[nodiscard]] virtual Result<db::RunPage> Runs(const db::RunListParams& params) = 0;

  // Health alerts, newest first: firing ones, or with params.all resolved too.
  [[nodiscard]] virtual Result<std::vector<db::AlertRow>> Alerts(const db::AlertListParams& params) = 0;

  // Workers connected to the scheduler. Only a scheduler knows them.
  [[nodiscard]] virtual Result<std::vector<WorkerView>> Workers() = 0;

  // Schedules (see db::ScheduleStore for each operation's errors).
  [[nodiscard]] virtual Result<db::ScheduleRow> ScheduleCreate(const schedule::ScheduleSpec& spec) = 0;
  [[nodiscard]] virtual Result<db::ScheduleRow> ScheduleUpdate(const schedule::ScheduleSpec& spec) = 0;
  [[nodiscard]] virtual Result<void> ScheduleDelete(const std::string& name) = 0;
  [[nodiscard]] virtual Result<db::ScheduleRow> ScheduleShow(const std::string& name) = 0;
  [[nodiscard]] virtual Result<std::vector<db::ScheduleStatus>> ScheduleList() = 0;
  [[nodiscard]] virtual Result<db::ScheduleRow> SchedulePause(const std::string& name, bool paused) = 0;
  [[nodiscard]] virtual Result<db::FireResult> ScheduleTrigger(const std::string& name) = 0;
  [[nodiscard]] virtual Result<std::vector<db::FireResult>> ScheduleBackfill(
      const std::string& name, db::TimePoint from, db::TimePoint to) = 0;
  // A schedule's recorded ticks, newest first (db::ScheduleStore::FiresList).
  [[nodiscard]] virtual Result<db::FirePage> ScheduleFires(const db::FireListParams& params) = 0;
  // The leader lease; nullopt when no scheduler ever led.
  [[nodiscard]] virtual Result<std::optional<db::LeaderState>> Leader() = 0;

  // Named tokens (common/db/auth_store.h for the errors). `token` was made
  // here; only its digest and public key leave this process.
  [[nodiscard]] virtual Result<db::ApiTokenRow> TokenCreate(
      const auth::ApiToken& token, auth::Scope scope, std::optional<std::chrono::milliseconds> expires_in) {
    (void)token, (void)scope, (void)expires_in;
    return Fail(ErrorCode::kFailedPrecondition, "token create: not supported by this backend");
  }
  [[nodiscard]] virtual Result<std::vector<db::ApiTokenRow>> TokensList() {
    return Fail(ErrorCode::kFailedPrecondition, "token list: not supported by this backend");
  }
  [[nodiscard]] virtual Result<db::ApiTokenRow> TokenRevoke(const std::string& name) {
    (void)name;
    return Fail(ErrorCode::kFailedPrecondition, "token revoke: not supported by this backend");
  }
  // Cluster-wide limits (common/db/limit_store.h for the errors).
  [[nodiscard]] virtual Result<db::LimitRow> LimitSet(const schedule::LimitSpec& spec) {
    (void)spec;
    return Fail(ErrorCode::kFailedPrecondition, "limit set: not supported by this backend");
  }
  [[nodiscard]] virtual Result<std::vector<db::LimitRow>> LimitsList() {
    return Fail(ErrorCode::kFailedPrecondition, "limit list: not supported by this backend");
  }
  [[nodiscard]] virtual Result<void> LimitDelete(const std::string& name) {
    (void)name;
    return Fail(ErrorCode::kFailedPrecondition, "limit delete: not supported by this backend");
  }

  // The credential the scheduler sees. Needs a scheduler: FailedPrecondition
  // from the database path.
  [[nodiscard]] virtual Result<auth::Principal> Whoami() {
    return Fail(ErrorCode::kFailedPrecondition,
                "whoami asks a scheduler (set CHIME_SCHEDULER or --scheduler): straight to the "
                "database, jobctl acts with the database login's rights");
  }
};

}  // namespace chime::jobctl
