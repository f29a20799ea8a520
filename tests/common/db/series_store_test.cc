// The dashboard's series against a real PostgreSQL: runs per bucket from
// the rollup (24 h, 7 d) and the ledger (1 h) with every bucket present and
// outcomes counted as series_store.h says, one schedule's durations, skipped
// ticks from the fires; queue samples written once per slot into each span,
// zeros for a drained queue, pruned past retention, and read back per view.
#include "common/db/series_store.h"

#include <cmath>
#include <thread>

#include "common/db/schedule_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

class SeriesStoreTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    series_ = std::make_unique<SeriesStore>(conn_);
    schedules_ = std::make_unique<ScheduleStore>(conn_);
  }

  int64_t CreateSchedule(const std::string& name) {
    schedule::ScheduleSpec spec;
    spec.name = name;
    spec.cron = "*/5 * * * *";
    spec.kind = "noop";
    auto row = schedules_->ScheduleCreate(spec);
    EXPECT_TRUE(row.has_value()) << row.error().ToString();
    return row ? row->id : 0;
  }

  // One attempt that ended at `at` (SQL, e.g. "date_trunc('hour', now()) -
  // interval '3 hours'") and took `ms`. It ends its job (a run, counted by
  // `job_outcome`) when it has one: by default a final attempt's, unset for
  // failed, lease_expired and released (a retry follows).
  void AddRun(std::optional<int64_t> schedule_id, const std::string& outcome, const std::string& at,
              double ms = 10, std::optional<std::string> job_outcome = std::nullopt) {
    if (!job_outcome && outcome != "failed" && outcome != "lease_expired" && outcome != "released") {
      job_outcome = outcome == "discarded" ? "failed" : outcome;
    }
    sql_.Exec("INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, started_at, finished_at, outcome, "
              "final, job_outcome) "
              "SELECT 1, 'noop', 'default', 1, $1, t - $3::float8 * interval '1 millisecond', t, $2, $4::text IS NOT NULL, $4::text "
              "FROM (SELECT " + at + " AS t) x",
              schedule_id, outcome, ms, job_outcome);
  }

  // A tick fired at `at` plus `second` seconds (ticks of one schedule differ).
  void AddFire(int64_t schedule_id, const std::string& outcome, const std::string& at, int second) {
    sql_.Exec("INSERT INTO chime.fires (schedule_id, scheduled_for, leader_epoch, outcome, fired_at) "
              "SELECT $1, t, 1, $2, t FROM (SELECT " + at + " + $3 * interval '1 second' AS t) x",
              schedule_id, outcome, second);
  }

  RunSeries Runs(RunSeriesParams p) {
    auto s = series_->RunsSeries(p);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s ? *s : RunSeries{};
  }

  // A fixed instant as a SQL literal, from an expression of now(): runs
  // and the buckets they are looked up in agree even when the minute or
  // hour turns between the insert and the read.
  std::string At(const std::string& expression) {
    return "'" + sql_.Scalar("SELECT (" + expression + ")::text") + "'::timestamptz";
  }

  // The bucket holding instant `at` (a literal from At()).
  const RunBucket& Bucket(const RunSeries& s, const std::string& at) {
    const int64_t us = sql_.Int("SELECT (extract(epoch FROM " + at + ") * 1000000)::bigint");
    for (const auto& b : s.buckets) {
      const int64_t start = Micros(b.start);
      if (us >= start && us < start + std::chrono::duration_cast<std::chrono::microseconds>(s.bucket).count()) {
        return b;
      }
    }
    ADD_FAILURE() << "no bucket holds " << at;
    static const RunBucket none;
    return none;
  }

  // The bucket that starts `back` buckets before the newest.
  static const RunBucket& FromEnd(const RunSeries& s, size_t back) { return s.buckets[s.buckets.size() - 1 - back]; }

  std::unique_ptr<SeriesStore> series_;
  std::unique_ptr<ScheduleStore> schedules_;
};

