// jobctl stats --by / --name / --hours and jobctl alerts against the fake
// backend: flags become StatsParams, bad ones are named, the table and the
// seeds' monitoring JSON are printed, and plain `stats` keeps its output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "jobctl/exit_code.h"
#include "tests/jobctl/cli_harness.h"

namespace chime::jobctl {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

class ObserveCliTest : public test_support::CliTest {
 protected:
  ObserveCliTest() {
    db::StatsReport report;
    report.scope = db::StatsScope::kSchedule;
    report.range = hours(24);
    report.until = Now();
    report.since = Now() - hours(24);
    db::StatsRow row;
    row.name = "sync-github";
    row.schedule_id = 3;
    row.total = 96;
    row.succeeded = 93;
    row.partial = 1;
    row.failed = 2;
    row.success_rate = 94.0 / 96.0;
    row.failure_rate = 2.0 / 96.0;
    row.avg_duration_ms = 12500;
    row.p95_duration_ms = 20200;
    row.last_execution = Now() - minutes(5);
    row.last_status = "succeeded";
    row.last_success = row.last_execution;
    row.attempts = db::AttemptCounts{.total = 101, .succeeded = 93, .partial = 1, .skipped = 0, .failed = 7,
                                     .cancelled = 0};
    row.recent_failures.push_back({.job_id = 41, .attempt = 2, .finished_at = Now() - hours(3),
                                   .outcome = "failed", .error = "503 from api.github.com"});
    report.rows.push_back(row);
    fake.run_stats = report;
    db::AlertRow alert;
    alert.id = 9;
    alert.schedule_id = 3;
    alert.schedule_name = "nightly";
    alert.rule = "consecutive_failures";
    alert.state = "firing";
    alert.message = "nightly: 3 consecutive failures (threshold 3)";
    alert.values_json = R"({"consecutive_failures":3,"threshold":3})";
    alert.fired_at = Now() - minutes(10);
    alert.delivery = "pending";
    alert.delivery_attempts = 2;
    fake.alerts.push_back(alert);
  }
};

TEST_F(ObserveCliTest, StatsByScheduleBuildsParamsAndPrintsTheTable) {
  ASSERT_EQ(Run({"stats", "--by", "schedule", "--hours", "48", "--name", "sync-github"}), kExitOk)
      << err.str();
  ASSERT_EQ(fake.run_stats_calls.size(), 1u);
  const db::StatsParams& p = fake.run_stats_calls[0];
  EXPECT_EQ(p.scope, db::StatsScope::kSchedule);
  EXPECT_EQ(p.name, "sync-github");
  EXPECT_EQ(p.range, hours(48));
  const std::string text = out.str();
  EXPECT_NE(text.find("SCHEDULE"), std::string::npos) << text;
  EXPECT_NE(text.find("sync-github"), std::string::npos);
  EXPECT_NE(text.find("97.9%"), std::string::npos) << text;
  EXPECT_NE(text.find("job 41 after 2 attempts"), std::string::npos) << text;
  EXPECT_NE(text.find("503 from api.github.com"), std::string::npos);
  // Runs and the attempts beneath them, apart.
  EXPECT_NE(text.find("ATTEMPTS"), std::string::npos);
  EXPECT_NE(text.find(" 101 "), std::string::npos) << text;

  ASSERT_EQ(Run({"stats", "--by", "kind"}), kExitOk);
  EXPECT_EQ(fake.run_stats_calls.back().scope, db::StatsScope::kKind);
  EXPECT_EQ(fake.run_stats_calls.back().range, hours(24));
}

TEST_F(ObserveCliTest, StatsJsonHasTheSeedsMonitoringShape) {
  ASSERT_EQ(Run({"stats", "--by", "schedule", "--json"}), kExitOk) << err.str();
  const auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["stats"].size(), 1u);
  const auto& s = j["stats"][0];
  EXPECT_EQ(s["jobName"], "sync-github");
  EXPECT_EQ(s["totalExecutions"], 96);
  EXPECT_EQ(s["successCount"], 93);
  EXPECT_EQ(s["failureCount"], 2);
  EXPECT_EQ(s["skippedCount"], 0);
  EXPECT_EQ(s["attempts"]["total"], 101);
  EXPECT_EQ(s["attempts"]["failed"], 7);
  EXPECT_NEAR(s["successRate"].get<double>(), 0.979, 0.001);
  EXPECT_EQ(s["averageDuration"], 12500.0);
  EXPECT_EQ(s["lastStatus"], "success");
  EXPECT_EQ(s["lastExecution"], "2026-01-31T01:55:00.000Z");
  EXPECT_EQ(s["recentFailures"][0]["jobId"], 41);
  EXPECT_EQ(j["timeRange"]["hours"], 24);
  EXPECT_EQ(j["timeRange"]["since"], "2026-01-30T02:00:00.000Z");
  ASSERT_EQ(j["alerts"].size(), 1u);
  EXPECT_EQ(j["alerts"][0]["type"], "consecutive_failures");
  EXPECT_EQ(j["alerts"][0]["values"]["threshold"], 3);
  ASSERT_EQ(fake.alert_calls.size(), 1u);
  EXPECT_FALSE(fake.alert_calls[0].all);
}

