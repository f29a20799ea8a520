#include "jobctl/cli.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <vector>

#include "jobctl/exit_code.h"
#include "tests/jobctl/cli_harness.h"

namespace chime::jobctl {
namespace {

using std::chrono::seconds;

using JobctlCliTest = test_support::CliTest;

TEST_F(JobctlCliTest, HelpExitsZeroWithoutConnecting) {
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_NE(out.str().find("Exit codes"), std::string::npos);
  for (const char* sub : {"migrate", "enqueue", "list", "show", "cancel", "retry", "stats", "workers",
                          "schedule", "cron"}) {
    EXPECT_EQ(Run({sub, "--help"}), 0) << sub;
  }
  EXPECT_EQ(backends_made, 0);
}

TEST_F(JobctlCliTest, UsageErrorsExitTwoWithOneLine) {
  EXPECT_EQ(Run({}), 2);
  EXPECT_EQ(Run({"bogus"}), 2);
  EXPECT_EQ(Run({"enqueue"}), 2);
  EXPECT_EQ(Run({"enqueue", "noop", "--priority", "abc"}), 2);
  const std::string message = err.str();
  EXPECT_TRUE(message.starts_with("jobctl: ")) << message;
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
  EXPECT_EQ(backends_made, 0);
}

TEST_F(JobctlCliTest, FlagOverridesEnvironmentUrl) {
  EXPECT_EQ(Run({"stats"}), 0);
  EXPECT_EQ(backend_url, "postgresql://from-env");
  EXPECT_EQ(Run({"stats", "--database-url", "postgresql://from-flag"}), 0);
  EXPECT_EQ(backend_url, "postgresql://from-flag");
  EXPECT_EQ(Run({"--database-url", "postgresql://first", "stats"}), 0);
  EXPECT_EQ(backend_url, "postgresql://first");
}

TEST_F(JobctlCliTest, EnqueuePassesEveryFlag) {
  ASSERT_EQ(Run({"enqueue", "cleanup_old_jobs", "--payload", R"({"retentionDays":7})", "--queue",
                 "maintenance", "--priority", "3", "--delay", "5m", "--unique-key", "k1",
                 "--max-attempts", "4", "--timeout", "30s", "--dry-run"}),
            0)
      << err.str();
  EXPECT_EQ(out.str(), "42\n");
  ASSERT_EQ(fake.enqueued.size(), 1u);
  const auto& p = fake.enqueued[0];
  EXPECT_EQ(p.kind, "cleanup_old_jobs");
  EXPECT_EQ(p.payload, R"({"retentionDays":7})");
  EXPECT_EQ(p.queue, "maintenance");
  EXPECT_EQ(p.priority, 3);
  EXPECT_EQ(p.delay, std::chrono::minutes(5));
  EXPECT_FALSE(p.run_at);
  EXPECT_EQ(p.unique_key, "k1");
  EXPECT_EQ(p.max_attempts, 4);
  EXPECT_EQ(p.timeout, seconds(30));
  EXPECT_TRUE(p.dry_run);
}

TEST_F(JobctlCliTest, EnqueueReadsPayloadFromStdinAndParsesRunAt) {
  ASSERT_EQ(Run({"enqueue", "noop", "--payload-file", "-", "--run-at", "2026-01-31T04:00:00+02:00"},
                R"({"x": [1, 2]})"),
            0)
      << err.str();
  ASSERT_EQ(fake.enqueued.size(), 1u);
  EXPECT_EQ(fake.enqueued[0].payload, R"({"x": [1, 2]})");
  EXPECT_EQ(fake.enqueued[0].run_at, Now());
}

TEST_F(JobctlCliTest, EnqueueReportsExistingJob) {
  fake.enqueue_result = {9, true, db::JobState::kRunning};
  ASSERT_EQ(Run({"enqueue", "noop", "--unique-key", "k"}), 0);
  EXPECT_EQ(out.str(), "existing job 9\n");
  ASSERT_EQ(Run({"enqueue", "noop", "--unique-key", "k", "--json"}), 0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["id"], 9);
  EXPECT_EQ(j["existing"], true);
  EXPECT_EQ(j["state"], "running");
}

TEST_F(JobctlCliTest, EnqueueRejectsBadInputBeforeTheBackend) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"enqueue", "noop", "--payload", "{bad"},
           {"enqueue", "noop", "--payload", "{}", "--payload-file", "-"},
           {"enqueue", "noop", "--delay", "5x"},
           {"enqueue", "noop", "--run-at", "2026-02-30T00:00:00Z"},
           {"enqueue", "noop", "--run-at", "2026-01-01T00:00:00Z", "--delay", "1s"},
           {"enqueue", "noop", "--priority", "10"},
           {"enqueue", "noop", "--max-attempts", "0"},
           {"enqueue", "noop", "--timeout", "0"},
           {"enqueue", "bad kind"},
           {"enqueue", "noop", "--count", "0"},
           {"enqueue", "noop", "--count", "100001"},
           {"enqueue", "noop", "--count", "2", "--unique-key", "k"},
           {"enqueue", "noop", "--count", "2", "--wait"},
       }) {
    EXPECT_EQ(Run(args), 2) << args.back();
    EXPECT_TRUE(err.str().starts_with("jobctl: ")) << err.str();
  }
  EXPECT_TRUE(fake.enqueued.empty());
}

