// The database one chime-bench run works in: a fresh chime_bench_<pid> on
// the given server, or on a private server started through scripts/pg.sh
// when no URL is given, with Chime's migrations applied. Dropped (and the
// private server stopped) at destruction unless `keep`. Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "bench/private_server.h"
#include "common/base/error.h"

namespace chime::bench {

struct BenchDatabaseConfig {
  std::string server_url;  // Empty: start a private server with pg_script.
  std::string pg_script;   // scripts/pg.sh of the source tree.
  bool keep = false;       // Leave the database (and private cluster) behind.
  // If set, every session in the bench database runs with this
  // synchronous_commit ("off" shows the cost without WAL flush waits).
  std::string synchronous_commit;
};

class BenchDatabase {
 public:
  [[nodiscard]] static Result<std::unique_ptr<BenchDatabase>> Create(
      const BenchDatabaseConfig& config);
  ~BenchDatabase();  // Drop().

  const std::string& conninfo() const { return conninfo_; }  // Of the fresh database.
  const std::string& name() const { return name_; }
  const std::string& server_version() const { return server_version_; }
  // The private server, or nullptr when a URL was given.
  PrivateServer* private_server() const { return server_.get(); }

  // Drops the database unless `keep`, then stops a private server. Every
  // other connection to the database must be closed by now. Idempotent.
  void Drop();

 private:
  BenchDatabase() = default;

  BenchDatabaseConfig config_;
  std::unique_ptr<PrivateServer> server_;
  std::string admin_conninfo_;  // The server's maintenance database.
  std::string conninfo_;
  std::string name_;
  std::string server_version_;
  bool created_ = false;
};

}  // namespace chime::bench
