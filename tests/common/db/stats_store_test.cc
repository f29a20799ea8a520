// Run statistics against a real PostgreSQL: the rollup stays equal to the
// ledger through inserts, deletions, updates and truncation; reports count
// runs by final outcome and attempts beneath them as stats_store.h
// documents, cut the range exactly, estimate p95 within its bound, and find
// streaks and the newest failed runs.
#include "common/db/stats_store.h"

#include <cmath>

#include "common/db/schedule_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;

class StatsStoreTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    stats_ = std::make_unique<StatsStore>(conn_);
    schedules_ = std::make_unique<ScheduleStore>(conn_);
  }

  int64_t CreateSchedule(const std::string& name, const std::string& kind = "noop") {
    schedule::ScheduleSpec spec;
    spec.name = name;
    spec.cron = "*/5 * * * *";
    spec.kind = kind;
    auto row = schedules_->ScheduleCreate(spec);
    EXPECT_TRUE(row.has_value()) << row.error().ToString();
    return row ? row->id : 0;
  }

  // The job outcome a one-attempt run with this attempt outcome ends with;
  // "" where the attempt would not end its job (a retry, a rescue, a
  // hand-back).
  static std::string FinalOf(const std::string& outcome) {
    if (outcome == "discarded") return "failed";
    if (outcome == "failed" || outcome == "lease_expired" || outcome == "released") return "";
    return outcome;
  }

  // Inserts one attempt that ended `ago` before now() and took `ms`; with
  // `final_outcome` (default: FinalOf(outcome)) it is its job's final row.
  void AddRun(std::optional<int64_t> schedule_id, const std::string& kind, const std::string& outcome,
              const std::string& ago, double ms = 10, int64_t job_id = 1, std::string error = "",
              std::optional<std::string> final_outcome = std::nullopt, int attempt = 1) {
    const std::string job_outcome = final_outcome.value_or(FinalOf(outcome));
    sql_.Exec(
        "INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, started_at, finished_at, "
        "outcome, errors, final, job_outcome) SELECT $1, $2, 'default', $9, $3, "
        "t - $5::float8 * interval '1 millisecond', t, "
        "$4, CASE WHEN $6 = '' THEN '{}'::text[] ELSE ARRAY[$6] END, $8 <> '', nullif($8, '') "
        "FROM (SELECT now() - $7::interval AS t) x",
        job_id, kind, schedule_id, outcome, ms, error, ago, job_outcome, attempt);
  }

  StatsReport Query(StatsParams params) {
    auto report = stats_->StatsQuery(params);
    EXPECT_TRUE(report.has_value()) << report.error().ToString();
    return report ? *report : StatsReport{};
  }

  const StatsRow* Row(const StatsReport& report, const std::string& name) {
    for (const auto& row : report.rows) {
      if (row.name == name) return &row;
    }
    ADD_FAILURE() << "no row " << name;
    return nullptr;
  }

  // The rollup's totals, for hours and for days, against counts over the ledger.
  void ExpectRollupMatchesLedger() {
    for (std::string span : {"hour", "day"}) {
      EXPECT_EQ(sql_.Scalar("SELECT coalesce(sum(succeeded + partial + failed + discarded + cancelled + "
                            "lease_expired + released + skipped), 0) FROM chime.run_stats WHERE span = $1", span),
                sql_.Scalar("SELECT count(*) FROM chime.runs"));
      for (std::string outcome : {"succeeded", "partial", "failed", "skipped", "cancelled"}) {
        EXPECT_EQ(sql_.Scalar("SELECT coalesce(sum(runs_" + outcome + "), 0) FROM chime.run_stats "
                              "WHERE span = $1", span),
                  sql_.Scalar("SELECT count(*) FROM chime.runs WHERE job_outcome = $1", outcome))
            << span << " " << outcome;
      }
      EXPECT_EQ(sql_.Scalar("SELECT count(*) FROM (SELECT start, kind, schedule_id, sum(failed) "
                            "FROM chime.run_stats WHERE span = $1 GROUP BY 1, 2, 3) r FULL JOIN ("
                            "SELECT date_trunc($1, finished_at, 'UTC') AS start, kind, "
                            "coalesce(schedule_id, 0) AS schedule_id, count(*) FILTER (WHERE outcome = "
                            "'failed') AS failed FROM chime.runs GROUP BY 1, 2, 3) l "
                            "USING (start, kind, schedule_id) WHERE r.sum IS DISTINCT FROM l.failed",
                            span),
                "0");
      EXPECT_EQ(sql_.Scalar("SELECT coalesce(sum(x), 0) FROM chime.run_stats, unnest(hist_count) x "
                            "WHERE span = $1", span),
                sql_.Scalar("SELECT count(*) FROM chime.runs WHERE outcome NOT IN ('lease_expired', 'released')"));
    }
  }

  std::unique_ptr<StatsStore> stats_;
  std::unique_ptr<ScheduleStore> schedules_;
};