// Issue 17: a payload carrying a credential is refused where it enters, so
// no secret value is ever stored (jobctl checks before sending; the job
// store and the scheduler check again, see job_store_hostile_test and
// tests/security/payload_secret_entry_test).
TEST_F(JobctlCliTest, EnqueueRefusesAnHttpRequestPayloadCarryingASecret) {
  for (const char* payload :
       {R"({"url": "https://app.example.com/api/cron", "headers": {"x-cron-key": "s3cr3t-abc"}})",
        R"({"url": "https://app.example.com/api/cron", "auth": {"type": "bearer", "secret": "s3cr3t-abc"}})",
        R"({"url": "https://cron:s3cr3t-abc@app.example.com/api/cron"})"}) {
    EXPECT_EQ(Run({"enqueue", "http_request", "--payload", payload}), 2) << payload;
    EXPECT_TRUE(err.str().starts_with("jobctl: --payload: ")) << err.str();
    EXPECT_EQ(err.str().find("s3cr3t-abc"), std::string::npos) << err.str();
  }
  EXPECT_TRUE(fake.enqueued.empty());
  ASSERT_EQ(Run({"enqueue", "http_request", "--payload",
                 R"({"url": "https://app.example.com/api/cron", "auth": {"type": "header", "name": "x-cron-key", )"
                 R"("secret": "env:INTEGRATIONS_CRON_SECRET"}})"}),
            0)
      << err.str();
  EXPECT_EQ(fake.enqueued.size(), 1u);
}

TEST_F(JobctlCliTest, EnqueueCountMakesThatManyJobsAndSaysWhichExist) {
  fake.id_step = 1;
  ASSERT_EQ(Run({"enqueue", "noop", "--count", "3", "--payload", R"({"n":1})"}), 0) << err.str();
  EXPECT_EQ(out.str(), "42\n43\n44\n");
  ASSERT_EQ(fake.enqueued.size(), 3u);
  for (const auto& p : fake.enqueued) EXPECT_EQ(p.payload, R"({"n":1})");

  fake.enqueued.clear();
  ASSERT_EQ(Run({"enqueue", "noop", "--count", "2", "--json"}), 0);
  auto all = nlohmann::json::parse(out.str());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["id"], 43);

  fake.enqueued.clear();
  fake.enqueue_fails_at = 2;
  EXPECT_EQ(Run({"enqueue", "noop", "--count", "5"}), 5);
  EXPECT_EQ(out.str(), "42\n43\n");
  EXPECT_NE(err.str().find("job 3 of 5: scheduler went away"), std::string::npos) << err.str();
}

