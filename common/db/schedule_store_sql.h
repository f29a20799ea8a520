// Internal to common/db: the SQL of schedule_store.cc, kept apart so the
// control flow there stays readable.
#pragma once

#include "common/db/job_store_sql.h"  // CHIME_US.
#include "common/db/job_state_sql.h"
#include "common/db/stats_store_sql.h"  // CHIME_ROLLUP_FINAL_RUNS.

namespace chime::db::sql {

inline constexpr const char* kScheduleColumns =
    "id, name, cron, time_zone, kind, payload::text, queue, priority, max_attempts, timeout_ms, "
    "jitter_ms, overlap_policy, misfire_policy, paused, source, " CHIME_US(
        "last_fired_for") ", " CHIME_US("created_at") ", " CHIME_US("updated_at") ", health::text";
inline constexpr int kScheduleColumnCount = 19;

// $1 name ... $12 misfire policy (the spec, in ScheduleSpec order), $13
// paused, $14 source, $15 health overrides (JSON). A taken name inserts nothing.
inline constexpr const char* kScheduleInsert = R"sql(
INSERT INTO chime.schedules (name, cron, time_zone, kind, payload, queue, priority,
  max_attempts, timeout_ms, jitter_ms, overlap_policy, misfire_policy, paused, source, health)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb)
ON CONFLICT (name) DO NOTHING
)sql";

// $1..$12 as above, $14 health; $13 true: change nothing unless some field differs (the
// file sync, which must not bump the version for an unchanged entry). Paused
// is left as it is. A new cron or zone restarts the schedule from now: its
// ticks under the old expression are not made up.
inline constexpr const char* kScheduleUpdate = R"sql(
UPDATE chime.schedules SET cron = $2, time_zone = $3, kind = $4, payload = $5::jsonb,
  queue = $6, priority = $7, max_attempts = $8, timeout_ms = $9, jitter_ms = $10,
  overlap_policy = $11, misfire_policy = $12, health = $14::jsonb, updated_at = now(),
  last_fired_for = CASE WHEN (cron, time_zone) IS DISTINCT FROM ($2, $3)
                        THEN now() ELSE last_fired_for END
WHERE name = $1
  AND (NOT $13 OR (cron, time_zone, kind, payload, queue, priority, max_attempts, timeout_ms,
                   jitter_ms, overlap_policy, misfire_policy, health)
                  IS DISTINCT FROM ($2, $3, $4, $5::jsonb, $6, $7::smallint, $8, $9, $10, $11, $12,
                                    $14::jsonb))
)sql";

// A schedule's payload with a top-level "dry_run" or "dryRun" of true makes
// its jobs dry runs, as db::PayloadAsksDryRun does for every other insert.
#define CHIME_PAYLOAD_DRY_RUN(payload) \
  "(" payload " @> '{\"dry_run\": true}' OR " payload " @> '{\"dryRun\": true}')"

// $1 holder, $2 epoch: the guard every leader-only write checks first. FOR
// SHARE makes a takeover (an UPDATE of this row) wait for our commit, so a
// fire is either inside the leader term or refused.
inline constexpr const char* kLeaderHolds = R"sql(
SELECT 1 FROM chime.leader
WHERE name = 'scheduler' AND holder = $1 AND epoch = $2 AND expires_at > now()
FOR SHARE
)sql";

