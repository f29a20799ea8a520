-- The dashboard's pictures over time (issue 22). Runs per hour by outcome and
-- their durations come from the run rollup (0005); what the rollup cannot
-- tell is how deep each queue was a while ago, since a queue's depth is a
-- state, not a sum of events. So the leading scheduler samples every queue
-- every 15 s (scheduler/queue_sampler.cc) into a small, bounded table:
--
--   span 'sample'    each sample as taken, kept 2 hours   (the 1-hour view)
--   span 'five_min'  the largest of each 5 minutes, 26 h  (the 24-hour view)
--   span 'hour'      the largest of each hour, 8 days     (the 7-day view)
--
-- One statement writes all three (common/db/series_store.cc), so no view
-- reads more than ~300 rows per queue. Peaks, not averages, are kept for
-- the coarse spans: a backlog that came and went within the hour is what an
-- operator looks for; ready_sum / samples still gives the average. A queue
-- is sampled while it has a live job or a finished count (at most 100
-- queues), with zeros when it is empty, so a drained queue draws a line at
-- 0 and a gap means nobody sampled (no leader).
CREATE TABLE chime.queue_samples (
  span            text        NOT NULL CHECK (span IN ('sample', 'five_min', 'hour')),
  at              timestamptz NOT NULL,  -- The sampling slot, or the start of the 5 minutes / hour.
  queue           text        NOT NULL,
  ready           bigint      NOT NULL,  -- Claimable now (the largest sample of a coarse span).
  running         bigint      NOT NULL,  -- Under a lease (likewise).
  oldest_ready_ms bigint      NOT NULL,  -- Age of the oldest claimable job (likewise).
  ready_sum       bigint      NOT NULL,  -- Sum of the samples' ready, for an average.
  samples         integer     NOT NULL,
  PRIMARY KEY (span, at, queue)
);

-- Skipped ticks (overlap skip, misfire skip) per bucket for the runs
-- charts: few rows among the fires, read by time without the heap (the
-- schedule in the key serves one schedule's chart from the same scan).
CREATE INDEX fires_skipped_idx ON chime.fires (fired_at, schedule_id)
  WHERE outcome IN ('skipped_overlap', 'skipped_misfire');

-- The job browser lists newest first under a filter. A fan-out's children
-- come from an index in that order (as a schedule's jobs do from 0018's
-- jobs_schedule_idx), so a page costs the same whether the hot table holds
-- a thousand jobs or a million (the planner otherwise walks the primary key
-- backwards through every other job: 170-300 ms with 1,000,000 jobs,
-- chime-bench stats). It replaces 0001's (parent_id) index, which the
-- fan-out's child counts also use.
DROP INDEX chime.jobs_parent_idx;
CREATE INDEX jobs_parent_idx ON chime.jobs (parent_id, id) WHERE parent_id IS NOT NULL;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    -- The leader samples and prunes; every replica's API reads.
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.queue_samples TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT ON chime.queue_samples TO chime_admin;
  END IF;
END;
$$;