TEST_F(StatsStoreTest, RollupFollowsInsertsDeletionsUpdatesAndTruncation) {
  const int64_t id = CreateSchedule("sync-github");
  for (int h = 0; h < 30; ++h) {
    AddRun(id, "sync_integration", h % 3 == 0 ? "failed" : "succeeded", std::to_string(h) + " hours");
    AddRun(std::nullopt, "noop", "lease_expired", std::to_string(h) + " hours 5 minutes");
  }
  ExpectRollupMatchesLedger();
  const int64_t hours_before = sql_.Int("SELECT count(DISTINCT start) FROM chime.run_stats WHERE span = 'hour'");

  // The retention cleanup removes runs older than 20 h (a day partition
  // only when wholly past it, so up to a day more is kept: migration 0025,
  // and which hours go depends on the time of day): their hours go too.
  EXPECT_GT(sql_.Int("SELECT chime.delete_old_runs(20 * 3600, 100000)"), 0);
  ExpectRollupMatchesLedger();
  EXPECT_LT(sql_.Int("SELECT count(DISTINCT start) FROM chime.run_stats WHERE span = 'hour'"), hours_before);
  // Every run before today (UTC) is in the catch-all before the ledger's
  // first day (today's, in this fresh database) and goes by the exact cutoff.
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs WHERE finished_at < now() - interval '20 hours' "
                     "AND finished_at < date_trunc('day', now(), 'UTC')"), 0);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.run_stats WHERE span = 'hour' "
                     "AND start < (SELECT date_trunc('hour', min(finished_at), 'UTC') FROM chime.runs)"), 0);

  sql_.Exec("UPDATE chime.runs SET outcome = 'partial' WHERE outcome = 'failed'");
  ExpectRollupMatchesLedger();
  EXPECT_EQ(sql_.Int("SELECT sum(failed) FROM chime.run_stats"), 0);
  // A fan-out parent's final row gets its outcome when its children are done.
  sql_.Exec("UPDATE chime.runs SET final = true, job_outcome = 'skipped' WHERE outcome = 'lease_expired'");
  ExpectRollupMatchesLedger();
  EXPECT_GT(sql_.Int("SELECT sum(runs_skipped) FROM chime.run_stats"), 0);

  sql_.Exec("TRUNCATE chime.runs");
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.run_stats"), 0);
}

TEST_F(StatsStoreTest, WorkersInsertRunsWithoutRightsOnTheRollup) {
  pqxx::connection c(db_.url());
  pqxx::work tx(c);
  tx.exec("SET LOCAL ROLE chime_worker");
  tx.exec("INSERT INTO chime.runs (job_id, kind, queue, attempt, started_at, outcome) "
          "VALUES (1, 'noop', 'default', 1, now() - interval '1 second', 'succeeded')");
  EXPECT_THROW(tx.exec("SELECT * FROM chime.run_stats"), pqxx::insufficient_privilege);
  tx.abort();
  pqxx::work again(c);
  again.exec("SET LOCAL ROLE chime_worker");
  again.exec("INSERT INTO chime.runs (job_id, kind, queue, attempt, started_at, outcome) "
             "VALUES (1, 'noop', 'default', 1, now() - interval '1 second', 'succeeded')");
  again.commit();
  EXPECT_EQ(sql_.Int("SELECT sum(succeeded) FROM chime.run_stats WHERE kind = 'noop' AND span = 'day'"), 1);
}

