// The statements behind JobStore, exposed so that chime-bench can run the
// very same SQL with no Chime code around it (the database's own ceiling).
// Arrays travel as text literals (see pg_array.h) and are unnest()ed.
// A lease token is set exactly while a job runs (a CHECK constraint), so the
// lease statements match on id and token alone: a primary-key lookup, where
// adding "state = 'running'" made the planner reach for the partial index.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/db/job.h"
#include "common/db/job_fields.h"
#include "common/db/job_state_sql.h"

namespace chime::db::sql {

// Microseconds since the epoch, the one time format read back from SQL.
#define CHIME_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

// The ready-job notice a statement sends for `count` (SQL) jobs of `queue`
// (SQL; '*' wakes every worker): migration 0022's format, read back by
// db::ParseReadyPayload (ready_listener.h). PostgreSQL folds identical notices
// of one transaction, so each carries a unique tail (",#<uuid>") the parser skips.
#define CHIME_SQL_READY_NOTICE(queue, count) \
  "pg_notify('chime_jobs_ready', " queue " || ':' || " count " || ',#' || gen_random_uuid())"

// $1 kind, $2 queue, $3 priority, $4 payload, $5 run_at (us, or NULL),
// $6 delay_ms, $7 max_attempts, $8 timeout_ms, $9 unique_key, $10 parent_id,
// $11 dry_run, $12 invocation. DO NOTHING on a live unique key: the caller then reads the
// holder with kSelectLiveUnique.
inline constexpr const char* kInsertOne = R"sql(
INSERT INTO chime.jobs (kind, queue, priority, state, payload, run_at, max_attempts,
                        timeout_ms, unique_key, parent_id, dry_run, invocation)
SELECT $1, $2, $3, CASE WHEN v.run_at > now() THEN 'scheduled' ELSE 'available' END,
       $4::jsonb, v.run_at, $7, $8, $9, $10, $11, $12
FROM (SELECT CASE WHEN $5::bigint IS NULL THEN now() + $6::bigint * interval '1 millisecond'
                  ELSE to_timestamp($5::bigint / 1000000.0) END AS run_at) v
ON CONFLICT (kind, unique_key)
  WHERE unique_key IS NOT NULL AND state IN )sql" CHIME_SQL_LIVE_STATES R"sql(
  DO NOTHING
RETURNING id, state)sql";

// $1 kind, $2 unique_key.
inline constexpr const char* kSelectLiveUnique = R"sql(
SELECT id, state FROM chime.jobs
WHERE kind = $1 AND unique_key = $2
  AND state IN )sql" CHIME_SQL_LIVE_STATES R"sql()sql";

// Arrays, one element per job: $1 kind text[], $2 queue text[], $3 priority
// int[], $4 payload text[], $5 run_at_us bigint[], $6 delay_ms bigint[],
// $7 max_attempts int[], $8 timeout_ms int[], $9 unique_key text[],
// $10 parent_id bigint[], $11 dry_run bool[], $12 invocation text[]. Rows without a unique key are
// inserted first and in input order, so their identity ids ascend with it.
// Keyed rows follow sorted by (kind, unique_key): concurrent batches sharing
// keys then wait on each other's index entries in one order and cannot
// deadlock. Returns (id, state, kind, unique_key).
inline constexpr const char* kInsertMany = R"sql(
INSERT INTO chime.jobs (kind, queue, priority, state, payload, run_at, max_attempts,
                        timeout_ms, unique_key, parent_id, dry_run, invocation)
SELECT kind, queue, priority, CASE WHEN r > now() THEN 'scheduled' ELSE 'available' END,
       payload::jsonb, r, max_attempts, timeout_ms, unique_key, parent_id, dry_run, invocation
FROM (SELECT t.*, CASE WHEN t.run_at_us IS NULL
                       THEN now() + t.delay_ms * interval '1 millisecond'
                       ELSE to_timestamp(t.run_at_us / 1000000.0) END AS r
      FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::bigint[],
                  $6::bigint[], $7::int[], $8::int[], $9::text[], $10::bigint[], $11::bool[],
                  $12::text[])
           WITH ORDINALITY AS t(kind, queue, priority, payload, run_at_us, delay_ms,
                                max_attempts, timeout_ms, unique_key, parent_id, dry_run,
                                invocation, ord)
      ORDER BY t.unique_key IS NOT NULL, CASE WHEN t.unique_key IS NULL THEN t.ord END,
               t.kind, t.unique_key, t.ord) s
