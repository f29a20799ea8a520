-- What was left of the claim's cost under limits (issue 20; 0022 has the
-- model, 0023 the shards, 0026 the plans and waits). chime.limit_hold is
-- restated with CREATE OR REPLACE and 0026's signature, so its caller,
-- chime.jobs_claim_open, and binaries of before claim through it unchanged.
--
-- * chime.limit_take: the one statement that takes a free shard of each
--   partition tried, which 0026 wrote three times in chime.limit_hold (the
--   first try, after making a partition's rows, after waiting).
-- * chime.limit_running: running attempts per partition shard, kept by
--   statement triggers on chime.jobs; the claim reads a shard's count from
--   it instead of scanning every running limited job (below).

-- Takes one free shard (SKIP LOCKED) of each partition p_try names (their
-- positions in p_keys) that it does not hold already (p_held: a bit mask of
-- the shards held, per position), this connection's own first (p_pref
-- modulo the count); answers the positions that got one, in order, and the
-- shard each got, or NULLs when none did.
CREATE FUNCTION chime.limit_take(p_keys text[], p_nshards integer[], p_try integer[], p_held integer[],
                                 p_pref integer, OUT pos integer[], OUT shard smallint[])
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan
  SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
BEGIN
  SELECT array_agg(t.pos ORDER BY t.pos), array_agg(s.shard ORDER BY t.pos) INTO pos, shard
  FROM unnest(p_try) t(pos), LATERAL (
    SELECT lp.shard FROM chime.limit_partitions lp
    WHERE lp.key = p_keys[t.pos] AND lp.shard < p_nshards[t.pos] AND (p_held[t.pos] >> lp.shard) & 1 = 0
    ORDER BY (lp.shard - p_pref % p_nshards[t.pos] + p_nshards[t.pos]) % p_nshards[t.pos]
    LIMIT 1 FOR UPDATE SKIP LOCKED) s;
END;
$$;
REVOKE ALL ON FUNCTION chime.limit_take(text[], integer[], integer[], integer[], integer) FROM PUBLIC;

