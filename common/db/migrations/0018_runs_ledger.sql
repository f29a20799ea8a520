-- Runs, not attempts (issue 17; DESIGN.md rule 7). A run is one job (a
-- schedule tick's, or one enqueued by hand) through all its attempts; its
-- final outcome is what health rules, statistics and alerts speak of, while
-- the attempts stay in the ledger as the detail beneath it.
--
-- The ledger says which attempt ended its job: the statements that finish
-- a job (completion, rescue, cancel) write or mark that attempt's row
-- `final` with the job's outcome, so history and statistics read facts from
-- chime.runs alone (the hot table's finished rows may go elsewhere later).
--
-- A fan-out parent (a job that enqueued children, e.g. process_all_users,
-- an all-exams reconcile, a reconcile with webhook deliveries) keeps its
-- outcome NULL ("waiting for N children") after its own attempt ended,
-- until its last child has one; then the parent's outcome becomes the
-- aggregate: succeeded (every decided child succeeded), failed (every one
-- failed), else partial; skipped and cancelled children decide nothing.
-- Its final run row then gets that outcome and the counts per child
-- outcome (summary.childOutcomes). See chime.jobs_settle_fan_outs below for
-- why this is race-free under concurrent completers.

-- 1. The ledger.
ALTER TABLE chime.runs
  -- This attempt ended its job: the job's final row (a waiting fan-out
  -- parent's included, its job_outcome still NULL).
  ADD COLUMN final boolean NOT NULL DEFAULT false,
  -- The job's final outcome, on its final row; NULL on every other attempt.
  ADD COLUMN job_outcome text
    CHECK (job_outcome IN ('succeeded', 'partial', 'failed', 'skipped', 'cancelled')),
  -- The job's parent, for a fan-out's counts per child outcome.
  ADD COLUMN parent_id bigint,
  ADD CONSTRAINT runs_job_outcome_final_check CHECK (job_outcome IS NULL OR final);

-- 2. Jobs: a parent is marked when its first child is inserted (any route:
-- the job store, a kind's own SQL, an application's INSERT), so that its
-- completion knows, without a lookup per job, that it must wait.
ALTER TABLE chime.jobs ADD COLUMN fan_out boolean NOT NULL DEFAULT false;

-- Children not finished yet (live, or waiting fan-outs themselves): "has
-- this parent a child left?" is one probe, and "waiting for N children" a
-- count of N entries.
CREATE INDEX jobs_live_children_idx ON chime.jobs (parent_id)
  WHERE parent_id IS NOT NULL AND outcome IS NULL;
-- jobctl list --schedule NAME and /api/jobs?schedule=NAME, newest first.
CREATE INDEX jobs_schedule_idx ON chime.jobs (schedule_id, id) WHERE schedule_id IS NOT NULL;

-- What existed before: the newest row of every finished job is its final
-- row; a job already gone leaves its newest row's outcome to tell. The
-- rollup is rebuilt below, so its update trigger stays out of this.
ALTER TABLE chime.runs DISABLE TRIGGER runs_stats_update;
WITH newest AS (
  SELECT DISTINCT ON (r.job_id) r.id, r.job_id, r.outcome FROM chime.runs r
  ORDER BY r.job_id, r.finished_at DESC, r.id DESC
)
UPDATE chime.runs r SET
  final = true,
  job_outcome = coalesce(j.outcome, CASE n.outcome WHEN 'discarded' THEN 'failed' ELSE n.outcome END),
  parent_id = j.parent_id
FROM newest n LEFT JOIN chime.jobs j ON j.id = n.job_id
WHERE r.id = n.id
  AND (j.outcome IS NOT NULL
       OR (j.id IS NULL AND n.outcome IN ('succeeded', 'partial', 'skipped', 'cancelled', 'discarded')));
UPDATE chime.runs r SET parent_id = j.parent_id
FROM chime.jobs j WHERE j.id = r.job_id AND j.parent_id IS NOT NULL AND r.parent_id IS NULL;
ALTER TABLE chime.runs ENABLE TRIGGER runs_stats_update;
UPDATE chime.jobs p SET fan_out = true
WHERE EXISTS (SELECT 1 FROM chime.jobs c WHERE c.parent_id = p.id);

-- A fan-out's counts per child outcome read its children's final rows.
CREATE INDEX runs_parent_final_idx ON chime.runs (parent_id) WHERE parent_id IS NOT NULL AND final;
-- Failed runs are few: the failure streak and "recent failures" lookups
-- never walk successes. They replace 0005's indexes of failed attempts.
DROP INDEX chime.runs_schedule_failures_idx;
DROP INDEX chime.runs_kind_failures_idx;
CREATE INDEX runs_schedule_failed_idx ON chime.runs (schedule_id, finished_at)
  WHERE schedule_id IS NOT NULL AND job_outcome = 'failed';
CREATE INDEX runs_kind_failed_idx ON chime.runs (kind, finished_at) WHERE job_outcome = 'failed';

-- 3. The rollup counts runs by final outcome beside attempts by outcome
-- (skipped attempts too, which 0005 did not know). A waiting parent's row
-- counts as an attempt at once and as a run when it settles (an UPDATE of
-- the row, which the update trigger folds in).
ALTER TABLE chime.run_stats
  ADD COLUMN skipped        bigint NOT NULL DEFAULT 0,
  ADD COLUMN runs_succeeded bigint NOT NULL DEFAULT 0,
  ADD COLUMN runs_partial   bigint NOT NULL DEFAULT 0,
  ADD COLUMN runs_failed    bigint NOT NULL DEFAULT 0,
  ADD COLUMN runs_skipped   bigint NOT NULL DEFAULT 0,
  ADD COLUMN runs_cancelled bigint NOT NULL DEFAULT 0;

-- As in 0005, with the new counters.
CREATE OR REPLACE FUNCTION chime.run_stats_sql(p_source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
SELECT format($q$
WITH r AS (
  SELECT g.span, date_trunc(g.span, t.finished_at, 'UTC') AS start, t.kind,
         coalesce(t.schedule_id, 0) AS schedule_id, t.outcome, t.job_outcome,
         greatest(0, date_part('epoch', t.finished_at - t.started_at) * 1000) AS ms,
         t.outcome NOT IN ('lease_expired', 'released') AS timed
  FROM %s t CROSS JOIN (VALUES ('hour'), ('day')) AS g(span)
),
c AS (
  SELECT span, start, kind, schedule_id,
         count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE outcome = 'partial') AS partial,
         count(*) FILTER (WHERE outcome = 'failed') AS failed,
         count(*) FILTER (WHERE outcome = 'discarded') AS discarded,
         count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled,
         count(*) FILTER (WHERE outcome = 'lease_expired') AS lease_expired,
         count(*) FILTER (WHERE outcome = 'released') AS released,
         count(*) FILTER (WHERE outcome = 'skipped') AS skipped,
         count(*) FILTER (WHERE job_outcome = 'succeeded') AS runs_succeeded,
         count(*) FILTER (WHERE job_outcome = 'partial') AS runs_partial,
         count(*) FILTER (WHERE job_outcome = 'failed') AS runs_failed,
         count(*) FILTER (WHERE job_outcome = 'skipped') AS runs_skipped,
         count(*) FILTER (WHERE job_outcome = 'cancelled') AS runs_cancelled,
         count(*) FILTER (WHERE timed) AS duration_n,
         coalesce(sum(ms) FILTER (WHERE timed), 0) AS ms_sum
  FROM r GROUP BY span, start, kind, schedule_id
),
b AS (
  SELECT span, start, kind, schedule_id, chime.run_duration_bucket(ms)::smallint AS bucket,
         count(*) AS n
  FROM r WHERE timed GROUP BY 1, 2, 3, 4, 5
),
h AS (
  SELECT span, start, kind, schedule_id, array_agg(bucket ORDER BY bucket) AS buckets,
         array_agg(($2 * n)::integer ORDER BY bucket) AS counts
  FROM b GROUP BY span, start, kind, schedule_id
)
INSERT INTO chime.run_stats AS s (span, start, kind, schedule_id, shard, succeeded, partial,
  failed, discarded, cancelled, lease_expired, released, skipped, runs_succeeded, runs_partial,
  runs_failed, runs_skipped, runs_cancelled, duration_n, duration_ms_sum, hist_bucket, hist_count)
SELECT c.span, c.start, c.kind, c.schedule_id, $1, $2 * c.succeeded, $2 * c.partial, $2 * c.failed,
       $2 * c.discarded, $2 * c.cancelled, $2 * c.lease_expired, $2 * c.released, $2 * c.skipped,
       $2 * c.runs_succeeded, $2 * c.runs_partial, $2 * c.runs_failed, $2 * c.runs_skipped,
       $2 * c.runs_cancelled, $2 * c.duration_n, $2 * c.ms_sum, coalesce(h.buckets, '{}'),
       coalesce(h.counts, '{}')
FROM c LEFT JOIN h ON h.span = c.span AND h.start = c.start AND h.kind = c.kind
                   AND h.schedule_id = c.schedule_id
ORDER BY c.span, c.start, c.kind, c.schedule_id
ON CONFLICT (span, start, kind, schedule_id, shard) DO UPDATE SET
  succeeded = s.succeeded + excluded.succeeded,
  partial = s.partial + excluded.partial,
  failed = s.failed + excluded.failed,
  discarded = s.discarded + excluded.discarded,
  cancelled = s.cancelled + excluded.cancelled,
  lease_expired = s.lease_expired + excluded.lease_expired,
  released = s.released + excluded.released,
  skipped = s.skipped + excluded.skipped,
  runs_succeeded = s.runs_succeeded + excluded.runs_succeeded,
  runs_partial = s.runs_partial + excluded.runs_partial,
  runs_failed = s.runs_failed + excluded.runs_failed,
  runs_skipped = s.runs_skipped + excluded.runs_skipped,
  runs_cancelled = s.runs_cancelled + excluded.runs_cancelled,
  duration_n = s.duration_n + excluded.duration_n,
  duration_ms_sum = s.duration_ms_sum + excluded.duration_ms_sum,
  (hist_bucket, hist_count) = (
    SELECT coalesce(array_agg(m.bucket ORDER BY m.bucket), '{}'),
           coalesce(array_agg(m.n ORDER BY m.bucket), '{}')
    FROM (SELECT u.bucket, sum(u.n)::integer AS n
          FROM unnest(s.hist_bucket || excluded.hist_bucket, s.hist_count || excluded.hist_count)
               AS u(bucket, n)
          GROUP BY u.bucket HAVING sum(u.n) <> 0) m)
$q$, p_source)
$f$;

CREATE OR REPLACE FUNCTION chime.run_stats_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_shard smallint := (pg_backend_pid() % 16)::smallint;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM chime.run_stats;
    RETURN NULL;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    EXECUTE chime.run_stats_sql('old_rows') USING v_shard, -1;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    EXECUTE chime.run_stats_sql('new_rows') USING v_shard, 1;
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- Every completion batch comes through here: chime.run_stats_sql's
    -- statement written out, so that PL/pgSQL keeps its plan (EXECUTE
    -- planned it each time: ~1 ms a statement). stats_store_test checks that
    -- both agree with the ledger.
    WITH r AS (
      SELECT g.span, date_trunc(g.span, t.finished_at, 'UTC') AS start, t.kind,
             coalesce(t.schedule_id, 0) AS schedule_id, t.outcome, t.job_outcome,
             greatest(0, date_part('epoch', t.finished_at - t.started_at) * 1000) AS ms,
             t.outcome NOT IN ('lease_expired', 'released') AS timed
      FROM new_rows t CROSS JOIN (VALUES ('hour'), ('day')) AS g(span)
    ),
    c AS (
      SELECT span, start, kind, schedule_id,
             count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
             count(*) FILTER (WHERE outcome = 'partial') AS partial,
             count(*) FILTER (WHERE outcome = 'failed') AS failed,
             count(*) FILTER (WHERE outcome = 'discarded') AS discarded,
             count(*) FILTER (WHERE outcome = 'cancelled') AS cancelled,
             count(*) FILTER (WHERE outcome = 'lease_expired') AS lease_expired,
             count(*) FILTER (WHERE outcome = 'released') AS released,
             count(*) FILTER (WHERE outcome = 'skipped') AS skipped,
             count(*) FILTER (WHERE job_outcome = 'succeeded') AS runs_succeeded,
             count(*) FILTER (WHERE job_outcome = 'partial') AS runs_partial,
             count(*) FILTER (WHERE job_outcome = 'failed') AS runs_failed,
             count(*) FILTER (WHERE job_outcome = 'skipped') AS runs_skipped,
             count(*) FILTER (WHERE job_outcome = 'cancelled') AS runs_cancelled,
             count(*) FILTER (WHERE timed) AS duration_n,
             coalesce(sum(ms) FILTER (WHERE timed), 0) AS ms_sum
      FROM r GROUP BY span, start, kind, schedule_id
    ),
    b AS (
      SELECT span, start, kind, schedule_id, chime.run_duration_bucket(ms)::smallint AS bucket,
             count(*) AS n
      FROM r WHERE timed GROUP BY 1, 2, 3, 4, 5
    ),
    h AS (
      SELECT span, start, kind, schedule_id, array_agg(bucket ORDER BY bucket) AS buckets,
             array_agg((n)::integer ORDER BY bucket) AS counts
      FROM b GROUP BY span, start, kind, schedule_id
    )
    INSERT INTO chime.run_stats AS s (span, start, kind, schedule_id, shard, succeeded, partial,
      failed, discarded, cancelled, lease_expired, released, skipped, runs_succeeded, runs_partial,
      runs_failed, runs_skipped, runs_cancelled, duration_n, duration_ms_sum, hist_bucket, hist_count)
    SELECT c.span, c.start, c.kind, c.schedule_id, v_shard, c.succeeded, c.partial, c.failed,
           c.discarded, c.cancelled, c.lease_expired, c.released, c.skipped, c.runs_succeeded,
           c.runs_partial, c.runs_failed, c.runs_skipped, c.runs_cancelled,
           c.duration_n, c.ms_sum, coalesce(h.buckets, '{}'), coalesce(h.counts, '{}')
    FROM c LEFT JOIN h ON h.span = c.span AND h.start = c.start AND h.kind = c.kind
                       AND h.schedule_id = c.schedule_id
    ORDER BY c.span, c.start, c.kind, c.schedule_id
    ON CONFLICT (span, start, kind, schedule_id, shard) DO UPDATE SET
      succeeded = s.succeeded + excluded.succeeded,
      partial = s.partial + excluded.partial,
      failed = s.failed + excluded.failed,
      discarded = s.discarded + excluded.discarded,
      cancelled = s.cancelled + excluded.cancelled,
      lease_expired = s.lease_expired + excluded.lease_expired,
      released = s.released + excluded.released,
      skipped = s.skipped + excluded.skipped,
      runs_succeeded = s.runs_succeeded + excluded.runs_succeeded,
      runs_partial = s.runs_partial + excluded.runs_partial,
      runs_failed = s.runs_failed + excluded.runs_failed,
      runs_skipped = s.runs_skipped + excluded.runs_skipped,
      runs_cancelled = s.runs_cancelled + excluded.runs_cancelled,
      duration_n = s.duration_n + excluded.duration_n,
      duration_ms_sum = s.duration_ms_sum + excluded.duration_ms_sum,
      (hist_bucket, hist_count) = (
        SELECT coalesce(array_agg(m.bucket ORDER BY m.bucket), '{}'),
               coalesce(array_agg(m.n ORDER BY m.bucket), '{}')
        FROM (SELECT u.bucket, sum(u.n)::integer AS n
              FROM unnest(s.hist_bucket || excluded.hist_bucket, s.hist_count || excluded.hist_count)
                   AS u(bucket, n)
              GROUP BY u.bucket HAVING sum(u.n) <> 0) m);
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    -- Every run adds one to exactly one attempt counter: a key whose
    -- attempt counters sum to zero over its shards has no run left.
    DELETE FROM chime.run_stats s
    USING (SELECT span, start, kind, schedule_id FROM chime.run_stats
           WHERE (span, start, kind, schedule_id) IN (
             SELECT DISTINCT g.span, date_trunc(g.span, o.finished_at, 'UTC'), o.kind,
                    coalesce(o.schedule_id, 0)
             FROM old_rows o CROSS JOIN (VALUES ('hour'), ('day')) AS g(span))
           GROUP BY span, start, kind, schedule_id
           HAVING sum(succeeded + partial + failed + discarded + cancelled + lease_expired
                      + released + skipped) = 0) z
    WHERE s.span = z.span AND s.start = z.start AND s.kind = z.kind
      AND s.schedule_id = z.schedule_id;
  END IF;
  RETURN NULL;
END;
$$;

DELETE FROM chime.run_stats;
DO $$
BEGIN
  EXECUTE chime.run_stats_sql('chime.runs') USING 0::smallint, 1;
END;
$$;

-- 4. Marking parents: the insert trigger of 0007 also flags the parents of
-- the rows it sees (the first child's statement; later ones find the flag
-- set and write nothing).
CREATE OR REPLACE FUNCTION chime.jobs_enqueued_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO chime.jobs_enqueued AS c (queue, kind, shard, n)
    SELECT queue, kind, (pg_backend_pid() % 16)::smallint, count(*) FROM new_rows
    GROUP BY queue, kind
  ON CONFLICT (queue, kind, shard) DO UPDATE SET n = c.n + excluded.n;
  IF EXISTS (SELECT 1 FROM new_rows WHERE parent_id IS NOT NULL) THEN
    UPDATE chime.jobs p SET fan_out = true
    WHERE p.id IN (SELECT DISTINCT parent_id FROM new_rows WHERE parent_id IS NOT NULL)
      AND NOT p.fan_out;
  END IF;
  RETURN NULL;
END;
$$;

-- 5. Settling fan-outs. After every UPDATE of chime.jobs, the parents that
-- may have just become settled are those of children that now have an
-- outcome, and parents whose own attempt just ended while they wait.
--
-- Race-freedom: the last two children of a parent, or its last child and
-- the parent itself, may finish in concurrent transactions, and each would
-- see the other still live in its snapshot (a lost wake-up). So every
-- finisher first takes a transaction-scoped advisory lock on the parent
-- (key: minus its id), in id order, and only then checks; inside a volatile
-- function each command takes a new snapshot, so the check sees every
-- finisher that held the lock before (a transaction is visible before its
-- locks are released) and a finisher that comes after sees this one. A
-- child's own row is updated before the lock is taken, so whoever locks
-- last sees all the others done and settles the parent exactly once. An
-- advisory lock rather than the parent's row lock: a running parent's row
-- is also locked by its worker's heartbeats, which take the rows of a
-- parent and its child in either order, while a completion holds the
-- child's row first (a deadlock the row lock made possible).
--
-- Settling writes the outcome to the parent's final run row (and the
-- counts per child outcome into its summary), then to the job; the job's
-- update runs this trigger again, which settles the grandparent (an
-- all-exams reconcile -> batch reconciles -> webhook deliveries).
CREATE FUNCTION chime.jobs_settle_fan_outs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_parents bigint[];
  v_parent bigint;
  v_ids bigint[];
  v_outcomes text[];
  v_counts jsonb[];
  v_errors text[];
BEGIN
  -- Claims, heartbeats, progress and completions of childless jobs leave here.
  SELECT array_agg(DISTINCT CASE WHEN n.outcome IS NULL THEN n.id ELSE n.parent_id END
                   ORDER BY CASE WHEN n.outcome IS NULL THEN n.id ELSE n.parent_id END) INTO v_parents
  FROM new_rows n
  WHERE (n.parent_id IS NOT NULL AND n.outcome IS NOT NULL)
     OR (n.fan_out AND n.state = 'succeeded' AND n.outcome IS NULL);
  -- Nesting deeper than any fan-out Chime makes: a cycle of parent ids.
  IF v_parents IS NULL OR pg_trigger_depth() > 8 THEN
    RETURN NULL;
  END IF;
  FOREACH v_parent IN ARRAY v_parents LOOP
    PERFORM pg_advisory_xact_lock(-v_parent);
  END LOOP;

  WITH ready AS (
    SELECT p.id FROM chime.jobs p
    WHERE p.id = ANY(v_parents) AND p.fan_out AND p.state = 'succeeded' AND p.outcome IS NULL
      AND NOT EXISTS (SELECT 1 FROM chime.jobs c WHERE c.parent_id = p.id AND c.outcome IS NULL)
  ),
  -- Each child's newest final row (a child retried by an operator has more).
  kids AS (
    SELECT DISTINCT ON (r.job_id) r.parent_id, r.job_outcome FROM chime.runs r
    WHERE r.parent_id IN (SELECT id FROM ready) AND r.final
    ORDER BY r.job_id, r.finished_at DESC, r.id DESC
  ),
  counts AS (
    SELECT k.parent_id,
           count(*) FILTER (WHERE k.job_outcome = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE k.job_outcome = 'partial') AS partial,
           count(*) FILTER (WHERE k.job_outcome = 'failed') AS failed,
           count(*) FILTER (WHERE k.job_outcome = 'skipped') AS skipped,
           count(*) FILTER (WHERE k.job_outcome = 'cancelled') AS cancelled,
           count(*) AS total
    FROM kids k GROUP BY k.parent_id
  ),
  own AS (
    SELECT DISTINCT ON (r.job_id) r.job_id, r.outcome FROM chime.runs r
    WHERE r.job_id IN (SELECT id FROM ready) AND r.final
    ORDER BY r.job_id, r.finished_at DESC, r.id DESC
  ),
  agg AS (
    SELECT rd.id,
           coalesce(c.succeeded, 0) AS succeeded, coalesce(c.partial, 0) AS partial,
           coalesce(c.failed, 0) AS failed, coalesce(c.skipped, 0) AS skipped,
           coalesce(c.cancelled, 0) AS cancelled, coalesce(c.total, 0) AS total,
           CASE WHEN o.outcome = 'partial' THEN 'partial' ELSE 'succeeded' END AS own
    FROM ready rd LEFT JOIN counts c ON c.parent_id = rd.id LEFT JOIN own o ON o.job_id = rd.id
  )
  SELECT array_agg(a.id ORDER BY a.id),
         array_agg(CASE
           WHEN a.failed = 0 AND a.partial = 0 THEN a.own
           WHEN a.succeeded + a.partial = 0 THEN 'failed'
           ELSE 'partial' END ORDER BY a.id),
         array_agg(jsonb_build_object('succeeded', a.succeeded, 'partial', a.partial,
                                      'failed', a.failed, 'skipped', a.skipped,
                                      'cancelled', a.cancelled, 'total', a.total) ORDER BY a.id),
         array_agg(CASE WHEN a.failed > 0
                        THEN format('%s of %s children failed', a.failed, a.total) END ORDER BY a.id)
    INTO v_ids, v_outcomes, v_counts, v_errors
  FROM agg a;
  IF v_ids IS NULL THEN
    RETURN NULL;
  END IF;

  UPDATE chime.runs r SET job_outcome = s.outcome,
         summary = CASE WHEN jsonb_typeof(r.summary) = 'object'
                        THEN r.summary || jsonb_build_object('childOutcomes', s.counts)
                        ELSE jsonb_build_object('result', r.summary, 'childOutcomes', s.counts) END
  FROM unnest(v_ids, v_outcomes, v_counts) AS s(id, outcome, counts)
  WHERE r.job_id = s.id AND r.final AND r.job_outcome IS NULL;
  UPDATE chime.jobs j SET outcome = s.outcome, last_error = coalesce(s.error, j.last_error)
  FROM unnest(v_ids, v_outcomes, v_errors) AS s(id, outcome, error)
  WHERE j.id = s.id;
  RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION chime.jobs_settle_fan_outs() FROM PUBLIC;

CREATE TRIGGER jobs_settle_fan_outs AFTER UPDATE ON chime.jobs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.jobs_settle_fan_outs();
