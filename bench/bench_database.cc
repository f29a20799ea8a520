#include "bench/bench_database.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "bench/pq.h"
#include "common/db/connection.h"
#include "common/db/migrations.h"

namespace chime::bench {

Result<std::unique_ptr<BenchDatabase>> BenchDatabase::Create(const BenchDatabaseConfig& config) {
  std::unique_ptr<BenchDatabase> db(new BenchDatabase());
  db->config_ = config;
  db->admin_conninfo_ = config.server_url;
  if (config.server_url.empty()) {
    auto server = PrivateServer::Start(config.pg_script, config.keep);
    if (!server) return std::unexpected(server.error());
    db->server_ = std::move(*server);
    db->admin_conninfo_ = db->server_->url();
  }
  db->name_ = "chime_bench_" + std::to_string(getpid());
  auto conninfo = ConninfoWithDatabase(db->admin_conninfo_, db->name_);
  if (!conninfo) return std::unexpected(conninfo.error());
  db->conninfo_ = *conninfo;

  auto admin = PqConnection::Open(db->admin_conninfo_);
  if (!admin) return std::unexpected(admin.error());
  db->server_version_ = admin->ServerVersion();
  // A leftover from a crashed run with the same pid would hold stale data.
  if (auto r = admin->Exec("DROP DATABASE IF EXISTS " + QuoteIdent(db->name_) + " WITH (FORCE)");
      !r) {
    return std::unexpected(r.error());
  }
  if (auto r = admin->Exec("CREATE DATABASE " + QuoteIdent(db->name_)); !r) {
    return std::unexpected(r.error());
  }
  db->created_ = true;
  if (!config.synchronous_commit.empty()) {
    auto value = admin->ExecParams("SELECT quote_literal($1)", {config.synchronous_commit});
    if (!value) return std::unexpected(value.error());
    if (auto r = admin->Exec("ALTER DATABASE " + QuoteIdent(db->name_) +
                             " SET synchronous_commit = " + value->text(0, 0));
        !r) {
      return Fail(ErrorCode::kInvalidArgument, "--synchronous-commit: " + r.error().message);
    }
  }
  spdlog::info("created database {} (PostgreSQL {})", db->name_, db->server_version_);

  db::Connection conn(db::ConnectionConfig{.url = db->conninfo_});
  auto migrated = db::MigrationsApply(conn);
  if (!migrated) return std::unexpected(migrated.error());
  return db;
}

BenchDatabase::~BenchDatabase() { Drop(); }

void BenchDatabase::Drop() {
  if (created_ && !config_.keep) {
    created_ = false;
    auto admin = PqConnection::Open(admin_conninfo_);
    auto dropped = admin ? admin->Exec("DROP DATABASE IF EXISTS " + QuoteIdent(name_) + " WITH (FORCE)")
                         : Result<PqResult>(std::unexpected(admin.error()));
    if (!dropped) spdlog::warn("dropping database {}: {}", name_, dropped.error().ToString());
  } else if (created_) {
    created_ = false;
    spdlog::info("kept database {}", name_);
  }
  if (server_) server_->Stop();
}

}  // namespace chime::bench
