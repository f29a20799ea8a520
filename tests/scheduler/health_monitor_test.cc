// The health monitor against a real PostgreSQL and a loopback webhook: a
// rule that starts to hold fires once and notifies once, keeps quiet while it
// holds, resolves once; a failed notification is retried after its backoff
// and the webhook URL never lands in the database; standbys do nothing.
// Rules judge runs, not attempts: the failed attempts of one run are one
// failure, a run that succeeded on retry a success. Notices name the job,
// its error and the endpoint's answer, link the dashboard, say which run
// recovered, and escape what came from a job as Slack asks.
#include "scheduler/health_monitor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <pqxx/pqxx>

#include <atomic>

#include "common/db/migrations.h"
#include "tests/support/http_test_server.h"
#include "tests/support/test_database.h"

namespace chime::scheduler {
namespace {

using std::chrono::milliseconds;

constexpr const char* kSecretPath = "/services/T000/B000/SeCrEtToKeN";

class HealthMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    auto migrated = db::MigrationsApply(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
    db::ScheduleStore schedules(conn);
    schedule::ScheduleSpec spec;
    spec.name = "sync-github";
    spec.cron = "*/15 * * * *";
    spec.kind = "sync_integration";
    auto row = schedules.ScheduleCreate(spec);
    ASSERT_TRUE(row.has_value()) << row.error().ToString();
    schedule_id_ = row->id;
    config_.notifier.webhook_url = server_.Url(kSecretPath);
    config_.notifier.allow = {"127.0.0.1/32"};
    config_.notifier.timeout = std::chrono::seconds(10);
  }

  std::unique_ptr<HealthMonitor> Make() {
    auto made = HealthMonitor::Create(db::ConnectionConfig{.url = db_.url()}, config_,
                                      [this] { return leader_.load(); }, rng_);
    EXPECT_TRUE(made.has_value()) << made.error().ToString();
    return made ? std::move(*made) : nullptr;
  }

  // One run of one attempt, ended `ago`: its final row.
  void AddRun(const std::string& outcome, const std::string& ago, const std::string& error = "") {
    const std::string job_outcome = outcome == "succeeded" || outcome == "partial" ? outcome : "failed";
    AddAttempt(outcome, ago, error, ++next_job_, 1, job_outcome);
  }

  // One attempt of job `job`; final when `job_outcome` is given.
  void AddAttempt(const std::string& outcome, const std::string& ago, const std::string& error, int64_t job,
                  int attempt, const std::string& job_outcome, const std::string& summary = "{}") {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    tx.exec_params(
        "INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, started_at, finished_at, "
        "outcome, errors, final, job_outcome, summary) SELECT $5, 'sync_integration', 'default', $6, $1, "
        "t - interval '2 seconds', t, $2, CASE WHEN $3 = '' THEN '{}'::text[] ELSE ARRAY[$3] END, "
        "$7 <> '', nullif($7, ''), $8::jsonb FROM (SELECT now() - $4::interval AS t) x",
        schedule_id_, outcome, error, ago, job, attempt, job_outcome, summary);
    tx.commit();
  }

  std::string LastBody() {
    auto requests = server_.Requests();
    return requests.empty() ? "" : requests.back().body;
  }

  PassResult Pass(HealthMonitor& monitor) {
    auto r = monitor.RunOnce();
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? *r : PassResult{};
  }

  chime::testing::TestDatabase db_;
  chime::testing::HttpTestServer server_;
  HealthMonitorConfig config_;
  DefaultRng rng_{7};
  std::atomic<bool> leader_{true};
  int64_t schedule_id_ = 0;
  int64_t next_job_ = 0;
};

TEST_F(HealthMonitorTest, FiresOnceNotifiesOnceAndResolvesOnce) {
  // Only the streak rule: with 5 runs the rate rules would hold too (the
  // schedule's stored overrides are what the monitor reads).
  db_.Exec(R"(UPDATE chime.schedules SET health = '{"failure_rate": "off", "success_rate": "off"}')");
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  AddRun("succeeded", "50 minutes");
  AddRun("failed", "40 minutes", "401 from api.github.com");
  AddRun("failed", "30 minutes", "401 from api.github.com");
  AddRun("discarded", "20 minutes", "401 from api.github.com");

  PassResult first = Pass(*monitor);
  ASSERT_TRUE(first.evaluated);
  ASSERT_EQ(first.transitions.fired.size(), 1u);
  EXPECT_EQ(first.transitions.fired[0].rule, "consecutive_failures");
  EXPECT_EQ(first.delivery.sent, 1);
  ASSERT_TRUE(server_.WaitForRequests(1));
  auto requests = server_.Requests();
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, kSecretPath);
  EXPECT_NE(requests[0].body.find("[FIRING] sync-github consecutive_failures"), std::string::npos)
      << requests[0].body;
  EXPECT_NE(requests[0].body.find("401 from api.github.com"), std::string::npos);
  EXPECT_NE(requests[0].body.find("\"blocks\""), std::string::npos);

