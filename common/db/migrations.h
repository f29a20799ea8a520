// Versioned schema migrations, embedded from common/db/migrations/*.sql.
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"

namespace chime::db {

namespace internal {
struct EmbeddedMigration {
  const char* file;  // "0001_init.sql": the leading number is the version.
  const char* sql;
};
extern const std::vector<EmbeddedMigration> kMigrations;
}  // namespace internal

struct MigrationStatus {
  int current_version = 0;  // Highest applied version; 0 on an empty database.
  int latest_version = 0;   // Highest version this binary knows.
  std::vector<std::string> applied_now;  // Files applied by this call.
};

// Applies every pending migration in one transaction under an advisory lock,
// so concurrent callers serialize and all but the first find nothing to do.
// A failing migration rolls everything back and names the file. A database
// newer than this binary is FailedPrecondition.
[[nodiscard]] Result<MigrationStatus> MigrationsApply(Connection& conn);

// Reports versions without changing anything.
[[nodiscard]] Result<MigrationStatus> MigrationsStatus(Connection& conn);

}  // namespace chime::db
