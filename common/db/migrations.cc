#include "common/db/migrations.h"

#include <pqxx/pqxx>

#include <cstdlib>
#include <optional>

namespace chime::db {
namespace {

// Arbitrary constant: the advisory lock every migrating process takes.
constexpr int64_t kMigrationLockKey = 0x6368696d65;  // "chime"

int VersionOf(const char* file) { return std::atoi(file); }

int LatestVersion() {
  int latest = 0;
  for (const auto& m : internal::kMigrations) latest = std::max(latest, VersionOf(m.file));
  return latest;
}

// Highest applied version, or 0 when the ledger does not exist yet.
int CurrentVersion(pqxx::transaction_base& tx) {
  auto exists = tx.exec("SELECT to_regclass('chime.schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return 0;
  return tx.exec("SELECT coalesce(max(version), 0) FROM chime.schema_migrations")[0][0].as<int>();
}

}  // namespace

Result<MigrationStatus> MigrationsStatus(Connection& conn) {
  MigrationStatus status;
  status.latest_version = LatestVersion();
  auto ran = conn.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    status.current_version = CurrentVersion(tx);
  });
  if (!ran) return std::unexpected(ran.error());
  return status;
}

Result<MigrationStatus> MigrationsApply(Connection& conn) {
  // Cheap path first: processes without DDL rights start fine on a current schema.
  auto before = MigrationsStatus(conn);
  if (!before) return before;
  if (before->current_version > before->latest_version) {
    return Fail(ErrorCode::kFailedPrecondition,
                "database schema version " + std::to_string(before->current_version) +
                    " is newer than this binary's " + std::to_string(before->latest_version));
  }
  if (before->current_version == before->latest_version) return before;

  MigrationStatus status;
  status.latest_version = before->latest_version;
  std::optional<std::string> failed_file;
  bool too_new = false;
  auto ran = conn.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
    tx.exec("CREATE SCHEMA IF NOT EXISTS chime");
    tx.exec(
        "CREATE TABLE IF NOT EXISTS chime.schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    status.current_version = CurrentVersion(tx);
    if (status.current_version > status.latest_version) {
      too_new = true;
      return;  // Rolls back.
    }
    for (const auto& m : internal::kMigrations) {
      const int version = VersionOf(m.file);
      if (version <= status.current_version) continue;
      failed_file = m.file;
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO chime.schema_migrations (version, name) VALUES ($1, $2)",
                     version, std::string(m.file));
      status.applied_now.emplace_back(m.file);
      status.current_version = version;
    }
    failed_file.reset();
    tx.commit();
  });
  if (!ran) {
    Error error = ran.error();
    if (failed_file) error.message = "migration " + *failed_file + " failed: " + error.message;
    return std::unexpected(std::move(error));
  }
  if (too_new) {
    return Fail(ErrorCode::kFailedPrecondition,
                "database schema is newer than this binary's version " +
                    std::to_string(status.latest_version));
  }
  return status;
}

}  // namespace chime::db
