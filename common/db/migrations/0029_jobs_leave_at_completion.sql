-- A finished job leaves chime.jobs at its completion (issue 19: the hot
-- table holds only live jobs). Until now a completion updated the job to its
-- final state (a new row version with its index entries in chime.jobs) and
-- wrote its final run; the row then stayed in chime.jobs until retention
-- deleted it row by row, and with a long history at full rate vacuum fell
-- behind and the claim's read of the queue head grew (STATUS, the 30-minute
-- soak). Now the completion of an attempt that ends its job deletes the job
-- and writes its final run with the job's own columns, the run "holding" the
-- job (runs.holds_job). So:
--
-- * chime.jobs keeps the live jobs, plus the few finished by another path:
--   an operator's cancel of a waiting job, a rescue that discards, a fan-out
--   parent (it waits for its children and settles in place). Retention
--   deletes those as before (chime.delete_finished_jobs), and so the jobs
--   finished before this migration, which stay where they are.
-- * The history of jobs finished by a completion is the run ledger, kept
--   and dropped by the day with it (0025): retention of those is a DROP.
-- * chime.jobs_all (a view) is chime.jobs and the held jobs, with
--   chime.jobs' columns: what reads a job whatever its state reads it.
-- * A completion leaves no new row version in chime.jobs, nor its index
--   entries: a batch of 1,000 completions costs a fifth less (EXPLAIN
--   ANALYZE, STATUS).
--
-- Why the run ledger and not a mirror table of finished jobs: a mirror
-- needs its own day partitions and retention (0025's machinery again), and
-- a completion would write two rows where it writes one now. Why not
-- partition chime.jobs by finished_at: a row moved between partitions makes
-- a concurrent heartbeat or claim fail with 40001 (STATUS, sixth session).
--
-- The job's columns on its run: the ones a run lacks. Its state is the
-- run's job_outcome's (chime.job_state_of); worker_id, attempt, started_at
-- (attempted_at), finished_at, kind, queue, schedule, parent and dry_run
-- are the run's own. Lease, heartbeat and limit columns are a running job's
-- and are NULL for a finished one. The new columns need no rewrite; the
-- CHECK reads the ledger once (every row is false).
ALTER TABLE chime.runs
  ADD COLUMN holds_job     boolean NOT NULL DEFAULT false,
  ADD COLUMN priority      smallint,
  ADD COLUMN payload       jsonb,
  ADD COLUMN max_attempts  integer,
  ADD COLUMN rescue_count  integer,
  ADD COLUMN timeout_ms    integer,
  ADD COLUMN unique_key    text,
  ADD COLUMN invocation    text,
  ADD COLUMN created_at    timestamptz,
  ADD COLUMN run_at        timestamptz,
  ADD COLUMN last_error    text,
  ADD COLUMN progress      jsonb,
  ADD COLUMN fan_out       boolean,
  ADD CONSTRAINT runs_holds_job_check
    CHECK (NOT holds_job OR (final AND job_outcome IS NOT NULL AND payload IS NOT NULL));

-- The state of a job that finished with this outcome (kComplete's rule).
-- No SET clause: a function with one is never inlined, and each call then
-- sets and restores the setting (~30 us a row).
CREATE FUNCTION chime.job_state_of(p_outcome text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE p_outcome WHEN 'failed' THEN 'discarded' WHEN 'cancelled' THEN 'cancelled'
                        ELSE 'succeeded' END
$$;

CREATE VIEW chime.jobs_all AS
  SELECT id, kind, queue, priority, state, payload, attempt, max_attempts, rescue_count, timeout_ms,
         unique_key, parent_id, schedule_id, scheduled_for, dry_run, cancel_requested, worker_id,
         lease_token, lease_expires_at, created_at, run_at, attempted_at, finished_at, last_error,
         progress, invocation, heartbeat_at, outcome, fan_out, limit_keys, limit_shards
  FROM chime.jobs
  UNION ALL
  SELECT r.job_id, r.kind, r.queue, r.priority,
         chime.job_state_of(r.job_outcome),
         r.payload, r.attempt, r.max_attempts, r.rescue_count, r.timeout_ms, r.unique_key,
         r.parent_id, r.schedule_id, r.scheduled_for, r.dry_run, false, r.worker_id, NULL::uuid,
         NULL::timestamptz, r.created_at, r.run_at, r.started_at, r.finished_at, r.last_error,
         r.progress, r.invocation, NULL::timestamptz, r.job_outcome, r.fan_out, NULL::text[],
         NULL::smallint[]
  FROM chime.runs r WHERE r.holds_job AND r.final;  -- (final: the same rows; lets
                                                      -- runs_parent_final_idx serve)

-- The held runs by job id, for chime.jobs_all's reads by id and in id order
-- (a run that holds no job is skipped at no cost: retried attempts, and
-- every run of before this migration). A UNION ALL branch with a WHERE
-- clause is not flattened into a join, so a join with chime.jobs_all reads
-- every held run: a reader that joins a job's state probes by id instead
-- (CHIME_SQL_JOB_STATE_LATERAL, common/db/job_state_sql.h).
CREATE INDEX runs_held_idx ON chime.runs (job_id) WHERE holds_job;
-- And by schedule in id order, as JobsList reads a schedule's jobs (a
-- schedule's runs include every retried attempt and the runs of before
-- this migration; only scheduled jobs pay for it).
CREATE INDEX runs_held_schedule_idx ON chime.runs (schedule_id, job_id)
  WHERE holds_job AND schedule_id IS NOT NULL;

-- Counts of the held jobs by the UTC day they finished (the day of their
-- run's partition), like chime.job_counts' of finished jobs in chime.jobs:
-- chime.finished_job_counts adds the two. Counted by chime.jobs_complete,
-- which alone writes such runs, and kept by statement triggers on chime.runs' updates
-- and deletes (an operator's retry, retention's deletes); a day dropped by
-- retention takes its rows with it (chime.delete_old_history). No insert
-- trigger: the completion counts the jobs it ended from the few columns it
-- has in hand (0.5-0.8 ms a batch of 1,000, EXPLAIN ANALYZE).
CREATE TABLE chime.job_history_counts (
  day   date     NOT NULL,
  queue text     NOT NULL,
  kind  text     NOT NULL,
  state text     NOT NULL,
  shard smallint NOT NULL,
  n     bigint   NOT NULL,
  PRIMARY KEY (day, queue, kind, state, shard)
);

-- Adds p_sign for each run given by its finished_at, queue, kind and
-- job_outcome (parallel arrays; NULL: none). PL/pgSQL, which keeps its
-- plan across calls (a SQL function's statement is planned at each call).
CREATE FUNCTION chime.job_history_counts_add(p_sign integer, p_finished timestamptz[], p_queues text[],
                                             p_kinds text[], p_outcomes text[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO chime.job_history_counts AS c (day, queue, kind, state, shard, n)
  SELECT (t.finished_at AT TIME ZONE 'UTC')::date, t.queue, t.kind, chime.job_state_of(t.outcome),
         (pg_backend_pid() % 16)::smallint, p_sign * count(*)
  FROM unnest(p_finished, p_queues, p_kinds, p_outcomes) AS t(finished_at, queue, kind, outcome)
  GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (day, queue, kind, state, shard) DO UPDATE SET n = c.n + excluded.n;
END;
$$;
REVOKE ALL ON FUNCTION chime.job_history_counts_add(integer, timestamptz[], text[], text[], text[]) FROM PUBLIC;

-- Finished jobs counted wherever they are: what JobsStats, the queue
-- sampler and the benches read.
CREATE VIEW chime.finished_job_counts AS
  SELECT queue, kind, state, n FROM chime.job_counts
  UNION ALL
  SELECT queue, kind, state, n FROM chime.job_history_counts;

CREATE FUNCTION chime.job_history_counts_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM chime.job_history_counts;
    RETURN NULL;
  END IF;
  -- A transition table exists only for the events that have it: one
  -- statement each.
  IF TG_OP = 'UPDATE' THEN
    PERFORM chime.job_history_counts_add(1, array_agg(r.finished_at), array_agg(r.queue),
                                         array_agg(r.kind), array_agg(r.job_outcome))
    FROM new_rows r WHERE r.holds_job;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM chime.job_history_counts_add(-1, array_agg(r.finished_at), array_agg(r.queue),
                                         array_agg(r.kind), array_agg(r.job_outcome))
    FROM old_rows r WHERE r.holds_job;
  END IF;
  RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION chime.job_history_counts_apply() FROM PUBLIC;

CREATE TRIGGER runs_job_history_update AFTER UPDATE ON chime.runs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.job_history_counts_apply();
CREATE TRIGGER runs_job_history_delete AFTER DELETE ON chime.runs
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.job_history_counts_apply();
CREATE TRIGGER runs_job_history_truncate AFTER TRUNCATE ON chime.runs
  FOR EACH STATEMENT EXECUTE FUNCTION chime.job_history_counts_apply();

-- Settling fan-outs (0018) once, for both of its triggers: a child that
-- leaves chime.jobs at its completion settles its parent from its run's
-- insert, any other from its job's update. The body is 0018's: the
-- parents' advisory locks (the race-freedom 0018 explains), then the
-- parents whose children are all done are settled. A held child has left
-- chime.jobs, so "a child with no outcome yet" still reads chime.jobs only.
CREATE FUNCTION chime.fan_outs_settle(v_parents bigint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_parent bigint;
  v_ids bigint[];
  v_outcomes text[];
  v_counts jsonb[];
  v_errors text[];
BEGIN
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
    RETURN;
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
END;
$$;
REVOKE ALL ON FUNCTION chime.fan_outs_settle(bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION chime.jobs_settle_fan_outs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_parents bigint[];
BEGIN
  -- Claims, heartbeats, progress and completions of childless jobs leave here.
  SELECT array_agg(DISTINCT CASE WHEN n.outcome IS NULL THEN n.id ELSE n.parent_id END
                   ORDER BY CASE WHEN n.outcome IS NULL THEN n.id ELSE n.parent_id END) INTO v_parents
  FROM new_rows n
  WHERE (n.parent_id IS NOT NULL AND n.outcome IS NOT NULL)
     OR (n.fan_out AND n.state = 'succeeded' AND n.outcome IS NULL);
  -- Nesting deeper than any fan-out Chime makes: a cycle of parent ids.
  IF v_parents IS NOT NULL AND pg_trigger_depth() <= 8 THEN
    PERFORM chime.fan_outs_settle(v_parents);
  END IF;
  RETURN NULL;
END;
$$;

CREATE FUNCTION chime.runs_settle_fan_outs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_parents bigint[];
BEGIN
  SELECT array_agg(DISTINCT n.parent_id ORDER BY n.parent_id) INTO v_parents
  FROM new_rows n WHERE n.holds_job AND n.parent_id IS NOT NULL;
  IF v_parents IS NOT NULL AND pg_trigger_depth() <= 8 THEN
    PERFORM chime.fan_outs_settle(v_parents);
  END IF;
  RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION chime.runs_settle_fan_outs() FROM PUBLIC;

CREATE TRIGGER runs_settle_fan_outs AFTER INSERT ON chime.runs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.runs_settle_fan_outs();

-- 0023's notification, also from a delete: a running job that leaves
-- chime.jobs (its completion) frees its place under a limit as a finished
-- one did.
CREATE OR REPLACE FUNCTION chime.jobs_notify_ready() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_ready text;
BEGIN
  -- "queue:count,..."; at most 40 queues keeps it under pg_notify's 8000 bytes.
  SELECT string_agg(queue || ':' || n, ',') INTO v_ready
  FROM (SELECT queue, count(*) AS n FROM new_rows
        WHERE (TG_OP <> 'DELETE' AND state IN ('available', 'retryable') AND run_at <= now())
           OR (limit_keys IS NOT NULL
               AND CASE WHEN TG_OP = 'DELETE' THEN state = 'running'
                        ELSE state IN ('succeeded', 'discarded', 'cancelled') END)
        GROUP BY queue ORDER BY queue LIMIT 40) t;
  IF v_ready IS NOT NULL AND EXISTS (
       SELECT 1 FROM new_rows r, unnest(r.limit_keys) k, chime.limits l
       WHERE r.limit_keys IS NOT NULL
         AND CASE WHEN TG_OP = 'DELETE' THEN r.state = 'running'
                  ELSE r.state IN ('succeeded', 'discarded', 'cancelled') END
         AND l.name = split_part(k, '/', 1) AND l.queue IS NULL) THEN
    v_ready := v_ready || ',*:1';
  END IF;
  IF v_ready IS NOT NULL THEN
    -- PostgreSQL folds identical notifications of one transaction into one;
    -- a unique tail (skipped by the parser) keeps each statement's count.
    PERFORM pg_notify('chime_jobs_ready', v_ready || ',#' || gen_random_uuid());
  END IF;
  RETURN NULL;
END;
$$;

-- (The deleted rows are named new_rows so that one function reads them.)
CREATE TRIGGER jobs_notify_delete AFTER DELETE ON chime.jobs
  REFERENCING OLD TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.jobs_notify_ready();

-- The completion (job_store_sql.h kComplete, which calls it): arrays $1 ids,
-- $2 tokens, $3 how ('succeeded' | 'skipped' | 'failed' | 'failed_permanent'
-- | 'cancelled'), $4 retry delay ms, $5 summary JSON text, $6 errors as a
-- JSON array text, $7 worker. Applies only to rows still running under the
-- token, and writes one run per applied attempt, in one call (two statements
-- at most, one transaction); answers
-- (id, state, token) of each applied one (a batch may hold two attempts of
-- one job: only the token tells which one applied).
-- * An attempt that ends its job (success, skip, cancel, a permanent
--   failure, the last attempt's failure) deletes the job and writes its
--   final run holding the job's columns.
-- * A failure with attempts left makes the job retryable after the delay;
--   a fan-out parent (fan_out: it enqueued children) that succeeds stays
--   with its outcome NULL, waiting for its children (chime.fan_outs_settle
--   settles it, in this statement when they are all done already). Both
--   update the job, as before.
-- SECURITY DEFINER: a worker may remove a job only by completing it under
-- its lease (it has no DELETE on chime.jobs: roles_test).
CREATE FUNCTION chime.jobs_complete(p_ids bigint[], p_tokens uuid[], p_hows text[], p_delays bigint[],
                                    p_summaries text[], p_errors text[], p_workers text[])
RETURNS TABLE (id bigint, state text, token uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 100 AS $$
#variable_conflict use_column
DECLARE
  v_ids bigint[];
  v_tokens uuid[];
  v_queues text[];
  v_kinds text[];
  v_outcomes text[];
BEGIN
  -- 1. The attempts that end their jobs: the job goes, its final run holds it.
  WITH i AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_hows, p_summaries, p_errors, p_workers)
                  AS i(id, token, how, summary, errors, worker)
  ),
  ended AS (
    DELETE FROM chime.jobs j USING i
    WHERE j.id = i.id AND j.lease_token = i.token
      AND NOT (i.how = 'failed' AND j.attempt < j.max_attempts)
      AND NOT (i.how = 'succeeded' AND j.fan_out)
    RETURNING j.*, i.how, i.summary, i.errors, i.worker, i.token AS t,
      CASE WHEN i.how = 'succeeded' AND i.errors::jsonb <> '[]'::jsonb THEN 'partial'
           WHEN i.how IN ('succeeded', 'skipped', 'cancelled') THEN i.how
           ELSE 'failed' END AS job_outcome
  ),
  written AS (
    INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, scheduled_for, worker_id,
                            started_at, outcome, summary, errors, dry_run, final, job_outcome,
                            parent_id, holds_job, priority, payload, max_attempts, rescue_count,
                            timeout_ms, unique_key, invocation, created_at, run_at, last_error,
                            progress, fan_out)
    SELECT e.id, e.kind, e.queue, e.attempt, e.schedule_id, e.scheduled_for, e.worker, e.attempted_at,
           CASE WHEN e.job_outcome = 'failed' THEN 'discarded' ELSE e.job_outcome END,
           e.summary::jsonb, ARRAY(SELECT jsonb_array_elements_text(e.errors::jsonb)), e.dry_run,
           true, e.job_outcome, e.parent_id, true, e.priority, e.payload, e.max_attempts,
           e.rescue_count, e.timeout_ms, e.unique_key, e.invocation, e.created_at, e.run_at,
           CASE WHEN e.how IN ('failed', 'failed_permanent')
                  THEN left(coalesce(e.errors::jsonb ->> -1, 'failed'), 2000)
                WHEN e.how = 'cancelled' THEN 'cancelled'
                ELSE e.last_error END,
           e.progress, e.fan_out
    FROM ended e
  )
  SELECT array_agg(e.id), array_agg(e.t), array_agg(e.queue), array_agg(e.kind), array_agg(e.job_outcome)
  INTO v_ids, v_tokens, v_queues, v_kinds, v_outcomes
  FROM ended e;
  IF v_ids IS NOT NULL THEN
    -- The held runs' finished_at is now(), the statement's.
    PERFORM chime.job_history_counts_add(1, array_fill(now(), ARRAY[cardinality(v_ids)]), v_queues,
                                         v_kinds, v_outcomes);
    RETURN QUERY SELECT u.id, chime.job_state_of(u.outcome), u.token
                 FROM unnest(v_ids, v_outcomes, v_tokens) AS u(id, outcome, token);
  END IF;
  IF coalesce(cardinality(v_ids), 0) = cardinality(p_ids) THEN
    RETURN;  -- A stream of finishing jobs ends here, without a second probe.
  END IF;

  -- 2. A failure with attempts left (retryable after its delay) and a
  -- fan-out parent's success (it waits for its children): the job stays.
  -- (An id that matched neither lost its lease.)
  RETURN QUERY
  WITH i AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_hows, p_delays, p_summaries, p_errors, p_workers)
                  AS i(id, token, how, delay_ms, summary, errors, worker)
    WHERE i.how IN ('failed', 'succeeded')
  ),
  kept AS (
    UPDATE chime.jobs j SET
      state = CASE WHEN i.how = 'failed' THEN 'retryable' ELSE 'succeeded' END,
      outcome = NULL,
      run_at = CASE WHEN i.how = 'failed' THEN now() + i.delay_ms * interval '1 millisecond'
                    ELSE j.run_at END,
      finished_at = CASE WHEN i.how = 'failed' THEN NULL ELSE now() END,
      last_error = CASE WHEN i.how = 'failed' THEN left(coalesce(i.errors::jsonb ->> -1, 'failed'), 2000)
                        ELSE j.last_error END,
      lease_token = NULL, lease_expires_at = NULL, cancel_requested = false
    FROM i
    WHERE j.id = i.id AND j.lease_token = i.token
      AND ((i.how = 'failed' AND j.attempt < j.max_attempts) OR (i.how = 'succeeded' AND j.fan_out))
    RETURNING j.id, j.state, j.parent_id, j.kind, j.queue, j.attempt, j.attempted_at, j.dry_run,
              j.schedule_id, j.scheduled_for, i.how, i.summary, i.errors, i.worker, i.token AS t
  ),
  written AS (
    INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, scheduled_for, worker_id,
                            started_at, outcome, summary, errors, dry_run, final, parent_id)
    SELECT k.id, k.kind, k.queue, k.attempt, k.schedule_id, k.scheduled_for, k.worker, k.attempted_at,
           CASE WHEN k.how = 'failed' THEN 'failed'
                WHEN k.errors::jsonb <> '[]'::jsonb THEN 'partial' ELSE 'succeeded' END,
           k.summary::jsonb, ARRAY(SELECT jsonb_array_elements_text(k.errors::jsonb)), k.dry_run,
           k.state <> 'retryable', k.parent_id
    FROM kept k
  )
  SELECT k.id, k.state, k.t FROM kept k;
END;
$$;
REVOKE ALL ON FUNCTION chime.jobs_complete(bigint[], uuid[], text[], bigint[], text[], text[], text[]) FROM PUBLIC;

-- Retention by the day (0025's chime.delete_old_runs, whose text this is),
-- answering also how many jobs went with the runs that held them: a
-- dropped day's from chime.job_history_counts (its rows go with it), the
-- catch-all's counted as they are deleted. chime.delete_old_runs keeps its
-- signature for binaries of before, over this one.
CREATE FUNCTION chime.delete_old_history(p_retention_seconds bigint, p_batch_size integer,
                                         OUT runs bigint, OUT jobs bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_cutoff timestamptz;
  v_today date := (now() AT TIME ZONE 'UTC')::date;
  v_days record;
  v_from timestamptz;
  v_n bigint;
  v_deleted bigint := 0;
  v_jobs bigint := 0;
  v_held bigint;
  v_lock_timeout text := current_setting('lock_timeout');
BEGIN
  IF p_retention_seconds IS NULL OR p_retention_seconds < 0
     OR p_batch_size IS NULL OR p_batch_size < 1 OR p_batch_size > 100000 THEN
    RAISE EXCEPTION 'chime.delete_old_history: retention must be >= 0 seconds and the batch 1-100000'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_cutoff := now() - p_retention_seconds * interval '1 second';
  -- The first day while it is wholly past the retention (today's never):
  -- a DROP each, chime.runs_before reaching up to the next day. The day's
  -- rollup rows (hour and day spans, every shard) counted exactly its runs;
  -- they go with it.
  LOOP
    v_days := chime.runs_days();
    EXIT WHEN v_days.first_day IS NULL OR v_days.first_day >= v_today
      OR (v_days.first_day + 1)::timestamp AT TIME ZONE 'UTC' > v_cutoff;
    v_from := v_days.first_day::timestamp AT TIME ZONE 'UTC';
    BEGIN
      PERFORM set_config('lock_timeout', '1s', true);
      -- Locks chime.runs: no run of the day can be written or moved while
      -- its rollup rows are read and deleted.
      ALTER TABLE chime.runs DETACH PARTITION chime.runs_before;
      EXECUTE format('DROP TABLE chime.%I', 'runs_' || to_char(v_days.first_day, 'YYYYMMDD'));
      PERFORM chime.runs_attach_edge('runs_before', v_from + interval '1 day');
      SELECT coalesce(sum(chime.run_stats_runs(s)), 0) INTO v_n
      FROM chime.run_stats s WHERE s.span = 'day' AND s.start = v_from;
      DELETE FROM chime.run_stats s WHERE s.start >= v_from AND s.start < v_from + interval '1 day';
      -- And the jobs its runs held, counted by day.
      SELECT coalesce(sum(c.n), 0) INTO v_held FROM chime.job_history_counts c WHERE c.day = v_days.first_day;
      DELETE FROM chime.job_history_counts c WHERE c.day = v_days.first_day;
      v_jobs := v_jobs + v_held;
      v_deleted := v_deleted + v_n;
    EXCEPTION
      WHEN lock_not_available THEN
        RAISE NOTICE 'chime.delete_old_history: chime.runs is busy; the day % is left for the next call',
          v_days.first_day;
        EXIT;
      -- Another cleanup is dropping it (and counts its runs).
      WHEN undefined_table OR duplicate_object THEN
        EXIT;
    END;
  END LOOP;
  PERFORM set_config('lock_timeout', v_lock_timeout, true);
  -- Runs older than the first day, one bounded batch (the rollup's delete
  -- trigger takes them out of the statistics).
  WITH doomed AS (
    SELECT id, finished_at FROM chime.runs_before
    WHERE finished_at < v_cutoff
    ORDER BY finished_at LIMIT p_batch_size),
  -- (chime.job_history_counts_apply takes the held jobs out of the counts.)
  gone AS (
    DELETE FROM chime.runs r USING doomed
    WHERE r.id = doomed.id AND r.finished_at = doomed.finished_at AND r.finished_at < v_cutoff
    RETURNING r.holds_job)
  SELECT count(*), count(*) FILTER (WHERE gone.holds_job) INTO v_n, v_held FROM gone;
  runs := v_deleted + v_n;
  jobs := v_jobs + v_held;
END;
$$;


CREATE OR REPLACE FUNCTION chime.delete_old_runs(p_retention_seconds bigint, p_batch_size integer)
RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT runs FROM chime.delete_old_history(p_retention_seconds, p_batch_size)
$$;

-- How many held jobs chime.delete_old_history would delete now (as
-- chime.old_runs_count counts its runs), for cleanup_old_jobs' dry run.
CREATE FUNCTION chime.old_held_jobs_count(p_retention_seconds bigint)
RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce((SELECT sum(c.n) FROM chime.job_history_counts c
                   WHERE c.day >= (SELECT first_day FROM chime.runs_days())
                     AND (c.day + 1)::timestamp AT TIME ZONE 'UTC'
                         <= now() - p_retention_seconds * interval '1 second'
                     AND c.day < (now() AT TIME ZONE 'UTC')::date), 0)
       + (SELECT count(*) FROM chime.runs_before
          WHERE holds_job AND finished_at < now() - p_retention_seconds * interval '1 second')
$$;
REVOKE ALL ON FUNCTION chime.delete_old_history(bigint, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION chime.old_held_jobs_count(bigint) FROM PUBLIC;

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['chime_worker', 'chime_scheduler', 'chime_admin'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION chime.jobs_complete(bigint[], uuid[], text[], bigint[], '
                     'text[], text[], text[]) TO %I', r);
      EXECUTE format('GRANT EXECUTE ON FUNCTION chime.delete_old_history(bigint, integer) TO %I', r);
      EXECUTE format('GRANT EXECUTE ON FUNCTION chime.old_held_jobs_count(bigint) TO %I', r);
      EXECUTE format('GRANT SELECT ON chime.jobs_all, chime.job_history_counts, chime.finished_job_counts '
                     'TO %I', r);
    END IF;
  END LOOP;
  -- 0001 gave the administrator every table of its time.
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT INSERT, UPDATE, DELETE ON chime.job_history_counts TO chime_admin;
  END IF;
END;
$$;