TEST_F(SeriesStoreTest, EveryBucketOfTheRangeIsPresentOldestFirst) {
  for (auto [range, n, bucket] : {std::tuple{SeriesRange::kHour, 60, 60}, std::tuple{SeriesRange::kDay, 24, 3600},
                                  std::tuple{SeriesRange::kWeek, 168, 3600}}) {
    RunSeries s = Runs({.range = range});
    ASSERT_EQ(s.buckets.size(), static_cast<size_t>(n)) << SeriesRangeName(range);
    EXPECT_EQ(s.bucket.count(), bucket);
    EXPECT_EQ(s.since, s.buckets.front().start);
    for (size_t i = 1; i < s.buckets.size(); ++i) EXPECT_EQ(s.buckets[i].start - s.buckets[i - 1].start, s.bucket);
    // The newest bucket holds now.
    EXPECT_LE(s.buckets.back().start, s.until);
    EXPECT_GT(s.buckets.back().start + s.bucket, s.until);
    for (const auto& b : s.buckets) EXPECT_EQ(b.succeeded + b.partial + b.failed + b.skipped + b.cancelled, 0);
  }
}

TEST_F(SeriesStoreTest, HoursCountOutcomesFromTheRollup) {
  const std::string three_hours_ago = At("date_trunc('hour', now()) - interval '3 hours' + interval '10 minutes'");
  const std::string now = At("now()");
  const std::string days_ago = At("now() - interval '3 days'");
  for (const char* outcome : {"succeeded", "succeeded", "partial", "failed", "discarded", "cancelled", "released"}) {
    AddRun(std::nullopt, outcome, three_hours_ago);
  }
  AddRun(std::nullopt, "lease_expired", three_hours_ago, 10, "failed");  // Rescued for the last time.
  AddRun(std::nullopt, "succeeded", now);
  // Older than the day: not in the 24-hour view, in the week's.
  AddRun(std::nullopt, "discarded", days_ago);

  RunSeries day = Runs({.range = SeriesRange::kDay});
  const RunBucket& b = Bucket(day, three_hours_ago);
  EXPECT_EQ(b.succeeded, 2);
  EXPECT_EQ(b.partial, 1);
  EXPECT_EQ(b.failed, 2) << "the discarded run and the last lease_expired; not the attempt that was retried";
  EXPECT_EQ(b.cancelled, 1);
  EXPECT_FALSE(b.p95_ms.has_value()) << "durations are for one schedule only";
  EXPECT_EQ(Bucket(day, now).succeeded, 1);
  int64_t total = 0;
  for (const auto& x : day.buckets) total += x.succeeded + x.partial + x.failed + x.cancelled;
  EXPECT_EQ(total, 7) << "runs: not a retried attempt, not released; three days ago is outside";

  RunSeries week = Runs({.range = SeriesRange::kWeek});
  EXPECT_EQ(Bucket(week, days_ago).failed, 1);
}

TEST_F(SeriesStoreTest, OneScheduleHasItsOwnCountsDurationsAndSkippedTicks) {
  const int64_t mine = CreateSchedule("mine");
  const int64_t other = CreateSchedule("other");
  const std::string hour_ago = At("date_trunc('hour', now()) - interval '1 hour' + interval '5 minutes'");
  for (int i = 0; i < 19; ++i) AddRun(mine, "succeeded", hour_ago, 100);
  AddRun(mine, "discarded", hour_ago, 2000);
  AddRun(other, "succeeded", hour_ago, 5);
  AddFire(mine, "skipped_overlap", hour_ago, 0);
  AddFire(mine, "skipped_misfire", hour_ago, 1);
  AddFire(mine, "enqueued", hour_ago, 2);
  AddFire(other, "skipped_overlap", hour_ago, 0);

  RunSeries s = Runs({.range = SeriesRange::kDay, .schedule = "mine"});
  const RunBucket& b = Bucket(s, hour_ago);
  EXPECT_EQ(b.succeeded, 19);
  EXPECT_EQ(b.failed, 1);
  EXPECT_EQ(b.skipped, 2) << "the overlap and the misfire, not the other schedule's";
  ASSERT_TRUE(b.p50_ms.has_value());
  ASSERT_TRUE(b.p95_ms.has_value());
  EXPECT_NEAR(*b.p50_ms, 100, 100 * 0.0905);
  EXPECT_NEAR(*b.p95_ms, 100, 100 * 0.0905) << "19 of 20 took 100 ms";
  EXPECT_FALSE(FromEnd(s, 0).p50_ms.has_value()) << "no run this hour";

  RunSeries all = Runs({.range = SeriesRange::kDay});
  EXPECT_EQ(Bucket(all, hour_ago).succeeded, 20);
  EXPECT_EQ(Bucket(all, hour_ago).skipped, 3);
}

