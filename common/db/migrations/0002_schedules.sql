-- Cron schedules: what the leader needs to fire them exactly once per tick,
-- and what jobctl needs to show, trigger and backfill them.

-- Where a fire came from: the leader's clock ('cron'), a tick missed while no
-- scheduler ran ('misfire'), an operator ('manual', rate-limited) or a
-- backfill of a past range ('backfill').
ALTER TABLE chime.fires
  ADD COLUMN origin text NOT NULL DEFAULT 'cron'
    CHECK (origin IN ('cron', 'misfire', 'manual', 'backfill'));

-- Manual triggers are counted per schedule over the last minute.
CREATE INDEX fires_manual_idx ON chime.fires (schedule_id, fired_at) WHERE origin = 'manual';
-- A buffer_one schedule keeps at most one buffered tick; the leader releases
-- it when the live job finishes.
CREATE UNIQUE INDEX fires_buffered_idx ON chime.fires (schedule_id) WHERE outcome = 'buffered';
-- The latest fire of each schedule, for jobctl schedule list.
CREATE INDEX fires_latest_idx ON chime.fires (schedule_id, fired_at DESC);

-- Overlap checks ask "does this schedule have a live job?" for every tick.
CREATE INDEX jobs_schedule_live_idx ON chime.jobs (schedule_id)
  WHERE schedule_id IS NOT NULL AND state IN ('scheduled', 'available', 'running', 'retryable');

-- The leader tells schedulers apart by holder; the epoch is the fencing token
-- every fire is checked against.
COMMENT ON TABLE chime.leader IS 'One row per leadership; epoch bumps on every change of holder';

-- Schedulers keep schedules in memory and reload when this changes: every
-- create, update, pause and delete bumps it (the leader's own bookkeeping of
-- last_fired_for does not).
CREATE TABLE chime.schedules_version (
  one     boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint  NOT NULL
);
INSERT INTO chime.schedules_version VALUES (true, 1);

CREATE FUNCTION chime.schedules_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE chime.schedules_version SET version = version + 1;
  RETURN NULL;
END;
$$;

CREATE TRIGGER schedules_touch_insert_delete AFTER INSERT OR DELETE ON chime.schedules
  FOR EACH STATEMENT EXECUTE FUNCTION chime.schedules_touch();
CREATE TRIGGER schedules_touch_update AFTER UPDATE ON chime.schedules
  FOR EACH ROW
  WHEN (ROW(OLD.cron, OLD.time_zone, OLD.kind, OLD.payload, OLD.queue, OLD.priority,
            OLD.max_attempts, OLD.timeout_ms, OLD.jitter_ms, OLD.overlap_policy,
            OLD.misfire_policy, OLD.paused)
        IS DISTINCT FROM
        ROW(NEW.cron, NEW.time_zone, NEW.kind, NEW.payload, NEW.queue, NEW.priority,
            NEW.max_attempts, NEW.timeout_ms, NEW.jitter_ms, NEW.overlap_policy,
            NEW.misfire_policy, NEW.paused))
  EXECUTE FUNCTION chime.schedules_touch();

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    -- The scheduler loads the schedule file at start (insert, update, delete
    -- of source = 'file' rows), serves jobctl's schedule commands over
    -- ZeroMQ, and reads the version.
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.schedules TO chime_scheduler;
    GRANT SELECT, UPDATE ON chime.schedules_version TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.schedules_version TO chime_admin;
  END IF;
END;
$$;

-- The leader fires a whole batch of ticks in one statement and takes each
-- job's id from the jobs sequence up front, so that the fire row names its job.
DO $$
DECLARE
  seq text := pg_get_serial_sequence('chime.jobs', 'id');
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    EXECUTE format('GRANT USAGE ON SEQUENCE %s TO chime_scheduler', seq);
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    EXECUTE format('GRANT USAGE ON SEQUENCE %s TO chime_admin', seq);
  END IF;
END;
$$;