  // Still holding: nothing new, nothing sent.
  PassResult second = Pass(*monitor);
  EXPECT_TRUE(second.transitions.fired.empty());
  EXPECT_EQ(second.delivery.sent, 0);
  EXPECT_EQ(server_.Requests().size(), 1u);

  AddRun("succeeded", "1 minute");
  PassResult third = Pass(*monitor);
  ASSERT_EQ(third.transitions.resolved.size(), 1u);
  EXPECT_EQ(third.delivery.sent, 1);
  ASSERT_TRUE(server_.WaitForRequests(2));
  EXPECT_NE(server_.Requests()[1].body.find("[RESOLVED] sync-github consecutive_failures"),
            std::string::npos);
  EXPECT_EQ(Pass(*monitor).delivery.sent, 0);
  EXPECT_EQ(server_.Requests().size(), 2u);
  EXPECT_EQ(db_.Scalar("SELECT state || ' ' || delivery || ' ' || delivered_state FROM chime.alerts"),
            "resolved sent resolved");
  EXPECT_EQ(monitor->status().fired, 1);
  EXPECT_EQ(monitor->status().resolved, 1);
}

TEST_F(HealthMonitorTest, AFailedNotificationIsRetriedAfterItsBackoffWithoutLeakingTheUrl) {
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  for (int i = 0; i < 3; ++i) AddRun("failed", std::to_string(10 + i) + " minutes", "boom");
  server_.Enqueue({.status = 500, .body = "upstream sad"});
  PassResult first = Pass(*monitor);
  ASSERT_EQ(first.transitions.fired.size(), 1u);
  EXPECT_EQ(first.delivery.failed, 1);
  EXPECT_EQ(db_.Scalar("SELECT delivery || ' ' || delivery_attempts FROM chime.alerts"), "pending 1");
  EXPECT_EQ(db_.Scalar("SELECT next_delivery_at > now() FROM chime.alerts"), "t");
  EXPECT_NE(db_.Scalar("SELECT delivery_error FROM chime.alerts").find("HTTP 500"), std::string::npos);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.alerts WHERE delivery_error LIKE '%SeCrEt%' "
                       "OR message LIKE '%SeCrEt%' OR vals::text LIKE '%SeCrEt%'"),
            "0");

  // Not due yet: no attempt.
  EXPECT_EQ(Pass(*monitor).delivery.sent + Pass(*monitor).delivery.failed, 0);
  EXPECT_EQ(server_.Requests().size(), 1u);
  // Its backoff has passed (moved in database time, not waited for).
  db_.Exec("UPDATE chime.alerts SET next_delivery_at = now()");
  EXPECT_EQ(Pass(*monitor).delivery.sent, 1);
  ASSERT_TRUE(server_.WaitForRequests(2));
  EXPECT_EQ(db_.Scalar("SELECT delivery || ' ' || delivered_state FROM chime.alerts"), "sent firing");
}

TEST_F(HealthMonitorTest, AnUnreachableWebhookIsRecordedWithTheUrlRedacted) {
  // A port nothing listens on any more.
  int dead_port = 0;
  {
    chime::testing::HttpTestServer gone;
    dead_port = gone.port();
  }
  config_.notifier.webhook_url =
      "http://127.0.0.1:" + std::to_string(dead_port) + kSecretPath;
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  for (int i = 0; i < 3; ++i) AddRun("failed", std::to_string(10 + i) + " minutes");
  EXPECT_EQ(Pass(*monitor).delivery.failed, 1);
  const std::string error = db_.Scalar("SELECT delivery_error FROM chime.alerts");
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(error.find("SeCrEt"), std::string::npos) << error;
}

TEST_F(HealthMonitorTest, StandbysEvaluateNothing) {
  leader_ = false;
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  for (int i = 0; i < 5; ++i) AddRun("failed", std::to_string(10 + i) + " minutes");
  EXPECT_FALSE(Pass(*monitor).evaluated);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.alerts"), "0");
  EXPECT_EQ(server_.Requests().size(), 0u);
}

