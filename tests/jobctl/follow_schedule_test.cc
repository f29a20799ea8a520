// Following one schedule with jobctl, on both of its paths: straight to
// PostgreSQL (DbBackend) and through a real chime-scheduler over ZeroMQ
// (ZmqBackend -> AdminService). jobctl runs, schedule fires, list
// --schedule, show and schedule update --health answer the same on both,
// from a ledger the job store's own statements wrote: a run that failed
// twice and succeeded on its third attempt, a partial run, a skipped
// overlap and a misfire.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/db/job_store.h"
#include "common/db/schedule_store.h"
#include "tests/jobctl/both_paths.h"

namespace chime::jobctl {
namespace {

class FollowScheduleTest : public BothPathsTest {
 protected:
  void SetUp() override {
    BothPathsTest::SetUp();
    if (HasFatalFailure()) return;
    BuildLedger();
    // Paused: the scheduler, leading, must not fire the ticks missed since
    // the ledger's (made-up) ones.
    db_.Exec("UPDATE chime.schedules SET paused = true");
    StartScheduler();
  }

  db::TimePoint Tick(int hour) {
    using namespace std::chrono;
    return db::TimePoint(sys_days(year(2026) / 1 / 1) + hours(hour));
  }

  db::ClaimedJob ClaimOne() {
    auto claimed = store_.JobsClaim({.worker_id = "w1", .limit = 1});
    EXPECT_TRUE(claimed.has_value() && claimed->size() == 1);
    return claimed && !claimed->empty() ? claimed->front() : db::ClaimedJob{};
  }

  void Complete(const db::ClaimedJob& job, db::CompletionKind kind, std::vector<std::string> errors = {}) {
    db::Completion c{.lease = job.lease, .kind = kind, .attempt = job.attempt, .summary = "{}",
                     .errors = std::move(errors), .worker_id = "w1"};
    auto done = store_.JobsCompleteIfLeased(std::span<const db::Completion>(&c, 1));
    ASSERT_TRUE(done.has_value() && done->at(0).applied);
  }

  void Fire(int64_t schedule, int hour, bool skip = false) {
    auto fired = schedules_.FireTicks(
        std::nullopt, std::vector<db::Tick>{{.schedule_id = schedule, .scheduled_for = Tick(hour),
                                            .run_at = Tick(hour), .skip = skip}});
    ASSERT_TRUE(fired.has_value()) << fired.error().ToString();
  }

  void BuildLedger() {
    schedule::ScheduleSpec spec;
    spec.name = "hourly";
    spec.cron = "0 * * * *";
    spec.kind = "fail";
    spec.max_attempts = 3;
    auto row = schedules_.ScheduleCreate(spec);
    ASSERT_TRUE(row.has_value()) << row.error().ToString();
    // Tick 1: fails twice, succeeds on its third attempt; tick 2, fired
    // while it was still retrying, is skipped as an overlap.
    Fire(row->id, 1);
    const db::ClaimedJob first = ClaimOne();
    first_job_ = first.id;
    Complete(first, db::CompletionKind::kFailed, {"HTTP 503"});
    Fire(row->id, 2);
    for (int attempt = 2; attempt <= 3; ++attempt) {
      db_.Exec("UPDATE chime.jobs SET run_at = now() WHERE id = " + std::to_string(first_job_));
      db::ClaimedJob again = ClaimOne();
      ASSERT_EQ(again.id, first_job_);
      Complete(again, attempt == 2 ? db::CompletionKind::kFailed : db::CompletionKind::kSucceeded,
               attempt == 2 ? std::vector<std::string>{"HTTP 503"} : std::vector<std::string>{});
    }
    // Tick 3: partial. Tick 4: missed while no scheduler ran.
    Fire(row->id, 3);
    const db::ClaimedJob partial = ClaimOne();
    partial_job_ = partial.id;
    Complete(partial, db::CompletionKind::kSucceeded, {"Failed to process appt_102"});
    Fire(row->id, 4, /*skip=*/true);
  }

