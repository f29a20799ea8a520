-- chime.jobs_all's two sides as views of their own, so that a newest-first
-- page can be read from each side in id order (JobsList).
--
-- Why: PostgreSQL does not flatten a UNION ALL member that reads a
-- partitioned table (chime.runs) into the union, so an ORDER BY id DESC
-- LIMIT n over chime.jobs_all planned the held side on its own, unordered:
-- every held run read and sorted for each page. `chime-bench --quick stats`
-- with 46,000 held jobs: /api/jobs?limit=50 took 35 ms at p50 and
-- /api/jobs?queue=default 56 ms; with 1,000,000 it would take seconds. Each
-- side read alone, as a simple view in FROM, is planned in id order: a merge
-- of the day partitions' runs_held_idx backwards.
--
-- chime.jobs_all keeps its columns and meaning (the union of the two).

CREATE VIEW chime.jobs_live AS
  SELECT id, kind, queue, priority, state, payload, attempt, max_attempts, rescue_count, timeout_ms,
         unique_key, parent_id, schedule_id, scheduled_for, dry_run, cancel_requested, worker_id,
         lease_token, lease_expires_at, created_at, run_at, attempted_at, finished_at, last_error,
         progress, invocation, heartbeat_at, outcome, fan_out, limit_keys, limit_shards
  FROM chime.jobs;

CREATE VIEW chime.jobs_held AS
  SELECT r.job_id AS id, r.kind, r.queue, r.priority,
         chime.job_state_of(r.job_outcome) AS state,
         r.payload, r.attempt, r.max_attempts, r.rescue_count, r.timeout_ms, r.unique_key,
         r.parent_id, r.schedule_id, r.scheduled_for, r.dry_run, false AS cancel_requested,
         r.worker_id, NULL::uuid AS lease_token, NULL::timestamptz AS lease_expires_at,
         r.created_at, r.run_at, r.started_at AS attempted_at, r.finished_at, r.last_error,
         r.progress, r.invocation, NULL::timestamptz AS heartbeat_at, r.job_outcome AS outcome,
         r.fan_out, NULL::text[] AS limit_keys, NULL::smallint[] AS limit_shards
  FROM chime.runs r WHERE r.holds_job AND r.final;  -- (final: the same rows; lets
                                                      -- runs_parent_final_idx serve)

-- A parent's held children newest first (JobsList's parent filter), in
-- id order: the parent's index gains the job id. It still serves the
-- fan-out settling's lookups by parent. With (parent_id) alone, the held
-- side walked runs_held_idx through every held job to find a parent's
-- children (`chime-bench stats`, 920,000 held jobs: /api/jobs?parent=1
-- 247 ms at p50).
DROP INDEX chime.runs_parent_final_idx;
CREATE INDEX runs_parent_final_idx ON chime.runs (parent_id, job_id) WHERE parent_id IS NOT NULL AND final;

CREATE OR REPLACE VIEW chime.jobs_all AS
  SELECT * FROM chime.jobs_live
  UNION ALL
  SELECT * FROM chime.jobs_held;

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['chime_worker', 'chime_scheduler', 'chime_admin'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('GRANT SELECT ON chime.jobs_live, chime.jobs_held TO %I', r);
    END IF;
  END LOOP;
END;
$$;