ON CONFLICT (kind, unique_key)
  WHERE unique_key IS NOT NULL AND state IN )sql" CHIME_SQL_LIVE_STATES R"sql(
  DO NOTHING
RETURNING id, state, kind, unique_key)sql";

// A fan-out's page as one statement, its children selected and inserted
// server-side (worker/kinds/fan_out_lanes.h says why). `ctes` are the
// caller's WITH items (without the WITH), the last named `children`, with
// the columns kind text, queue text, payload jsonb, max_attempts int,
// unique_key text, parent_id bigint, invocation text; the insert follows as
// CTE `inserted`, returning the unique_key of each row it inserted; `result`
// is the caller's SELECT over its CTEs and `inserted`. Rows go in unique-key
// order, as kInsertMany's keyed rows do, so concurrent fan-outs and batch
// enqueues take the key locks in one order; a key a live job holds is
// skipped (DO NOTHING), so the caller counts those without a probe. The rows
// meet only the table's CHECKs, not ValidateEnqueue: the caller answers for
// them. Run by JobStore::JobsInsertSelected.
inline std::string InsertSelected(std::string_view ctes, std::string_view result) {
  std::string sql = "WITH ";
  sql += ctes;
  sql += R"sql(,
inserted AS (
  INSERT INTO chime.jobs AS j (kind, queue, payload, max_attempts, unique_key, parent_id, invocation)
  SELECT c.kind, c.queue, c.payload, c.max_attempts, c.unique_key, c.parent_id, c.invocation
  FROM children c
  ORDER BY c.unique_key
  ON CONFLICT (kind, unique_key)
    WHERE unique_key IS NOT NULL AND state IN )sql" CHIME_SQL_LIVE_STATES R"sql(
    DO NOTHING
  RETURNING j.unique_key)
)sql";
  sql += result;
  return sql;
}

// $1 count: that many ids from the jobs sequence, ascending, for COPY. The
// sequence is looked up once (a per-row lookup costs five times the nextval).
inline constexpr const char* kTakeJobIds = R"sql(
WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('chime.jobs', 'id')::regclass AS seq)
SELECT nextval(s.seq) FROM s, generate_series(1, $1::int))sql";

// The columns JobsInsertByCopy writes; the rest take their defaults (state
// available, run_at and created_at now()).
inline constexpr std::array<const char*, 10> kCopyJobColumns{
    "id", "kind", "queue", "priority", "payload", "max_attempts", "timeout_ms", "parent_id", "dry_run",
    "invocation"};

// $1 kinds text[], $2 unique keys text[].
inline constexpr const char* kSelectLiveUniqueMany = R"sql(
SELECT j.id, j.state, j.kind, j.unique_key
FROM unnest($1::text[], $2::text[]) AS t(kind, unique_key)
JOIN chime.jobs j ON j.kind = t.kind AND j.unique_key = t.unique_key
WHERE j.state IN )sql" CHIME_SQL_LIVE_STATES R"sql()sql";

// Claim columns, shared by the claim and its recovery. Each lease token is md5(claim id, job id): unique per job and claim, and
// the claimer, who chose the claim id ($5), can find what a claim took when
// its reply was lost (kClaimRecover).
#define CHIME_CLAIM_RETURNING                                                             \
  "RETURNING j.id, j.kind, j.queue, j.priority, j.payload::text, j.attempt, "             \
  "j.max_attempts, j.timeout_ms, j.parent_id, j.dry_run, j.lease_token::text, " CHIME_US( \
      "j.lease_expires_at") ", " CHIME_US("j.attempted_at") ", j.invocation, " CHIME_US("j.run_at") ", " \
  "j.schedule_id, (SELECT s.name FROM chime.schedules s WHERE s.id = j.schedule_id), " \
  CHIME_US("j.scheduled_for") ", j.limit_keys IS NOT NULL"
