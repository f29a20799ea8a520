-- A job's final outcome and the run outcome "skipped" (issue 17).
--
-- The state says where a job is in its life (succeeded, discarded, cancelled
-- once finished); the outcome says how its run ended in the seeds' own words:
-- succeeded, partial (done, with errors to report), failed (out of attempts,
-- or a permanent failure), skipped (the endpoint declined to run this tick,
-- e.g. {"skipped": true, "reason": "locked"}: neither success nor failure),
-- cancelled. NULL while the job is live. A skipped attempt ends the job in
-- state 'succeeded' (it is not retried) with outcome 'skipped'.
ALTER TABLE chime.jobs
  ADD COLUMN outcome text CHECK (outcome IN ('succeeded', 'partial', 'failed', 'skipped', 'cancelled'));

-- Finished jobs written before this migration: derive theirs from the state
-- and the newest run (partial is a succeeded job whose last run had errors).
UPDATE chime.jobs j SET outcome = CASE
    WHEN j.state = 'discarded' THEN 'failed'
    WHEN j.state = 'cancelled' THEN 'cancelled'
    WHEN EXISTS (SELECT 1 FROM chime.runs r
                 WHERE r.job_id = j.id AND r.attempt = j.attempt AND r.outcome = 'partial')
      THEN 'partial'
    ELSE 'succeeded' END
WHERE j.state IN ('succeeded', 'discarded', 'cancelled');

ALTER TABLE chime.runs DROP CONSTRAINT runs_outcome_check;
ALTER TABLE chime.runs ADD CONSTRAINT runs_outcome_check
  CHECK (outcome IN ('succeeded', 'partial', 'skipped', 'failed', 'discarded', 'cancelled',
                     'lease_expired', 'released'));

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_worker') THEN
    GRANT UPDATE (outcome) ON chime.jobs TO chime_worker;
    -- The claim names the schedule that fired a job (its log lines and the
    -- Chime-Schedule header); nothing else of a schedule is a worker's.
    GRANT SELECT (id, name) ON chime.schedules TO chime_worker;
  END IF;
END;
$$;
