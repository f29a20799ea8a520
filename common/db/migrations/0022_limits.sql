-- Cluster-wide limits (issue 20): at most N jobs running at once and/or at
-- most R started per sliding window, for the jobs of a queue and/or kind,
-- optionally one budget per value of a payload field (`partition_by`, e.g.
-- "provider" or "userId"). Enforced by the claim itself, in the database, so
-- every worker and scheduler replica obeys the same budget: a job over its
-- limit stays ready, unclaimed; it is never failed, retried or counted as an
-- attempt.
--
-- A partition's key is '<limit name>/<payload value>' (names cannot hold '/').
-- * Concurrency counts the jobs in state 'running' whose limit_keys hold the
--   key: a killed worker's job counts until the rescue makes it ready again,
--   and a lease that ran out but was not yet rescued still counts, so two
--   holders of one job never count as one.
-- * Rate is a sliding log: each start is a row of chime.limit_starts, and a
--   partition may start a job while fewer than R of its starts lie in the
--   last window. A token bucket is cheaper but lets 2R through in a window
--   (a full bucket, then its refill); providers' quotas count any window, so
--   the log is exact where it matters. Its cost is R rows per partition.
-- * Claimers serialise per partition on its chime.limit_partitions row (row
--   locks: unlike advisory locks they do not fill the shared lock table when
--   a claim spans 1,000 partitions), then count in a fresh snapshot, so what
--   the previous holder claimed is seen. A claim takes the partitions no
--   other claim holds (SKIP LOCKED) and treats the others as full; only
--   when others hold them all does it wait, for all of them in key order
--   (no deadlock: it waits holding none). Starts are stamped with the clock read in that snapshot's
--   statement, so no earlier holder's start lies later than a later
--   holder's, and an attempt the count saw ended had ended before.

