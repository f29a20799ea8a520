// AdminBackend over a direct PostgreSQL connection: runs every command of
// common/admin in process, with no scheduler-only context. Connects
// lazily on the first call and, for every call but Migrate/MigrationState,
// first checks once that the schema is current, so an unmigrated database
// gives "run jobctl migrate" instead of an SQL error. Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "common/admin/context.h"
#include "common/db/connection.h"
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
  Result<app::DemoCounts> AppSchemaApply(bool demo_data) override;

 protected:
  // Every command runs in process against `stores_`. The database login is
  // the authority here (no Context::who): an operator can make the first
  // token (created_by "database"); whoami is refused.
  Result<admin::Context*> InProcess(admin::Needs needs) override;

 private:
  // Validates the config and connects if needed; errors name the redacted URL.
  Result<void> Connected();
  // Connected(), then checks once per backend that the schema is current.
  Result<void> Ready();

  DbBackendConfig config_;
  db::Connection conn_;
  admin::Stores stores_;
  admin::Context context_;
  bool schema_checked_ = false;
};

}  // namespace chime::jobctl
