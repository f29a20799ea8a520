-- chime_worker gets only what a worker uses (tests/common/db/roles_test.cc
-- runs every job store call a worker makes under the role, and tries what it
-- must not do). 0001 gave it whole-table rights that were broader:
--
-- * UPDATE on every column of chime.jobs, so a worker could rewrite what a
--   job is (kind, payload, queue, max_attempts, its schedule). Now only the
--   columns the claim, heartbeat, progress, completion, release and rescue
--   statements set (common/db/job_store_sql.h).
-- * INSERT on every column of chime.jobs. Workers enqueue child jobs through
--   the job store's insert, which names its columns; a worker may no longer
--   make a job that claims to be a schedule's fire or arrives leased.
-- * INSERT and UPDATE on chime.job_counts, which only the counting trigger
--   needs. The trigger now runs with its owner's rights, like the other
--   bookkeeping triggers (0005, 0007); workers keep SELECT for JobsStats.
-- * INSERT, UPDATE and DELETE on chime.workers, which no worker writes (the
--   scheduler keeps workers in memory).

ALTER FUNCTION chime.job_counts_apply() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION chime.job_counts_apply() FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_worker') THEN
    REVOKE INSERT, UPDATE ON chime.jobs FROM chime_worker;
    GRANT INSERT (kind, queue, priority, state, payload, run_at, max_attempts, timeout_ms,
                  unique_key, parent_id, dry_run, invocation)
      ON chime.jobs TO chime_worker;
    GRANT UPDATE (state, attempt, run_at, finished_at, last_error, progress, worker_id,
                  lease_token, lease_expires_at, attempted_at, heartbeat_at, cancel_requested,
                  rescue_count)
      ON chime.jobs TO chime_worker;
    REVOKE INSERT, UPDATE, DELETE ON chime.job_counts FROM chime_worker;
    REVOKE INSERT, UPDATE, DELETE ON chime.workers FROM chime_worker;
  END IF;
END;
$$;