TEST_F(StatsStoreTest, CountsRunsByFinalOutcomeAndAttemptsBeneathThem) {
  const int64_t id = CreateSchedule("reconcile");
  const std::string kind = "reconcile_exam_capacity";
  AddRun(id, kind, "succeeded", "10 minutes", 10, 1);
  // Failed twice, then succeeded: one succeeded run of three attempts.
  AddRun(id, kind, "failed", "12 minutes", 10, 2, "boom", "", 1);
  AddRun(id, kind, "failed", "11 minutes", 10, 2, "boom", "", 2);
  AddRun(id, kind, "succeeded", "10 minutes", 10, 2, "", "succeeded", 3);
  AddRun(id, kind, "partial", "10 minutes", 10, 3);
  AddRun(id, kind, "failed", "11 minutes", 10, 4, "boom", "", 1);
  AddRun(id, kind, "discarded", "10 minutes", 10, 4, "boom", "failed", 2);
  AddRun(id, kind, "lease_expired", "11 minutes", 10, 5, "", "", 1);
  AddRun(id, kind, "lease_expired", "10 minutes", 10, 5, "", "failed", 2);  // Rescued out of attempts.
  AddRun(id, kind, "skipped", "10 minutes", 10, 6);
  AddRun(id, kind, "cancelled", "10 minutes", 10, 7);
  AddRun(id, kind, "released", "11 minutes", 10, 8);  // A hand-back uses no attempt.
  AddRun(id, kind, "succeeded", "10 minutes", 10, 8);
  AddRun(id, kind, "failed", "10 minutes", 10, 9, "retry pending");  // In flight: no run yet.
  StatsReport report = Query({.scope = StatsScope::kSchedule});
  const StatsRow* row = Row(report, "reconcile");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->schedule_id, id);
  EXPECT_EQ(row->total, 8);
  EXPECT_EQ(row->succeeded, 3);
  EXPECT_EQ(row->partial, 1);
  EXPECT_EQ(row->failed, 2);
  EXPECT_EQ(row->skipped, 1);
  EXPECT_EQ(row->cancelled, 1);
  EXPECT_EQ(row->decided(), 6);
  ASSERT_TRUE(row->success_rate.has_value());
  EXPECT_DOUBLE_EQ(*row->success_rate, 4.0 / 6);  // Skipped and cancelled decide nothing.
  EXPECT_DOUBLE_EQ(*row->failure_rate, 2.0 / 6);
  EXPECT_EQ(row->attempts.total, 13);  // Every attempt but the hand-back.
  EXPECT_EQ(row->attempts.succeeded, 3);
  EXPECT_EQ(row->attempts.partial, 1);
  EXPECT_EQ(row->attempts.failed, 7);  // failed, discarded, lease_expired.
  EXPECT_EQ(row->attempts.skipped, 1);
  EXPECT_EQ(row->attempts.cancelled, 1);
  EXPECT_EQ(row->consecutive_failures, 0);
  EXPECT_EQ(report.range, hours(24));
  EXPECT_EQ(report.until - report.since, hours(24));
}

