#include "common/db/series_store.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <map>

#include "common/base/name_rule.h"
#include "common/db/job_store_sql.h"  // CHIME_US.
#include "common/db/job_state_sql.h"
#include "common/db/row_reader.h"
#include "common/db/stats_store.h"    // HistogramPercentile, kDurationBuckets.

namespace chime::db {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int kMaxQueuesSampled = 1000;
constexpr int kPruneBatch = 10'000;

struct RangeShape {
  int buckets;             // Of the runs series.
  seconds bucket;
  const char* queue_span;  // chime.queue_samples.span of the view.
  seconds queue_step;
  seconds length;
};

RangeShape ShapeOf(SeriesRange range) {
  switch (range) {
    case SeriesRange::kHour: return {60, minutes(1), "sample", seconds(15), hours(1)};
    case SeriesRange::kDay: return {24, hours(1), "five_min", minutes(5), hours(24)};
    case SeriesRange::kWeek: return {168, hours(1), "hour", hours(1), hours(168)};
  }
  return {24, hours(1), "five_min", minutes(5), hours(24)};
}

#define CHIME_AT(param) "to_timestamp(" param "::bigint / 1000000.0)"

// $1 since (us), $2 schedule id or NULL. Counts per UTC hour from the hourly
// rollup rows (their primary key, or run_stats_schedule_idx for one
// schedule), summed over kinds and shards in the database.
constexpr const char* kRollupCounts = R"sql(
SELECT )sql" CHIME_US("s.start") R"sql(, sum(s.runs_succeeded)::bigint, sum(s.runs_partial)::bigint,
       sum(s.runs_failed)::bigint, sum(s.runs_cancelled)::bigint, sum(s.runs_skipped)::bigint
FROM chime.run_stats s
WHERE s.span = 'hour' AND s.start >= )sql" CHIME_AT("$1") R"sql(
  AND ($2::bigint IS NULL OR s.schedule_id = $2::bigint)
GROUP BY s.start)sql";

// $1 since (us), $2 schedule id. One schedule's duration histogram per hour:
// (hour, bucket 1-based, count), at most 168 x 121 rows.
constexpr const char* kRollupHistogram = R"sql(
SELECT )sql" CHIME_US("s.start") R"sql(, u.bucket, sum(u.n)::bigint
FROM chime.run_stats s, unnest(s.hist_bucket, s.hist_count) AS u(bucket, n)
WHERE s.schedule_id = $2::bigint AND s.span = 'hour' AND s.start >= )sql" CHIME_AT("$1") R"sql(
GROUP BY s.start, u.bucket)sql";

// $1 since (us), $2 schedule id or NULL. The last hour per minute from the
// ledger (runs_finished_idx; runs_schedule_idx for one schedule), with the
// exact percentiles of the attempts a handler ended. Buckets by date_bin,
// turned into microseconds once per bucket: per-row date_trunc and extract
// cost most of such a statement.
constexpr const char* kLedgerMinutes = R"sql(
SELECT )sql" CHIME_US("m.minute") R"sql(, m.succeeded, m.partial, m.failed, m.cancelled, m.skipped, m.p50, m.p95
FROM (
SELECT date_bin(interval '1 minute', r.finished_at, timestamptz 'epoch') AS minute,
       count(*) FILTER (WHERE r.job_outcome = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE r.job_outcome = 'partial') AS partial,
       count(*) FILTER (WHERE r.job_outcome = 'failed') AS failed,
       count(*) FILTER (WHERE r.job_outcome = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE r.job_outcome = 'skipped') AS skipped,
       CASE WHEN $2::bigint IS NULL THEN NULL ELSE
         percentile_disc(0.5) WITHIN GROUP (ORDER BY d.ms) FILTER (WHERE r.outcome <> 'lease_expired') END AS p50,
       CASE WHEN $2::bigint IS NULL THEN NULL ELSE
         percentile_disc(0.95) WITHIN GROUP (ORDER BY d.ms) FILTER (WHERE r.outcome <> 'lease_expired') END AS p95
FROM chime.runs r,
     LATERAL (SELECT greatest(0, date_part('epoch', r.finished_at - r.started_at) * 1000) AS ms) d
WHERE r.finished_at >= )sql" CHIME_AT("$1") R"sql( AND r.outcome <> 'released'
  AND ($2::bigint IS NULL OR r.schedule_id = $2::bigint)
GROUP BY 1) m)sql";

