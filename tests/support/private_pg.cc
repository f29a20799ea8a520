#include "tests/support/private_pg.h"

#include "tests/support/wait_until.h"

#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

namespace chime::testing {

std::string Shell(const std::string& command, int* status) {
  std::string out;
  int rc = -1;
  if (FILE* p = popen(("(" + command + ") 2>&1").c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    rc = pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (status != nullptr) *status = rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

PrivateServer::PrivateServer() {
  const char* script = std::getenv("CHIME_PG_SCRIPT");
  if (script == nullptr || *script == '\0') {
    error_ = "CHIME_PG_SCRIPT is not set; run this test through ctest";
    return;
  }
  script_ = script;
  char dir[] = "/tmp/chime-private-pg.XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = dir;
  chmod(dir_.c_str(), 0755);  // The server's user reaches its data through it.
  int status = 0;
  const std::string out = Shell("CHIME_PG_FAST=1 '" + script_ + "' start '" + dir_ + "'", &status);
  const std::string url = out.substr(out.rfind('\n') + 1);
  if (status != 0 || !url.starts_with("postgresql://")) {
    error_ = "pg.sh start: " + out;
    return;
  }
  url_ = url;
  const size_t colon = url_.rfind(':');
  port_ = std::stoi(url_.substr(colon + 1, url_.find('/', colon) - colon - 1));
}

PrivateServer::~PrivateServer() {
  if (serving_test_databases_) unsetenv("CHIME_TEST_DATABASE_URL");
  if (!dir_.empty()) Shell("'" + script_ + "' destroy '" + dir_ + "'; rm -rf '" + dir_ + "'");
}

std::string PrivateServer::data_dir() const {
  std::error_code ec;
  return std::filesystem::canonical(dir_ + "/data", ec).string();
}

std::string PrivateServer::log() const {
  std::ifstream in(dir_ + "/postgres.log");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string PrivateServer::Scalar(const std::string& sql) const {
  pqxx::connection conn(url_);
  pqxx::nontransaction tx(conn);
  const pqxx::result r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].c_str();
}

bool PrivateServer::WriteDataFile(const std::string& name, const std::string& text) const {
  const std::string path = data_dir() + "/" + name;
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) return false;
  }
  if (chmod(path.c_str(), 0600) != 0) return false;
  // The server runs as `postgres` when tests run as root (scripts/pg.sh).
  if (geteuid() == 0) {
    const passwd* pg = getpwnam("postgres");
    if (pg == nullptr || chown(path.c_str(), pg->pw_uid, pg->pw_gid) != 0) return false;
  }
  return true;
}

bool PrivateServer::Reload(const std::function<bool()>& applied) const {
  if (Scalar("SELECT pg_reload_conf()") != "t") return false;
  auto holds = [&] {
    try {
      return applied();
    } catch (const std::exception&) {
      return false;  // Mid-reload; ask again.
    }
  };
  return static_cast<bool>(WaitUntil("the reloaded configuration to apply", holds, std::chrono::seconds(30)));
}

void PrivateServer::ServeTestDatabases() {
  setenv("CHIME_TEST_DATABASE_URL", url_.c_str(), 1);
  serving_test_databases_ = true;
}

}  // namespace chime::testing
