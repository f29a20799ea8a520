// Secrets never reach logs, jobctl's output or the database: a cluster runs
// with one sentinel string inside the admin secret, the database password,
// and the secret an http_request job sends (to an endpoint that echoes it
// back), with the worker logging JSON at debug level and the scheduler text;
// then every log line, every jobctl output and every row Chime wrote is
// searched for the sentinel. A named token made with `jobctl token create`
// and used over ZeroMQ and HTTP appears only in that command's output.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <ranges>

#include "tests/integration/cluster.h"
#include "tests/support/wait_until.h"
#include "tests/support/http_test_server.h"

namespace chime::testing {
namespace {

// The test database's URL with a password added to its user (the test
// server trusts loopback, so the password is carried and never checked).
std::string WithPassword(const std::string& url, const std::string& password) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@', scheme);
  EXPECT_NE(at, std::string::npos) << "test database URL has no user";
  return url.substr(0, at) + ":" + password + url.substr(at);
}

class SecretsInLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kinds_file_ = std::filesystem::temp_directory_path() / ("chime-kinds-" + RandomHex(8) + ".yaml");
    std::ofstream(kinds_file_) << "http:\n  allow:\n    - 127.0.0.1/32\n"
                                  "http_request:\n  secrets:\n    - env:CRON_SECRET\n";
  }
  void TearDown() override { std::filesystem::remove(kinds_file_); }

  // Every place the sentinel must not be, with a name for the failure.
  void ExpectAbsent(const std::string& where, const std::string& text) {
    const size_t at = text.find(sentinel_);
    EXPECT_EQ(at, std::string::npos)
        << "the sentinel secret appears in " << where << ": ..."
        << text.substr(at < 200 ? 0 : at - 200, 400) << "...";
  }

  const std::string sentinel_ = "Sntl" + RandomHex(16);
  std::filesystem::path kinds_file_;
  Cluster cluster_;
  HttpTestServer endpoint_;
};