TEST_F(JobctlCliTest, ListBuildsFilters) {
  fake.page.jobs = {job};
  fake.page.next_before_id = 7;
  ASSERT_EQ(Run({"list", "--state", "running,available", "--state", "running", "--kind", "noop",
                 "--since", "24h", "--limit", "10", "--before-id", "100"}),
            0)
      << err.str();
  ASSERT_EQ(fake.listed.size(), 1u);
  const auto& p = fake.listed[0];
  EXPECT_EQ(p.states, (std::vector<db::JobState>{db::JobState::kRunning, db::JobState::kAvailable}));
  EXPECT_EQ(p.kind, "noop");
  EXPECT_EQ(p.since, Now() - std::chrono::hours(24));
  EXPECT_EQ(p.limit, 10);
  EXPECT_EQ(p.before_id, 100);
  EXPECT_NE(out.str().find("2026-01-31T02:00:00Z"), std::string::npos);
}

// Issue 22: `jobctl list | awk ...` read the hint as a job row. It is for a
// person: under the table on a terminal, on stderr otherwise.
TEST_F(JobctlCliTest, ListPrintsTheNextPageHintToStderrUnlessStdoutIsATerminal) {
  fake.page.jobs = {job};
  fake.page.next_before_id = 7;
  const std::string hint = "more jobs: repeat with --before-id 7\n";
  ASSERT_EQ(Run({"list"}), 0) << err.str();
  EXPECT_EQ(out.str().find("more jobs"), std::string::npos) << out.str();
  EXPECT_TRUE(out.str().starts_with("ID ")) << out.str();
  EXPECT_EQ(err.str(), hint);

  out_is_terminal = true;
  ASSERT_EQ(Run({"list"}), 0) << err.str();
  EXPECT_TRUE(out.str().ends_with(hint)) << out.str();
  EXPECT_EQ(err.str(), "");

  fake.page.next_before_id.reset();  // The last page: no hint anywhere.
  out_is_terminal = false;
  ASSERT_EQ(Run({"list"}), 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str().find("more jobs"), std::string::npos);
}

TEST_F(JobctlCliTest, ListJsonHasJobsAndCursor) {
  fake.page.jobs = {job};
  ASSERT_EQ(Run({"list", "--json"}), 0);
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["jobs"].size(), 1u);
  EXPECT_EQ(j["jobs"][0]["id"], 7);
  EXPECT_EQ(j["jobs"][0]["payload"]["a"], 1);
  EXPECT_EQ(j["jobs"][0]["created_at"], "2026-01-31T02:00:00.000Z");
  EXPECT_TRUE(j["next_before_id"].is_null());
}

TEST_F(JobctlCliTest, ListRejectsUnknownState) {
  EXPECT_EQ(Run({"list", "--state", "bogus"}), 2);
  EXPECT_NE(err.str().find("valid: scheduled"), std::string::npos);
  EXPECT_TRUE(fake.listed.empty());
}

TEST_F(JobctlCliTest, ShowMapsNotFoundToThree) {
  EXPECT_EQ(Run({"show", "8"}), 3);
  EXPECT_EQ(err.str(), "jobctl: job 8 not found\n");
  EXPECT_EQ(Run({"show", "abc"}), 2);
}

TEST_F(JobctlCliTest, ShowPrintsJobAndRuns) {
  db::Run run;
  run.attempt = 1;
  run.worker_id = "w1";
  run.started_at = Now();
  run.finished_at = Now() + std::chrono::milliseconds(1500);
  run.outcome = db::RunOutcome::kFailed;
  run.errors = {"boom\nline two"};
  fake.job.runs = {run};
  ASSERT_EQ(Run({"show", "7"}), 0);
  EXPECT_NE(out.str().find("1.5s"), std::string::npos);
  EXPECT_NE(out.str().find("boom line two"), std::string::npos);
  ASSERT_EQ(Run({"show", "7", "--json"}), 0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["runs"][0]["duration_ms"], 1500);
  EXPECT_EQ(j["runs"][0]["outcome"], "failed");
}

