// Runs, not attempts, through a real cluster (issue 17, DESIGN.md rule 7):
// a scheduler firing every-second schedules, workers calling loopback
// stand-ins of the endpoints, and alerts posted to a recording webhook.
// A schedule whose every tick fails twice and succeeds on its third attempt
// is healthy and counts only successes; one whose ticks fail every attempt
// alerts once (naming the job, its error and the endpoint's answer, escaped
// for Slack, linked to the dashboard) and resolves once when it recovers;
// partial, skipped and fan-out runs show their outcomes in stats, jobctl
// runs, list and show, and enqueue --wait exits with their codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/integration/cluster.h"
#include "tests/support/http_test_server.h"

namespace chime::testing {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

constexpr const char* kPublicUrl = "https://chime.example.com";

class RunsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = std::filesystem::path(::testing::TempDir()) / ("chime-runs-" + name + "-" + RandomHex(6));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "kinds.yaml") << "http:\n  allow:\n    - 127.0.0.1/32\n";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void StartCluster(const std::string& schedules, int workers) {
    std::ofstream(dir_ / "schedules.yaml") << schedules;
    cluster_.StartScheduler({"--schedules", (dir_ / "schedules.yaml").string(), "--cron-seconds",
                             "--health-interval", "300ms"},
                            {{"CHIME_ALERT_WEBHOOK_URL", alerts_.Url("/services/T0/B0/hook")},
                             {"CHIME_ALERT_WEBHOOK_ALLOW", "127.0.0.1/32"},
                             {"CHIME_PUBLIC_URL", kPublicUrl}});
    for (int i = 1; i <= workers; ++i) {
      cluster_.StartWorker("w" + std::to_string(i), {"--kinds-config", (dir_ / "kinds.yaml").string()});
    }
  }

  std::string ScheduleId(const std::string& name) {
    return std::to_string(cluster_.Int("SELECT id FROM chime.schedules WHERE name = '" + name + "'"));
  }
  int64_t Runs(const std::string& schedule, const std::string& outcome) {
    return cluster_.Int("SELECT count(*) FROM chime.runs WHERE job_outcome = '" + outcome +
                        "' AND schedule_id = " + ScheduleId(schedule));
  }

  // Pauses the schedules and waits until none of their jobs is live, so
  // the figures below stop moving.
  void Quiesce(const std::vector<std::string>& schedules) {
    for (const auto& s : schedules) {
      auto paused = cluster_.Jobctl({"schedule", "pause", s});
      ASSERT_EQ(paused.exit_code, 0) << paused.output;
    }
    ASSERT_TRUE(WaitUntil([&] {
      return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE outcome IS NULL AND schedule_id IS NOT NULL") == 0;
    }, kClusterWaitBound)) << cluster_.Text("SELECT string_agg(id || ':' || state, ',') FROM chime.jobs_all WHERE outcome IS NULL");
  }

  json JobctlJson(const std::vector<std::string>& args) {
    JobctlOutcome r = cluster_.Jobctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return json::parse(r.output, nullptr, false);
  }

  // The alert notices posted so far, as their "text".
  std::vector<std::string> Notices() {
    std::vector<std::string> out;
    for (const auto& r : alerts_.Requests()) {
      auto body = json::parse(r.body, nullptr, false);
      if (body.is_object() && body.contains("text")) out.push_back(body["text"]);
    }
    return out;
  }

  std::filesystem::path dir_;
  HttpTestServer alerts_;
  Cluster cluster_;
};