-- Running attempts per partition shard, kept by the triggers below as the
-- jobs move into and out of 'running': what chime.limit_hold counts a
-- shard's concurrency from. 0026 counted by scanning every running limited
-- job on each claim (21 ms of a 30 ms claim of 1,000 with 3,000 running
-- in 0026's profile; 4.4-5.1 ms of chime.limit_hold on an idle machine);
-- this reads the rows of the shards it sums, at most 4 each (0.5-0.7 ms).
-- A row counts the running attempts whose jobs.limit_keys holds `key` with
-- jobs.limit_shards `shard` (the shard it was claimed under, NULL read as
-- 0, as 0023 counts it) and whose id modulo 4 is `slot`: concurrent
-- completions of one shard's jobs mostly update different rows, and each
-- row is the count of a set of running jobs (never below 0), so a row at 0
-- can go at any time. Rows at 0 stay otherwise (at most 4 per partition
-- shard, like its chime.limit_partitions row).
--
-- Kept in the statement that changes the jobs (claim, completion, release,
-- rescue, cancel, delete, any UPDATE of chime.jobs), so whoever reads the
-- jobs' states in a snapshot reads the counts that go with them: the claim
-- reads them after it holds the shard's row, in a new statement, as it read
-- the jobs before. A worker killed mid-job still counts until the rescue
-- moves its job out of 'running' (the rescue's statement counts it out).
CREATE TABLE chime.limit_running (
  key   text     NOT NULL,
  shard smallint NOT NULL,
  slot  smallint NOT NULL,
  n     integer  NOT NULL,
  PRIMARY KEY (key, shard, slot)
);

-- Adds each statement's net change per (key, shard, slot): one row write
-- per group, in key order (two statements touching the same rows lock them
-- in the same order). The jobs are grouped by their arrays before these are
-- unnested: unnest per job cost 2 us of the 6 ms this took for a claim of
-- 1,000 (now 2-3 ms, most of it sorting the arrays). Statements that touch
-- no running limited job (every claim, heartbeat and completion of
-- unlimited jobs) leave after two scans of their transition rows, which the
-- other triggers on chime.jobs capture anyway: 15 us a statement of 10
-- jobs, 70 us of 100.
CREATE FUNCTION chime.limit_running_apply() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM chime.limit_running;
  ELSIF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT 1 FROM new_rows j WHERE j.state = 'running' AND j.limit_keys IS NOT NULL) THEN
      RETURN NULL;
    END IF;
    INSERT INTO chime.limit_running AS r (key, shard, slot, n)
      SELECT u.key, coalesce(u.shard, 0), g.slot, sum(g.n)::integer
      FROM (SELECT j.limit_keys, j.limit_shards, (j.id % 4)::smallint AS slot, count(*) AS n
            FROM new_rows j WHERE j.state = 'running' AND j.limit_keys IS NOT NULL GROUP BY 1, 2, 3) g,
           unnest(g.limit_keys, g.limit_shards) u(key, shard)
      WHERE u.key IS NOT NULL
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (key, shard, slot) DO UPDATE SET n = r.n + excluded.n;
  ELSIF TG_OP = 'DELETE' THEN
    IF NOT EXISTS (SELECT 1 FROM old_rows j WHERE j.state = 'running' AND j.limit_keys IS NOT NULL) THEN
      RETURN NULL;
    END IF;
    INSERT INTO chime.limit_running AS r (key, shard, slot, n)
      SELECT u.key, coalesce(u.shard, 0), g.slot, -sum(g.n)::integer
      FROM (SELECT j.limit_keys, j.limit_shards, (j.id % 4)::smallint AS slot, count(*) AS n
            FROM old_rows j WHERE j.state = 'running' AND j.limit_keys IS NOT NULL GROUP BY 1, 2, 3) g,
           unnest(g.limit_keys, g.limit_shards) u(key, shard)
      WHERE u.key IS NOT NULL
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (key, shard, slot) DO UPDATE SET n = r.n + excluded.n;
  ELSE
    IF NOT EXISTS (SELECT 1 FROM new_rows j WHERE j.state = 'running' AND j.limit_keys IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM old_rows j WHERE j.state = 'running' AND j.limit_keys IS NOT NULL) THEN
      RETURN NULL;
    END IF;
    -- (A heartbeat's rows come out even and write nothing.)
    INSERT INTO chime.limit_running AS r (key, shard, slot, n)
      SELECT u.key, coalesce(u.shard, 0), g.slot, sum(g.n)::integer
      FROM (SELECT j.limit_keys, j.limit_shards, (j.id % 4)::smallint AS slot, count(*) AS n
            FROM new_rows j WHERE j.state = 'running' AND j.limit_keys IS NOT NULL GROUP BY 1, 2, 3
            UNION ALL
            SELECT j.limit_keys, j.limit_shards, (j.id % 4)::smallint, -count(*)
            FROM old_rows j WHERE j.state = 'running' AND j.limit_keys IS NOT NULL GROUP BY 1, 2, 3) g,
           unnest(g.limit_keys, g.limit_shards) u(key, shard)
      WHERE u.key IS NOT NULL
      GROUP BY 1, 2, 3 HAVING sum(g.n) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (key, shard, slot) DO UPDATE SET n = r.n + excluded.n;
  END IF;
  RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION chime.limit_running_apply() FROM PUBLIC;

CREATE TRIGGER jobs_limit_running_insert AFTER INSERT ON chime.jobs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.limit_running_apply();
CREATE TRIGGER jobs_limit_running_update AFTER UPDATE ON chime.jobs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.limit_running_apply();
CREATE TRIGGER jobs_limit_running_delete AFTER DELETE ON chime.jobs
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION chime.limit_running_apply();
CREATE TRIGGER jobs_limit_running_truncate AFTER TRUNCATE ON chime.jobs
  FOR EACH STATEMENT EXECUTE FUNCTION chime.limit_running_apply();

-- What runs now. Creating the triggers locked chime.jobs against writes
-- until this migration commits, so nothing moves between the count and them.
INSERT INTO chime.limit_running (key, shard, slot, n)
  SELECT u.key, coalesce(u.shard, 0), (j.id % 4)::smallint, count(*)
  FROM chime.jobs j, unnest(j.limit_keys, j.limit_shards) u(key, shard)
  WHERE j.state = 'running' AND j.finished_at IS NULL AND j.limit_keys IS NOT NULL AND u.key IS NOT NULL
  GROUP BY 1, 2, 3;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_worker') THEN
    GRANT SELECT ON chime.limit_running TO chime_worker;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_scheduler') THEN
    GRANT SELECT ON chime.limit_running TO chime_scheduler;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'chime_admin') THEN
    GRANT SELECT ON chime.limit_running TO chime_admin;
  END IF;
END;
$$;

-- Locks shards of the partitions p_keys for a claim and answers what they
-- have room for, with the clock the count was read at (0026's; its three
-- takes of a free shard are chime.limit_take). Each round locks one more shard of each partition
-- that lacks room for its p_demand candidates (the first round: one of
-- each; this connection's own, p_pref modulo the count, or the next free:
-- SKIP LOCKED). When other claims hold every shard of every partition, it
-- waits for one of them (no deadlock: it waits holding none), then takes
-- what is free; a partition held by others counts as full for this claim,
-- so claims over many partitions go side by side. Shards this transaction
-- holds already are answered again, recounted.
CREATE OR REPLACE FUNCTION chime.limit_hold(p_keys text[], p_nshards integer[], p_conc integer[], p_rate integer[],
                                 p_window bigint[], p_demand integer[], p_pref integer)
RETURNS TABLE (pos integer, shard smallint, free_c integer, free_r integer, counted_at timestamptz)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan
  SET enable_seqscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
  v_held  integer[] := array_fill(0, ARRAY[cardinality(p_keys)]);  -- Shards held: a bit mask.
  v_room  integer[] := array_fill(0, ARRAY[cardinality(p_keys)]);
  v_try   integer[] := ARRAY(SELECT generate_series(1, cardinality(p_keys)));
  v_npos  integer[];
  v_nshard smallint[];
  v_fc    integer[];
  v_fr    integer[];
  v_now   timestamptz;
  v_made  bigint;
  v_p     integer;
  e       integer;
BEGIN
  FOR v_round IN 1 .. 8 LOOP
    SELECT t.pos, t.shard INTO v_npos, v_nshard FROM chime.limit_take(p_keys, p_nshards, v_try, v_held, p_pref) t;
    IF v_round = 1 AND coalesce(cardinality(v_npos), 0) < cardinality(p_keys) THEN
      -- A partition's first claim makes its shards' rows (then holds them).
      INSERT INTO chime.limit_partitions (key, shard, limit_name)
        SELECT k.key, s, split_part(k.key, '/', 1)
        FROM unnest(p_keys, p_nshards) k(key, n), generate_series(0, k.n - 1) s
        WHERE NOT EXISTS (SELECT 1 FROM chime.limit_partitions lp WHERE lp.key = k.key AND lp.shard = s)
        ORDER BY 1, 2
      ON CONFLICT DO NOTHING;
      GET DIAGNOSTICS v_made = ROW_COUNT;
      IF v_made > 0 THEN
        SELECT t.pos, t.shard INTO v_npos, v_nshard FROM chime.limit_take(p_keys, p_nshards, v_try, v_held, p_pref) t;
      END IF;
    END IF;
    IF v_npos IS NULL THEN
      EXIT WHEN v_round > 1;
      -- Others hold every shard of every partition: wait for one row, then
      -- take what is free as above (the row waited for among it). Claimers
      -- waiting side by side wait on different rows (their own partition
      -- and shard, p_pref modulo the counts), so when the holder commits
      -- they go on together over the rows it freed, where waiting for every
      -- partition in key order queued them one behind the other's commit.
      v_p := 1 + p_pref % cardinality(p_keys);
      PERFORM 1 FROM chime.limit_partitions lp
      WHERE lp.key = p_keys[v_p] AND lp.shard = p_pref % p_nshards[v_p] FOR UPDATE;
      SELECT t.pos, t.shard INTO v_npos, v_nshard FROM chime.limit_take(p_keys, p_nshards, v_try, v_held, p_pref) t;
      EXIT WHEN v_npos IS NULL;
    END IF;
    -- A new statement, a new snapshot: what earlier holders of these
    -- shards committed is counted. The clock is read within it, after its
    -- snapshot: an attempt that ended before the count (and so is not
    -- counted) finished before the claim's starts, stamped with the last
    -- round's clock. Buckets that left their window go.
    WITH t AS MATERIALIZED (SELECT clock_timestamp() AS now_ts),
    slot AS (
      SELECT n.pos, n.shard, n.ord, p_keys[n.pos] AS key, p_nshards[n.pos] AS k
      FROM unnest(v_npos, v_nshard) WITH ORDINALITY n(pos, shard, ord)),
    gone AS (
      DELETE FROM chime.limit_starts st USING slot
      WHERE p_rate[slot.pos] IS NOT NULL AND st.key = slot.key AND st.shard = slot.shard
        AND st.started_at <= (SELECT now_ts FROM t)
                             - (chime.limit_bucket_ms(p_window[slot.pos]) + p_window[slot.pos]) * interval '1 millisecond'),
    -- Running attempts and starts in the window, per "key|shard".
    -- (Running attempts: chime.limit_running's rows of the shard's class,
    -- shards s, s + k, ..., as the starts below.)
    running AS MATERIALIZED (
      SELECT coalesce(jsonb_object_agg(x.key || '|' || x.shard, x.n), '{}') AS m FROM (
        SELECT slot.key, slot.shard, sum(r.n) AS n
        FROM slot CROSS JOIN LATERAL generate_series(slot.shard, 7, slot.k) sh(shard)
          JOIN chime.limit_running r ON r.key = slot.key AND r.shard = sh.shard
        WHERE p_conc[slot.pos] IS NOT NULL
        GROUP BY 1, 2) x),
    started AS MATERIALIZED (
      SELECT coalesce(jsonb_object_agg(x.key || '|' || x.shard, x.n), '{}') AS m FROM (
        SELECT slot.key, slot.shard, sum(st.n) AS n
        FROM slot CROSS JOIN LATERAL generate_series(slot.shard, 7, slot.k) sh(shard)
          JOIN chime.limit_starts st ON st.key = slot.key AND st.shard = sh.shard
        WHERE p_rate[slot.pos] IS NOT NULL
          AND st.started_at > (SELECT now_ts FROM t)
                              - (chime.limit_bucket_ms(p_window[slot.pos]) + p_window[slot.pos]) * interval '1 millisecond'
        GROUP BY 1, 2) x)
    SELECT (SELECT now_ts FROM t),
           array_agg(CASE WHEN p_conc[s.pos] IS NOT NULL THEN
                       chime.limit_share(p_conc[s.pos], s.k, s.shard)
                       - coalesce(((SELECT m FROM running) ->> (s.key || '|' || s.shard))::integer, 0) END
                     ORDER BY s.ord),
           array_agg(CASE WHEN p_rate[s.pos] IS NOT NULL THEN
                       chime.limit_share(p_rate[s.pos], s.k, s.shard)
                       - coalesce(((SELECT m FROM started) ->> (s.key || '|' || s.shard))::integer, 0) END
                     ORDER BY s.ord)
    INTO v_now, v_fc, v_fr
    FROM slot s;
    v_try := '{}';
    FOR e IN 1 .. cardinality(v_npos) LOOP
      v_p := v_npos[e];
      v_held[v_p] := v_held[v_p] | (1 << v_nshard[e]);
      v_room[v_p] := v_room[v_p] + greatest(least(coalesce(v_fc[e], 2147483647), coalesce(v_fr[e], 2147483647)), 0);
      IF v_room[v_p] < p_demand[v_p] AND v_held[v_p] <> (1 << p_nshards[v_p]) - 1 THEN
        v_try := v_try || v_p;
      END IF;
      pos := v_p;
      shard := v_nshard[e];
      free_c := v_fc[e];
      free_r := v_fr[e];
      counted_at := v_now;
      RETURN NEXT;
    END LOOP;
    EXIT WHEN cardinality(v_try) = 0;
  END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION chime.limit_hold(text[], integer[], integer[], integer[], bigint[], integer[], integer)
  FROM PUBLIC;

