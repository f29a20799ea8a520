-- Vacuum chime.jobs by the dead rows the claim leaves, not by its size.
--
-- Every claim and completion writes a new version of the job's row, and the
-- old version's entry stays in the claim's index (jobs_ready_idx) until a
-- vacuum removes it. The claim reads that index from its head, so it walks
-- over every job claimed since the last vacuum before it finds a ready one:
-- measured on PostgreSQL 15 (2026-12-07), a claim of 100 read 4-5 pages
-- after a vacuum and 3,186 pages (40-80 ms under load) after 1,000,000
-- claims. With PostgreSQL's defaults a vacuum starts once 20 % of the table
-- is dead, and the table keeps its finished jobs for the retention (7 days
-- by default), so the bigger the history, the longer the walk between
-- vacuums.
--
-- * autovacuum_vacuum_scale_factor 0, autovacuum_vacuum_threshold 10000:
--   autovacuum takes the table once 10,000 rows are dead, whatever its size
--   (at most once per autovacuum_naptime, 1 min by default: a server-wide
--   setting an operator with a sustained high rate can lower).
-- * autovacuum_vacuum_cost_delay 0: that vacuum is not throttled, so it ends
--   before the next one is due.
-- * vacuum_index_cleanup on: PostgreSQL 14+ skips the index pass when the
--   dead rows sit on under 2 % of the table's pages, which in a table with a
--   long history is every pass; the dead entries the claim walks are exactly
--   what that pass removes.
--
-- The price is a vacuum that reads every index of chime.jobs each time it
-- runs; that grows with the history kept in the table, which STATUS's next
-- step (finished jobs leaving chime.jobs) removes.

ALTER TABLE chime.jobs SET (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_cost_delay = 0,
  vacuum_index_cleanup = on
);
