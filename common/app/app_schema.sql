-- chime_app: the default application schema that the seeds' job kinds read
-- and write (worker/kinds/app_config.h names these tables and columns by
-- default; a deployment with tables of its own maps them in its kinds file).
-- Applied by app::ApplyAppSchema (common/app/app_schema.cc) in one transaction;
-- every statement is CREATE ... IF NOT EXISTS, so applying it again changes
-- nothing. It can also be run by hand: psql "$DATABASE_URL" -f app_schema.sql.
--
-- users            one row per application user.
--   id             bigint, the application's own id (Chime never assigns one).
--   email          text, for people reading the tables; no kind uses it.
--   active         process_all_users skips inactive users entirely.
--
-- integrations     one row per (user, provider) connection.
--   user_id        the user; unique together with provider.
--   provider       text: github, notion, slack, google_calendar, or any other
--                  provider the kinds file lists. Rows of an unlisted provider
--                  are never synced.
--   active         process_all_users skips inactive integrations.
--   cadence_minutes  how often this integration is due; NULL means the
--                  provider's cadence (GitHub 15, the others 30 minutes).
--   last_synced_at when sync_integration last succeeded; NULL: never, so due
--                  now. process_all_users enqueues a sync when it is NULL or
--                  older than the cadence.
--   needs_reauth   set by sync_integration when the endpoint answers 401/403
--                  (the user's token is bad): process_all_users then skips the
--                  integration until the application clears the flag after
--                  the user reconnects. A later successful sync clears it too.
--   items_synced   the item count the endpoint reported for the last success.
--
-- exams            one row per mock exam (reconcile_exam_capacity).
--   id             bigint, the application's id.
--   exam_date      the day the exam takes place.
--   mock_type      text, e.g. "Situational Judgment"; reported per exam.
--   active         only active exams are reconciled.
--   booking_count  the stored counter the application shows and checks
--                  capacity against; reconcile_exam_capacity corrects it.
--
-- bookings         one row per booking of an exam: the source of truth for
--                  booking_count.
--   id             bigint, the application's id.
--   exam_id        the exam booked.
--   active         false once cancelled; only active bookings count.
--
-- Sizes the indexes are chosen for: 100,000 users x 4 providers and 10,000
-- exams with their bookings.

CREATE SCHEMA IF NOT EXISTS chime_app;

CREATE TABLE IF NOT EXISTS chime_app.users (
  id     bigint  PRIMARY KEY,
  email  text    NOT NULL,
  active boolean NOT NULL DEFAULT true
);

-- The primary key is the unique (user_id, provider) pair: sync_integration
-- reads and updates one integration by it.
CREATE TABLE IF NOT EXISTS chime_app.integrations (
  user_id         bigint      NOT NULL REFERENCES chime_app.users (id) ON DELETE CASCADE,
  provider        text        NOT NULL CHECK (provider <> ''),
  active          boolean     NOT NULL DEFAULT true,
  cadence_minutes integer     CHECK (cadence_minutes > 0),
  last_synced_at  timestamptz,
  needs_reauth    boolean     NOT NULL DEFAULT false,
  items_synced    bigint      NOT NULL DEFAULT 0 CHECK (items_synced >= 0),
  PRIMARY KEY (user_id, provider)
);

-- process_all_users pages through the syncable integrations in (user_id,
-- provider) order. Only rows that can ever be due are indexed, and the
-- columns the due test reads are included, so a page is one ordered index
-- walk that stops at its LIMIT, however many integrations are inactive or
-- waiting for re-authentication.
CREATE INDEX IF NOT EXISTS integrations_syncable_idx
  ON chime_app.integrations (user_id, provider) INCLUDE (last_synced_at, cadence_minutes)
  WHERE active AND NOT needs_reauth;

CREATE TABLE IF NOT EXISTS chime_app.exams (
  id            bigint  PRIMARY KEY,
  exam_date     date    NOT NULL,
  mock_type     text    NOT NULL,
  active        boolean NOT NULL DEFAULT true,
  booking_count integer NOT NULL DEFAULT 0
);

-- The all-exams reconcile pages through active exams in id order; inactive
-- (past, withdrawn) exams, the bulk of the table over time, stay out of it.
CREATE INDEX IF NOT EXISTS exams_active_idx
  ON chime_app.exams (id) INCLUDE (exam_date, mock_type, booking_count)
  WHERE active;

CREATE TABLE IF NOT EXISTS chime_app.bookings (
  id      bigint  PRIMARY KEY,
  exam_id bigint  NOT NULL REFERENCES chime_app.exams (id) ON DELETE CASCADE,
  active  boolean NOT NULL DEFAULT true
);

-- Counting an exam's active bookings is an index-only range scan of this
-- partial index; cancelled bookings are not in it.
CREATE INDEX IF NOT EXISTS bookings_active_exam_idx
  ON chime_app.bookings (exam_id) WHERE active;