TEST_F(RunsClusterTest, RetriedRunsAreSuccessesAndAFailingScheduleAlertsOnceThenResolves) {
  // flaky's endpoint fails each run's first two calls, four runs long;
  // broken's fails every call of its first four runs (two attempts each),
  // then recovers.
  HttpTestServer flaky, broken;
  for (int run = 0; run < 4; ++run) {
    flaky.Enqueue({.status = 503, .body = "busy"});
    flaky.Enqueue({.status = 503, .body = "busy"});
    flaky.Enqueue({.status = 200, .body = R"({"synced": 3})"});
  }
  for (int call = 0; call < 8; ++call) {
    broken.Enqueue({.status = 500, .body = R"({"error": "db down <!channel> & R&D"})"});
  }
  StartCluster(R"(schedules:
  - name: flaky
    cron: "* * * * * *"
    kind: http_request
    payload: {"url": ")" + flaky.Url("/api/cron/sync") + R"("}
    max_attempts: 5
  - name: broken
    cron: "* * * * * *"
    kind: http_request
    payload: {"url": ")" + broken.Url("/api/cron/reconcile") + R"("}
    max_attempts: 2
    health: {failure_rate: off, success_rate: off}
)",
               2);
  ASSERT_TRUE(WaitUntil(
      [&] {
        const auto notices = Notices();
        return Runs("flaky", "succeeded") >= 4 &&
               std::ranges::any_of(notices, [](const std::string& t) { return t.starts_with("[RESOLVED]"); });
      },
      seconds(120)))
      << cluster_.scheduler().log();
  Quiesce({"flaky", "broken"});

  // One notice each way, for broken only: flaky's failed attempts made no
  // failed run (the attempt-counting rules fired "3 consecutive failures" and
  // "success rate 33%" here).
  const auto notices = Notices();
  ASSERT_EQ(notices.size(), 2u) << ::testing::PrintToString(notices);
  // The evaluation that saw the third failed run fired it (or, on a slow
  // machine, one that saw the fourth): it names that run's job.
  const std::string& firing = notices[0];
  std::smatch m;
  ASSERT_TRUE(std::regex_search(firing, m, std::regex(R"(^\[FIRING\] broken consecutive_failures: broken: ([34]) )"
                                                      R"(consecutive failed runs \(threshold 3\); newest: job )"
                                                      R"((\d+) failed after 2 attempts: )")))
      << firing;
  const std::string nth_failed = cluster_.Text(
      "SELECT job_id FROM chime.runs WHERE job_outcome = 'failed' AND schedule_id = " + ScheduleId("broken") +
      " ORDER BY finished_at OFFSET " + std::to_string(std::stoi(m[1].str()) - 1) + " LIMIT 1");
  EXPECT_EQ(m[2].str(), nth_failed) << firing;
  // The endpoint's answer, escaped as Slack asks: no channel is pinged.
  EXPECT_NE(firing.find("db down &lt;!channel&gt; &amp; R&amp;D"), std::string::npos) << firing;
  EXPECT_EQ(firing.find("<!channel>"), std::string::npos) << firing;
  EXPECT_NE(firing.find("(" + std::string(kPublicUrl) + "/#/jobs/" + nth_failed + ")"), std::string::npos)
      << firing;
  const std::string recovered = cluster_.Text(
      "SELECT min(job_id) FROM chime.runs WHERE job_outcome = 'succeeded' AND schedule_id = " + ScheduleId("broken"));
  const std::string& resolved = notices[1];
  EXPECT_TRUE(resolved.starts_with("[RESOLVED] broken consecutive_failures: recovered by job " + recovered +
                                   " (succeeded on attempt 1, "))
      << resolved;
  EXPECT_NE(resolved.find(") after 4 failed runs (" + std::string(kPublicUrl) + "/#/jobs/" + recovered + ")"),
            std::string::npos)
      << resolved;
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.alerts"), 1);
  EXPECT_EQ(cluster_.Text("SELECT state || ' ' || delivery FROM chime.alerts"), "resolved sent");

  // Statistics: runs by final outcome, the attempts beneath them.
  const json stats = JobctlJson({"stats", "--by", "schedule", "--name", "flaky", "--json"});
  const json& s = stats["stats"][0];
  const int64_t flaky_runs = Runs("flaky", "succeeded");
  const int64_t flaky_failed_attempts = cluster_.Int(
      "SELECT count(*) FROM chime.runs WHERE outcome = 'failed' AND schedule_id = " + ScheduleId("flaky"));
  EXPECT_EQ(s["totalExecutions"], flaky_runs);
  EXPECT_EQ(s["successCount"], flaky_runs);
  EXPECT_EQ(s["failureCount"], 0);
  EXPECT_EQ(s["successRate"], 1.0);
  EXPECT_EQ(s["consecutiveFailures"], 0);
  EXPECT_EQ(flaky_failed_attempts, 8) << "each of the first four runs failed twice";
  EXPECT_EQ(s["attempts"]["failed"], flaky_failed_attempts);
  EXPECT_EQ(s["attempts"]["total"], flaky_runs + flaky_failed_attempts);
  const json broken_stats = JobctlJson({"stats", "--by", "schedule", "--name", "broken", "--json"});
  EXPECT_EQ(broken_stats["stats"][0]["failureCount"], 4);
  EXPECT_EQ(broken_stats["stats"][0]["attempts"]["failed"], 8);

  // jobctl runs: one line per tick's job, its final outcome and attempts.
  const json runs = JobctlJson({"runs", "--schedule", "flaky", "--json", "--limit", "1000"});
  ASSERT_EQ(static_cast<int64_t>(runs["runs"].size()), flaky_runs);
  int retried = 0;
  for (const auto& r : runs["runs"]) {
    EXPECT_EQ(r["job_outcome"], "succeeded");
    EXPECT_EQ(r["schedule"], "flaky");
    retried += r["attempt"] == 3 ? 1 : 0;
  }
  EXPECT_EQ(retried, 4);
  EXPECT_EQ(JobctlJson({"runs", "--schedule", "broken", "--outcome", "failed", "--json"})["runs"].size(), 4u);
  JobctlOutcome text = cluster_.Jobctl({"runs", "--schedule", "broken", "--outcome", "failed"});
  EXPECT_TRUE(std::regex_search(text.output, std::regex(R"(broken +\S+ +http_request +failed +2 )"))) << text.output;

  // The fires, overlaps skipped while a run was still retrying.
  const json fires = JobctlJson({"schedule", "fires", "flaky", "--json", "--limit", "1000"});
  int skipped = 0, enqueued = 0;
  for (const auto& f : fires["fires"]) {
    skipped += f["outcome"] == "skipped_overlap" ? 1 : 0;
    enqueued += f["outcome"] == "enqueued" ? 1 : 0;
  }
  EXPECT_GT(skipped, 0) << fires.dump();
  EXPECT_EQ(enqueued, flaky_runs);
  JobctlOutcome listed = cluster_.Jobctl({"list", "--schedule", "broken", "--limit", "1000"});
  EXPECT_TRUE(std::regex_search(listed.output, std::regex(R"(discarded +failed +broken )"))) << listed.output;
}

