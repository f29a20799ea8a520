-- Paused queues (issue 21's proof; River, Oban and Solid Queue have them). A
-- paused queue keeps accepting jobs (cron ticks, fan-outs and jobctl enqueue
-- go on) but no claim takes its jobs until it is resumed; running jobs
-- finish. The state is a row of chime.queues, so every worker, scheduler
-- replica and binary sees one answer, and it survives restarts.
--
-- * The claim. chime.jobs_claim_limited (0023) becomes
--   chime.jobs_claim_open, unchanged, and chime.jobs_claim_limited is now its
--   wrapper, dropping the paused queues from the claim's list first (one
--   primary-key probe per queue the worker serves). Every binary claims
--   through that name (0022's jobs_claim_pick too), so a worker built before
--   this migration honours a pause as well.
-- * Resuming notifies the queue's ready jobs on chime_jobs_ready like an
--   insert does, so workers waiting on it claim at once (JobStore's
--   QueueResume does it in the same statement).
-- * Queue names follow one rule, declared here once for new tables as the
--   domain chime.name (1-128 of A-Z a-z 0-9 _ . : -; the older tables spell
--   the same CHECK).

CREATE DOMAIN chime.name AS text
  CHECK (VALUE ~ '^[-A-Za-z0-9_.:]+$' AND octet_length(VALUE) <= 128);

-- A queue an operator named: paused (paused_at set) or resumed since. Queues
-- without a row are open; a queue may be paused before its first job.
CREATE TABLE chime.queues (
  name       chime.name  PRIMARY KEY,
  paused_at  timestamptz,
  -- Who paused or resumed it last (a token's name, "database user x", or
  -- "dashboard:<token>"): never a secret.
  changed_by text        NOT NULL CHECK (octet_length(changed_by) <= 200),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER FUNCTION chime.jobs_claim_limited(text[], integer) RENAME TO jobs_claim_open;

CREATE FUNCTION chime.jobs_claim_limited(p_queues text[], p_n integer)
RETURNS TABLE (id bigint, keys text[], shards smallint[], started_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 100 AS $$
  SELECT c.* FROM
    (SELECT ARRAY(SELECT q FROM unnest(p_queues) q
                  WHERE NOT EXISTS (SELECT 1 FROM chime.queues p
                                    WHERE p.name = q AND p.paused_at IS NOT NULL)) AS open) o,
    LATERAL chime.jobs_claim_open(o.open, p_n) c
  WHERE cardinality(o.open) > 0
$$;
REVOKE ALL ON FUNCTION chime.jobs_claim_limited(text[], integer) FROM PUBLIC;
-- Only through the wrapper from now on.
REVOKE ALL ON FUNCTION chime.jobs_claim_open(text[], integer) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_worker') THEN
    REVOKE EXECUTE ON FUNCTION chime.jobs_claim_open(text[], integer) FROM chime_worker;
    GRANT EXECUTE ON FUNCTION chime.jobs_claim_limited(text[], integer) TO chime_worker;
    GRANT SELECT ON chime.queues TO chime_worker;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    REVOKE EXECUTE ON FUNCTION chime.jobs_claim_open(text[], integer) FROM chime_scheduler;
    GRANT EXECUTE ON FUNCTION chime.jobs_claim_limited(text[], integer) TO chime_scheduler;
    -- The API and jobctl through a scheduler pause and resume.
    GRANT SELECT, INSERT, UPDATE ON chime.queues TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    REVOKE EXECUTE ON FUNCTION chime.jobs_claim_open(text[], integer) FROM chime_admin;
    GRANT EXECUTE ON FUNCTION chime.jobs_claim_limited(text[], integer) TO chime_admin;
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.queues TO chime_admin;
  END IF;
END;
$$;
