// Scoped credentials as processes: two scheduler replicas with HTTP, tokens
// made with jobctl straight through the database (no credential needed),
// then used through jobctl over ZeroMQ and as bearer tokens over HTTP. A
// read token reads the API and is refused an enqueue; an operate token
// cancels, retries and triggers but cannot enqueue or create schedules; a
// revoked token is refused by both replicas within seconds; a scheduler
// started with --named-tokens-only refuses the bootstrap secret.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/wait_until.h"

namespace chime::testing {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

class ScopedTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartScheduler();
    cluster_.StartReplica(endpoint_b_, {}, {}, &http_b_);
  }

  // `jobctl token create` straight through the database, with no credential
  // of any kind: how an operator makes the first token. Returns once both
  // replicas' HTTP servers accept it: they hold tokens in memory, reloaded
  // every second.
  std::string Create(const std::string& name, const std::string& scope) {
    auto r = cluster_.Jobctl({"token", "create", name, "--scope", scope, "--database-url", cluster_.db().url()},
                             {{"CHIME_ADMIN_SECRET", ""}, {"CHIME_SCHEDULER", ""}});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const size_t start = r.output.find("chime_" + name + "_");
    EXPECT_NE(start, std::string::npos) << r.output;
    if (start == std::string::npos) return "";
    std::string token = r.output.substr(start, r.output.find('\n', start) - start);
    for (const std::string& http : {cluster_.http(), http_b_}) {
      EXPECT_TRUE(WaitUntil([&] { return HttpGet(http, "/api/whoami", token).status == 200; }, std::chrono::seconds(10)))
          << "token '" << name << "' never reached " << http;
    }
    return token;
  }

  // jobctl signed with `token` (it wins over the admin secret the cluster
  // also sets), through replica A or B.
  JobctlOutcome As(const std::string& token, std::vector<std::string> args, bool replica_b = false) {
    std::map<std::string, std::string> env{{"CHIME_TOKEN", token}};
    if (replica_b) env.emplace("CHIME_SCHEDULER", endpoint_b_);
    return cluster_.Jobctl(std::move(args), std::move(env));
  }

  int64_t EnqueueAsAdmin() {
    auto r = cluster_.Jobctl({"enqueue", "sleep", "--payload", R"({"ms": 60000})", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.exit_code == 0 ? json::parse(r.output)["id"].get<int64_t>() : 0;
  }

  Cluster cluster_;
  std::string endpoint_b_, http_b_;
};

TEST_F(ScopedTokensTest, AReadTokenReadsTheApiOnEveryReplicaAndCannotEnqueue) {
  const std::string dash = Create("dash", "read");
  for (const std::string& http : {cluster_.http(), http_b_}) {
    const HttpReply jobs = HttpGet(http, "/api/jobs", dash);
    EXPECT_EQ(jobs.status, 200) << http << ": " << jobs.body;
    const HttpReply whoami = HttpGet(http, "/api/whoami", dash);
    ASSERT_EQ(whoami.status, 200) << whoami.body;
    const json me = json::parse(whoami.body);
    EXPECT_EQ(me["name"], "dash");
    EXPECT_EQ(me["scope"], "read");
    EXPECT_EQ(me["bootstrap"], false);
    EXPECT_EQ(HttpGet(http, "/api/jobs").status, 401);
    EXPECT_EQ(HttpGet(http, "/api/jobs", "chime_dash_" + std::string(43, 'A')).status, 401);
  }
  const HttpReply bootstrap = HttpGet(cluster_.http(), "/api/whoami", kClusterSecret);
  ASSERT_EQ(bootstrap.status, 200);
  EXPECT_EQ(json::parse(bootstrap.body)["scope"], "admin");

  EXPECT_EQ(As(dash, {"list"}).exit_code, 0);
  for (bool b : {false, true}) {
    auto refused = As(dash, {"enqueue", "noop"}, b);
    EXPECT_EQ(refused.exit_code, 7) << refused.output;
    EXPECT_NE(refused.output.find("token 'dash' has scope read; enqueue needs admin"), std::string::npos)
        << refused.output;
  }
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.jobs_all"), 0);
}

TEST_F(ScopedTokensTest, AnOperateTokenRetriesCancelsAndTriggersButCannotEnqueueOrCreateSchedules) {
  const std::string ci = Create("ci", "operate");
  const std::string deploy = Create("deploy", "admin");
  auto created = As(deploy, {"schedule", "create", "nightly", "--cron", "0 2 * * *", "--kind", "noop"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const int64_t id = EnqueueAsAdmin();
  ASSERT_GT(id, 0);

  auto cancel = As(ci, {"cancel", std::to_string(id)});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.output;
  auto retry = As(ci, {"retry", std::to_string(id)}, /*replica_b=*/true);
  EXPECT_EQ(retry.exit_code, 0) << retry.output;
  auto trigger = As(ci, {"schedule", "trigger", "nightly"});
  EXPECT_EQ(trigger.exit_code, 0) << trigger.output;
  auto pause = As(ci, {"schedule", "pause", "nightly"});
  EXPECT_EQ(pause.exit_code, 0) << pause.output;

  for (std::vector<std::string> args :
       {std::vector<std::string>{"enqueue", "noop"},
        std::vector<std::string>{"schedule", "create", "other", "--cron", "* * * * *", "--kind", "noop"},
        std::vector<std::string>{"schedule", "delete", "nightly"},
        std::vector<std::string>{"token", "create", "escalate", "--scope", "admin"}}) {
    auto refused = As(ci, args);
    EXPECT_EQ(refused.exit_code, 7) << args[0] << " " << args[1] << ": " << refused.output;
    EXPECT_NE(refused.output.find("token 'ci' has scope operate"), std::string::npos) << refused.output;
  }
  // The job enqueued by the admin and the trigger's: nothing from ci.
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.jobs_all"), 2);
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.schedules"), 1);
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.api_tokens"), 2);

  // Uses are recorded: list (admin) shows last-used times.
  auto list = As(deploy, {"token", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  // Named first: a range over a member of a temporary reads freed memory.
  const json listed = json::parse(list.output);
  for (const auto& t : listed.at("tokens")) {
    EXPECT_FALSE(t["last_used_at"].is_null()) << t.dump();
    EXPECT_EQ(t["created_by"], "database");
  }
}

TEST_F(ScopedTokensTest, ARevokedTokenIsRefusedByBothReplicasWithinSeconds) {
  const std::string ci = Create("ci", "operate");
  for (bool b : {false, true}) {
    auto ok = As(ci, {"whoami"}, b);
    ASSERT_EQ(ok.exit_code, 0) << ok.output;
    EXPECT_NE(ok.output.find("token 'ci' (scope operate"), std::string::npos) << ok.output;
  }
  EXPECT_EQ(HttpGet(http_b_, "/api/jobs", ci).status, 200);

  // Revoked through replica A with the bootstrap secret; B has it cached.
  auto revoked = cluster_.Jobctl({"token", "revoke", "ci"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  for (bool b : {false, true}) {
    JobctlOutcome refused;
    EXPECT_TRUE(WaitUntil([&] {
      refused = As(ci, {"list"}, b);
      return refused.exit_code != 0;
    }));
    EXPECT_EQ(refused.exit_code, 6) << refused.output;
    EXPECT_NE(refused.output.find("token 'ci' was revoked"), std::string::npos) << refused.output;
  }
  for (const std::string& http : {cluster_.http(), http_b_}) {
    HttpReply denied;
    EXPECT_TRUE(WaitUntil([&] {
      denied = HttpGet(http, "/api/jobs", ci);
      return denied.status != 200;
    }));
    EXPECT_EQ(denied.status, 401) << denied.body;
  }
  auto list = cluster_.Jobctl({"token", "list"});
  EXPECT_NE(list.output.find("revoked"), std::string::npos) << list.output;
}

TEST_F(ScopedTokensTest, ASchedulerCanRefuseTheBootstrapSecretAltogether) {
  const std::string deploy = Create("deploy", "admin");
  std::string endpoint, http;
  cluster_.StartReplica(endpoint, {"--named-tokens-only"}, {{"CHIME_ADMIN_SECRET", ""}}, &http);
  auto bootstrap = cluster_.Jobctl({"whoami"}, {{"CHIME_SCHEDULER", endpoint}});
  EXPECT_EQ(bootstrap.exit_code, 6) << bootstrap.output;
  EXPECT_NE(bootstrap.output.find("named tokens only"), std::string::npos) << bootstrap.output;
  EXPECT_EQ(HttpGet(http, "/api/jobs", kClusterSecret).status, 401);
  auto named = cluster_.Jobctl({"whoami"}, {{"CHIME_SCHEDULER", endpoint}, {"CHIME_TOKEN", deploy}});
  EXPECT_EQ(named.exit_code, 0) << named.output;
  EXPECT_EQ(HttpGet(http, "/api/jobs", deploy).status, 200);
}

}  // namespace
}  // namespace chime::testing