// $1 queues text[], $2 limit, $3 lease_ms, $4 worker, $5 claim id.
// chime.jobs_claim_limited (migrations 0022, 0023; since 0024 a wrapper that
// first drops the paused queues, then runs 0023's claim, chime.jobs_claim_open,
// whose plans and waits 0026 revised)
// walks the partial index
// jobs_ready_idx (queue, priority, run_at, id) in claim order, locking with
// SKIP LOCKED, and keeps every cluster-wide limit that applies (a job over
// its limit stays ready); it answers the partitions each job counts under,
// the shard of each, and, for a limited job, the time its start counts at.
// The lease token is derived from the claim id, so a claimer that lost the
// reply can find what it took (kClaimRecover). The function declares ROWS
// 100, so the update joins its answer by primary key; a join the planner
// thought large hashed the whole table (68 ms a claim with 100,000 jobs
// ready). The ids are also given as an array: with few rows in chime.jobs
// (no history yet, 10,000 ready) the planner still preferred reading the
// whole table for the join (0.9 ms of a 1.6 ms claim of one job); an
// `id = ANY(array)` condition is always a primary-key lookup.
inline constexpr const char* kClaim =
    "WITH picked AS (SELECT * FROM chime.jobs_claim_limited($1::text[], $2::integer))\n"
    "UPDATE chime.jobs j SET state = 'running', attempt = j.attempt + 1,\n"
    "  lease_token = md5($5::text || ':' || j.id)::uuid,\n"
    "  lease_expires_at = now() + $3::bigint * interval '1 millisecond',\n"
    "  worker_id = $4, attempted_at = coalesce(p.started_at, now()), heartbeat_at = now(),\n"
    "  limit_keys = p.keys, limit_shards = p.shards\n"
    "FROM picked p WHERE j.id = p.id AND j.id = ANY(ARRAY(SELECT id FROM picked))\n" CHIME_CLAIM_RETURNING;

// $1 claim id, $2 worker, $3 lease_ms: the jobs a claim took that are still
// running under its leases, renewed. Running rows are few (rule 4) and
// indexed (jobs_running_idx).
inline constexpr const char* kClaimRecover =
    "UPDATE chime.jobs j SET lease_expires_at = now() + $3::bigint * interval '1 millisecond',\n"
    "  heartbeat_at = now()\n"
    "WHERE j.state = 'running' AND j.worker_id = $2\n"
    "  AND j.lease_token = md5($1::text || ':' || j.id)::uuid\n" CHIME_CLAIM_RETURNING;

// $1 a ready job: the partitions of each limit that applies to it and
// their use, counted as chime.jobs_claim_limited counts (migration 0023:
// summed over the partition's shards; a start counts while any of its
// bucket lies in the window).
inline constexpr const char* kLimitWaits = R"sql(
WITH k AS (
  SELECT l.name, l.concurrency, l.rate, l.rate_window_ms,
         coalesce(left(j.payload ->> l.partition_by, 200), '') AS part,
         l.name || '/' || coalesce(left(j.payload ->> l.partition_by, 200), '') AS key
  FROM chime.jobs j JOIN chime.limits l ON (l.queue IS NULL OR l.queue = j.queue)
                                       AND (l.kind IS NULL OR l.kind = j.kind)
  WHERE j.id = $1),
b AS (
  SELECT k.key, chime.limit_bucket_leaves(s.started_at, k.rate_window_ms) AS leaves, sum(s.n) AS n,
         -- The starts in this bucket and the ones after it.
         sum(sum(s.n)) OVER (PARTITION BY k.key ORDER BY s.started_at DESC) AS newer
  FROM k JOIN chime.limit_starts s ON s.key = k.key
  WHERE k.rate IS NOT NULL AND chime.limit_bucket_leaves(s.started_at, k.rate_window_ms) > now()
  GROUP BY k.key, s.started_at, k.rate_window_ms)
SELECT k.name, k.part, k.concurrency,
       (SELECT count(*) FROM chime.jobs r WHERE r.state = 'running' AND r.limit_keys @> ARRAY[k.key]),
       k.rate, k.rate_window_ms,
       (SELECT coalesce(sum(b.n), 0)::bigint FROM b WHERE b.key = k.key),
       -- The bucket whose leaving the window makes room for one more.
       (SELECT )sql" CHIME_US("b.leaves") R"sql(
        FROM b WHERE b.key = k.key AND b.newer >= k.rate ORDER BY b.leaves DESC LIMIT 1)
FROM k ORDER BY k.name)sql";

// $1 ids bigint[], $2 tokens uuid[], $3 extension_ms.
inline constexpr const char* kHeartbeat = R"sql(
UPDATE chime.jobs j SET lease_expires_at = now() + $3::bigint * interval '1 millisecond',
  heartbeat_at = now()
FROM unnest($1::bigint[], $2::uuid[]) AS i(id, token)
WHERE j.id = i.id AND j.lease_token = i.token
RETURNING j.id, j.cancel_requested)sql";