// Ticks arrive as parallel arrays: $1 schedule ids, $2 ticks (us).
// cancel_running: before a new tick of a busy schedule is fired, its live
// jobs from earlier ticks are cancelled (not yet running) or asked to stop
// (running). Only for ticks not recorded yet, so a second scheduler replaying
// a tick never cancels the job that tick made. A job cancelled here that
// had run before has its newest attempt marked final (its run ends
// cancelled; one that never ran leaves no run).
inline constexpr const char* kCancelOverlapped = R"sql(
WITH d AS (
  SELECT t.schedule_id, to_timestamp(t.us / 1000000.0) AS scheduled_for
  FROM unnest($1::bigint[], $2::bigint[], $3::bool[]) AS t(schedule_id, us, live)
  WHERE t.live
),
c AS (
  SELECT j.id, j.state FROM chime.jobs j
  JOIN d ON j.schedule_id = d.schedule_id
  JOIN chime.schedules s ON s.id = d.schedule_id AND s.overlap_policy = 'cancel_running'
  WHERE j.state IN )sql" CHIME_SQL_LIVE_STATES R"sql(
    AND j.scheduled_for < d.scheduled_for
    AND NOT EXISTS (SELECT 1 FROM chime.fires f
                    WHERE f.schedule_id = d.schedule_id AND f.scheduled_for = d.scheduled_for)
  FOR UPDATE OF j
),
upd AS (
  UPDATE chime.jobs j SET
    cancel_requested = (c.state = 'running'),
    state = CASE WHEN c.state = 'running' THEN 'running' ELSE 'cancelled' END,
    outcome = CASE WHEN c.state = 'running' THEN NULL ELSE 'cancelled' END,
    finished_at = CASE WHEN c.state = 'running' THEN NULL ELSE now() END,
    last_error = CASE WHEN c.state = 'running' THEN j.last_error
                      ELSE 'cancelled: its schedule fired again (overlap policy cancel_running)' END
  FROM c WHERE j.id = c.id
  RETURNING j.id, j.state
),
fin AS (
  UPDATE chime.runs r SET final = true, job_outcome = 'cancelled'
  FROM (SELECT DISTINCT ON (r2.job_id) r2.id FROM chime.runs r2
        WHERE r2.job_id IN (SELECT id FROM upd WHERE state = 'cancelled')
        ORDER BY r2.job_id, r2.finished_at DESC, r2.id DESC) n
  WHERE r.id = n.id AND NOT r.final
)
SELECT count(*) FROM upd
)sql";

