-- Webhooks that must be delivered at least once (the transactional outbox).
-- A job writes a row in the same transaction as the change it announces
-- (reconcile_exam_capacity: the corrected counter), so the change and the
-- intent to tell the receiver commit or roll back together. The writer then
-- tries to deliver it at once; a deliver_webhooks job, enqueued in that same
-- transaction, retries with backoff whatever is still undelivered, also when
-- the writer died right after the commit.
--
-- A row holds everything a delivery needs except the secret: the secret's
-- reference (env:NAME or file:/path), resolved by the delivering worker under
-- its own allow-list, never the value. The webhook id is fixed at the write
-- and sent on every attempt (Standard Webhooks "webhook-id"), so a receiver
-- that got an attempt whose answer was lost can tell the retry is the same
-- message.
CREATE TABLE chime.webhook_outbox (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id    text        NOT NULL UNIQUE
                            CHECK (webhook_id ~ '^[A-Za-z0-9_.-]+$' AND octet_length(webhook_id) <= 128),
  event_type    text        NOT NULL CHECK (octet_length(event_type) BETWEEN 1 AND 128),
  subject       text,       -- What it is about, for people: e.g. the exam id.
  url           text        NOT NULL CHECK (url ~ '^https?://'),
  auth          text        NOT NULL
                            CHECK (auth IN ('standard-webhooks', 'bearer', 'x-cron-secret', 'none')),
  -- A reference, never a secret: the shape is checked so that a bug cannot
  -- put a value here without failing loudly.
  secret_ref    text        CHECK (secret_ref ~ '^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.*)$'),
  timeout_ms    integer     NOT NULL CHECK (timeout_ms > 0),
  body          text        NOT NULL,  -- The exact bytes signed and sent.
  source_job_id bigint,                -- The job whose transaction wrote the row.
  attempts      integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- Not tried before this time. A deliverer claims a row by moving it past
  -- the request's timeout (a lease): a deliverer that dies mid-request leaves
  -- the row to be claimed again once that passes, and two never send the
  -- same row at the same time.
  not_before    timestamptz NOT NULL DEFAULT now(),
  delivered_at  timestamptz,           -- Set on the first 2xx answer.
  last_status   integer,               -- HTTP status of the last attempt, if any.
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK ((auth = 'none') = (secret_ref IS NULL))
);

-- Undelivered rows (monitoring; small when deliveries work).
CREATE INDEX webhook_outbox_pending_idx ON chime.webhook_outbox (created_at)
  WHERE delivered_at IS NULL;
CREATE INDEX webhook_outbox_source_idx ON chime.webhook_outbox (source_job_id);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_worker') THEN
    -- Workers write rows, then claim and mark them; they never delete, and
    -- a claim or a mark cannot change where or what a row sends (0008's
    -- column-level rule for chime.jobs).
    GRANT SELECT ON chime.webhook_outbox TO chime_worker;
    GRANT INSERT (webhook_id, event_type, subject, url, auth, secret_ref, timeout_ms, body,
                  source_job_id)
      ON chime.webhook_outbox TO chime_worker;
    GRANT UPDATE (attempts, not_before, delivered_at, last_status, last_error)
      ON chime.webhook_outbox TO chime_worker;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    GRANT SELECT ON chime.webhook_outbox TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.webhook_outbox TO chime_admin;
  END IF;
END;
$$;