CREATE TABLE chime.limits (
  name           text        PRIMARY KEY
                             CHECK (name ~ '^[-A-Za-z0-9_.:]+$' AND octet_length(name) <= 128),
  queue          text        CHECK (queue ~ '^[-A-Za-z0-9_.:]+$' AND octet_length(queue) <= 128),
  kind           text        CHECK (kind ~ '^[-A-Za-z0-9_.:]+$' AND octet_length(kind) <= 128),
  -- A top-level payload field; jobs without it share the partition ''.
  partition_by   text        CHECK (partition_by ~ '^[A-Za-z0-9_]+$' AND octet_length(partition_by) <= 64),
  concurrency    integer     CHECK (concurrency BETWEEN 1 AND 1000000),
  rate           integer     CHECK (rate BETWEEN 1 AND 1000000),
  rate_window_ms bigint      CHECK (rate_window_ms BETWEEN 1000 AND 86400000),
  source         text        NOT NULL DEFAULT 'api' CHECK (source IN ('file', 'api')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (concurrency IS NOT NULL OR rate IS NOT NULL),
  CHECK ((rate IS NULL) = (rate_window_ms IS NULL))
);

-- One row per partition a claim has met: the lock claimers take in turn.
CREATE TABLE chime.limit_partitions (
  key        text   NOT NULL PRIMARY KEY,
  limit_name text   NOT NULL REFERENCES chime.limits (name) ON DELETE CASCADE,
  -- Its rows in chime.limit_starts, kept by the claim under this row's lock
  -- (so a claim reads its rate's use, not counts a window of rows).
  started    bigint NOT NULL DEFAULT 0
);
CREATE INDEX limit_partitions_limit_idx ON chime.limit_partitions (limit_name);

-- Rate limits' starts within their window (older ones are pruned by the
-- next claim of the partition).
CREATE TABLE chime.limit_starts (
  key        text        NOT NULL REFERENCES chime.limit_partitions (key) ON DELETE CASCADE,
  started_at timestamptz NOT NULL
);
CREATE INDEX limit_starts_key_idx ON chime.limit_starts (key, started_at);

-- The partitions an attempt was counted under, set by its claim.
ALTER TABLE chime.jobs ADD COLUMN limit_keys text[];

-- Picks up to p_n ready jobs of p_queues in claim order (priority, run_at,
-- id), locked (SKIP LOCKED), within every limit that applies to them;
-- answers each with the partitions it counts under and the time its start
-- counts at (NULL: no limit applied, start at now()). The claim statement
-- (common/db/job_store_sql.h) updates what it answers. Without a limit on
-- these queues it is the plain index walk of before.
CREATE FUNCTION chime.jobs_claim_pick(p_queues text[], p_n integer)
RETURNS TABLE (id bigint, keys text[], started_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 100 AS $$
DECLARE
  v_limits  chime.limits[];
  v_ids     bigint[];
  v_cands   jsonb[];      -- Per candidate: its partitions' keys.
  v_keys    text[];       -- Distinct keys of the candidates, sorted.
  v_free_c  integer[];    -- Per key: concurrency left (NULL: unlimited).
  v_free_r  integer[];    -- Per key: starts left in the window.
  v_now     timestamptz;
  v_started text[] := '{}';  -- Rate-limited keys of the jobs taken, once per job.
  v_locked  text[];         -- The keys whose partition rows this claim holds.
  v_taken   integer := 0;
  v_ok      boolean;
  v_pos     integer;
  v_key     text;
  i         integer;
BEGIN
  SELECT array_agg(l ORDER BY l.name) INTO v_limits
  FROM chime.limits l WHERE l.queue IS NULL OR l.queue = ANY(p_queues);
  IF v_limits IS NULL THEN
    IF cardinality(p_queues) = 1 THEN
      RETURN QUERY
        SELECT j.id, NULL::text[], NULL::timestamptz FROM chime.jobs j
        WHERE j.queue = p_queues[1] AND j.state IN ('scheduled', 'available', 'retryable')
          AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id LIMIT p_n FOR UPDATE SKIP LOCKED;
    ELSE
      RETURN QUERY
        SELECT j.id, NULL::text[], NULL::timestamptz FROM chime.jobs j
        WHERE j.queue = ANY(p_queues) AND j.state IN ('scheduled', 'available', 'retryable')
          AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id LIMIT p_n FOR UPDATE SKIP LOCKED;
    END IF;
    RETURN;
  END IF;

  -- Candidates: more than asked for, as some will be over their limits;
  -- bounded, so a backlog held by a limit costs each claim the same. One
  -- queue is a walk of jobs_ready_idx in claim order (queue = ANY(...)
  -- makes PostgreSQL read and sort every ready job: 80 ms with 40,000).
  WITH c AS MATERIALIZED (
    SELECT j.id, j.kind, j.queue, j.payload, j.priority, j.run_at FROM chime.jobs j
    WHERE cardinality(p_queues) = 1 AND j.queue = p_queues[1]
      AND j.state IN ('scheduled', 'available', 'retryable') AND j.run_at <= now()
    ORDER BY j.priority, j.run_at, j.id LIMIT least(greatest(p_n * 3, 32), 4000)
    FOR UPDATE SKIP LOCKED),
  cm AS MATERIALIZED (
    SELECT j.id, j.kind, j.queue, j.payload, j.priority, j.run_at FROM chime.jobs j
    WHERE cardinality(p_queues) > 1 AND j.queue = ANY(p_queues)
      AND j.state IN ('scheduled', 'available', 'retryable') AND j.run_at <= now()
    ORDER BY j.priority, j.run_at, j.id LIMIT least(greatest(p_n * 3, 32), 4000)
    FOR UPDATE SKIP LOCKED),
  cand AS (SELECT * FROM c UNION ALL SELECT * FROM cm)
  SELECT array_agg(c.id ORDER BY c.priority, c.run_at, c.id),
         array_agg(coalesce((
           SELECT jsonb_agg(l.name || '/' || coalesce(left(c.payload ->> l.partition_by, 200), '')
                            ORDER BY l.name)
           FROM unnest(v_limits) l
           WHERE (l.queue IS NULL OR l.queue = c.queue) AND (l.kind IS NULL OR l.kind = c.kind)),
           '[]'::jsonb) ORDER BY c.priority, c.run_at, c.id)
  INTO v_ids, v_cands FROM cand c;
  IF v_ids IS NULL THEN RETURN; END IF;

  SELECT array_agg(DISTINCT k ORDER BY k) INTO v_keys
  FROM unnest(v_cands) cand, jsonb_array_elements_text(cand) k;
  IF v_keys IS NOT NULL THEN
    INSERT INTO chime.limit_partitions (key, limit_name)
      SELECT k, split_part(k, '/', 1) FROM unnest(v_keys) k ORDER BY k
    ON CONFLICT DO NOTHING;
    -- The partitions no other claim holds; if others hold them all, wait
    -- for them all (in key order: no deadlock; a claimer waits only while
    -- it holds none). A partition held by another claim counts as full for
    -- this one, so claims over many partitions go side by side.
    SELECT array_agg(p.key ORDER BY p.key) INTO v_locked FROM (
      SELECT lp.key FROM chime.limit_partitions lp WHERE lp.key = ANY(v_keys)
      ORDER BY lp.key FOR UPDATE SKIP LOCKED) p;
    IF v_locked IS NULL THEN
      PERFORM 1 FROM chime.limit_partitions p WHERE p.key = ANY(v_keys) ORDER BY p.key FOR UPDATE;
      v_locked := v_keys;
    END IF;
    -- A new statement, a new snapshot: what earlier holders of these locks
    -- committed is counted. The clock is read within it, after its
    -- snapshot: an attempt that ended before the count (and so is not
    -- counted) finished before this claim's starts.
    WITH t AS MATERIALIZED (SELECT clock_timestamp() AS now_ts),
    running AS (
      SELECT k, count(*) AS n FROM chime.jobs j, unnest(j.limit_keys) k
      WHERE j.state = 'running' AND j.limit_keys && v_locked GROUP BY k)
    SELECT (SELECT now_ts FROM t),
           array_agg(CASE WHEN k.key = ANY(v_locked) THEN l.concurrency - coalesce(r.n, 0) ELSE 0 END
                     ORDER BY k.ord)
    INTO v_now, v_free_c
    FROM unnest(v_keys) WITH ORDINALITY AS k(key, ord)
    JOIN unnest(v_limits) l ON l.name = split_part(k.key, '/', 1)
    LEFT JOIN running r ON r.k = k.key;
    -- Rate limits: starts that left the window go, and their partitions'
    -- counts with them; what is left is the window's use.
    WITH gone AS (
      DELETE FROM chime.limit_starts s USING unnest(v_limits) l
      WHERE s.key = ANY(v_locked) AND l.rate IS NOT NULL AND split_part(s.key, '/', 1) = l.name
        AND s.started_at <= v_now - l.rate_window_ms * interval '1 millisecond'
      RETURNING s.key),
    n AS (SELECT g.key, count(*) AS c FROM gone g GROUP BY g.key)
    UPDATE chime.limit_partitions p SET started = p.started - n.c FROM n WHERE p.key = n.key;
    SELECT array_agg(CASE WHEN k.key = ANY(v_locked) THEN l.rate - coalesce(p.started, 0) ELSE 0 END
                     ORDER BY k.ord)
    INTO v_free_r
    FROM unnest(v_keys) WITH ORDINALITY AS k(key, ord)
    JOIN unnest(v_limits) l ON l.name = split_part(k.key, '/', 1)
    LEFT JOIN chime.limit_partitions p ON p.key = k.key;
  END IF;

  FOR i IN 1 .. cardinality(v_ids) LOOP
    EXIT WHEN v_taken >= p_n;
    v_ok := true;
    FOR v_key IN SELECT jsonb_array_elements_text(v_cands[i]) LOOP
      v_pos := array_position(v_keys, v_key);
      IF coalesce(v_free_c[v_pos], 1) < 1 OR coalesce(v_free_r[v_pos], 1) < 1 THEN
        v_ok := false;
        EXIT;
      END IF;
    END LOOP;
    CONTINUE WHEN NOT v_ok;
    FOR v_key IN SELECT jsonb_array_elements_text(v_cands[i]) LOOP
      v_pos := array_position(v_keys, v_key);
      v_free_c[v_pos] := v_free_c[v_pos] - 1;
      v_free_r[v_pos] := v_free_r[v_pos] - 1;
      -- (A key taken is one this claim holds: NULL there means no rate.)
      IF v_free_r[v_pos] IS NOT NULL THEN v_started := v_started || v_key; END IF;
    END LOOP;
    v_taken := v_taken + 1;
    id := v_ids[i];
    keys := ARRAY(SELECT jsonb_array_elements_text(v_cands[i]));
    IF cardinality(keys) = 0 THEN keys := NULL; END IF;
    started_at := v_now;
    RETURN NEXT;
  END LOOP;

  IF cardinality(v_started) > 0 THEN
    -- Rate limits: log the starts just taken and count them.
    INSERT INTO chime.limit_starts (key, started_at) SELECT k, v_now FROM unnest(v_started) k;
    UPDATE chime.limit_partitions p SET started = p.started + n.c
    FROM (SELECT k, count(*) AS c FROM unnest(v_started) k GROUP BY k) n WHERE p.key = n.k;
  END IF;
  RETURN;
END;
$$;
REVOKE ALL ON FUNCTION chime.jobs_claim_pick(text[], integer) FROM PUBLIC;

-- Capacity freed wakes claimers, not a poll: a statement that ends attempts
-- counted under a limit tells the schedulers their queues as if jobs became
-- ready there (0001's notification, whose count only sizes the dispatch).
-- A limit across queues (no `queue`) wakes the finished job's queue; the
-- others' workers find the slot at their next claim.
CREATE OR REPLACE FUNCTION chime.jobs_notify_ready() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_ready text;
BEGIN
  -- "queue:count,..."; at most 40 queues keeps it under pg_notify's 8000 bytes.
  SELECT string_agg(queue || ':' || n, ',') INTO v_ready
  FROM (SELECT queue, count(*) AS n FROM new_rows
        WHERE (state IN ('available', 'retryable') AND run_at <= now())
           OR (limit_keys IS NOT NULL AND state IN ('succeeded', 'discarded', 'cancelled'))
        GROUP BY queue ORDER BY queue LIMIT 40) t;
  IF v_ready IS NOT NULL THEN
    -- PostgreSQL folds identical notifications of one transaction into one;
    -- a unique tail (skipped by the parser) keeps each statement's count.
    PERFORM pg_notify('chime_jobs_ready', v_ready || ',#' || gen_random_uuid());
  END IF;
  RETURN NULL;
END;
$$;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_worker') THEN
    GRANT UPDATE (limit_keys) ON chime.jobs TO chime_worker;
    GRANT EXECUTE ON FUNCTION chime.jobs_claim_pick(text[], integer) TO chime_worker;
    GRANT SELECT ON chime.limits, chime.limit_partitions, chime.limit_starts TO chime_worker;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    -- Schedule files may declare limits; every replica's API reads them.
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.limits TO chime_scheduler;
    -- (A changed partition field deletes the limit's old partitions.)
    GRANT SELECT, DELETE ON chime.limit_partitions TO chime_scheduler;
    GRANT SELECT ON chime.limit_starts TO chime_scheduler;
    GRANT EXECUTE ON FUNCTION chime.jobs_claim_pick(text[], integer) TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON chime.limits, chime.limit_partitions,
      chime.limit_starts TO chime_admin;
    GRANT EXECUTE ON FUNCTION chime.jobs_claim_pick(text[], integer) TO chime_admin;
  END IF;
END;
$$;