// Records ticks and enqueues their jobs in one statement.
// $1 schedule ids, $2 ticks (us), $3 run_at (us), $4 origins, $5 skip,
// $6 apply_overlap, $7 input positions, $8 leader epoch (0: not the leader).
// Returns one row per input position with the outcome and job id of ticks
// recorded now (NULL outcome: recorded before, or no such schedule).
inline constexpr const char* kFireTicks = R"sql(
WITH d AS (
  SELECT t.schedule_id, to_timestamp(t.us / 1000000.0) AS scheduled_for,
         to_timestamp(t.run_us / 1000000.0) AS run_at, t.origin, t.skip, t.apply_overlap, t.ord
  FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bool[], $6::bool[],
              $7::int[]) AS t(schedule_id, us, run_us, origin, skip, apply_overlap, ord)
),
s AS (
  SELECT d.*, sc.kind, sc.queue, sc.priority, sc.payload, sc.max_attempts, sc.timeout_ms,
         sc.overlap_policy,
         EXISTS (SELECT 1 FROM chime.jobs j
                 WHERE j.schedule_id = d.schedule_id AND j.state IN )sql" CHIME_SQL_LIVE_STATES R"sql()
           AS busy,
         EXISTS (SELECT 1 FROM chime.fires b
                 WHERE b.schedule_id = d.schedule_id AND b.outcome = 'buffered') AS has_buffer,
         row_number() OVER (PARTITION BY d.schedule_id ORDER BY d.scheduled_for) AS nth
  FROM d JOIN chime.schedules sc ON sc.id = d.schedule_id
),
o AS (
  SELECT s.*, CASE
      WHEN s.skip THEN 'skipped_misfire'
      WHEN NOT s.apply_overlap OR NOT s.busy THEN 'enqueued'
      WHEN s.overlap_policy IN ('allow', 'cancel_running') THEN 'enqueued'
      WHEN s.overlap_policy = 'buffer_one' AND NOT s.has_buffer AND s.nth = 1 THEN 'buffered'
      ELSE 'skipped_overlap' END AS outcome
  FROM s
),
f AS (
  INSERT INTO chime.fires (schedule_id, scheduled_for, job_id, leader_epoch, outcome, origin)
  SELECT o.schedule_id, o.scheduled_for,
         CASE WHEN o.outcome = 'enqueued'
              THEN nextval(pg_get_serial_sequence('chime.jobs', 'id')) END,
         $8, o.outcome, o.origin
  FROM o ORDER BY o.ord
  ON CONFLICT DO NOTHING
  RETURNING schedule_id, scheduled_for, job_id, outcome
),
j AS (
  INSERT INTO chime.jobs (id, kind, queue, priority, state, payload, max_attempts, timeout_ms,
                          schedule_id, scheduled_for, run_at, invocation, dry_run)
  SELECT f.job_id, o.kind, o.queue, o.priority,
         CASE WHEN o.run_at > now() THEN 'scheduled' ELSE 'available' END,
         o.payload, o.max_attempts, o.timeout_ms, o.schedule_id, o.scheduled_for, o.run_at,
         CASE WHEN o.origin IN ('cron', 'misfire') THEN 'cron' ELSE 'manual' END,
         )sql" CHIME_PAYLOAD_DRY_RUN("o.payload") R"sql(
  FROM f JOIN o ON o.schedule_id = f.schedule_id AND o.scheduled_for = f.scheduled_for
  WHERE f.job_id IS NOT NULL
  RETURNING id
),
u AS (
  UPDATE chime.schedules sc SET last_fired_for = m.latest
  FROM (SELECT schedule_id, max(scheduled_for) AS latest FROM o
        WHERE origin IN ('cron', 'misfire') GROUP BY schedule_id) m
  WHERE sc.id = m.schedule_id AND (sc.last_fired_for IS NULL OR sc.last_fired_for < m.latest)
)
-- Data-modifying CTEs run to completion whether read or not.
SELECT d.ord, f.outcome, f.job_id
FROM d LEFT JOIN f ON f.schedule_id = d.schedule_id AND f.scheduled_for = d.scheduled_for
ORDER BY d.ord
)sql";

// Buffered ticks whose schedule has no live job left become jobs now. A
// deleted schedule's buffered tick stays as it is (its fire outlives it,
// migration 0013): nothing is left to run.
inline constexpr const char* kReleaseBuffered = R"sql(
WITH b AS (
  SELECT f.schedule_id, f.scheduled_for FROM chime.fires f
  WHERE f.outcome = 'buffered'
    AND EXISTS (SELECT 1 FROM chime.schedules sc WHERE sc.id = f.schedule_id)
    AND NOT EXISTS (SELECT 1 FROM chime.jobs j
                    WHERE j.schedule_id = f.schedule_id AND j.state IN )sql" CHIME_SQL_LIVE_STATES R"sql()
  FOR UPDATE OF f SKIP LOCKED
),
f AS (
  UPDATE chime.fires f SET outcome = 'enqueued', fired_at = now(),
         job_id = nextval(pg_get_serial_sequence('chime.jobs', 'id'))
  FROM b WHERE f.schedule_id = b.schedule_id AND f.scheduled_for = b.scheduled_for
  RETURNING f.schedule_id, f.scheduled_for, f.job_id, f.origin
),
j AS (
  INSERT INTO chime.jobs (id, kind, queue, priority, state, payload, max_attempts, timeout_ms,
                          schedule_id, scheduled_for, run_at, invocation, dry_run)
  SELECT f.job_id, sc.kind, sc.queue, sc.priority, 'available', sc.payload, sc.max_attempts,
         sc.timeout_ms, f.schedule_id, f.scheduled_for, now(),
         CASE WHEN f.origin IN ('cron', 'misfire') THEN 'cron' ELSE 'manual' END,
         )sql" CHIME_PAYLOAD_DRY_RUN("sc.payload") R"sql(
  FROM f JOIN chime.schedules sc ON sc.id = f.schedule_id
  RETURNING id
)
SELECT f.schedule_id, )sql" CHIME_US("f.scheduled_for") R"sql(, f.job_id FROM f
WHERE f.job_id IN (SELECT id FROM j)
)sql";