TEST_F(HealthMonitorTest, WithoutAWebhookAlertsAreRecordedNotSent) {
  config_.notifier.webhook_url.clear();
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  for (int i = 0; i < 3; ++i) AddRun("failed", std::to_string(10 + i) + " minutes");
  EXPECT_EQ(Pass(*monitor).transitions.fired.size(), 1u);
  EXPECT_EQ(db_.Scalar("SELECT delivery FROM chime.alerts"), "skipped");
}

TEST_F(HealthMonitorTest, PausingAScheduleResolvesItsAlerts) {
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  for (int i = 0; i < 3; ++i) AddRun("failed", std::to_string(10 + i) + " minutes");
  ASSERT_EQ(Pass(*monitor).transitions.fired.size(), 1u);
  db_.Exec("UPDATE chime.schedules SET paused = true");
  EXPECT_EQ(Pass(*monitor).transitions.resolved.size(), 1u);
}

// The bug this rule had: one tick's three failed attempts fired "3
// consecutive failures".
TEST_F(HealthMonitorTest, TheFailedAttemptsOfOneRunAreOneFailedRun) {
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  AddRun("succeeded", "60 minutes");
  AddAttempt("failed", "30 minutes", "HTTP 503", 100, 1, "");
  AddAttempt("failed", "20 minutes", "HTTP 503", 100, 2, "");
  AddAttempt("discarded", "10 minutes", "HTTP 503", 100, 3, "failed");
  PassResult pass = Pass(*monitor);
  EXPECT_TRUE(pass.transitions.fired.empty()) << pass.transitions.fired.at(0).message;
  // Two more failed runs make three.
  AddRun("discarded", "5 minutes", "HTTP 503");
  AddRun("discarded", "4 minutes", "HTTP 503");
  pass = Pass(*monitor);
  ASSERT_EQ(pass.transitions.fired.size(), 1u);
  EXPECT_EQ(pass.transitions.fired[0].rule, "consecutive_failures");
}

// The other: success_rate fired although every tick succeeded on retry.
TEST_F(HealthMonitorTest, RunsThatSucceededOnRetryAreSuccesses) {
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  for (int job = 1; job <= 10; ++job) {
    const std::string ago = std::to_string(100 - job * 5) + " minutes";
    AddAttempt("failed", ago, "HTTP 503", job, 1, "");
    AddAttempt("failed", ago, "HTTP 503", job, 2, "");
    AddAttempt("succeeded", ago, "", job, 3, "succeeded");
  }
  PassResult pass = Pass(*monitor);
  EXPECT_TRUE(pass.transitions.fired.empty()) << pass.transitions.fired.at(0).message;
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.alerts"), "0");
}

TEST_F(HealthMonitorTest, NoticesNameTheJobAndLinkItAndTheResolvedOneSaysWhichRunRecovered) {
  db_.Exec(R"(UPDATE chime.schedules SET health = '{"failure_rate": "off", "success_rate": "off"}')");
  config_.notifier.public_url = "https://chime.example.com/ops";
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  AddRun("succeeded", "50 minutes");
  for (int64_t job : {201, 202, 203, 204}) {
    AddAttempt("failed", std::to_string(45 - job + 200) + " minutes", "HTTP 500", job, 1, "");
    AddAttempt("discarded", std::to_string(40 - job + 200) + " minutes", "HTTP 500 from /api/cron", job, 2,
               "failed", R"({"bodyExcerpt": "{\"error\": \"database is down\"}"})");
  }
  ASSERT_EQ(Pass(*monitor).transitions.fired.size(), 1u);
  ASSERT_TRUE(server_.WaitForRequests(1));
  const auto firing = nlohmann::json::parse(LastBody());
  const std::string text = firing["text"];
  EXPECT_NE(text.find("[FIRING] sync-github consecutive_failures: sync-github: 4 consecutive failed runs "
                      "(threshold 3); newest: job 204 failed after 2 attempts: HTTP 500 from /api/cron; "
                      "response: {\"error\": \"database is down\"}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(https://chime.example.com/ops/#/jobs/204)"), std::string::npos) << text;
  EXPECT_NE(firing.dump().find("<https://chime.example.com/ops/#/jobs/204|job 204 on the dashboard>"),
            std::string::npos)
      << firing.dump();

  // Job 205 succeeds on its third attempt: the streak of 4 failed runs is over.
  AddAttempt("failed", "3 minutes", "HTTP 500", 205, 1, "");
  AddAttempt("failed", "2 minutes", "HTTP 500", 205, 2, "");
  AddAttempt("succeeded", "1 minute", "", 205, 3, "succeeded");
  ASSERT_EQ(Pass(*monitor).transitions.resolved.size(), 1u);
  ASSERT_TRUE(server_.WaitForRequests(2));
  const std::string resolved = nlohmann::json::parse(LastBody())["text"];
  EXPECT_NE(resolved.find("[RESOLVED] sync-github consecutive_failures: recovered by job 205 (succeeded on "
                          "attempt 3, "),
            std::string::npos)
      << resolved;
  EXPECT_NE(resolved.find(") after 4 failed runs (https://chime.example.com/ops/#/jobs/205)"), std::string::npos)
      << resolved;
  EXPECT_EQ(db_.Scalar("SELECT resolved_by_job FROM chime.alerts"), "205");
}