// $1 since (us), $2 schedule id or NULL, $3 the bucket's length in seconds.
// Ticks skipped by the overlap or misfire policy, from fires_skipped_idx
// alone (time and schedule are in the key).
constexpr const char* kSkippedTicks = R"sql(
SELECT )sql" CHIME_US("b.start") R"sql(, b.n FROM (
SELECT date_bin(make_interval(secs => $3::double precision), f.fired_at, timestamptz 'epoch') AS start,
       count(*) AS n
FROM chime.fires f
WHERE f.outcome IN ('skipped_overlap', 'skipped_misfire') AND f.fired_at >= )sql" CHIME_AT("$1") R"sql(
  AND ($2::bigint IS NULL OR f.schedule_id = $2::bigint)
GROUP BY 1) b)sql";

// $1 slot seconds, $2 queues at most. The queues with a live job or a
// finished count, busiest first, each with its depth now; one 'sample' row
// per queue and slot (a second leader in the same slot inserts nothing),
// folded into the 5-minute and hourly peaks only when it was inserted.
constexpr const char* kSample = R"sql(
WITH live AS (
  SELECT queue,
         count(*) FILTER (WHERE state <> 'running' AND run_at <= now()) AS ready,
         count(*) FILTER (WHERE state = 'running') AS running,
         coalesce(max((date_part('epoch', now() - run_at) * 1000)::bigint)
                    FILTER (WHERE state <> 'running' AND run_at <= now()), 0) AS oldest
  FROM chime.jobs
  WHERE state IN )sql" CHIME_SQL_LIVE_STATES R"sql(
  GROUP BY queue
),
q AS (
  SELECT u.queue, coalesce(l.ready, 0) AS ready, coalesce(l.running, 0) AS running,
         coalesce(l.oldest, 0) AS oldest
  FROM (SELECT queue FROM live
        UNION SELECT queue FROM chime.finished_job_counts GROUP BY queue HAVING sum(n) <> 0) u
  LEFT JOIN live l ON l.queue = u.queue
  ORDER BY coalesce(l.ready, 0) + coalesce(l.running, 0) DESC, u.queue
  LIMIT $2
),
s AS (
  INSERT INTO chime.queue_samples (span, at, queue, ready, running, oldest_ready_ms, ready_sum, samples)
  SELECT 'sample', date_bin(make_interval(secs => $1::double precision), now(), timestamptz 'epoch'),
         q.queue, q.ready, q.running, q.oldest, q.ready, 1
  FROM q
  ON CONFLICT (span, at, queue) DO NOTHING
  RETURNING at, queue, ready, running, oldest_ready_ms
),
peaks AS (
  INSERT INTO chime.queue_samples AS x (span, at, queue, ready, running, oldest_ready_ms, ready_sum,
                                        samples)
  SELECT g.span,
         CASE g.span WHEN 'hour' THEN date_trunc('hour', s.at, 'UTC')
                     ELSE date_bin(interval '5 minutes', s.at, timestamptz 'epoch') END,
         s.queue, s.ready, s.running, s.oldest_ready_ms, s.ready, 1
  FROM s CROSS JOIN (VALUES ('five_min'), ('hour')) AS g(span)
  ON CONFLICT (span, at, queue) DO UPDATE SET
    ready = greatest(x.ready, excluded.ready),
    running = greatest(x.running, excluded.running),
    oldest_ready_ms = greatest(x.oldest_ready_ms, excluded.oldest_ready_ms),
    ready_sum = x.ready_sum + excluded.ready_sum,
    samples = x.samples + 1
  RETURNING 1
)
SELECT (SELECT count(*) FROM q), (SELECT count(*) FROM s), (SELECT count(*) FROM peaks))sql";

