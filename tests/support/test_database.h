// Test databases on the PostgreSQL server that the ctest fixture "chime_pg"
// starts once per run. Thread-compatible.
#pragma once

#include <string>

namespace chime::testing {

// URL of the harness's server: $CHIME_TEST_DATABASE_URL, else the line of
// that name in the env file named by $CHIME_TEST_PG_ENV. Aborts with a clear
// message when neither exists (a test that needs the database never skips).
std::string ServerUrl();

// A fresh, empty database, dropped (WITH (FORCE)) in the destructor.
class TestDatabase {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // The server's port and the user the URL names (as libpq reads the URL),
  // and this database's URL with another port: a proxy or pooler in front
  // of the same server.
  int port() const;
  std::string user() const;
  std::string UrlWithPort(int port) const;
  // This database's URL with its sessions running as `role` (options -c
  // role=), which checks privileges exactly as a login of that role would.
  std::string UrlAsRole(const std::string& role) const;

  // First column of the first row as text; "" for no rows or NULL.
  std::string Scalar(const std::string& sql) const;
  // Runs SQL, ignoring any rows.
  void Exec(const std::string& sql) const;

 private:
  std::string name_;
  std::string url_;
};

}  // namespace chime::testing
