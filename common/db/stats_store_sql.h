// Internal to common/db: the SQL of stats_store.cc. Each statement exists in
// a schedule and a kind flavour that differ only in the key column, so they
// are built from one text here. Times go in as microseconds since the epoch.
#pragma once

#include <string>

#include "common/db/job_store_sql.h"  // CHIME_US.

namespace chime::db::sql {

// A failed run: also the predicate of the partial indexes runs_*_failed_idx
// (migration 0018), which the planner only uses when the query repeats it.
#define CHIME_FAILED_RUN "r.job_outcome = 'failed'"
#define CHIME_GOOD_RUN "r.job_outcome IN ('succeeded', 'partial')"
// The same runs as a rollup row `s` of chime.run_stats counts them: every
// final run (each job outcome), and the good ones.
#define CHIME_ROLLUP_FINAL_RUNS(s) \
  "(" s ".runs_succeeded + " s ".runs_partial + " s ".runs_failed + " s ".runs_skipped + " s ".runs_cancelled)"
#define CHIME_ROLLUP_GOOD_RUNS(s) "(" s ".runs_succeeded + " s ".runs_partial)"

struct StatsScopeSql {
  const char* rollup_key;  // Key column of chime.run_stats s.
  const char* run_key;     // Key column of chime.runs r.
  const char* key_array;   // Array type of the keys: bigint[] or text[].
  // Filters on s (chime.run_stats) and r (chime.runs): "every key" and "the key $3".
  const char* rollup_all;
  const char* run_all;
  const char* rollup_one;
  const char* run_one;
};

inline constexpr StatsScopeSql kScheduleScope{
    "s.schedule_id", "r.schedule_id", "bigint[]",
    "s.schedule_id <> 0", "r.schedule_id IS NOT NULL",
    "s.schedule_id = $3::bigint", "r.schedule_id = $3::bigint"};
inline constexpr StatsScopeSql kKindScope{
    "s.kind", "r.kind", "text[]", "true", "true", "s.kind = $3::text", "r.kind = $3::text"};

#define CHIME_AT(param) "(timestamptz 'epoch' + " param "::bigint * interval '1 microsecond')"

// The rollup rows that cover [$2, now]: $2 is the first hour boundary at or
// after the range's start (us); the hours up to the next day boundary, then
// whole days (the current day's row holds everything up to now). Returned as
// they are: summing the sparse histograms in SQL (unnest, then a hash
// aggregate over rows x buckets) cost ~100 ms for 7 days of 60 keys; reading
// the rows and adding in C++ costs a few. ($1, the range's start, only types
// the shared parameter list.) Columns: key, succeeded, partial, failed,
// discarded, cancelled, lease_expired, duration_n, duration_ms_sum,
// hist_bucket, hist_count, skipped, runs_succeeded, runs_partial,
// runs_failed, runs_skipped, runs_cancelled.
inline std::string StatsRollupSql(const StatsScopeSql& k, bool one) {
#define CHIME_DAY_EDGE \
  "(date_trunc('day', " CHIME_AT("$2") " - interval '1 microsecond', 'UTC') + interval '24 hours')"
  return std::string("SELECT ") + k.rollup_key + R"sql(, s.succeeded, s.partial, s.failed,
       s.discarded, s.cancelled, s.lease_expired, s.duration_n, s.duration_ms_sum,
       s.hist_bucket::text, s.hist_count::text, s.skipped, s.runs_succeeded, s.runs_partial,
       s.runs_failed, s.runs_skipped, s.runs_cancelled
FROM chime.run_stats s
WHERE ((s.span = 'hour' AND s.start >= )sql" CHIME_AT("$2") " AND s.start < " CHIME_DAY_EDGE R"sql()
       OR (s.span = 'day' AND s.start >= )sql" CHIME_DAY_EDGE R"sql())
  AND $1::bigint <= $2::bigint AND )sql" + (one ? k.rollup_one : k.rollup_all);
#undef CHIME_DAY_EDGE
}

// The rows of the partial first hour [$1, $2) (us) from the ledger, grouped
// by key, attempt outcome, final outcome and duration bucket (1-based).
// date_part, not extract: extract's numeric arithmetic cost ~2 us a run.
// Columns: key, outcome, bucket, count, duration_ms_sum, job_outcome.
inline std::string StatsHeadSql(const StatsScopeSql& k, bool one) {
  return std::string("SELECT ") + k.run_key + R"sql(, r.outcome, chime.run_duration_bucket(d.ms),
       count(*), sum(d.ms), r.job_outcome
FROM chime.runs r,
     LATERAL (SELECT greatest(0, date_part('epoch', r.finished_at - r.started_at) * 1000) AS ms) d
WHERE r.finished_at >= )sql" CHIME_AT("$1") " AND r.finished_at < " CHIME_AT("$2") " AND " +
         (one ? k.run_one : k.run_all) + R"sql(
GROUP BY 1, 2, 3, 6
)sql";
}