TEST_F(ObserveCliTest, BadStatsFlagsAreNamed) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"stats", "--by", "queue"}, "--by: \"queue\" is not one of schedule, kind"},
      {{"stats", "--by", "kind", "--hours", "0"}, "--hours: 0 is out of range 1-168"},
      {{"stats", "--by", "kind", "--hours", "169"}, "--hours: 169 is out of range 1-168"},
      {{"stats", "--hours", "12"}, "--hours: needs --by schedule or --by kind"},
      {{"stats", "--name", "x"}, "--name: needs --by schedule or --by kind"},
  };
  for (const auto& [args, message] : cases) {
    EXPECT_EQ(Run(args), kExitUsage) << args.back();
    EXPECT_NE(err.str().find(message), std::string::npos) << err.str();
  }
  EXPECT_TRUE(fake.run_stats_calls.empty());
}

TEST_F(ObserveCliTest, PlainStatsKeepsTheQueueCounts) {
  ASSERT_EQ(Run({"stats"}), kExitOk) << err.str();
  EXPECT_TRUE(fake.run_stats_calls.empty());
  EXPECT_EQ(out.str().find("SCHEDULE"), std::string::npos);
}

TEST_F(ObserveCliTest, AlertsListsFiringOrAllAsTextAndJson) {
  ASSERT_EQ(Run({"alerts"}), kExitOk) << err.str();
  EXPECT_FALSE(fake.alert_calls.back().all);
  EXPECT_EQ(fake.alert_calls.back().limit, 100);
  EXPECT_NE(out.str().find("nightly: 3 consecutive failures"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("pending (2 failed)"), std::string::npos) << out.str();

  ASSERT_EQ(Run({"alerts", "--all", "--json", "--limit", "5"}), kExitOk);
  EXPECT_TRUE(fake.alert_calls.back().all);
  EXPECT_EQ(fake.alert_calls.back().limit, 5);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["alerts"][0]["id"], 9);
  EXPECT_EQ(j["alerts"][0]["state"], "firing");
  EXPECT_TRUE(j["alerts"][0]["resolvedAt"].is_null());

  EXPECT_EQ(Run({"alerts", "--limit", "0"}), kExitUsage);
  EXPECT_NE(err.str().find("--limit: 0 is out of range 1-1000"), std::string::npos) << err.str();

  fake.alerts.clear();
  ASSERT_EQ(Run({"alerts"}), kExitOk);
  EXPECT_EQ(out.str(), "no firing alerts\n");
}

TEST_F(ObserveCliTest, ScheduleShowPrintsHealthOverrides) {
  db::ScheduleRow row;
  row.id = 4;
  row.spec.name = "nightly";
  row.spec.cron = "0 3 * * *";
  row.spec.kind = "cleanup_old_jobs";
  row.spec.health.failure_rate.value = 0.25;
  row.spec.health.no_success_within.off = true;
  row.created_at = row.updated_at = Now();
  fake.schedules["nightly"] = row;
  ASSERT_EQ(Run({"schedule", "show", "nightly"}), kExitOk) << err.str();
  EXPECT_NE(out.str().find("failure_rate=0.25, no_success_within=off"), std::string::npos) << out.str();
  ASSERT_EQ(Run({"schedule", "show", "nightly", "--json"}), kExitOk) << err.str();
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["health"]["failure_rate"], 0.25);
  EXPECT_EQ(j["health"]["no_success_within_ms"], "off");
}

}  // namespace
}  // namespace chime::jobctl
