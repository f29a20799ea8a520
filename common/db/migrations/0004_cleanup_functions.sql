-- cleanup_old_jobs runs on workers, whose role may not DELETE jobs or runs
-- (a worker that could delete could also erase a job it was handed). These
-- two functions are the only deletions a worker may make: finished jobs and
-- runs older than a retention, in one bounded batch per call. They run with
-- their owner's rights (the migration owner), with a fixed search_path so
-- that a caller's objects cannot stand in for Chime's.

CREATE FUNCTION chime.delete_finished_jobs(p_retention_seconds bigint, p_batch_size integer)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_deleted bigint;
BEGIN
  IF p_retention_seconds IS NULL OR p_retention_seconds < 0
     OR p_batch_size IS NULL OR p_batch_size < 1 OR p_batch_size > 100000 THEN
    RAISE EXCEPTION 'chime.delete_finished_jobs: retention must be >= 0 seconds and the batch 1-100000'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  WITH doomed AS (
    SELECT id FROM chime.jobs
    WHERE state IN ('succeeded', 'discarded', 'cancelled')
      AND finished_at < now() - p_retention_seconds * interval '1 second'
    ORDER BY finished_at LIMIT p_batch_size FOR UPDATE SKIP LOCKED)
  DELETE FROM chime.jobs j USING doomed WHERE j.id = doomed.id;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  RETURN v_deleted;
END;
$$;

CREATE FUNCTION chime.delete_old_runs(p_retention_seconds bigint, p_batch_size integer)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_deleted bigint;
BEGIN
  IF p_retention_seconds IS NULL OR p_retention_seconds < 0
     OR p_batch_size IS NULL OR p_batch_size < 1 OR p_batch_size > 100000 THEN
    RAISE EXCEPTION 'chime.delete_old_runs: retention must be >= 0 seconds and the batch 1-100000'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  WITH doomed AS (
    SELECT id FROM chime.runs
    WHERE finished_at < now() - p_retention_seconds * interval '1 second'
    ORDER BY finished_at LIMIT p_batch_size)
  DELETE FROM chime.runs r USING doomed WHERE r.id = doomed.id;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  RETURN v_deleted;
END;
$$;

REVOKE ALL ON FUNCTION chime.delete_finished_jobs(bigint, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION chime.delete_old_runs(bigint, integer) FROM PUBLIC;

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['chime_worker', 'chime_scheduler', 'chime_admin'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION chime.delete_finished_jobs(bigint, integer) TO %I', r);
      EXECUTE format('GRANT EXECUTE ON FUNCTION chime.delete_old_runs(bigint, integer) TO %I', r);
    END IF;
  END LOOP;
END;
$$;
