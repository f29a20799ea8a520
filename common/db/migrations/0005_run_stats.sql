-- Run statistics (jobctl stats --by, /api/stats, the health monitor) without
-- counting the run ledger: an hourly and a daily rollup per (kind, schedule) that
-- statement triggers on chime.runs keep equal to the ledger, and partial
-- indexes for the "newest failures" lookups. See common/db/stats_store.h for
-- which outcomes count as what.

-- The histogram bucket (1-based, as PostgreSQL arrays are) of a run that
-- took p_ms milliseconds: bucket 1 holds runs under 1 ms; bucket i >= 2 holds
-- [2^((i-2)/4), 2^((i-1)/4)) ms, a quarter of a binary order of magnitude
-- (19 % wide); bucket 121 also takes everything from 2^29.75 ms (9.9 days)
-- up. A percentile read at a bucket's geometric middle is within 9.05 % of
-- the true value (stats_store.cc).
CREATE FUNCTION chime.run_duration_bucket(p_ms double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_ms IS NULL OR p_ms < 1 THEN 1
              ELSE least(121, 2 + floor(4 * ln(p_ms) / ln(2.0::double precision))::integer) END
$$;

-- One row per (span, UTC hour or day of finished_at, kind, schedule, shard):
-- each run is counted once in its hour and once in its day. A report reads
-- the hours of its first, partial day and whole days after that, so 7 days
-- of 60 schedules and kinds read ~1,800 rows instead of ~10,000.
-- schedule_id 0 stands for runs of jobs no schedule fired. Shards (the
-- writer's backend pid mod 16, as in chime.job_counts) keep concurrent
-- completers off each other's rows; readers sum them. Durations (sum and
-- histogram) count the runs a handler ended: not lease_expired (its end is
-- the rescue's clock) nor released (no attempt was used).
CREATE TABLE chime.run_stats (
  span            text             NOT NULL CHECK (span IN ('hour', 'day')),
  start           timestamptz      NOT NULL,
  kind            text             NOT NULL,
  schedule_id     bigint           NOT NULL,
  shard           smallint         NOT NULL,
  succeeded       bigint           NOT NULL,
  partial         bigint           NOT NULL,
  failed          bigint           NOT NULL,
  discarded       bigint           NOT NULL,
  cancelled       bigint           NOT NULL,
  lease_expired   bigint           NOT NULL,
  released        bigint           NOT NULL,
  duration_n      bigint           NOT NULL,
  duration_ms_sum double precision NOT NULL,
  -- The duration histogram, sparse: the non-empty buckets in ascending
  -- order and their counts. A dense 121-element array cost ~15 us a row to
  -- unnest and ~2 us to print.
  hist_bucket     smallint[]       NOT NULL,
  hist_count      integer[]        NOT NULL,
  CHECK (cardinality(hist_bucket) = cardinality(hist_count)),
  PRIMARY KEY (span, start, kind, schedule_id, shard)
);
-- Reports of one schedule or kind read a range of its rows.
CREATE INDEX run_stats_schedule_idx ON chime.run_stats (schedule_id, span, start);
CREATE INDEX run_stats_kind_idx ON chime.run_stats (kind, span, start);

-- The statement that folds a set of runs (p_source: a transition table or
-- chime.runs) into the rollup, with $1 = shard and $2 = +1 (added) or -1
-- (removed). Rows go in key order so that two writers of one shard lock the
-- same rows in the same order and cannot deadlock.
CREATE FUNCTION chime.run_stats_sql(p_source text) RETURNS text
LANGUAGE sql IMMUTABLE AS $f$
SELECT format($q$
WITH r AS (
  SELECT g.span, date_trunc(g.span, t.finished_at, 'UTC') AS start, t.kind,
         coalesce(t.schedule_id, 0) AS schedule_id, t.outcome,
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
  failed, discarded, cancelled, lease_expired, released, duration_n, duration_ms_sum,
  hist_bucket, hist_count)
SELECT c.span, c.start, c.kind, c.schedule_id, $1, $2 * c.succeeded, $2 * c.partial, $2 * c.failed,
       $2 * c.discarded, $2 * c.cancelled, $2 * c.lease_expired, $2 * c.released,
       $2 * c.duration_n, $2 * c.ms_sum, coalesce(h.buckets, '{}'), coalesce(h.counts, '{}')
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

-- Rollups follow the ledger both ways: runs added add, runs deleted (the
-- retention cleanup, chime.delete_old_runs) subtract, and hours and days whose runs
-- are all gone are dropped. So a report equals a count over the runs that
-- still exist; history does not outlive the run retention. SECURITY
-- DEFINER: workers insert runs but have no rights on the rollup.
CREATE FUNCTION chime.run_stats_apply() RETURNS trigger
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
             coalesce(t.schedule_id, 0) AS schedule_id, t.outcome,
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
      failed, discarded, cancelled, lease_expired, released, duration_n, duration_ms_sum,
      hist_bucket, hist_count)
    SELECT c.span, c.start, c.kind, c.schedule_id, v_shard, c.succeeded, c.partial, c.failed,
           c.discarded, c.cancelled, c.lease_expired, c.released,
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
    -- Every run adds one to exactly one outcome counter: a key whose
    -- counters sum to zero over its shards has no run left.
    DELETE FROM chime.run_stats s
    USING (SELECT span, start, kind, schedule_id FROM chime.run_stats
           WHERE (span, start, kind, schedule_id) IN (
             SELECT DISTINCT g.span, date_trunc(g.span, o.finished_at, 'UTC'), o.kind,
                    coalesce(o.schedule_id, 0)
             FROM old_rows o CROSS JOIN (VALUES ('hour'), ('day')) AS g(span))
           GROUP BY span, start, kind, schedule_id
           HAVING sum(succeeded + partial + failed + discarded + cancelled + lease_expired
                      + released) = 0) z
    WHERE s.span = z.span AND s.start = z.start AND s.kind = z.kind
      AND s.schedule_id = z.schedule_id;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER runs_stats_insert AFTER INSERT ON chime.runs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.run_stats_apply();
CREATE TRIGGER runs_stats_update AFTER UPDATE ON chime.runs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.run_stats_apply();
CREATE TRIGGER runs_stats_delete AFTER DELETE ON chime.runs
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.run_stats_apply();
CREATE TRIGGER runs_stats_truncate AFTER TRUNCATE ON chime.runs
  FOR EACH STATEMENT EXECUTE FUNCTION chime.run_stats_apply();

-- Runs that existed before this migration.
DO $$
BEGIN
  EXECUTE chime.run_stats_sql('chime.runs') USING 0::smallint, 1;
END;
$$;

-- "The newest failures of a schedule / kind": failures are a small share of
-- runs, so these stay small and the lookups never walk successes.
CREATE INDEX runs_schedule_failures_idx ON chime.runs (schedule_id, finished_at)
  WHERE schedule_id IS NOT NULL AND outcome IN ('failed', 'discarded', 'lease_expired');
CREATE INDEX runs_kind_failures_idx ON chime.runs (kind, finished_at)
  WHERE outcome IN ('failed', 'discarded', 'lease_expired');


DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    GRANT SELECT ON chime.run_stats TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT ON chime.run_stats TO chime_admin;
  END IF;
END;
$$;