TEST_F(SecretsInLogsTest, NoSecretReachesALogJobctlOrTheDatabase) {
  const std::string admin_secret = "admin-" + sentinel_ + "-0123456789";
  const std::string cron_secret = "cron-" + sentinel_;
  const std::string db_url = WithPassword(cluster_.db().url(), "pw" + sentinel_);
  const std::map<std::string, std::string> admin{{"CHIME_ADMIN_SECRET", admin_secret}};

  ChildProcess& scheduler = cluster_.StartScheduler(
      {"--log-level", "debug"}, {{"CHIME_ADMIN_SECRET", admin_secret}, {"CHIME_DATABASE_URL", db_url}});
  ChildProcess& worker = cluster_.StartWorker(
      "w1", {"--kinds-config", kinds_file_.string()},
      {{"CHIME_DATABASE_URL", db_url}, {"CRON_SECRET", cron_secret}, {"CHIME_LOG_FORMAT", "json"}});

  // The endpoint echoes what it was sent: once accepted, once refused.
  endpoint_.Enqueue({.status = 200, .body = "ok, you sent Authorization: Bearer " + cron_secret});
  endpoint_.Enqueue({.status = 401, .body = "{\"error\": \"token " + cron_secret + " revoked\"}"});
  std::vector<std::string> ids;
  for (const char* path : {"/api/cron/ok", "/api/cron/refused"}) {
    const nlohmann::json payload = {{"url", endpoint_.Url(path)},
                                    {"method", "POST"},
                                    {"auth", {{"type", "bearer"}, {"secret", "env:CRON_SECRET"}}}};
    JobctlOutcome enq = cluster_.Jobctl({"enqueue", "http_request", "--payload", payload.dump()}, admin);
    ASSERT_EQ(enq.exit_code, 0) << enq.output;
    ExpectAbsent("jobctl enqueue's output", enq.output);
    ids.push_back(std::to_string(cluster_.Int("SELECT max(id) FROM chime.jobs_all")));
  }
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE state IN ('succeeded', 'discarded')") == 2;
  }, kClusterWaitBound)) << worker.log();

  // The secret did travel where it belongs: to the endpoint.
  const auto requests = endpoint_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("authorization").value_or(""), "Bearer " + cron_secret);
  EXPECT_EQ(cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + ids[1]), "discarded");
  EXPECT_EQ(cluster_.Text("SELECT summary->>'bodyExcerpt' FROM chime.runs WHERE job_id = " + ids[0]),
            "ok, you sent Authorization: ***");

  // A worker line per job start and finish, as JSON with the job's fields.
  int finished = 0;
  for (const auto& line : std::views::split(worker.log(), '\n')) {
    const auto parsed = nlohmann::json::parse(std::string_view(line.begin(), line.end()), nullptr, false);
    if (parsed.is_discarded() || !parsed.contains("outcome")) continue;
    ++finished;
    EXPECT_EQ(parsed["kind"], "http_request");
    EXPECT_TRUE(parsed.contains("job_id") && parsed.contains("attempt") && parsed.contains("duration_ms"));
  }
  EXPECT_EQ(finished, 2) << worker.log();

  for (const auto& id : ids) {
    for (std::vector<std::string> args : {std::vector<std::string>{"show", id},
                                          std::vector<std::string>{"show", id, "--json"}}) {
      JobctlOutcome out = cluster_.Jobctl(args, admin);
      EXPECT_EQ(out.exit_code, 0) << out.output;
      ExpectAbsent("jobctl " + args[0] + " " + id, out.output);
    }
  }
  JobctlOutcome wrong = cluster_.Jobctl({"list"}, {{"CHIME_ADMIN_SECRET", "not-the-" + sentinel_ + "-secret"}});
  EXPECT_NE(wrong.exit_code, 0) << wrong.output;
  ExpectAbsent("jobctl list with a wrong secret", wrong.output);
  JobctlOutcome list = cluster_.Jobctl({"list", "--json"}, admin);
  EXPECT_EQ(list.exit_code, 0) << list.output;
  ExpectAbsent("jobctl list", list.output);

  // A named token: shown by `token create` once, then used (and refused,
  // and revoked) without appearing anywhere else.
  JobctlOutcome created = cluster_.Jobctl(
      {"token", "create", "ci", "--scope", "admin", "--database-url", db_url},
      {{"CHIME_ADMIN_SECRET", ""}, {"CHIME_SCHEDULER", ""}});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const size_t at = created.output.find("chime_ci_");
  ASSERT_NE(at, std::string::npos) << created.output;
  const std::string token = created.output.substr(at, created.output.find('\n', at) - at);
  const std::string token_secret = token.substr(token.size() - 43);
  std::vector<std::pair<std::string, std::string>> token_outputs;
  for (std::vector<std::string> args : {std::vector<std::string>{"whoami"}, std::vector<std::string>{"list"},
                                        std::vector<std::string>{"token", "list", "--json"},
                                        std::vector<std::string>{"enqueue", "noop", "--log-level", "debug"}}) {
    JobctlOutcome out = cluster_.Jobctl(args, {{"CHIME_TOKEN", token}});
    EXPECT_EQ(out.exit_code, 0) << out.output;
    token_outputs.emplace_back("jobctl " + args[0], out.output);
  }
  const std::string forged = token.substr(0, token.size() - 43) + std::string(43, 'A');
  token_outputs.emplace_back("jobctl with a forged token",
                             cluster_.Jobctl({"list"}, {{"CHIME_TOKEN", forged}}).output);
  // The HTTP server reloads tokens every second: made through the database,
  // this one reaches it within about that long.
  EXPECT_TRUE(WaitUntil([&] { return HttpGet(cluster_.http(), "/api/jobs", token).status == 200; },
                        std::chrono::seconds(10)));
  EXPECT_EQ(HttpGet(cluster_.http(), "/api/jobs", token + "x").status, 401);
  token_outputs.emplace_back("jobctl token revoke", cluster_.Jobctl({"token", "revoke", "ci"}, admin).output);
  token_outputs.emplace_back("jobctl with a revoked token",
                             cluster_.Jobctl({"list"}, {{"CHIME_TOKEN", token}}).output);
  EXPECT_EQ(HttpGet(cluster_.http(), "/api/jobs", token).status, 401);
  token_outputs.emplace_back("the scheduler's log", scheduler.log());
  token_outputs.emplace_back("the worker's log", worker.log());
  for (const auto& [where, text] : token_outputs) {
    EXPECT_EQ(text.find(token_secret), std::string::npos) << "the token's secret appears in " << where;
  }

  ExpectAbsent("the scheduler's log", scheduler.log());
  ExpectAbsent("the worker's log", worker.log());
  for (const char* table : {"chime.jobs", "chime.runs", "chime.schedules", "chime.fires", "chime.leader",
                            "chime.workers", "chime.api_tokens", "chime.admin_nonces"}) {
    const std::string rows =
        cluster_.Text(std::string("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM ") + table + " t");
    ExpectAbsent(table, rows);
    EXPECT_EQ(rows.find(token_secret), std::string::npos) << "the token's secret is stored in " << table;
  }
  // Neither as text nor as bytes: the rows keep a digest and a public key.
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.api_tokens WHERE position(decode(translate('" +
                         token_secret + "', '-_', '+/') || '=', 'base64') IN secret_sha256 || signing_key) > 0"),
            0);
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.api_tokens"), 1);
}

}  // namespace
}  // namespace chime::testing