// Arrays: $1 ids, $2 tokens, $3 how ('succeeded' | 'skipped' | 'failed' |
// 'failed_permanent' | 'cancelled'), $4 retry delay ms, $5 summary JSON text,
// $6 errors as a JSON array text, $7 worker. chime.jobs_complete (migration
// 0029) applies only rows still running under the token and writes one run
// per applied attempt; answers (id, state, token) of each applied one (a
// batch may hold two attempts of one job: only the token tells which one
// applied). An attempt that ends its job deletes it from chime.jobs and
// its final run holds the job's columns (chime.jobs_all reads it there,
// DESIGN.md rule 7); a failure with attempts left and a fan-out parent's
// success (it waits for its children, chime.fan_outs_settle) update the job.
inline constexpr const char* kComplete =
    "SELECT id, state, token::text FROM chime.jobs_complete($1::bigint[], $2::uuid[], $3::text[], "
    "$4::bigint[], $5::text[], $6::text[], $7::text[])";

// $1 ids bigint[], $2 attempts int[], $3 workers text[]: (job id, attempt,
// state) of the runs kComplete
// wrote for those attempts by those workers, with the state each gave its
// job. Only the lease holder of an attempt can write one: a worker that
// finds its own was refused the second time it sent it.
inline constexpr const char* kCompletionRecorded = R"sql(
SELECT r.job_id, r.attempt,
       CASE r.outcome WHEN 'partial' THEN 'succeeded' WHEN 'skipped' THEN 'succeeded'
                      WHEN 'failed' THEN 'retryable' ELSE r.outcome END
FROM unnest($1::bigint[], $2::int[], $3::text[]) AS i(id, attempt, worker)
JOIN chime.runs r ON r.job_id = i.id AND r.attempt = i.attempt AND r.worker_id = i.worker
WHERE r.outcome IN ('succeeded', 'partial', 'skipped', 'failed', 'discarded', 'cancelled'))sql";

// $1 job id: an operator cancelled the job between attempts; its newest
// attempt becomes its final row (a job that never ran leaves no run).
inline constexpr const char* kMarkCancelledFinal = R"sql(
UPDATE chime.runs r SET final = true, job_outcome = 'cancelled'
WHERE r.id = (SELECT id FROM chime.runs WHERE job_id = $1 ORDER BY finished_at DESC, id DESC LIMIT 1)
  AND NOT r.final)sql";

// $1 job id: the state of the job its final run holds (migration 0029), if
// one does; the run row locked, as the job's row would be.
inline constexpr const char* kHeldJobState =
    "SELECT chime.job_state_of(job_outcome) FROM chime.runs WHERE job_id = $1 AND holds_job FOR UPDATE";

// $1 job id: the job its final run holds goes back to chime.jobs as it
// finished (JobRetry then makes it available), and the run holds it no more.
inline constexpr const char* kRestoreHeldJob = R"sql(
WITH r AS (
  UPDATE chime.runs SET holds_job = false WHERE job_id = $1 AND holds_job
  RETURNING job_id, kind, queue, priority, payload, attempt, max_attempts, rescue_count, timeout_ms,
            unique_key, parent_id, schedule_id, scheduled_for, dry_run, worker_id, created_at, run_at,
            started_at, finished_at, last_error, progress, invocation, job_outcome, fan_out)
INSERT INTO chime.jobs (id, kind, queue, priority, state, payload, attempt, max_attempts, rescue_count,
                        timeout_ms, unique_key, parent_id, schedule_id, scheduled_for, dry_run,
                        worker_id, created_at, run_at, attempted_at, finished_at, last_error,
                        progress, invocation, outcome, fan_out)
SELECT job_id, kind, queue, priority, chime.job_state_of(job_outcome), payload, attempt, max_attempts,
       rescue_count, timeout_ms, unique_key, parent_id, schedule_id, scheduled_for, dry_run,
       worker_id, created_at, run_at, started_at, finished_at, last_error, progress, invocation,
       job_outcome, fan_out
FROM r)sql";

// $1 ids, $2 tokens, $3 worker. The attempt is handed back (attempt - 1).
inline constexpr const char* kRelease = R"sql(
WITH upd AS (
  UPDATE chime.jobs j SET state = 'available', attempt = greatest(j.attempt - 1, 0),
    run_at = now(), lease_token = NULL, lease_expires_at = NULL
  FROM unnest($1::bigint[], $2::uuid[]) AS i(id, token)
  WHERE j.id = i.id AND j.lease_token = i.token
  RETURNING j.id, j.kind, j.queue, j.attempt + 1 AS attempt, j.attempted_at, j.dry_run,
            j.schedule_id, j.scheduled_for),
