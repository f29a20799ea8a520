#include "jobctl/db_backend.h"

#include <string_view>
#include <utility>


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
    : config_(std::move(config)), conn_(ConnectionConfigFor(config_)), stores_(conn_), context_{.stores = stores_} {}

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

Result<app::DemoCounts> DbBackend::AppSchemaApply(bool demo_data) {
  if (auto ok = Connected(); !ok) return std::unexpected(ok.error());
  if (!demo_data) {
    if (auto ok = app::ApplyAppSchema(conn_); !ok) return std::unexpected(ok.error());
    return app::DemoCounts{};
  }
  return app::LoadDemoData(conn_);
}

Result<admin::Context*> DbBackend::InProcess(admin::Needs needs) {
  switch (needs) {
    case admin::Needs::kNothing:
      break;
    case admin::Needs::kConnection:
      if (auto ok = Connected(); !ok) return std::unexpected(ok.error());
      break;
    case admin::Needs::kCurrentSchema:
      if (auto ok = Ready(); !ok) return std::unexpected(ok.error());
      break;
  }
  return &context_;
}

}  // namespace chime::jobctl