// What each span keeps: the longest view that reads it, plus a margin.
constexpr const char* kPrune = R"sql(
DELETE FROM chime.queue_samples
WHERE (span, at, queue) IN (
  SELECT span, at, queue FROM chime.queue_samples
  WHERE (span = 'sample' AND at < now() - interval '2 hours')
     OR (span = 'five_min' AND at < now() - interval '26 hours')
     OR (span = 'hour' AND at < now() - interval '8 days')
  LIMIT $1))sql";

// $1 span, $2 since (us), $3 queue or NULL.
constexpr const char* kQueueSeries = R"sql(
SELECT queue, )sql" CHIME_US("at") R"sql(, ready, running, oldest_ready_ms
FROM chime.queue_samples
WHERE span = $1 AND at >= )sql" CHIME_AT("$2") R"sql( AND ($3::text IS NULL OR queue = $3)
ORDER BY queue, at)sql";

#undef CHIME_AT

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// The start of the bucket of `length` that holds `t` (UTC, from the epoch).
TimePoint Floor(TimePoint t, seconds length) {
  const int64_t us = Micros(t);
  const int64_t step = std::chrono::duration_cast<std::chrono::microseconds>(length).count();
  return MicrosToTime(us - (((us % step) + step) % step));
}

}  // namespace

std::string_view SeriesRangeName(SeriesRange range) {
  switch (range) {
    case SeriesRange::kHour: return "1h";
    case SeriesRange::kDay: return "24h";
    case SeriesRange::kWeek: return "7d";
  }
  return "24h";
}

std::optional<SeriesRange> ParseSeriesRange(std::string_view name) {
  for (auto r : {SeriesRange::kHour, SeriesRange::kDay, SeriesRange::kWeek}) {
    if (SeriesRangeName(r) == name) return r;
  }
  return std::nullopt;
}

SeriesStore::SeriesStore(Connection& conn) : conn_(conn) {}

