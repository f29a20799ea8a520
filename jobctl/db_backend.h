// AdminBackend over a direct PostgreSQL connection (JobStore, ScheduleStore). Connects
// lazily on the first call and, for every call but Migrate/MigrationState,
// first checks once that the schema is current, so an unmigrated database
// gives "run jobctl migrate" instead of an SQL error. Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "common/db/auth_store.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "common/db/schedule_store.h"
#include "common/db/worker_directory.h"
#include "jobctl/admin_backend.h"

namespace chime::jobctl {

struct DbBackendConfig {
  std::string database_url;
  // Through a transaction-mode pooler ($CHIME_DATABASE_POOLER=transaction).
  bool pooled = false;
  // Bounds every statement, so a locked table cannot hang the client.
  std::chrono::milliseconds statement_timeout{std::chrono::seconds(60)};

  [[nodiscard]] Result<void> Validate() const;
};

class DbBackend final : public AdminBackend {
 public:
  explicit DbBackend(DbBackendConfig config);
  ~DbBackend() override;

  Result<db::MigrationStatus> Migrate() override;
  Result<db::MigrationStatus> MigrationState() override;
  Result<app::DemoCounts> AppSchemaApply(bool demo_data) override;
  Result<db::EnqueueResult> Enqueue(const db::EnqueueParams& params) override;
  Result<db::JobPage> List(const db::ListParams& params) override;
  Result<db::JobWithRuns> Show(int64_t id) override;
  Result<db::CancelOutcome> Cancel(int64_t id) override;
  Result<db::Job> Retry(int64_t id) override;
  Result<db::Stats> Stats() override;
  Result<db::StatsReport> RunStats(const db::StatsParams& params) override;
  Result<db::RunPage> Runs(const db::RunListParams& params) override;
  Result<std::vector<db::AlertRow>> Alerts(const db::AlertListParams& params) override;
  // FailedPrecondition: workers are known only to a scheduler.
  Result<std::vector<WorkerView>> Workers() override;
  Result<db::ScheduleRow> ScheduleCreate(const schedule::ScheduleSpec& spec) override;
  Result<db::ScheduleRow> ScheduleUpdate(const schedule::ScheduleSpec& spec) override;
  Result<void> ScheduleDelete(const std::string& name) override;
  Result<db::ScheduleRow> ScheduleShow(const std::string& name) override;
  Result<std::vector<db::ScheduleStatus>> ScheduleList() override;
  Result<db::ScheduleRow> SchedulePause(const std::string& name, bool paused) override;
  Result<db::FireResult> ScheduleTrigger(const std::string& name) override;
  Result<std::vector<db::FireResult>> ScheduleBackfill(const std::string& name, db::TimePoint from,
                                                       db::TimePoint to) override;
  Result<db::FirePage> ScheduleFires(const db::FireListParams& params) override;
  Result<std::optional<db::LeaderState>> Leader() override;
  // No token needed: the database login is the authority here, so an
  // operator can make the first token (created_by "database").
  Result<db::ApiTokenRow> TokenCreate(const auth::ApiToken& token, auth::Scope scope,
                                      std::optional<std::chrono::milliseconds> expires_in) override;
  Result<std::vector<db::ApiTokenRow>> TokensList() override;
  Result<db::ApiTokenRow> TokenRevoke(const std::string& name) override;
  Result<db::LimitRow> LimitSet(const schedule::LimitSpec& spec) override;
  Result<std::vector<db::LimitRow>> LimitsList() override;
  Result<void> LimitDelete(const std::string& name) override;

 private:
  // Validates the config and connects if needed; errors name the redacted URL.
  Result<void> Connected();
  // Connected(), then checks once per backend that the schema is current.
  Result<void> Ready();

  DbBackendConfig config_;
  db::Connection conn_;
  db::JobStore store_;
  db::ScheduleStore schedules_;
  db::StatsStore stats_;
  db::AlertStore alerts_;
  db::ObserveStore observe_;
  db::WorkerDirectory directory_;
  db::AuthStore auth_;
  db::LimitStore limits_;
  bool schema_checked_ = false;
};

}  // namespace chime::jobctl