TEST_F(RunsClusterTest, PartialSkippedAndFanOutRunsShowTheirOutcomesAndWaitExitCodes) {
  StartCluster(R"(schedules:
  - name: report
    cron: "* * * * * *"
    kind: outcome
    payload: {"errors": ["Failed to process appt_102: timeout"]}
  - name: locked
    cron: "* * * * * *"
    kind: outcome
    payload: {"skip": "locked"}
  - name: rehearsal
    cron: "* * * * * *"
    kind: noop
    payload: {"dryRun": true}
)",
               1);
  // enqueue --wait: one exit code per final outcome.
  JobctlOutcome ok = cluster_.Jobctl({"enqueue", "fail", "--payload", R"({"times": 2})", "--max-attempts", "3",
                                      "--wait", "--wait-timeout", "60s"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("succeeded after 3 attempts"), std::string::npos) << ok.output;
  JobctlOutcome partial = cluster_.Jobctl({"enqueue", "outcome", "--payload", R"({"errors": ["row 7", "row 9"]})",
                                           "--wait", "--wait-timeout", "60s"});
  EXPECT_EQ(partial.exit_code, 8) << partial.output;
  EXPECT_NE(partial.output.find("partial (2 errors): row 7"), std::string::npos) << partial.output;
  JobctlOutcome skip = cluster_.Jobctl({"enqueue", "outcome", "--payload", R"({"skip": "locked"})", "--wait",
                                        "--wait-timeout", "60s"});
  EXPECT_EQ(skip.exit_code, 9) << skip.output;
  EXPECT_NE(skip.output.find("skipped: locked"), std::string::npos) << skip.output;
  JobctlOutcome failed = cluster_.Jobctl({"enqueue", "fail", "--payload", R"({"times": 9})", "--max-attempts",
                                          "2", "--wait", "--wait-timeout", "60s"});
  EXPECT_EQ(failed.exit_code, 4) << failed.output;
  EXPECT_NE(failed.output.find("failed: fail: attempt 2 fails on purpose"), std::string::npos) << failed.output;

  // A fan-out: its own attempt ends first, then it waits for its children.
  const json children = json::array({json{{"kind", "noop"}},
                                     json{{"kind", "fail"}, {"payload", {{"times", 9}}}, {"maxAttempts", 1}},
                                     json{{"kind", "sleep"}, {"payload", {{"ms", 3000}}}}});
  JobctlOutcome fan = cluster_.Jobctl(
      {"enqueue", "outcome", "--payload", json{{"children", children}}.dump(), "--json"});
  ASSERT_EQ(fan.exit_code, 0) << fan.output;
  const std::string parent = std::to_string(json::parse(fan.output)["id"].get<int64_t>());
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + parent) == "succeeded";
  }, kClusterWaitBound));
  JobctlOutcome waiting = cluster_.Jobctl({"show", parent});
  if (cluster_.Text("SELECT outcome FROM chime.jobs_all WHERE id = " + parent).empty()) {
    EXPECT_NE(waiting.output.find("outcome:          waiting for "), std::string::npos) << waiting.output;
  }
  JobctlOutcome settled = cluster_.Jobctl({"enqueue", "outcome", "--payload",
                                           json{{"children", children}}.dump(), "--wait", "--wait-timeout", "60s"});
  EXPECT_EQ(settled.exit_code, 8) << settled.output;  // Some children failed: partial.
  ASSERT_TRUE(WaitUntil([&] { return !cluster_.Text("SELECT outcome FROM chime.jobs_all WHERE id = " + parent).empty(); }, kClusterWaitBound));
  JobctlOutcome shown = cluster_.Jobctl({"show", parent});
  EXPECT_NE(shown.output.find("outcome:          partial"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("\"childOutcomes\""), std::string::npos) << shown.output;
  const json parent_json = JobctlJson({"show", parent, "--json"});
  EXPECT_EQ(parent_json["runs"].back()["summary"]["childOutcomes"],
            json::parse(R"({"succeeded": 2, "partial": 0, "failed": 1, "skipped": 0, "cancelled": 0, "total": 3})"));
  const json all_failed = json::array({json{{"kind", "fail"}, {"payload", {{"times", 9}}}, {"maxAttempts", 1}},
                                       json{{"kind", "fail"}, {"payload", {{"times", 9}}}, {"maxAttempts", 1}}});
  EXPECT_EQ(cluster_.Jobctl({"enqueue", "outcome", "--payload", json{{"children", all_failed}}.dump(), "--wait",
                             "--wait-timeout", "60s"})
                .exit_code,
            4);
  EXPECT_EQ(cluster_.Jobctl({"enqueue", "outcome", "--payload",
                             json{{"children", json::array({json{{"kind", "noop"}}})}}.dump(), "--wait",
                             "--wait-timeout", "60s"})
                .exit_code,
            0);

  ASSERT_TRUE(WaitUntil([&] {
    return Runs("report", "partial") >= 2 && Runs("locked", "skipped") >= 2 && Runs("rehearsal", "succeeded") >= 1;
  }, kClusterWaitBound)) << cluster_.scheduler().log();
  Quiesce({"report", "locked", "rehearsal"});

  const json stats = JobctlJson({"stats", "--by", "schedule", "--json"});
  for (const auto& s : stats["stats"]) {
    if (s["jobName"] == "report") {
      EXPECT_EQ(s["partialCount"], Runs("report", "partial"));
      EXPECT_EQ(s["successCount"], 0);
      EXPECT_EQ(s["successRate"], 1.0) << "partial runs are done";
      EXPECT_EQ(s["lastStatus"], "partial");
    }
    if (s["jobName"] == "locked") {
      EXPECT_EQ(s["skippedCount"], Runs("locked", "skipped"));
      EXPECT_EQ(s["totalExecutions"], s["skippedCount"]);
      EXPECT_TRUE(s["successRate"].is_null()) << "a skipped run decides nothing";
      EXPECT_EQ(s["lastStatus"], "skipped");
    }
  }
  EXPECT_TRUE(stats["alerts"].empty()) << stats["alerts"].dump();
  EXPECT_TRUE(alerts_.Requests().empty());
  const json partial_runs = JobctlJson({"runs", "--outcome", "partial", "--schedule", "report", "--json"});
  EXPECT_EQ(static_cast<int64_t>(partial_runs["runs"].size()), Runs("report", "partial"));
  EXPECT_EQ(partial_runs["runs"][0]["errors"][0], "Failed to process appt_102: timeout");
  JobctlOutcome listed = cluster_.Jobctl({"list", "--schedule", "locked"});
  EXPECT_TRUE(std::regex_search(listed.output, std::regex(R"(succeeded +skipped +locked )"))) << listed.output;
  // A schedule's "dryRun": true marks the jobs it fires.
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE NOT dry_run AND schedule_id = " +
                         ScheduleId("rehearsal")),
            0);
  EXPECT_GT(cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE schedule_id = " + ScheduleId("rehearsal")), 0);
}

}  // namespace
}  // namespace chime::testing