TEST_F(SeriesStoreTest, TheLastHourComesFromTheLedgerPerMinuteWithExactPercentiles) {
  const int64_t mine = CreateSchedule("mine");
  const std::string minutes_ago = At("date_trunc('minute', now()) - interval '5 minutes' + interval '20 seconds'");
  for (int ms : {10, 20, 30, 40}) AddRun(mine, "succeeded", minutes_ago, ms);
  AddRun(mine, "skipped", minutes_ago, 1);
  AddRun(mine, "lease_expired", minutes_ago, 99999, "failed");
  AddRun(mine, "failed", minutes_ago, 25);  // Retried: an attempt, not a run.
  AddRun(mine, "released", minutes_ago, 1);
  AddRun(std::nullopt, "discarded", minutes_ago);
  AddRun(mine, "succeeded", "now() - interval '2 hours'");

  RunSeries s = Runs({.range = SeriesRange::kHour, .schedule = "mine"});
  const RunBucket& b = Bucket(s, minutes_ago);
  EXPECT_EQ(b.succeeded, 4);
  EXPECT_EQ(b.skipped, 1) << "a run the work declined";
  EXPECT_EQ(b.failed, 1) << "the lease_expired attempt; not the other job's failure";
  ASSERT_TRUE(b.p50_ms.has_value());
  EXPECT_NEAR(*b.p50_ms, 20, 0.5) << "lease_expired has no duration of its own";
  EXPECT_NEAR(b.p95_ms.value_or(0), 40, 0.5);

  RunSeries all = Runs({.range = SeriesRange::kHour});
  EXPECT_EQ(Bucket(all, minutes_ago).failed, 2);
  EXPECT_FALSE(Bucket(all, minutes_ago).p50_ms.has_value());
}