// Takes or extends the leader term ($1 holder, $2 ttl ms) and reports the holder
// either way: a new holder, or the same one after expiry, gets a new epoch.
inline constexpr const char* kLeaderAcquire = R"sql(
WITH up AS (
  INSERT INTO chime.leader AS l (name, holder, epoch, expires_at, acquired_at)
  VALUES ('scheduler', $1, 1, now() + $2 * interval '1 millisecond', now())
  ON CONFLICT (name) DO UPDATE SET
    epoch = CASE WHEN l.holder = excluded.holder AND l.expires_at > now()
                 THEN l.epoch ELSE l.epoch + 1 END,
    acquired_at = CASE WHEN l.holder = excluded.holder AND l.expires_at > now()
                       THEN l.acquired_at ELSE now() END,
    holder = excluded.holder,
    expires_at = excluded.expires_at
  WHERE l.holder = excluded.holder OR l.expires_at <= now()
  RETURNING holder, epoch, expires_at, acquired_at
)
SELECT holder, epoch, )sql" CHIME_US("expires_at") ", " CHIME_US("acquired_at") ", " CHIME_US(
    "now()") R"sql(, true FROM up
UNION ALL
SELECT holder, epoch, )sql" CHIME_US("expires_at") ", " CHIME_US("acquired_at") ", " CHIME_US(
    "now()") R"sql(, false FROM chime.leader
WHERE name = 'scheduler' AND NOT EXISTS (SELECT 1 FROM up)
)sql";

inline constexpr const char* kSchedulesList = R"sql(
SELECT s.id, s.name, s.cron, s.time_zone, s.kind, s.payload::text, s.queue, s.priority,
       s.max_attempts, s.timeout_ms, s.jitter_ms, s.overlap_policy, s.misfire_policy, s.paused,
       s.source, )sql" CHIME_US("s.last_fired_for") ", " CHIME_US("s.created_at") ", " CHIME_US(
    "s.updated_at") R"sql(, s.health::text,
       )sql" CHIME_US("lf.scheduled_for") R"sql(, lf.outcome, lf.job_id, j.state,
       lr.job_outcome, )sql" CHIME_US("lr.finished_at") R"sql(
FROM chime.schedules s
LEFT JOIN LATERAL (SELECT f.scheduled_for, f.outcome, f.job_id, f.fired_at FROM chime.fires f
                   WHERE f.schedule_id = s.id ORDER BY f.fired_at DESC, f.scheduled_for DESC
                   LIMIT 1) lf ON true
LEFT JOIN LATERAL )sql" CHIME_SQL_JOB_STATE_LATERAL("lf.job_id", "lf.fired_at") R"sql( j ON true
LEFT JOIN LATERAL (SELECT r.job_outcome, r.finished_at FROM chime.runs r
                   WHERE r.schedule_id = s.id AND r.job_outcome IS NOT NULL
                     -- From the newest rollup hour that counted a final run
                     -- (see StatsLatestSql: the ledger's day partitions).
                     AND r.finished_at >= (
                       SELECT max(st.start) FROM chime.run_stats st
                       WHERE st.span = 'hour' AND st.schedule_id = s.id
                         AND )sql" CHIME_ROLLUP_FINAL_RUNS("st") R"sql( > 0)
                   ORDER BY r.finished_at DESC LIMIT 1) lr ON true
ORDER BY s.name
)sql";

#undef CHIME_PAYLOAD_DRY_RUN

}  // namespace chime::db::sql
