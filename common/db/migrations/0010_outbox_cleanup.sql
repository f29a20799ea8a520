-- cleanup_old_jobs also prunes the webhook outbox (0009), whose delivered
-- rows would otherwise grow forever. Workers may not DELETE outbox rows (a
-- worker that could would be able to drop a webhook before it is sent), so,
-- as 0004 does for jobs and runs, this function is the only deletion a
-- worker may make there: rows DELIVERED longer ago than a retention, one
-- bounded batch per call. An undelivered row is never deleted, however old.
-- It runs with its owner's rights (the migration owner), with a fixed
-- search_path so that a caller's objects cannot stand in for Chime's.

-- Delivered rows in delivery order, so that each batch reads only what it
-- deletes instead of scanning the whole table for old deliveries.
CREATE INDEX webhook_outbox_delivered_idx ON chime.webhook_outbox (delivered_at)
  WHERE delivered_at IS NOT NULL;

CREATE FUNCTION chime.delete_delivered_webhooks(p_retention_seconds bigint, p_batch_size integer)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_deleted bigint;
BEGIN
  IF p_retention_seconds IS NULL OR p_retention_seconds < 0
     OR p_batch_size IS NULL OR p_batch_size < 1 OR p_batch_size > 100000 THEN
    RAISE EXCEPTION 'chime.delete_delivered_webhooks: retention must be >= 0 seconds and the batch 1-100000'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- SKIP LOCKED: a row a deliverer holds is left to the next batch.
  WITH doomed AS (
    SELECT id FROM chime.webhook_outbox
    WHERE delivered_at IS NOT NULL
      AND delivered_at < now() - p_retention_seconds * interval '1 second'
    ORDER BY delivered_at LIMIT p_batch_size FOR UPDATE SKIP LOCKED)
  DELETE FROM chime.webhook_outbox o USING doomed WHERE o.id = doomed.id;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  RETURN v_deleted;
END;
$$;

REVOKE ALL ON FUNCTION chime.delete_delivered_webhooks(bigint, integer) FROM PUBLIC;

DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['chime_worker', 'chime_scheduler', 'chime_admin'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION chime.delete_delivered_webhooks(bigint, integer) TO %I', r);
    END IF;
  END LOOP;
END;
$$;