TEST_F(SeriesStoreTest, AnUnknownOrMalformedScheduleIsAnError) {
  auto missing = series_->RunsSeries({.schedule = "nope"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto bad = series_->RunsSeries({.schedule = std::string("x\0y", 3)});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(series_->QueueSamplesSeries({.queue = "a b"}).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(SeriesStoreTest, ASampleRecordsEveryQueueOncePerSlotIntoEachSpan) {
  for (int i = 0; i < 3; ++i) Enqueue("noop", "mail");
  Enqueue("noop", "default");
  ClaimOne("default");
  EnqueueParams later = Params("noop", "mail");
  later.delay = std::chrono::hours(1);
  Enqueue(later);  // Scheduled: not ready.
  sql_.Exec("UPDATE chime.jobs SET run_at = now() - interval '90 seconds' WHERE queue = 'mail' AND state = 'available'");

  ASSERT_OK_AND_ASSIGN(QueueSampleResult first, series_->QueueSamplesRecord({.interval = std::chrono::seconds(3600)}));
  EXPECT_TRUE(first.recorded);
  EXPECT_EQ(first.queues, 2);
  EXPECT_EQ(sql_.Scalar("SELECT string_agg(span || ':' || queue || ':' || ready || ':' || running || ':' || samples, ' ' "
                        "ORDER BY span, queue) FROM chime.queue_samples"),
            "five_min:default:0:1:1 five_min:mail:3:0:1 hour:default:0:1:1 hour:mail:3:0:1 "
            "sample:default:0:1:1 sample:mail:3:0:1");
  EXPECT_GE(sql_.Int("SELECT oldest_ready_ms FROM chime.queue_samples WHERE span = 'sample' AND queue = 'mail'"),
            90'000);

  // The same slot (an hour wide here) again, as a second leader would: nothing.
  ASSERT_OK_AND_ASSIGN(QueueSampleResult again, series_->QueueSamplesRecord({.interval = std::chrono::seconds(3600)}));
  EXPECT_FALSE(again.recorded);
  EXPECT_EQ(sql_.Int("SELECT max(samples) FROM chime.queue_samples"), 1);

  // A drained queue is sampled as zero while it has finished jobs.
  sql_.Exec("UPDATE chime.jobs SET state = 'succeeded', outcome = 'succeeded', finished_at = now() WHERE queue = 'mail'");
  sql_.Exec("DELETE FROM chime.queue_samples WHERE span = 'sample'");
  ASSERT_OK_AND_ASSIGN(QueueSampleResult drained, series_->QueueSamplesRecord({.interval = std::chrono::seconds(3600)}));
  EXPECT_TRUE(drained.recorded);
  EXPECT_EQ(sql_.Scalar("SELECT ready || ':' || running FROM chime.queue_samples WHERE span = 'sample' AND queue = 'mail'"),
            "0:0");
  EXPECT_EQ(sql_.Scalar("SELECT ready || ':' || ready_sum || ':' || samples FROM chime.queue_samples "
                        "WHERE span = 'hour' AND queue = 'mail'"),
            "3:3:2")
      << "the hour keeps its peak and adds the sample";
}

TEST_F(SeriesStoreTest, TwoLeadersSamplingTheSameSlotWriteItOnce) {
  Enqueue("noop", "default");
  Connection other_conn(ConnectionConfig{.url = db_.url()});
  SeriesStore other(other_conn);
  std::vector<Result<QueueSampleResult>> results(2);
  std::thread a([&] { results[0] = series_->QueueSamplesRecord({.interval = std::chrono::seconds(3600)}); });
  std::thread b([&] { results[1] = other.QueueSamplesRecord({.interval = std::chrono::seconds(3600)}); });
  a.join();
  b.join();
  ASSERT_TRUE(results[0].has_value()) << results[0].error().ToString();
  ASSERT_TRUE(results[1].has_value()) << results[1].error().ToString();
  EXPECT_NE(results[0]->recorded, results[1]->recorded);
  EXPECT_EQ(sql_.Scalar("SELECT string_agg(span || ':' || samples, ' ' ORDER BY span) FROM chime.queue_samples"),
            "five_min:1 hour:1 sample:1");
}

TEST_F(SeriesStoreTest, SamplesPastTheirSpansRetentionArePruned) {
  sql_.Exec("INSERT INTO chime.queue_samples (span, at, queue, ready, running, oldest_ready_ms, ready_sum, samples) "
            "VALUES ('sample', now() - interval '3 hours', 'q', 1, 0, 0, 1, 1), "
            "       ('sample', now() - interval '1 hour', 'q', 1, 0, 0, 1, 1), "
            "       ('five_min', now() - interval '27 hours', 'q', 1, 0, 0, 1, 1), "
            "       ('five_min', now() - interval '25 hours', 'q', 1, 0, 0, 1, 1), "
            "       ('hour', now() - interval '9 days', 'q', 1, 0, 0, 1, 1), "
            "       ('hour', now() - interval '6 days', 'q', 1, 0, 0, 1, 1)");
  ASSERT_OK_AND_ASSIGN(QueueSampleResult r, series_->QueueSamplesRecord({}));
  EXPECT_EQ(r.pruned, 3);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.queue_samples WHERE queue = 'q'"), 3);
}

TEST_F(SeriesStoreTest, EachViewReadsItsSpanPerQueue) {
  sql_.Exec("INSERT INTO chime.queue_samples (span, at, queue, ready, running, oldest_ready_ms, ready_sum, samples) "
            "SELECT s.span, now() - g * s.step, q, g, 1, 10 * g, g, 1 "
            "FROM (VALUES ('sample', interval '15 seconds'), ('five_min', interval '5 minutes'), "
            "             ('hour', interval '1 hour')) s(span, step), "
            "     generate_series(1, 500) g, unnest(ARRAY['a', 'b']) q");
  ASSERT_OK_AND_ASSIGN(QueueSeries hour, series_->QueueSamplesSeries({.range = SeriesRange::kHour}));
  ASSERT_EQ(hour.queues.size(), 2u);
  EXPECT_EQ(hour.queues[0].queue, "a");
  EXPECT_EQ(hour.step.count(), 15);
  EXPECT_EQ(hour.queues[0].points.size(), 239u) << "samples 15 s apart within the hour";
  EXPECT_LT(hour.queues[0].points.front().at, hour.queues[0].points.back().at);
  EXPECT_EQ(hour.queues[0].points.back().ready, 1);
  EXPECT_EQ(hour.queues[0].points.back().oldest_ready_ms, 10);

  ASSERT_OK_AND_ASSIGN(QueueSeries day, series_->QueueSamplesSeries({.range = SeriesRange::kDay, .queue = "b"}));
  ASSERT_EQ(day.queues.size(), 1u);
  EXPECT_EQ(day.queues[0].queue, "b");
  EXPECT_EQ(day.queues[0].points.size(), 287u);
  ASSERT_OK_AND_ASSIGN(QueueSeries week, series_->QueueSamplesSeries({.range = SeriesRange::kWeek}));
  EXPECT_EQ(week.queues[1].points.size(), 167u);
}

}  // namespace
}  // namespace chime::db::testing
