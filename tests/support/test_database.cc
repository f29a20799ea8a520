#include "tests/support/test_database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <libpq-fe.h>
#include <pqxx/pqxx>

namespace chime::testing {
namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "test harness: %s\n", message.c_str());
  std::abort();
}

// Replaces the database name (the path after the last '/') of a URI.
std::string WithDatabase(const std::string& url, const std::string& db) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) Die("cannot parse server url");
  const auto query = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

std::string Sanitize(const std::string& s) {
  std::string out;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out.push_back(c);
    } else if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back('_');
    }
  }
  return out;
}

}  // namespace

std::string ServerUrl() {
  if (const char* url = std::getenv("CHIME_TEST_DATABASE_URL"); url != nullptr && *url != '\0') {
    return url;
  }
  const char* env_file = std::getenv("CHIME_TEST_PG_ENV");
  if (env_file == nullptr) {
    Die("no PostgreSQL: set CHIME_TEST_DATABASE_URL or run through ctest (fixture chime_pg)");
  }
  std::ifstream in(env_file);
  const std::string prefix = "CHIME_TEST_DATABASE_URL=";
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix)) return line.substr(prefix.size());
  }
  Die(std::string("no CHIME_TEST_DATABASE_URL in ") + env_file +
      " (did the chime_pg_start fixture run?)");
}

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  std::string test = "t";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    test = Sanitize(std::string(info->test_suite_name()) + "_" + info->name());
  }
  const std::string suffix = "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  name_ = "t_" + test.substr(0, 63 - 2 - suffix.size()) + suffix;
  const std::string server = ServerUrl();
  pqxx::connection conn(server);
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  url_ = WithDatabase(server, name_);
}

namespace {

// One connection option of `url` as libpq reads it; "" when unset.
std::string ConnOption(const std::string& url, const std::string& keyword) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    Die("cannot parse the test database url: " + why);
  }
  std::string value;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (keyword == o->keyword && o->val != nullptr) value = o->val;
  }
  PQconninfoFree(options);
  return value;
}

}  // namespace

int TestDatabase::port() const {
  const std::string port = ConnOption(url_, "port");
  return port.empty() ? 5432 : std::stoi(port);
}

std::string TestDatabase::user() const { return ConnOption(url_, "user"); }

std::string TestDatabase::UrlWithPort(int port) const {
  // postgresql://[user[:password]@]host[:port]/name...: the port after the
  // host is replaced (or added); a bracketed IPv6 host keeps its colons.
  constexpr auto npos = std::string::npos;
  const auto start = url_.find("://") + 3;
  const auto slash = url_.find('/', start);
  if (slash == npos) Die("cannot parse the test database url");
  const auto at = url_.find('@', start);
  const auto host = at != npos && at < slash ? at + 1 : start;
  const auto bracket = url_.find(']', host);
  const auto colon = url_.find(':', bracket != npos && bracket < slash ? bracket : host);
  const auto host_end = colon != npos && colon < slash ? colon : slash;
  return url_.substr(0, host_end) + ":" + std::to_string(port) + url_.substr(slash);
}

std::string TestDatabase::UrlAsRole(const std::string& role) const {
  return url_ + (url_.find('?') == std::string::npos ? "?" : "&") + "options=-c%20role%3D" + role;
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection conn(ServerUrl());
    pqxx::nontransaction tx(conn);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "test harness: could not drop %s: %s\n", name_.c_str(), e.what());
  }
}

std::string TestDatabase::Scalar(const std::string& sql) const {
  pqxx::connection conn(url_);
  pqxx::nontransaction tx(conn);
  auto r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].c_str();
}

void TestDatabase::Exec(const std::string& sql) const {
  pqxx::connection conn(url_);
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

}  // namespace chime::testing
