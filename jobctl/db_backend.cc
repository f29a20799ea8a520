#include "jobctl/db_backend.h"

#include <string_view>
#include <utility>

#include "common/wire/token_convert.h"

namespace chime::jobctl {
namespace {

db::ConnectionConfig ConnectionConfigFor(const DbBackendConfig& config) {
  db::ConnectionConfig c;
  c.url = config.database_url;
  c.pooled = config.pooled;
  c.statement_timeout = config.statement_timeout;
  return c;
}

// libpq quotes a malformed URI in its message, password included.
std::string ScrubUrl(std::string message, const std::string& url) {
  const std::string redacted = db::RedactUrl(url);
  if (redacted == url || url.empty()) return message;
  for (size_t pos = message.find(url); pos != std::string::npos;
       pos = message.find(url, pos + redacted.size())) {
    message.replace(pos, url.size(), redacted);
  }
  return message;
}

}  // namespace

Result<void> DbBackendConfig::Validate() const {
  if (database_url.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "no database: set CHIME_DATABASE_URL or pass --database-url");
  }
  if (statement_timeout.count() < 0) {
    return Fail(ErrorCode::kInvalidArgument, "statement_timeout: must not be negative");
  }
  return {};
}

DbBackend::DbBackend(DbBackendConfig config)
    : config_(std::move(config)), conn_(ConnectionConfigFor(config_)), store_(conn_),
      schedules_(conn_),
      stats_(conn_),
      alerts_(conn_),
      observe_(conn_),
      directory_(conn_),
      auth_(conn_),
      limits_(conn_) {}

DbBackend::~DbBackend() = default;

Result<void> DbBackend::Connected() {
  if (auto valid = config_.Validate(); !valid) return valid;
  if (conn_.connected()) return {};
  if (auto ok = conn_.Connect(); !ok) {
    Error e = ok.error();
    std::string_view detail = e.message;
    for (std::string_view prefix : {"cannot connect to database: ", "database connection lost: "}) {
      if (detail.starts_with(prefix)) detail.remove_prefix(prefix.size());
    }
    e.message = "cannot connect to database " + db::RedactUrl(config_.database_url) + ": " +
                ScrubUrl(std::string(detail), config_.database_url);
    return std::unexpected(std::move(e));
  }
  return {};
}

Result<void> DbBackend::Ready() {
  if (auto ok = Connected(); !ok) return ok;
  if (schema_checked_) return {};
  auto status = db::MigrationsStatus(conn_);
  if (!status) return std::unexpected(status.error());
  if (status->current_version < status->latest_version) {
    return Fail(ErrorCode::kFailedPrecondition,
                "database schema is at version " + std::to_string(status->current_version) +
                    ", this jobctl needs " + std::to_string(status->latest_version) +
                    "; run `jobctl migrate`");
  }
  // A newer schema is fine to read: migrations only add.
  schema_checked_ = true;
  return {};
}

Result<db::MigrationStatus> DbBackend::Migrate() {
  if (auto ok = Connected(); !ok) return std::unexpected(ok.error());
  return db::MigrationsApply(conn_);
}

Result<db::MigrationStatus> DbBackend::MigrationState() {
  if (auto ok = Connected(); !ok) return std::unexpected(ok.error());
  return db::MigrationsStatus(conn_);
}

Result<app::DemoCounts> DbBackend::AppSchemaApply(bool demo_data) {
  if (auto ok = Connected(); !ok) return std::unexpected(ok.error());
  if (!demo_data) {
    if (auto ok = app::ApplyAppSchema(conn_); !ok) return std::unexpected(ok.error());
    return app::DemoCounts{};
  }
  return app::LoadDemoData(conn_);
}

Result<db::EnqueueResult> DbBackend::Enqueue(const db::EnqueueParams& params) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return store_.JobInsert(params);
}

Result<db::JobPage> DbBackend::List(const db::ListParams& params) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return store_.JobsList(params);
}

Result<db::JobWithRuns> DbBackend::Show(int64_t id) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return store_.JobGet(id);
}

Result<db::CancelOutcome> DbBackend::Cancel(int64_t id) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return store_.JobCancel(id);
}

Result<db::Job> DbBackend::Retry(int64_t id) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return store_.JobRetry(id);
}

Result<db::Stats> DbBackend::Stats() {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return store_.JobsStats();
}

Result<db::StatsReport> DbBackend::RunStats(const db::StatsParams& params) {
  if (auto ok = params.Validate(); !ok) return std::unexpected(ok.error());
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return stats_.StatsQuery(params);
}

Result<db::RunPage> DbBackend::Runs(const db::RunListParams& params) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return observe_.RunsList(params);
}

Result<std::vector<db::AlertRow>> DbBackend::Alerts(const db::AlertListParams& params) {
  if (auto ok = params.Validate(); !ok) return std::unexpected(ok.error());
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return alerts_.AlertsList(params);
}

Result<std::vector<WorkerView>> DbBackend::Workers() {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  // What the scheduler replicas published (they refresh it every second).
  return directory_.List();
}

Result<db::ScheduleRow> DbBackend::ScheduleCreate(const schedule::ScheduleSpec& spec) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.ScheduleCreate(spec);
}

Result<db::ScheduleRow> DbBackend::ScheduleUpdate(const schedule::ScheduleSpec& spec) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.ScheduleUpdate(spec);
}

Result<void> DbBackend::ScheduleDelete(const std::string& name) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.ScheduleDelete(name);
}

Result<db::ScheduleRow> DbBackend::ScheduleShow(const std::string& name) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.ScheduleGet(name);
}

Result<std::vector<db::ScheduleStatus>> DbBackend::ScheduleList() {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.SchedulesList();
}

Result<db::ScheduleRow> DbBackend::SchedulePause(const std::string& name, bool paused) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.ScheduleSetPaused(name, paused);
}

Result<db::FireResult> DbBackend::ScheduleTrigger(const std::string& name) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.TriggerNow(name);
}

Result<std::vector<db::FireResult>> DbBackend::ScheduleBackfill(const std::string& name,
                                                                db::TimePoint from,
                                                                db::TimePoint to) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.Backfill(name, from, to);
}

Result<db::FirePage> DbBackend::ScheduleFires(const db::FireListParams& params) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.FiresList(params);
}

Result<std::optional<db::LeaderState>> DbBackend::Leader() {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return schedules_.LeaderGet();
}

Result<db::ApiTokenRow> DbBackend::TokenCreate(const auth::ApiToken& token, auth::Scope scope,
                                               std::optional<std::chrono::milliseconds> expires_in) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return auth_.TokenCreate(wire::TokenCreateParamsFor(token, scope, expires_in, "database"));
}

Result<std::vector<db::ApiTokenRow>> DbBackend::TokensList() {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return auth_.TokensList();
}

Result<db::ApiTokenRow> DbBackend::TokenRevoke(const std::string& name) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return auth_.TokenRevoke(name);
}

Result<db::LimitRow> DbBackend::LimitSet(const schedule::LimitSpec& spec) {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return limits_.LimitSet(spec);
}

Result<std::vector<db::LimitRow>> DbBackend::LimitsList() {
  if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
  return limits_.LimitsList();
}

Result<void> DbBackend::LimitDelete(const std::string& name) {
  if (auto ok = Ready(); !ok) return ok;
  return limits_.LimitDelete(name);
}

}  // namespace chime::jobctl