TEST_F(JobctlCliTest, ShowPrintsTheNewestRunsResultInFull) {
  db::Run first, second;
  first.attempt = 1;
  first.summary = R"({"old": true})";
  second.attempt = 2;
  second.summary = R"({"summary": {"processed": 2, "updated": 1}, "mode": "live", "note": ")" +
                   std::string(100, 'x') + R"("})";
  fake.job.runs = {first, second};
  ASSERT_EQ(Run({"show", "7"}), 0);
  const std::string text = out.str();
  ASSERT_NE(text.find("result of attempt 2:"), std::string::npos) << text;
  const std::string result = text.substr(text.find("result of attempt 2:"));
  EXPECT_NE(result.find("    \"processed\": 2,"), std::string::npos) << result;
  EXPECT_NE(result.find(std::string(100, 'x')), std::string::npos) << "not abbreviated";
  EXPECT_EQ(result.find("old"), std::string::npos);

  fake.job.children = {{db::JobState::kSucceeded, 3}, {db::JobState::kAvailable, 2}};
  ASSERT_EQ(Run({"show", "7"}), 0);
  EXPECT_NE(out.str().find("children:         5: 2 available, 3 succeeded (2 still to run)"),
            std::string::npos)
      << out.str();
  ASSERT_EQ(Run({"show", "7", "--json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(out.str())["children"], nlohmann::json({{"available", 2}, {"succeeded", 3}}));

  fake.job.runs[1].summary = "{}";
  ASSERT_EQ(Run({"show", "7"}), 0);
  EXPECT_EQ(out.str().find("result of attempt"), std::string::npos) << "an empty result says nothing";
}

TEST_F(JobctlCliTest, CancelAndRetrySayWhatHappened) {
  ASSERT_EQ(Run({"cancel", "7"}), 0);
  EXPECT_EQ(out.str(), "job 7 cancelled\n");
  fake.cancel_result = db::CancelOutcome::kCancelRequested;
  ASSERT_EQ(Run({"cancel", "7"}), 0);
  EXPECT_NE(out.str().find("asked to cancel"), std::string::npos);
  EXPECT_EQ(Run({"retry", "7"}), 4);
  EXPECT_EQ(err.str(), "jobctl: job 7 is succeeded\n");
}

TEST_F(JobctlCliTest, StatsJsonSumsStatesOverQueuesAndKinds) {
  fake.stats.rows = {{"default", "noop", db::JobState::kAvailable, 2},
                     {"other", "sync", db::JobState::kAvailable, 3},
                     {"default", "noop", db::JobState::kSucceeded, 5}};
  fake.stats.queues = {{"default", 2, seconds(4)}};
  ASSERT_EQ(Run({"stats", "--json"}), 0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["states"]["available"], 5);
  EXPECT_EQ(j["states"]["succeeded"], 5);
  EXPECT_EQ(j["states"]["running"], 0);
  EXPECT_EQ(j["states"].size(), 7u);
  EXPECT_EQ(j["rows"].size(), 3u);
  EXPECT_EQ(j["queues"][0]["oldest_ready_age_ms"], 4000);
  ASSERT_EQ(Run({"stats"}), 0);
  EXPECT_NE(out.str().find("TOTAL"), std::string::npos);
}

TEST_F(JobctlCliTest, UnavailableExitsFive) {
  fake.unavailable = true;
  EXPECT_EQ(Run({"stats"}), 5);
  EXPECT_EQ(err.str(), "jobctl: cannot connect to database\n");
}

TEST_F(JobctlCliTest, MigrateAppliesAndStatusDoesNot) {
  fake.migration = {1, 1, {"0001_init.sql"}};
  ASSERT_EQ(Run({"migrate"}), 0);
  EXPECT_NE(out.str().find("applied 0001_init.sql"), std::string::npos);
  ASSERT_EQ(Run({"migrate", "--status", "--json"}), 0);
  EXPECT_EQ(fake.migrate_calls, 1);
  EXPECT_EQ(nlohmann::json::parse(out.str())["up_to_date"], true);
}

TEST_F(JobctlCliTest, TheSchedulerComesFromTheEnvironmentOrTheFlag) {
  env_scheduler = "tcp://env:7700";
  EXPECT_EQ(Run({"stats"}), 0);
  EXPECT_EQ(backend_scheduler, "tcp://env:7700");
  EXPECT_EQ(Run({"stats", "--scheduler", "tcp://a:1,tcp://b:2"}), 0);
  EXPECT_EQ(backend_scheduler, "tcp://a:1,tcp://b:2");
  // Applying migrations needs the database itself; --status may ask the scheduler.
  EXPECT_EQ(Run({"migrate"}), 0);
  EXPECT_EQ(backend_scheduler, "");
  EXPECT_EQ(backend_url, "postgresql://from-env");
  EXPECT_EQ(Run({"migrate", "--status"}), 0);
  EXPECT_EQ(backend_scheduler, "tcp://env:7700");
  // An explicit --database-url beats the environment's scheduler.
  EXPECT_EQ(Run({"stats", "--database-url", "postgresql://flag"}), 0);
  EXPECT_EQ(backend_scheduler, "");
  EXPECT_EQ(backend_url, "postgresql://flag");
  EXPECT_EQ(Run({"stats", "--database-url", "postgresql://flag", "--scheduler", "tcp://a:1"}), 0);
  EXPECT_EQ(backend_scheduler, "tcp://a:1");
}

TEST_F(JobctlCliTest, WorkersPrintsATableOrJson) {
  WorkerView w;
  w.worker_id = "host-1";
  w.host = "host";
  w.pid = 12;
  w.queues = {"default", "mail"};
  w.slots = 16;
  w.free_slots = 3;
  w.running_jobs = {7, 8};
  w.last_seen = Now();
  fake.workers = {w};
  ASSERT_EQ(Run({"workers"}), 0);
  EXPECT_NE(out.str().find("default,mail"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("FREE"), std::string::npos);
  ASSERT_EQ(Run({"workers", "--json"}), 0);
  auto parsed = nlohmann::json::parse(out.str());
  EXPECT_EQ(parsed["workers"][0]["free_slots"], 3);
  EXPECT_EQ(parsed["workers"][0]["running_jobs"].size(), 2u);
  fake.workers.clear();
  ASSERT_EQ(Run({"workers"}), 0);
  EXPECT_EQ(out.str(), "no workers connected\n");
}

TEST_F(JobctlCliTest, EnqueueWaitBlocksUntilTheJobFinishesAndReportsItsOutcome) {
  fake.enqueue_result.id = 7;
  fake.job.job.state = db::JobState::kRunning;
  on_pause = [this] {
    if (paused.size() == 3) {
      fake.job.job.state = db::JobState::kSucceeded;
      fake.job.job.outcome = db::JobOutcome::kSucceeded;
    }
  };
  EXPECT_EQ(Run({"enqueue", "noop", "--wait"}), 0);
  EXPECT_EQ(out.str(), "job 7 succeeded\n");
  EXPECT_EQ(paused.size(), 3u);
  EXPECT_LT(paused[0], paused[2]);  // Backs off between polls.

  paused.clear();
  fake.job.job.state = db::JobState::kDiscarded;
  fake.job.job.outcome = db::JobOutcome::kFailed;
  fake.job.job.last_error = "unknown job kind 'noop'";
  EXPECT_EQ(Run({"enqueue", "noop", "--wait"}), 4);
  EXPECT_NE(err.str().find("job 7 failed: unknown job kind"), std::string::npos) << err.str();
}

TEST_F(JobctlCliTest, EnqueueWaitExitsWithItsOwnCodesForPartialAndSkippedRuns) {
  fake.enqueue_result.id = 7;
  fake.job.job.state = db::JobState::kSucceeded;
  fake.job.job.outcome = db::JobOutcome::kPartial;
  fake.job.job.attempt = 2;
  db::Run last;
  last.attempt = 2;
  last.outcome = db::RunOutcome::kPartial;
  last.final = true;
  last.job_outcome = db::JobOutcome::kPartial;
  last.errors = {"Failed to process appt_102: timeout", "Failed to process appt_103: 404"};
  fake.job.runs = {last};
  EXPECT_EQ(Run({"enqueue", "noop", "--wait"}), kExitPartial);
  EXPECT_EQ(out.str(), "job 7 partial after 2 attempts (2 errors): Failed to process appt_102: timeout\n");
  EXPECT_EQ(err.str(), "");

  fake.job.job.outcome = db::JobOutcome::kSkipped;
  fake.job.job.attempt = 1;
  fake.job.runs[0].outcome = db::RunOutcome::kSkipped;
  fake.job.runs[0].errors.clear();
  fake.job.runs[0].summary = R"({"skipReason": "locked"})";
  EXPECT_EQ(Run({"enqueue", "noop", "--wait"}), kExitSkipped);
  EXPECT_EQ(out.str(), "job 7 skipped: locked\n");

  fake.job.job.outcome = db::JobOutcome::kCancelled;
  fake.job.job.state = db::JobState::kCancelled;
  EXPECT_EQ(Run({"enqueue", "noop", "--wait"}), kExitPrecondition);
}

TEST_F(JobctlCliTest, EnqueueWaitWaitsForAFanOutsChildren) {
  fake.enqueue_result.id = 7;
  fake.job.job.state = db::JobState::kSucceeded;  // Its own attempt is done,
  fake.job.job.fan_out = true;                    // its children are not.
  fake.job.job.children_live = 3;
  on_pause = [this] {
    if (paused.size() == 2) fake.job.job.outcome = db::JobOutcome::kFailed;
  };
  EXPECT_EQ(Run({"enqueue", "process_all_users", "--wait"}), kExitPrecondition);
  EXPECT_EQ(paused.size(), 2u);
  EXPECT_EQ(out.str(), "job 7 failed\n");

  fake.job.job.outcome.reset();
  paused.clear();
  on_pause = nullptr;
  EXPECT_EQ(Run({"enqueue", "process_all_users", "--wait", "--wait-timeout", "0s"}), kExitUnavailable);
  EXPECT_NE(err.str().find("job 7 waiting for 3 children after --wait-timeout"), std::string::npos) << err.str();
  ASSERT_EQ(Run({"show", "7"}), 0);
  EXPECT_NE(out.str().find("outcome:          waiting for 3 children"), std::string::npos) << out.str();
}

TEST_F(JobctlCliTest, EnqueueWaitTimeoutNeedsWait) {
  EXPECT_EQ(Run({"enqueue", "noop", "--wait-timeout", "5s"}), 2);
  EXPECT_NE(err.str().find("--wait-timeout"), std::string::npos);
}

// A command run with AdminBackend::Run<C> and no named method (limit):
// the fake answers through the command's own codec, and errors pass through.
TEST_F(JobctlCliTest, ACommandWithoutANamedMethodIsAnsweredThroughItsDeclaration) {
  db::LimitRow row;
  row.spec = schedule::LimitSpec{.name = "one-per-user", .kind = "sync_integration", .concurrency = 1};
  row.running = 1;
  fake.Reply<admin::LimitList>({row});
  ASSERT_EQ(Run({"limit", "list"}), kExitOk) << err.str();
  EXPECT_NE(out.str().find("one-per-user"), std::string::npos) << out.str();
  ASSERT_EQ(fake.requests.size(), 1u);
  EXPECT_TRUE(fake.requests[0].has_limit_list());

  fake.ReplyError<admin::LimitDelete>(Error{ErrorCode::kNotFound, "no limit named 'x'"});
  EXPECT_EQ(Run({"limit", "delete", "x"}), kExitNotFound);
  EXPECT_NE(err.str().find("no limit named 'x'"), std::string::npos) << err.str();
  ASSERT_EQ(fake.requests.size(), 2u);
  EXPECT_EQ(fake.requests[1].limit_delete().name(), "x");
}

}  // namespace
}  // namespace chime::jobctl