ins AS (
  INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, scheduled_for, worker_id,
                          started_at, outcome, dry_run)
  SELECT id, kind, queue, attempt, schedule_id, scheduled_for, $3, attempted_at, 'released',
         dry_run
  FROM upd)
SELECT id FROM upd)sql";

// A running job is stale when its lease ran out or, with $3 seconds given
// (not NULL), when its worker has not heartbeated for that long.
#define CHIME_STALE_RUNNING                                                              \
  "state = 'running' AND (lease_expires_at < now() OR coalesce(heartbeat_at, attempted_at) " \
  "< now() - $3::bigint * interval '1 second')"

// What a rescue would do, changing nothing (reset_stale_jobs' dry run).
// $1 max_rescues, $2 limit, $3 silent seconds or NULL.
inline constexpr const char* kRescuePreview =
    "SELECT id, CASE WHEN cancel_requested THEN 'cancelled'\n"
    "  WHEN rescue_count + 1 > $1 OR attempt >= max_attempts THEN 'discarded'\n"
    "  ELSE 'retryable' END\n"
    "FROM chime.jobs WHERE " CHIME_STALE_RUNNING "\n"
    "ORDER BY lease_expires_at LIMIT $2";

// $1 max_rescues, $2 limit, $3 silent seconds or NULL. Oldest expiry first;
// SKIP LOCKED so two rescuers never fight. A job whose cancel was requested
// is cancelled.
inline constexpr const char* kRescue = R"sql(
WITH stale AS (
  SELECT id FROM chime.jobs
  WHERE )sql" CHIME_STALE_RUNNING R"sql(
  ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED),
upd AS (
  UPDATE chime.jobs j SET
    rescue_count = j.rescue_count + 1,
    state = CASE
      WHEN j.cancel_requested THEN 'cancelled'
      WHEN j.rescue_count + 1 > $1 OR j.attempt >= j.max_attempts THEN 'discarded'
      ELSE 'retryable' END,
    outcome = CASE
      WHEN j.cancel_requested THEN 'cancelled'
      WHEN j.rescue_count + 1 > $1 OR j.attempt >= j.max_attempts THEN 'failed' END,
    run_at = now(),
    finished_at = CASE
      WHEN j.cancel_requested OR j.rescue_count + 1 > $1 OR j.attempt >= j.max_attempts
      THEN now() END,
    last_error = CASE
      WHEN j.cancel_requested THEN 'cancelled (its worker stopped heartbeating)'
      WHEN j.rescue_count + 1 > $1
        THEN format('discarded as a poison pill: its lease expired %s times', j.rescue_count + 1)
      WHEN j.attempt >= j.max_attempts
        THEN 'discarded: lease expired on the last attempt'
      WHEN j.lease_expires_at >= now()
        THEN format('stale: no heartbeat from worker %s for over %s s',
                    coalesce(j.worker_id, '?'), $3::bigint)
      ELSE format('lease expired: worker %s stopped heartbeating', coalesce(j.worker_id, '?'))
      END,
    lease_token = NULL, lease_expires_at = NULL, cancel_requested = false
  WHERE j.id = ANY(ARRAY(SELECT id FROM stale))  -- A primary-key lookup (see the claim).
  RETURNING j.id, j.state, j.outcome, j.parent_id, j.kind, j.queue, j.attempt, j.worker_id,
            j.attempted_at, j.dry_run, j.schedule_id, j.scheduled_for, j.last_error),
ins AS (
  INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, scheduled_for, worker_id,
                          started_at, outcome, errors, dry_run, final, job_outcome, parent_id)
  SELECT id, kind, queue, attempt, schedule_id, scheduled_for, worker_id, attempted_at,
         'lease_expired', ARRAY[last_error], dry_run, state <> 'retryable', outcome, parent_id
  FROM upd)
SELECT id, state FROM upd)sql";

// $1 retention seconds, $2 batch size. Each batch is its own short statement,
// through the functions of migrations 0004 and 0029 (which workers may call
// without being allowed to DELETE). The first returns how many finished
// jobs it deleted from chime.jobs; the second how many runs, and how many
// jobs went with the runs that held them (the history of jobs a completion
// finished: migration 0029).
inline constexpr const char* kCleanupJobs = "SELECT chime.delete_finished_jobs($1, $2)";

