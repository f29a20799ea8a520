-- Whether a schedule or a person started a job: the seeds' results report
-- their "invocation type" (cron or manual). Fires of the cron loop and the
-- misfire policy are 'cron'; jobctl enqueue, schedule trigger and backfill are
-- 'manual'; a child job inherits its parent's. A constant default adds the
-- column without rewriting the table.
ALTER TABLE chime.jobs
  ADD COLUMN invocation text NOT NULL DEFAULT 'manual' CHECK (invocation IN ('cron', 'manual'));

-- When the worker holding a running job last proved it was alive (the claim,
-- then each heartbeat). reset_stale_jobs also rescues jobs silent for longer
-- than its threshold even when a long lease has not run out yet.
ALTER TABLE chime.jobs ADD COLUMN heartbeat_at timestamptz;