// The same through the job store's own statements: a run that failed twice
// and succeeded on its third attempt is one success, and its final row is
// the third attempt.
TEST_F(StatsStoreTest, ARunThatSucceededOnItsThirdAttemptIsOneSucceededRun) {
  const int64_t id = CreateSchedule("flaky-endpoint");
  EnqueueParams p = Params("noop");
  p.max_attempts = 5;
  const int64_t job = Enqueue(p);
  sql_.Exec("UPDATE chime.jobs SET schedule_id = $1 WHERE id = $2", id, job);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ClaimedJob claimed = ClaimOne();
    ASSERT_EQ(claimed.id, job);
    Complete(claimed, attempt < 3 ? CompletionKind::kFailed : CompletionKind::kSucceeded,
             attempt < 3 ? std::vector<std::string>{"HTTP 503"} : std::vector<std::string>{});
    MakeDue(job);
    const StatsRow row = Query({.scope = StatsScope::kSchedule, .name = "flaky-endpoint"}).rows.at(0);
    EXPECT_EQ(row.total, attempt < 3 ? 0 : 1) << "attempt " << attempt;
    EXPECT_EQ(row.failed, 0);
    EXPECT_EQ(row.consecutive_failures, 0) << "retries in flight count nothing";
    EXPECT_EQ(row.attempts.total, attempt);
  }
  const StatsRow row = Query({.scope = StatsScope::kSchedule, .name = "flaky-endpoint"}).rows.at(0);
  EXPECT_EQ(row.succeeded, 1);
  EXPECT_EQ(row.attempts.failed, 2);
  EXPECT_EQ(row.last_status, "succeeded");
  EXPECT_EQ(row.last_success_job_id, job);
  EXPECT_EQ(row.last_success_attempts, 3);
  EXPECT_EQ(sql_.Scalar("SELECT string_agg(attempt || ':' || outcome || ':' || final || ':' || "
                        "coalesce(job_outcome, '-'), ',' ORDER BY attempt) FROM chime.runs WHERE job_id = $1",
                        job),
            "1:failed:false:-,2:failed:false:-,3:succeeded:true:succeeded");
}

TEST_F(StatsStoreTest, EverySchedulesAppearsAndKindsIncludeUnscheduledRuns) {
  const int64_t a = CreateSchedule("a-schedule", "noop");
  CreateSchedule("idle-schedule", "noop");
  AddRun(a, "noop", "succeeded", "1 hour");
  AddRun(std::nullopt, "noop", "discarded", "2 hours");
  AddRun(std::nullopt, "http_request", "succeeded", "3 hours");

  StatsReport by_schedule = Query({.scope = StatsScope::kSchedule});
  ASSERT_EQ(by_schedule.rows.size(), 2u);
  EXPECT_EQ(Row(by_schedule, "a-schedule")->total, 1);
  const StatsRow* idle = Row(by_schedule, "idle-schedule");
  EXPECT_EQ(idle->total, 0);
  EXPECT_FALSE(idle->success_rate.has_value());
  EXPECT_FALSE(idle->last_execution.has_value());

  StatsReport by_kind = Query({.scope = StatsScope::kKind});
  ASSERT_EQ(by_kind.rows.size(), 2u);
  EXPECT_EQ(Row(by_kind, "noop")->total, 2);
  EXPECT_EQ(Row(by_kind, "noop")->failed, 1);
  EXPECT_EQ(Row(by_kind, "http_request")->succeeded, 1);

  StatsReport one = Query({.scope = StatsScope::kKind, .name = "never_ran"});
  ASSERT_EQ(one.rows.size(), 1u);
  EXPECT_EQ(one.rows[0].total, 0);
}

TEST_F(StatsStoreTest, TheRangeIsCutExactlyAtSince) {
  const int64_t id = CreateSchedule("edge");
  // since = now - 3h falls inside some hour: runs on either side of it come
  // from the ledger, the hours after it from the rollup.
  AddRun(id, "noop", "succeeded", "2 hours 59 minutes 50 seconds");
  AddRun(id, "noop", "discarded", "3 hours 1 second");
  AddRun(id, "noop", "discarded", "3 hours 30 minutes");
  AddRun(id, "noop", "succeeded", "5 minutes");
  StatsReport report = Query({.scope = StatsScope::kSchedule, .name = "edge", .range = hours(3)});
  ASSERT_EQ(report.rows.size(), 1u);
  EXPECT_EQ(report.rows[0].total, 2);
  EXPECT_EQ(report.rows[0].failed, 0);
  // The streak and last success look at the whole ledger.
  EXPECT_EQ(report.rows[0].consecutive_failures, 0);
  StatsReport wider = Query({.scope = StatsScope::kSchedule, .name = "edge", .range = hours(4)});
  EXPECT_EQ(wider.rows[0].total, 4);
  EXPECT_EQ(wider.rows[0].failed, 2);
}

