-- Outbox rows name a webhook target; they no longer say where to send.
-- A row used to hold its URL, auth style and secret reference (0009), and
-- chime_worker may INSERT rows: a login holding only that role wrote a row
-- that made a worker sign with the Standard Webhooks key (or send a Bearer
-- secret) to a URL of the login's choice (issue 18, finding 4). Now a row
-- names a target - capacity_webhook, or a name from the worker's kinds file
-- (webhook_targets) - and the delivering worker resolves the name from its
-- own configuration to URL + auth + secret. A name it does not know fails
-- that row's delivery, naming it; nothing is sent.
ALTER TABLE chime.webhook_outbox ADD COLUMN target text
  CHECK (target ~ '^[A-Za-z0-9_.-]+$' AND octet_length(target) <= 64);

-- Every row written so far came from reconcile_exam_capacity, whose target
-- is capacity_webhook: undelivered ones are delivered there, to wherever
-- the worker's kinds file now says, not to the URL in the row.
UPDATE chime.webhook_outbox SET target = 'capacity_webhook';
ALTER TABLE chime.webhook_outbox ALTER COLUMN target SET NOT NULL;

-- Dropping them drops 0009's CHECK that tied auth to secret_ref and the
-- worker's INSERT rights on them. timeout_ms stays: it sizes a deliverer's
-- claim on the row (the lease); the request's own timeout is the target's.
ALTER TABLE chime.webhook_outbox DROP COLUMN url, DROP COLUMN auth, DROP COLUMN secret_ref;
ALTER TABLE chime.webhook_outbox ADD CONSTRAINT webhook_outbox_timeout_ms_check_max
  CHECK (timeout_ms <= 3600000);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_worker') THEN
    GRANT INSERT (target) ON chime.webhook_outbox TO chime_worker;
  END IF;
END;
$$;
