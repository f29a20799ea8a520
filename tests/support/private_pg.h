// A PostgreSQL server of one test's own, for tests that change the server
// itself (TLS, statement logging, pg_hba.conf), which the shared chime_pg
// server must never see: scripts/pg.sh (found through $CHIME_PG_SCRIPT, set
// by ctest) in a temporary directory, destroyed with the object. Waits poll
// with deadlines only a broken build reaches. Thread-compatible.
#pragma once

#include <functional>
#include <string>

namespace chime::testing {

class PrivateServer {
 public:
  // Starts the server; ok() says whether it runs, error() why not.
  PrivateServer();
  ~PrivateServer();
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  bool ok() const { return !url_.empty(); }
  const std::string& error() const { return error_; }
  // The superuser's URL: postgresql://postgres@127.0.0.1:PORT/postgres.
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  // The cluster's directory (postgresql.conf, pg_hba.conf).
  std::string data_dir() const;
  // Everything the server has logged so far.
  std::string log() const;

  // Runs `sql` as the superuser on database postgres; the first column of
  // the first row, "" for none or NULL.
  std::string Scalar(const std::string& sql) const;
  // Writes `name` into the data directory, owned by the server's user with
  // mode 0600 (what PostgreSQL demands of a TLS key).
  bool WriteDataFile(const std::string& name, const std::string& text) const;
  // Asks the server to reload its configuration (pg_reload_conf()), then
  // polls `applied` until it holds; false when it never does.
  bool Reload(const std::function<bool()>& applied) const;

  // Makes TestDatabase (tests/support/test_database.h) create its databases
  // here, through $CHIME_TEST_DATABASE_URL, until this object is destroyed.
  void ServeTestDatabases();

 private:
  std::string script_;
  std::string dir_;
  std::string url_;
  std::string error_;
  int port_ = 0;
  bool serving_test_databases_ = false;
};

// Runs a shell command; its stdout and stderr, with trailing newlines
// removed, and its exit status in `status` when given.
std::string Shell(const std::string& command, int* status = nullptr);

}  // namespace chime::testing