TEST_F(StatsStoreTest, EveryRangeEqualsACountOverTheLedger) {
  const int64_t id = CreateSchedule("week");
  // Runs 30 minutes off every hour boundary of the last 8 days, so no range
  // edge (now - N hours) comes near one however long the test takes.
  for (int h = 0; h < 8 * 24; h += 1) {
    AddRun(id, "noop", h % 5 == 0 ? "discarded" : "succeeded", std::to_string(h) + " hours 30 minutes");
  }
  for (int range : {1, 2, 5, 23, 24, 25, 47, 72, 100, 167, 168}) {
    StatsReport report = Query({.scope = StatsScope::kSchedule, .name = "week", .range = hours(range)});
    EXPECT_EQ(report.rows.at(0).total, range) << range << "h";
    int64_t failed = 0;
    for (int h = 0; h < range; ++h) failed += h % 5 == 0 ? 1 : 0;
    EXPECT_EQ(report.rows.at(0).failed, failed) << range << "h";
    StatsReport kinds = Query({.scope = StatsScope::kKind, .range = hours(range)});
    EXPECT_EQ(kinds.rows.at(0).total, range) << range << "h";
  }
}

TEST_F(StatsStoreTest, AverageAndP95DurationWithinTheDocumentedBound) {
  const int64_t id = CreateSchedule("durations");
  for (int ms = 1; ms <= 100; ++ms) AddRun(id, "noop", "succeeded", "30 minutes", ms * 37.0);
  AddRun(id, "noop", "lease_expired", "20 minutes", 3'600'000);  // Not timed.
  StatsReport report = Query({.scope = StatsScope::kSchedule, .name = "durations"});
  const StatsRow& row = report.rows.at(0);
  ASSERT_TRUE(row.avg_duration_ms.has_value());
  EXPECT_NEAR(*row.avg_duration_ms, 50.5 * 37.0, 0.01);
  ASSERT_TRUE(row.p95_duration_ms.has_value());
  const double exact = 95 * 37.0;  // Nearest rank of 100 values.
  EXPECT_LE(std::abs(*row.p95_duration_ms / exact - 1), 0.0905) << *row.p95_duration_ms;
}

TEST_F(StatsStoreTest, HistogramPercentileReadsTheBucketMiddle) {
  std::vector<int64_t> buckets(kDurationBuckets, 0);
  EXPECT_FALSE(HistogramPercentile(buckets, 0.95).has_value());
  buckets[0] = 10;
  EXPECT_EQ(HistogramPercentile(buckets, 0.95), 0.5);
  buckets[0] = 0;
  buckets[41] = 19;  // [2^10, 2^10.25) ms
  buckets[45] = 1;   // [2^11, 2^11.25) ms
  EXPECT_NEAR(*HistogramPercentile(buckets, 0.95), std::exp2(10.125), 1e-9);
  EXPECT_NEAR(*HistogramPercentile(buckets, 1.0), std::exp2(11.125), 1e-9);
  buckets[kDurationBuckets - 1] = 1000;
  EXPECT_NEAR(*HistogramPercentile(buckets, 0.95), std::exp2(29.75), 1e-3);
}

