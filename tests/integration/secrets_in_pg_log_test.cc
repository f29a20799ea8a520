// PostgreSQL's own log, with every statement and its parameters logged,
// holds no secret after a run through Chime's processes: on a private
// server (log_statement = all, log_connections = on, parameters logged in
// full), a cluster whose database login has a real password (scram-sha-256)
// runs with one sentinel inside that password, the admin secret, and the
// secrets the kinds send - http_request's bearer, sync_integration's
// provider endpoint and reconcile_exam_capacity's webhook - each endpoint
// echoing its secret back, accepted or refused; jobctl also tries a wrong
// password. Then the server's log is searched for the sentinel, and shown to
// hold the run's statements, parameters and logins, so the search means
// something.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <pqxx/pqxx>
#include <random>

#include "tests/integration/cluster.h"
#include "tests/support/http_test_server.h"
#include "tests/support/private_pg.h"

namespace chime::testing {
namespace {

class SecretsInPgLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.error();
    // The password is set while nothing is logged: PostgreSQL itself would
    // log it in the CREATE ROLE statement.
    server_.Scalar("CREATE ROLE chime_login LOGIN SUPERUSER PASSWORD '" + password_ + "'");
    std::ifstream hba(server_.data_dir() + "/pg_hba.conf");
    const std::string rules((std::istreambuf_iterator<char>(hba)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(server_.WriteDataFile("pg_hba.conf", "host all chime_login 127.0.0.1/32 scram-sha-256\n" + rules));
    for (const char* setting : {"log_statement = 'all'", "log_connections = on", "log_disconnections = on",
                                "log_parameter_max_length = -1", "log_parameter_max_length_on_error = -1",
                                "log_min_error_statement = 'info'"}) {
      server_.Scalar(std::string("ALTER SYSTEM SET ") + setting);
    }
    const std::string no_password =
        "postgresql://chime_login@127.0.0.1:" + std::to_string(server_.port()) + "/postgres";
    ASSERT_TRUE(server_.Reload([&] {
      if (server_.Scalar("SHOW log_statement") != "all") return false;
      try {
        pqxx::connection refused(no_password);
        return false;
      } catch (const pqxx::broken_connection&) {
        return true;  // The password is asked for now.
      }
    })) << server_.log();
    server_.ServeTestDatabases();
    cluster_.emplace();
    url_ = "postgresql://chime_login:" + password_ + "@127.0.0.1:" + std::to_string(server_.port()) + "/" +
           cluster_->db().name();

    kinds_file_ = std::filesystem::temp_directory_path() / ("chime-kinds-" + RandomHex(8) + ".yaml");
    std::ofstream(kinds_file_) << "providers:\n"
                                  "  - name: github\n"
                                  "    endpoint:\n"
                                  "      url: " << sync_.Url("/sync") << "\n"
                                  "      secret: env:CHIME_SECRET_SYNC\n"
                                  "      auth: bearer\n"
                                  "capacity_webhook:\n"
                                  "  url: " << webhook_.Url("/capacity") << "\n"
                                  "  secret: env:CHIME_SECRET_CAPACITY_WEBHOOK\n"
                                  "  auth: bearer\n"
                                  "http:\n  allow:\n    - 127.0.0.1/32\n"
                                  "http_request:\n  secrets:\n    - env:CRON_SECRET\n";
  }

  void TearDown() override {
    cluster_.reset();  // Processes and database first, while the server runs.
    std::filesystem::remove(kinds_file_);
  }

  void ExpectAbsent(const std::string& where, const std::string& text) {
    const size_t at = text.find(sentinel_);
    EXPECT_EQ(at, std::string::npos) << "the sentinel secret appears in " << where << ": ..."
                                     << text.substr(at < 300 ? 0 : at - 300, 600) << "...";
  }

  JobctlOutcome Enqueue(const std::string& kind, const nlohmann::json& payload) {
    auto out = cluster_->Jobctl({"enqueue", kind, "--payload", payload.dump()}, admin_);
    EXPECT_EQ(out.exit_code, 0) << out.output;
    return out;
  }

  const std::string sentinel_ = "Sntl" + RandomHex(16);
  const std::string password_ = "pw" + sentinel_;
  const std::map<std::string, std::string> admin_{{"CHIME_ADMIN_SECRET", "admin-" + sentinel_ + "-0123456789"}};
  PrivateServer server_;
  std::optional<Cluster> cluster_;
  std::string url_;
  std::filesystem::path kinds_file_;
  HttpTestServer cron_, sync_, webhook_;
};

TEST_F(SecretsInPgLogTest, NoSecretReachesPostgresqlsStatementLog) {
  const std::string cron_secret = "cron-" + sentinel_, sync_secret = "sync-" + sentinel_,
                    webhook_secret = "hook-" + sentinel_;
  auto schema = cluster_->Jobctl({"app-schema", "--demo-data", "--database-url", url_});
  ASSERT_EQ(schema.exit_code, 0) << schema.output;

  ChildProcess& scheduler = cluster_->StartScheduler(
      {"--log-level", "debug"},
      {{"CHIME_ADMIN_SECRET", admin_.at("CHIME_ADMIN_SECRET")}, {"CHIME_DATABASE_URL", url_}});
  ChildProcess& worker = cluster_->StartWorker(
      "w1", {"--kinds-config", kinds_file_.string()},
      {{"CHIME_DATABASE_URL", url_}, {"CRON_SECRET", cron_secret}, {"CHIME_SECRET_SYNC", sync_secret},
       {"CHIME_SECRET_CAPACITY_WEBHOOK", webhook_secret}});

  // Each endpoint echoes its secret back: accepted, refused, failed.
  cron_.Enqueue({.status = 200, .body = "ok, you sent Authorization: Bearer " + cron_secret});
  sync_.Enqueue({.status = 401, .body = "{\"error\": \"token " + sync_secret + " revoked\"}"});
  webhook_.Enqueue({.status = 500, .body = "cannot check " + webhook_secret});
  Enqueue("http_request", {{"url", cron_.Url("/api/cron")},
                           {"method", "POST"},
                           {"auth", {{"type", "bearer"}, {"secret", "env:CRON_SECRET"}}}});
  Enqueue("sync_integration", {{"userId", 1}, {"provider", "github"}});
  Enqueue("reconcile_exam_capacity", {{"examIds", nlohmann::json::array({3})}});
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_->Int("SELECT count(*) FROM chime.jobs_all WHERE state IN ('succeeded', 'discarded')") == 3;
  }, kClusterWaitBound)) << worker.log();

  // The secrets did travel where they belong.
  ASSERT_TRUE(cron_.WaitForRequests(1) && sync_.WaitForRequests(1) && webhook_.WaitForRequests(1));
  EXPECT_EQ(cron_.Requests()[0].Header("authorization").value_or(""), "Bearer " + cron_secret);
  EXPECT_EQ(sync_.Requests()[0].Header("authorization").value_or(""), "Bearer " + sync_secret);
  EXPECT_EQ(webhook_.Requests()[0].Header("authorization").value_or(""), "Bearer " + webhook_secret);

  for (std::vector<std::string> args : {std::vector<std::string>{"list", "--json"}, {"stats"}}) {
    auto out = cluster_->Jobctl(args, admin_);
    EXPECT_EQ(out.exit_code, 0) << out.output;
  }
  std::string wrong = url_;
  wrong.replace(wrong.find(password_), password_.size(), "not-" + sentinel_);
  auto refused = cluster_->Jobctl({"list", "--database-url", wrong});
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  ExpectAbsent("jobctl's output for a wrong password", refused.output);

  const std::string log = server_.log();
  ExpectAbsent("PostgreSQL's log", log);
  ExpectAbsent("the scheduler's log", scheduler.log());
  ExpectAbsent("the worker's log", worker.log());
  // The log saw the run: logins with the password, statements on Chime's
  // tables with their parameters, and the refused login.
  EXPECT_NE(log.find("connection authorized: user=chime_login database=" + cluster_->db().name()),
            std::string::npos);
  EXPECT_NE(log.find("chime.jobs"), std::string::npos);
  EXPECT_NE(log.find("DETAIL:  parameters: $1 = "), std::string::npos);
  EXPECT_NE(log.find("password authentication failed for user \"chime_login\""), std::string::npos);
  EXPECT_NE(log.find("env:CRON_SECRET"), std::string::npos) << "the payload's secret reference was not logged";
}

}  // namespace
}  // namespace chime::testing
