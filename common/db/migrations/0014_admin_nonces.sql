-- Replay protection for signed admin requests, shared by every scheduler
-- replica and kept across restarts. A scheduler used to remember the nonces
-- it had accepted in its own memory only, so a recorded `jobctl enqueue`
-- frame replayed to another replica, or to the same one after a restart,
-- was accepted again. Now each accepted signature's nonce is inserted here
-- (INSERT ... ON CONFLICT DO NOTHING: no row inserted means a replay) and
-- kept until no replica could accept its timestamp any more; the
-- scheduler's maintenance loop deletes expired rows in bounded batches.
CREATE TABLE chime.admin_nonces (
  nonce      bytea       PRIMARY KEY CHECK (length(nonce) BETWEEN 1 AND 64),
  expires_at timestamptz NOT NULL
);

-- Pruning reads only the expired rows, oldest first.
CREATE INDEX admin_nonces_expires_idx ON chime.admin_nonces (expires_at);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    GRANT SELECT, INSERT, DELETE ON chime.admin_nonces TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.admin_nonces TO chime_admin;
  END IF;
END;
$$;