TEST_F(StatsStoreTest, LastStatusStreakAndRecentFailedRuns) {
  const int64_t id = CreateSchedule("flaky");
  AddRun(id, "noop", "discarded", "50 minutes", 5, 1, "old failure");
  AddRun(id, "noop", "succeeded", "40 minutes", 5, 2);
  AddRun(id, "noop", "discarded", "30 minutes", 5, 3, "timeout talking to api.github.com");
  AddRun(id, "noop", "cancelled", "25 minutes", 5, 4);
  AddRun(id, "noop", "skipped", "24 minutes", 5, 40);
  AddRun(id, "noop", "failed", "21 minutes", 5, 5, "503 first", "", 1);
  sql_.Exec("UPDATE chime.runs SET summary = '{\"response\": {\"status\": \"error\", \"retry\": false}}' "
            "WHERE job_id = 5");
  AddRun(id, "noop", "discarded", "20 minutes", 5, 5, "401 bad token", "failed", 2);
  sql_.Exec("UPDATE chime.runs SET summary = '{\"bodyExcerpt\": \"<html>denied</html>\"}' "
            "WHERE job_id = 5 AND attempt = 2");
  AddRun(id, "noop", "lease_expired", "10 minutes", 5, 6, "lease expired: worker w1 stopped heartbeating",
         "failed");
  AddRun(id, "noop", "released", "1 minute", 5, 7);
  StatsReport report = Query({.scope = StatsScope::kSchedule, .name = "flaky", .recent_failures = 2});
  const StatsRow& row = report.rows.at(0);
  EXPECT_EQ(row.consecutive_failures, 3);  // The cancel and the skip in between neither break nor count.
  EXPECT_EQ(row.last_status, "failed");    // A hand-back is no run.
  ASSERT_TRUE(row.last_success.has_value());
  EXPECT_EQ(row.last_success_job_id, 2);
  EXPECT_EQ(row.failures_before_last_success, 1);
  ASSERT_EQ(row.recent_failures.size(), 2u);
  EXPECT_EQ(row.recent_failures[0].job_id, 6);
  EXPECT_EQ(row.recent_failures[0].outcome, "lease_expired");
  EXPECT_EQ(row.recent_failures[1].job_id, 5);
  EXPECT_EQ(row.recent_failures[1].attempt, 2);  // The attempts the run took.
  EXPECT_EQ(row.recent_failures[1].error, "401 bad token");
  EXPECT_EQ(row.recent_failures[1].response, "<html>denied</html>");
  EXPECT_GT(row.recent_failures[0].finished_at, row.recent_failures[1].finished_at);

  // A success ends the streak and says how long it was.
  AddRun(id, "noop", "succeeded", "1 minute", 5, 8, "", "succeeded", 2);
  const StatsRow after = Query({.scope = StatsScope::kSchedule, .name = "flaky"}).rows.at(0);
  EXPECT_EQ(after.consecutive_failures, 0);
  EXPECT_EQ(after.last_success_job_id, 8);
  EXPECT_EQ(after.last_success_attempts, 2);
  EXPECT_EQ(after.failures_before_last_success, 3);

  StatsReport by_kind = Query({.scope = StatsScope::kKind, .name = "noop"});
  EXPECT_EQ(by_kind.rows.at(0).failures_before_last_success, 3);
  EXPECT_EQ(by_kind.rows.at(0).recent_failures.size(), 4u);
}

TEST_F(StatsStoreTest, BadParamsAreNamedAndUnknownSchedulesNotFound) {
  for (int h : {0, 169, -1}) {
    auto r = stats_->StatsQuery({.range = hours(h)});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(r.error().message.starts_with("range: ")) << r.error().message;
  }
  auto bad = stats_->StatsQuery({.recent_failures = 51});
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().message.starts_with("recent_failures: "));
  auto missing = stats_->StatsQuery({.scope = StatsScope::kSchedule, .name = "nope"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(stats_->StatsQuery({.range = hours(168)}).has_value());
}

TEST_F(StatsStoreTest, OldestRunningPerSchedule) {
  const int64_t id = CreateSchedule("busy");
  sql_.Exec(
      "INSERT INTO chime.jobs (kind, state, schedule_id, lease_token, lease_expires_at, attempted_at, attempt) "
      "VALUES ('noop', 'running', $1, gen_random_uuid(), now() + interval '1 hour', "
      "now() - interval '2 hours', 1), ('noop', 'running', $1, gen_random_uuid(), "
      "now() + interval '1 hour', now() - interval '5 minutes', 1)",
      id);
  auto running = stats_->OldestRunningPerSchedule();
  ASSERT_TRUE(running.has_value());
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ(running->at(0).schedule_id, id);
  EXPECT_GT(std::chrono::system_clock::now() - running->at(0).since, hours(1));
}

}  // namespace
}  // namespace chime::db::testing
