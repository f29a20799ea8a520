-- Jobs enqueued per (queue, kind) since the database was made, for the
-- chime_jobs_enqueued_total counter: every route that inserts jobs (jobctl,
-- fires, handlers' children, an application's own INSERT) goes through the
-- table, so a statement-level trigger sees them all. Rows only grow (the
-- retention cleanup deletes jobs, not this), so the metric is a true
-- counter across scheduler restarts. Sharded by backend like job_counts so
-- concurrent inserters rarely wait on one row.
CREATE TABLE chime.jobs_enqueued (
  queue text     NOT NULL,
  kind  text     NOT NULL,
  shard smallint NOT NULL,
  n     bigint   NOT NULL,
  PRIMARY KEY (queue, kind, shard)
);

-- SECURITY DEFINER: workers insert child jobs but get no rights on the table.
CREATE FUNCTION chime.jobs_enqueued_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO chime.jobs_enqueued AS c (queue, kind, shard, n)
    SELECT queue, kind, (pg_backend_pid() % 16)::smallint, count(*) FROM new_rows
    GROUP BY queue, kind
  ON CONFLICT (queue, kind, shard) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION chime.jobs_enqueued_apply() FROM PUBLIC;

CREATE TRIGGER jobs_enqueued_insert AFTER INSERT ON chime.jobs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.jobs_enqueued_apply();

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    GRANT SELECT ON chime.jobs_enqueued TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT ON chime.jobs_enqueued TO chime_admin;
  END IF;
END;
$$;
