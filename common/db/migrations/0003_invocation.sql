-- Whether a schedule or a person started a job: the seeds' results report
-- their "invocation type" (cron or manual). Fires of the cron loop and the
-- misfire policy are 'cron'; jobctl enqueue, schedule trigger and backfill are
-- 'manual'; a child job inherits its parent's. A constant default adds the
-- column without rewriting the table.
ALTER TABLE chime.jobs
  ADD COLUMN invocation text NOT NULL DEFAULT 'manual' CHECK (invocation IN ('cron', 'manual'));
