-- Named credentials with scopes (jobctl token create|list|revoke). The
-- bootstrap admin secret (CHIME_ADMIN_SECRET) can do everything; a named
-- token can do what its scope allows: read (the API and dashboard, jobctl's
-- read commands), operate (read + trigger, retry, cancel, pause/resume) or
-- admin (operate + enqueue, schedules, backfill, tokens).
--
-- A token is `chime_<name>_<secret>`; this table holds nothing that lets a
-- reader authenticate: the SHA-256 of the 256-bit secret (compared with a
-- presented bearer token) and the Ed25519 public key derived from it (which
-- verifies the signatures jobctl makes with the secret). Revoked rows stay,
-- for `token list`, until a token of the same name replaces them.
CREATE TABLE chime.api_tokens (
  name          text        PRIMARY KEY
                            CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$' AND name <> 'bootstrap'),
  scope         text        NOT NULL CHECK (scope IN ('read', 'operate', 'admin')),
  secret_sha256 bytea       NOT NULL CHECK (length(secret_sha256) = 32),
  signing_key   bytea       NOT NULL CHECK (length(signing_key) = 32),
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text        NOT NULL DEFAULT '' CHECK (length(created_by) <= 64),
  expires_at    timestamptz,
  last_used_at  timestamptz,  -- Refreshed at most about once a minute per replica.
  revoked_at    timestamptz
);

-- Schedulers look tokens up and execute jobctl's token commands; workers
-- never see this table.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    GRANT SELECT, INSERT, UPDATE ON chime.api_tokens TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.api_tokens TO chime_admin;
  END IF;
END;
$$;