  db::JobStore store_{conn_};
  db::ScheduleStore schedules_{conn_};
  int64_t first_job_ = 0;
  int64_t partial_job_ = 0;
};

TEST_F(FollowScheduleTest, RunsShowEachTicksFinalOutcomeWithItsAttempts) {
  Ran runs = Both({"runs", "--schedule", "hourly", "--json"});
  ASSERT_EQ(runs.code, 0) << runs.err;
  const auto j = nlohmann::json::parse(runs.out);
  ASSERT_EQ(j["runs"].size(), 2u) << runs.out;
  EXPECT_EQ(j["runs"][0]["job_id"], partial_job_);
  EXPECT_EQ(j["runs"][0]["job_outcome"], "partial");
  EXPECT_EQ(j["runs"][0]["scheduled_for"], "2026-01-01T03:00:00.000Z");
  EXPECT_EQ(j["runs"][1]["job_id"], first_job_);
  EXPECT_EQ(j["runs"][1]["job_outcome"], "succeeded");
  EXPECT_EQ(j["runs"][1]["attempt"], 3);
  EXPECT_EQ(j["runs"][1]["final"], true);

  Ran text = Both({"runs", "--schedule", "hourly"});
  EXPECT_NE(text.out.find("JOB  SCHEDULE  TICK"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("hourly    2026-01-01T01:00:00Z  fail  succeeded         3"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("partial"), std::string::npos);
  EXPECT_NE(text.out.find("Failed to process appt_102"), std::string::npos);

  Ran attempts = Both({"runs", "--schedule", "hourly", "--attempts", "--json"});
  EXPECT_EQ(nlohmann::json::parse(attempts.out)["runs"].size(), 4u);
  Ran partials = Both({"runs", "--outcome", "partial", "--json"});
  EXPECT_EQ(nlohmann::json::parse(partials.out)["runs"].size(), 1u);
  Ran page = Both({"runs", "--limit", "1"});
  const size_t at = page.out.find("--before-id ");
  ASSERT_NE(at, std::string::npos) << page.out;
  const std::string cursor = page.out.substr(at + 12, page.out.find('\n', at) - at - 12);
  Ran next = Both({"runs", "--limit", "1", "--before-id", cursor, "--json"});
  EXPECT_EQ(nlohmann::json::parse(next.out)["runs"][0]["job_id"], first_job_);

  EXPECT_EQ(Both({"runs", "--outcome", "exploded"}).code, 2);
  EXPECT_EQ(Both({"runs", "--schedule", "nope"}).code, 3);
}

TEST_F(FollowScheduleTest, FiresShowEveryTickSkippedOnesIncluded) {
  Ran fires = Both({"schedule", "fires", "hourly", "--json"});
  ASSERT_EQ(fires.code, 0) << fires.err;
  const auto j = nlohmann::json::parse(fires.out);
  ASSERT_EQ(j["fires"].size(), 4u) << fires.out;
  EXPECT_EQ(j["fires"][0]["outcome"], "skipped_misfire");
  EXPECT_EQ(j["fires"][1]["job_outcome"], "partial");
  EXPECT_EQ(j["fires"][2]["outcome"], "skipped_overlap");
  EXPECT_EQ(j["fires"][3]["job_outcome"], "succeeded");
  EXPECT_EQ(j["fires"][3]["attempts"], 3);

  Ran text = Both({"schedule", "fires", "hourly", "--limit", "3"});
  EXPECT_NE(text.out.find("skipped_overlap"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("more fires: repeat with --before 2026-01-01T02:00:00.000000Z"), std::string::npos)
      << text.out;
  Ran rest = Both({"schedule", "fires", "hourly", "--before", "2026-01-01T02:00:00.000000Z", "--json"});
  EXPECT_EQ(nlohmann::json::parse(rest.out)["fires"].size(), 1u);
  EXPECT_EQ(Both({"schedule", "fires", "nope"}).code, 3);
}

TEST_F(FollowScheduleTest, ListAndShowNameTheScheduleAndTheOutcome) {
  Ran list = Both({"list", "--schedule", "hourly"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("STATE      OUTCOME    SCHEDULE"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("succeeded  partial    hourly"), std::string::npos) << list.out;
  Ran json = Both({"list", "--schedule", "hourly", "--json"});
  EXPECT_EQ(nlohmann::json::parse(json.out)["jobs"].size(), 2u);
  EXPECT_EQ(Both({"list", "--schedule", "nope"}).code, 3);

  Ran show = Both({"show", std::to_string(first_job_)});
  EXPECT_NE(show.out.find("outcome:          succeeded"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("schedule:         hourly, tick 2026-01-01T01:00:00Z"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("succeeded (final: succeeded)"), std::string::npos) << show.out;
}

TEST_F(FollowScheduleTest, HealthThresholdsAreSetFromTheCommandLine) {
  Ran set = Jobctl(true, {"schedule", "update", "hourly", "--health",
                          "consecutive_failures=5,no_success_within=off", "--json"});
  ASSERT_EQ(set.code, 0) << set.err;
  EXPECT_EQ(db_.Scalar("SELECT health::text FROM chime.schedules WHERE name = 'hourly'"),
            R"({"consecutive_failures": 5, "no_success_within_ms": "off"})");
  Ran more = Jobctl(false, {"schedule", "update", "hourly", "--health", "failure_rate=0.25"});
  ASSERT_EQ(more.code, 0) << more.err;
  EXPECT_NE(more.out.find("health:           failure_rate=0.25, consecutive_failures=5, no_success_within=off"),
            std::string::npos)
      << more.out;
  Ran bad = Both({"schedule", "update", "hourly", "--health", "failure_rate=2"});
  EXPECT_EQ(bad.code, 2);
  Ran reset = Jobctl(true, {"schedule", "update", "hourly", "--health", "defaults"});
  ASSERT_EQ(reset.code, 0) << reset.err;
  EXPECT_EQ(db_.Scalar("SELECT health::text FROM chime.schedules WHERE name = 'hourly'"), "{}");
  Ran created = Jobctl(true, {"schedule", "create", "quiet", "--cron", "@daily", "--kind", "noop", "--health",
                              "enabled=false"});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_EQ(db_.Scalar("SELECT health::text FROM chime.schedules WHERE name = 'quiet'"), R"({"enabled": false})");
}

}  // namespace
}  // namespace chime::jobctl