inline constexpr const char* kCleanupRuns = "SELECT runs, jobs FROM chime.delete_old_history($1, $2)";

// The run ledger's day partitions for the coming week (migration 0025), carved
// out of the catch-all chime.runs_after; run before each cleanup.
inline constexpr const char* kRunsPartitionsEnsure = "SELECT chime.runs_partitions_ensure(7)";

// What the cleanup would delete now ($1 retention seconds): jobs, runs.
inline constexpr const char* kCleanupPreview = R"sql(
SELECT (SELECT count(*) FROM chime.jobs
        WHERE state IN )sql" CHIME_SQL_FINISHED_STATES R"sql(
          AND finished_at < now() - $1::bigint * interval '1 second')
         + chime.old_held_jobs_count($1::bigint),
       chime.old_runs_count($1::bigint))sql";

namespace internal {

// One column of CHIME_JOB_FIELDS (common/db/job_fields.h).
struct JobColumn {
  std::string_view sql;  // "" when the row does not hold the member.
  bool micros;           // A time: read as microseconds (CHIME_US).
};

template <typename T>
inline constexpr bool kIsTime = std::is_same_v<T, TimePoint> || std::is_same_v<T, std::optional<TimePoint>>;

#define CHIME_JOB_COLUMN(member, column, proto, json, encoding) \
  JobColumn{column, kIsTime<decltype(Job::member)>},
inline constexpr JobColumn kJobColumnList[] = {CHIME_JOB_FIELDS(CHIME_JOB_COLUMN)};
#undef CHIME_JOB_COLUMN

inline constexpr std::string_view kUsBefore = "(extract(epoch FROM ";
inline constexpr std::string_view kUsAfter = ") * 1000000)::bigint";

// Calls `put` with each piece of "col, col, ..." in order.
constexpr void ForEachJobColumnPiece(auto&& put) {
  bool first = true;
  for (const JobColumn& c : kJobColumnList) {
    if (c.sql.empty()) continue;
    if (!first) put(std::string_view(", "));
    first = false;
    if (c.micros) put(kUsBefore);
    put(c.sql);
    if (c.micros) put(kUsAfter);
  }
}

constexpr size_t JobColumnsLength() {
  size_t n = 0;
  ForEachJobColumnPiece([&n](std::string_view piece) { n += piece.size(); });
  return n;
}

constexpr std::array<char, JobColumnsLength() + 1> JoinJobColumns() {
  std::array<char, JobColumnsLength() + 1> out{};
  size_t at = 0;
  ForEachJobColumnPiece([&](std::string_view piece) {
    for (char c : piece) out[at++] = c;
  });
  return out;  // NUL-terminated: the array is one longer.
}

inline constexpr auto kJobColumnsText = JoinJobColumns();

}  // namespace internal

// Job columns in the order JobStore's row reader expects: those of
// CHIME_JOB_FIELDS (common/db/job_fields.h) that a chime.jobs row holds.
inline constexpr const char* kJobColumns = internal::kJobColumnsText.data();

inline constexpr const char* kRunColumns =
    "id, job_id, attempt, coalesce(worker_id, ''), " CHIME_US("started_at") ", " CHIME_US(
        "finished_at") ", outcome, summary::text, to_jsonb(errors)::text, dry_run, final, job_outcome";
inline constexpr int kRunColumnCount = 12;

// Live states are counted in the table (small by rule 4); finished ones come
// from the counters (chime.finished_job_counts: those finished in chime.jobs
// and those the run ledger holds).
inline constexpr const char* kStats = R"sql(
SELECT queue, kind, state, count(*)::bigint FROM chime.jobs
WHERE state IN )sql" CHIME_SQL_LIVE_STATES R"sql(
GROUP BY queue, kind, state
UNION ALL
SELECT queue, kind, state, sum(n)::bigint FROM chime.finished_job_counts
GROUP BY queue, kind, state HAVING sum(n) <> 0
ORDER BY 1, 2, 3)sql";

inline constexpr const char* kQueueDepth = R"sql(
SELECT queue, count(*)::bigint,
       (extract(epoch FROM now() - min(run_at)) * 1000)::bigint
FROM chime.jobs
WHERE state IN )sql" CHIME_SQL_QUEUED_STATES R"sql( AND run_at <= now()
GROUP BY queue ORDER BY queue)sql";

}  // namespace chime::db::sql