// An error is data: "<!channel>" in it must not ping a channel, nor "<url|x>"
// make a link, nor "&" start an entity (Slack's formatting reference).
TEST_F(HealthMonitorTest, WhatAJobSaidIsEscapedInTheNotice) {
  db_.Exec(R"(UPDATE chime.schedules SET health = '{"failure_rate": "off", "success_rate": "off"}')");
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  for (int i = 0; i < 3; ++i) {
    AddRun("discarded", std::to_string(10 + i) + " minutes",
           "<!channel> R&D <https://evil.example|click here> a > b");
  }
  ASSERT_EQ(Pass(*monitor).transitions.fired.size(), 1u);
  ASSERT_TRUE(server_.WaitForRequests(1));
  const auto body = nlohmann::json::parse(LastBody());
  for (const std::string& text : {body["text"].get<std::string>(), body["blocks"][1]["text"]["text"].get<std::string>()}) {
    EXPECT_NE(text.find("&lt;!channel&gt; R&amp;D &lt;https://evil.example|click here&gt; a &gt; b"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("<!channel>"), std::string::npos) << text;
    EXPECT_EQ(text.find("<https://evil"), std::string::npos) << text;
  }
}

TEST_F(HealthMonitorTest, TheLoopRunsPassesUntilStopped) {
  config_.interval = milliseconds(10);
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  monitor->Start();
  EXPECT_TRUE(monitor->WaitForPasses(3, std::chrono::seconds(30)));
  monitor->Stop();
  monitor->Stop();  // Idempotent.
  EXPECT_GE(monitor->status().passes, 3);
}

TEST_F(HealthMonitorTest, BadConfigIsNamed) {
  config_.notifier.webhook_url = "ftp://hooks.example.com/services/x";
  auto made = HealthMonitor::Create(db::ConnectionConfig{.url = db_.url()}, config_, nullptr, rng_);
  ASSERT_FALSE(made.has_value());
  EXPECT_TRUE(made.error().message.starts_with("CHIME_ALERT_WEBHOOK_URL: ")) << made.error().message;
  EXPECT_EQ(made.error().message.find("hooks.example.com"), std::string::npos);
  config_.notifier.webhook_url.clear();
  config_.notifier.allow = {"10.0.0.1/8"};
  made = HealthMonitor::Create(db::ConnectionConfig{.url = db_.url()}, config_, nullptr, rng_);
  ASSERT_FALSE(made.has_value());
  EXPECT_TRUE(made.error().message.starts_with("CHIME_ALERT_WEBHOOK_ALLOW: ")) << made.error().message;
  config_.notifier.allow.clear();
  config_.interval = milliseconds(0);
  made = HealthMonitor::Create(db::ConnectionConfig{.url = db_.url()}, config_, nullptr, rng_);
  ASSERT_FALSE(made.has_value());
  EXPECT_TRUE(made.error().message.starts_with("health-interval: "));
}

// Issue 22: an alert said what broke but not where to look. With
// CHIME_PUBLIC_URL set every notice links to its schedule's dashboard page
// (a line of its text and a Block Kit button).
TEST_F(HealthMonitorTest, EveryNoticeLinksToTheDashboardWhenThePublicUrlIsSet) {
  config_.notifier.public_url = "https://chime.example.com/ops";
  auto monitor = Make();
  ASSERT_NE(monitor, nullptr);
  for (int i = 0; i < 3; ++i) AddRun("failed", std::to_string(10 + i) + " minutes", "boom");
  ASSERT_GE(Pass(*monitor).delivery.sent, 1);
  ASSERT_TRUE(server_.WaitForRequests(1));
  for (const auto& request : server_.Requests()) {
    const auto body = nlohmann::json::parse(request.body);
    const std::string link = "https://chime.example.com/ops/#/schedules/sync-github";
    EXPECT_TRUE(body["text"].get<std::string>().ends_with("\n" + link)) << request.body;
    const auto& last = body["blocks"].back();
    EXPECT_EQ(last["type"], "actions") << request.body;
    EXPECT_EQ(last["elements"][0]["type"], "button");
    EXPECT_EQ(last["elements"][0]["url"], link);
  }
}

TEST(AlertNotifierTest, TheDashboardLinkIsABlockKitButtonAndTheTextKeepsIt) {
  db::AlertRow alert;
  alert.schedule_name = "sync github/\xc3\xbc";
  alert.rule = "consecutive_failures";
  alert.state = "firing";
  alert.message = "3 failures in a row";
  const std::string plain = WebhookBody(alert);
  EXPECT_EQ(plain.find("Open in Chime"), std::string::npos) << "no CHIME_PUBLIC_URL, no link";
  const auto j = nlohmann::json::parse(WebhookBody(alert, "https://chime.example.com"));
  const std::string link = "https://chime.example.com/#/schedules/sync%20github%2F%C3%BC";
  EXPECT_EQ(DashboardLink("https://chime.example.com//", alert), link);
  EXPECT_TRUE(j["text"].get<std::string>().starts_with(nlohmann::json::parse(plain)["text"].get<std::string>()));
  EXPECT_TRUE(j["text"].get<std::string>().ends_with("\n" + link));
  ASSERT_EQ(j["blocks"].size(), nlohmann::json::parse(plain)["blocks"].size() + 1);
  const auto& button = j["blocks"].back()["elements"][0];
  EXPECT_EQ(j["blocks"].back()["type"], "actions");
  EXPECT_EQ(button["type"], "button");
  EXPECT_EQ(button["text"]["type"], "plain_text");
  EXPECT_LE(button["text"]["text"].get<std::string>().size(), 75u) << "Block Kit's limit for button text";
  EXPECT_EQ(button["url"], link);
  EXPECT_LE(link.size(), 3000u) << "Block Kit's limit for a button url";
}

TEST(AlertNotifierTest, EscapesAsSlackDocuments) {
  EXPECT_EQ(SlackEscape("a & b < c > d"), "a &amp; b &lt; c &gt; d");
  EXPECT_EQ(SlackEscape("<!here> &amp;"), "&lt;!here&gt; &amp;amp;");
  EXPECT_EQ(SlackEscape("plain *bold* é"), "plain *bold* é");
  db::AlertRow a;
  a.schedule_name = "nightly";
  a.rule = "consecutive_failures";
  a.state = "firing";
  a.message = "nightly: 3 consecutive failed runs; newest: <!channel> & <@U123>";
  a.values_json = R"({"job_id": 9})";
  const std::string body = WebhookBody(a, "https://chime.example.com");
  EXPECT_EQ(body.find("<!channel>"), std::string::npos) << body;
  EXPECT_EQ(body.find("<@U123>"), std::string::npos) << body;
  EXPECT_NE(body.find("&lt;!channel&gt; &amp; &lt;@U123&gt;"), std::string::npos) << body;
  EXPECT_NE(body.find("<https://chime.example.com/#/jobs/9|job 9 on the dashboard>"), std::string::npos) << body;
  EXPECT_EQ(WebhookBody(a).find("#/jobs/"), std::string::npos) << "no link without a public URL";
}

TEST(AlertNotifierTest, APublicUrlMustBeALinkSlackCanShow) {
  AlertNotifierConfig config;
  config.public_url = "https://chime.example.com/dash";
  EXPECT_TRUE(config.Validate().has_value());
  for (const char* bad : {"ftp://x", "https://a b", "https://x/<y>", "https://x|y", "chime.example.com",
                          "https://chime.example.com/#x"}) {
    config.public_url = bad;
    auto ok = config.Validate();
    ASSERT_FALSE(ok.has_value()) << bad;
    EXPECT_TRUE(ok.error().message.starts_with("CHIME_PUBLIC_URL: ")) << ok.error().message;
  }
  AlertNotifierConfig good;
  good.public_url = "http://127.0.0.1:8080";
  EXPECT_TRUE(good.Validate().has_value());
}

TEST(AlertNotifierTest, RedactsTheWebhookInEveryForm) {
  const std::string url = "https://user:pw@hooks.slack.com/services/T0/B0/XyZ";
  const std::string text = "POST " + url + " failed; path /services/T0/B0/XyZ; " +
                           http::RedactUrl(url) + " refused";
  const std::string redacted = RedactWebhook(text, url);
  EXPECT_EQ(redacted.find("XyZ"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("pw"), std::string::npos) << redacted;
}

}  // namespace
}  // namespace chime::scheduler