Result<RunSeries> SeriesStore::RunsSeries(const RunSeriesParams& params) {
  if (params.schedule && !IsValidName(*params.schedule)) {
    return Fail(ErrorCode::kInvalidArgument, "schedule: must be " + std::string(kNameRule));
  }
  const RangeShape shape = ShapeOf(params.range);
  RunSeries out;
  out.range = params.range;
  out.bucket = shape.bucket;
  bool missing = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.buckets.clear();
    missing = false;
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    const int64_t now_us = tx.exec("SELECT " CHIME_US("now()"))[0][0].as<int64_t>();
    out.until = MicrosToTime(now_us);
    out.since = Floor(out.until, shape.bucket) - (shape.buckets - 1) * shape.bucket;
    std::optional<int64_t> schedule_id;
    if (params.schedule) {
      auto found = tx.exec_params("SELECT id FROM chime.schedules WHERE name = $1", *params.schedule);
      if (found.empty()) {
        missing = true;
        return;
      }
      schedule_id = found[0][0].as<int64_t>();
    }
    for (int i = 0; i < shape.buckets; ++i) out.buckets.push_back(RunBucket{.start = out.since + i * shape.bucket});
    auto bucket_of = [&](int64_t start_us) -> RunBucket* {
      const auto offset = MicrosToTime(start_us) - out.since;
      const auto i = offset / shape.bucket;
      if (offset < offset.zero() || i >= shape.buckets) return nullptr;
      return &out.buckets[static_cast<size_t>(i)];
    };
    const int64_t since_us = Micros(out.since);
    if (params.range == SeriesRange::kHour) {
      for (const auto& r : tx.exec_params(kLedgerMinutes, since_us, schedule_id)) {
        RunBucket* b = bucket_of(r[0].as<int64_t>());
        if (b == nullptr) continue;
        b->succeeded += r[1].as<int64_t>();
        b->partial += r[2].as<int64_t>();
        b->failed += r[3].as<int64_t>();
        b->cancelled += r[4].as<int64_t>();
        b->skipped += r[5].as<int64_t>();
        if (!r[6].is_null()) b->p50_ms = r[6].as<double>();
        if (!r[7].is_null()) b->p95_ms = r[7].as<double>();
      }
    } else {
      for (const auto& r : tx.exec_params(kRollupCounts, since_us, schedule_id)) {
        RunBucket* b = bucket_of(r[0].as<int64_t>());
        if (b == nullptr) continue;
        b->succeeded += r[1].as<int64_t>();
        b->partial += r[2].as<int64_t>();
        b->failed += r[3].as<int64_t>();
        b->cancelled += r[4].as<int64_t>();
        b->skipped += r[5].as<int64_t>();
      }
      if (schedule_id) {
        std::map<int64_t, std::vector<int64_t>> histograms;
        for (const auto& r : tx.exec_params(kRollupHistogram, since_us, schedule_id)) {
          auto& h = histograms[r[0].as<int64_t>()];
          if (h.empty()) h.assign(kDurationBuckets, 0);
          const int bucket = std::clamp(r[1].as<int>() - 1, 0, kDurationBuckets - 1);
          h[static_cast<size_t>(bucket)] += r[2].as<int64_t>();
        }
        for (const auto& [start_us, h] : histograms) {
          RunBucket* b = bucket_of(start_us);
          if (b == nullptr) continue;
          b->p50_ms = HistogramPercentile(h, 0.5);
          b->p95_ms = HistogramPercentile(h, 0.95);
        }
      }
    }
    for (const auto& r : tx.exec_params(kSkippedTicks, since_us, schedule_id,
                                        static_cast<int64_t>(shape.bucket.count()))) {
      if (RunBucket* b = bucket_of(r[0].as<int64_t>()); b != nullptr) b->skipped += r[1].as<int64_t>();
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (missing) return Fail(ErrorCode::kNotFound, "schedule \"" + *params.schedule + "\" not found");
  return out;
}

Result<QueueSampleResult> SeriesStore::QueueSamplesRecord(const QueueSampleParams& params) {
  if (params.interval < seconds(1) || params.interval > hours(1)) {
    return Fail(ErrorCode::kInvalidArgument, "interval: must be 1s-1h");
  }
  if (params.max_queues < 1 || params.max_queues > kMaxQueuesSampled) {
    return Fail(ErrorCode::kInvalidArgument, "max_queues: must be 1-1000");
  }
  QueueSampleResult out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out = {};
    pqxx::work tx(c, "queue_samples");
    const auto r = tx.exec_params(kSample, static_cast<int64_t>(params.interval.count()), params.max_queues);
    out.queues = r[0][0].as<int>();
    out.recorded = r[0][1].as<int64_t>() > 0;
    out.pruned = tx.exec_params(kPrune, kPruneBatch).affected_rows();
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<QueueSeries> SeriesStore::QueueSamplesSeries(const QueueSeriesParams& params) {
  if (params.queue && !IsValidName(*params.queue)) {
    return Fail(ErrorCode::kInvalidArgument, "queue: must be " + std::string(kNameRule));
  }
  const RangeShape shape = ShapeOf(params.range);
  QueueSeries out;
  out.range = params.range;
  out.step = shape.queue_step;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.queues.clear();
    pqxx::read_transaction tx(c);
    const int64_t now_us = tx.exec("SELECT " CHIME_US("now()"))[0][0].as<int64_t>();
    out.until = MicrosToTime(now_us);
    out.since = out.until - shape.length;
    for (const auto& r : tx.exec_params(kQueueSeries, std::string(shape.queue_span), Micros(out.since),
                                        params.queue)) {
      const std::string queue = r[0].c_str();
      if (out.queues.empty() || out.queues.back().queue != queue) out.queues.push_back(QueueLine{.queue = queue});
      out.queues.back().points.push_back(QueuePoint{.at = MicrosToTime(r[1].as<int64_t>()),
                                                    .ready = r[2].as<int64_t>(),
                                                    .running = r[3].as<int64_t>(),
                                                    .oldest_ready_ms = r[4].as<int64_t>()});
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

}  // namespace chime::db