// Per key in $1, over the whole ledger: the newest run (finished_at us,
// final outcome); the newest successful run (us, job, attempts); the failed
// runs since then; and the failed runs between the success before it and
// it (the streak it ended). Each lookup walks the (key, finished_at) index
// backwards and stops at its first match; the counts read the failed-run
// indexes.
//
// The ledger is partitioned by day (migration 0025), and in a partition
// where the key has no match the planner may walk the partition's
// finished_at index instead, to its start. So each lookup starts no earlier
// than the newest rollup hour that counted a match (the rollup counts every
// run by its finished_at hour, exactly): the partitions before it are pruned
// and a key without a match reads nothing (chime-bench stats: 50 schedules,
// 1,000,000 runs, 184 ms p50 without the bound, as before partitioning with it).
inline std::string StatsLatestSql(const StatsScopeSql& k) {
  const std::string key = std::string(k.run_key);
  const std::string rollup_key = std::string(k.rollup_key);
  // The newest hour whose rollup row counts a run matching `counted`, at or
  // before `before` (an SQL time, or "'infinity'").
  auto newest_hour = [&](const char* counted, const std::string& before) {
    return "(SELECT max(s.start) FROM chime.run_stats s WHERE s.span = 'hour' AND " + rollup_key +
           " = k.key AND " + counted + " > 0 AND s.start <= " + before + ")";
  };
  const char* kFinal = CHIME_ROLLUP_FINAL_RUNS("s");
  const char* kGood = CHIME_ROLLUP_GOOD_RUNS("s");
  const std::string ok_hour = "date_bin(interval '1 hour', ok.finished_at, timestamptz 'epoch')";
  return std::string(R"sql(
SELECT k.key, )sql") + CHIME_US("last.finished_at") + ", last.job_outcome, " + CHIME_US("ok.finished_at") +
         R"sql(, ok.job_id, ok.attempt,
       (SELECT count(*) FROM chime.runs r
        WHERE )sql" + key + R"sql( = k.key AND )sql" CHIME_FAILED_RUN R"sql(
          AND r.finished_at > coalesce(ok.finished_at, '-infinity')),
       CASE WHEN ok.finished_at IS NULL THEN 0 ELSE
         (SELECT count(*) FROM chime.runs r
          WHERE )sql" + key + R"sql( = k.key AND )sql" CHIME_FAILED_RUN R"sql(
            AND r.finished_at < ok.finished_at
            AND r.finished_at > coalesce(prev.t, '-infinity')) END
FROM unnest($1::)sql" + k.key_array + R"sql() AS k(key)
LEFT JOIN LATERAL (
  SELECT r.finished_at, r.job_outcome FROM chime.runs r
  WHERE )sql" + key + R"sql( = k.key AND r.job_outcome IS NOT NULL
    AND r.finished_at >= )sql" + newest_hour(kFinal, "'infinity'") + R"sql(
  ORDER BY r.finished_at DESC LIMIT 1) last ON true
LEFT JOIN LATERAL (
  SELECT r.finished_at, r.job_id, r.attempt FROM chime.runs r
  WHERE )sql" + key + R"sql( = k.key AND )sql" CHIME_GOOD_RUN R"sql(
    AND r.finished_at >= )sql" + newest_hour(kGood, "'infinity'") + R"sql(
  ORDER BY r.finished_at DESC LIMIT 1) ok ON true
LEFT JOIN LATERAL (
  SELECT max(r.finished_at) AS t FROM chime.runs r
  WHERE )sql" + key + R"sql( = k.key AND )sql" CHIME_GOOD_RUN R"sql(
    AND r.finished_at < ok.finished_at
    AND r.finished_at >= coalesce()sql" + newest_hour(kGood, ok_hour + " - interval '1 hour'") + ", " + ok_hour +
         R"sql()) prev ON true
)sql";
}

// The newest $3 failed runs of each key in $1 that ended at or after $2
// (us), through runs_*_failed_idx. Columns: key, job_id, attempt,
// finished_at (us), the final attempt's outcome, its last error, the
// response excerpt.
inline std::string StatsRecentFailuresSql(const StatsScopeSql& k) {
  return std::string(R"sql(
SELECT k.key, f.job_id, f.attempt, )sql") + CHIME_US("f.finished_at") + R"sql(, f.outcome, f.error,
       f.response
FROM unnest($1::)sql" + k.key_array + R"sql() AS k(key)
CROSS JOIN LATERAL (
  SELECT r.job_id, r.attempt, r.finished_at, r.outcome,
         coalesce(left(r.errors[cardinality(r.errors)], 500), '') AS error,
         coalesce(left(CASE WHEN r.summary ? 'response' THEN (r.summary -> 'response')::text
                            ELSE r.summary ->> 'bodyExcerpt' END, 300), '') AS response
  FROM chime.runs r
  WHERE )sql" + k.run_key + R"sql( = k.key AND )sql" CHIME_FAILED_RUN R"sql(
    AND r.finished_at >= )sql" CHIME_AT("$2") R"sql(
  ORDER BY r.finished_at DESC LIMIT $3) f
ORDER BY k.key, f.finished_at DESC
)sql";
}

}  // namespace chime::db::sql
