-- What was left of the claim's cost under limits (issue 20; 0022 has the
-- model, 0023 the shards, 0024 the wrapper this keeps).
--
-- * Plans. 0023 planned the claim's statements once per connection
--   (force_generic_plan), which is right for their cost, but a generic plan
--   is made from the statistics of the moment: a worker whose first claim
--   came while chime.limit_partitions or chime.limit_starts were small
--   (every new limit, every fresh database) found a partition's shard rows
--   and a window's buckets by sequential scan for the rest of its
--   connection's life. With 1,000 partitions a claim of 1,000 read 1,000 x
--   1,000 rows of limit_partitions to lock one shard of each (320 ms; 5 ms
--   by the primary key). Both claim functions now plan without sequential
--   scans (enable_seqscan = off: every table they read is reached through
--   an index by design; the setting only takes the scan out of the generic
--   plan's choices), and without JIT: the setting prices a scan of the
--   small chime.limits at 10^10, over jit_above_cost, and compiling cost
--   100-300 ms a claim.
-- * A window's starts are read per shard of the partition's class (shard s
--   counts the buckets of shards s, s + k, ...: one primary-key range each)
--   and bounded by time in the key, where 0023 read every shard's buckets of
--   the partition and filtered: up to 8,000 rows a claim for a rate in 8
--   shards. Same rows counted: a bucket counts while it has not left the
--   window (chime.limit_bucket_leaves, unfolded so the index bounds it).
-- * A claim that finds every shard of its partitions held by other claims
--   waits for one row (its own partition and shard), not for one shard of
--   every partition in key order: claimers of 1,000 partitions queued on
--   the first row, each behind the last one's commit, and so ran one at a
--   time (sampled during a run: claims waited on those rows more often than
--   they ran).
-- * Under a partitioned limit a claim reads what it asks for (at least 32)
--   and three times that only when the first read found nothing to take:
--   0023 always read three times, which at 1,000 x 1,000 partitions locked
--   and sorted 3,000 candidates to take the ~250 that had room.
--
-- Binaries of before claim through the same functions (0024's wrapper over
-- chime.jobs_claim_open, whose signature and answers stay 0023's), so they
-- claim the same way.

-- Locks shards of the partitions p_keys for a claim and answers what they
-- have room for, with the clock the count was read at (0023's, with the
-- wait below changed). Each round locks one more shard of each partition
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
  v_kk    jsonb;
  v_p     integer;
  e       integer;
BEGIN
  FOR v_round IN 1 .. 8 LOOP
    SELECT array_agg(t.pos ORDER BY t.pos), array_agg(s.shard ORDER BY t.pos) INTO v_npos, v_nshard
    FROM unnest(v_try) t(pos), LATERAL (
      SELECT lp.shard FROM chime.limit_partitions lp
      WHERE lp.key = p_keys[t.pos] AND lp.shard < p_nshards[t.pos] AND (v_held[t.pos] >> lp.shard) & 1 = 0
      ORDER BY (lp.shard - p_pref % p_nshards[t.pos] + p_nshards[t.pos]) % p_nshards[t.pos]
      LIMIT 1 FOR UPDATE SKIP LOCKED) s;
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
        SELECT array_agg(t.pos ORDER BY t.pos), array_agg(s.shard ORDER BY t.pos) INTO v_npos, v_nshard
        FROM unnest(v_try) t(pos), LATERAL (
          SELECT lp.shard FROM chime.limit_partitions lp
          WHERE lp.key = p_keys[t.pos] AND lp.shard < p_nshards[t.pos]
          ORDER BY (lp.shard - p_pref % p_nshards[t.pos] + p_nshards[t.pos]) % p_nshards[t.pos]
          LIMIT 1 FOR UPDATE SKIP LOCKED) s;
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
      SELECT array_agg(t.pos ORDER BY t.pos), array_agg(s.shard ORDER BY t.pos) INTO v_npos, v_nshard
      FROM unnest(v_try) t(pos), LATERAL (
        SELECT lp.shard FROM chime.limit_partitions lp
        WHERE lp.key = p_keys[t.pos] AND lp.shard < p_nshards[t.pos]
        ORDER BY (lp.shard - p_pref % p_nshards[t.pos] + p_nshards[t.pos]) % p_nshards[t.pos]
        LIMIT 1 FOR UPDATE SKIP LOCKED) s;
      EXIT WHEN v_npos IS NULL;
    END IF;
    -- The concurrency-limited partitions among them and their shard
    -- counts, as a jsonb object: a lookup in it is a binary search, where
    -- `limit_keys && array` compares every pair (6.5 ms for 500 running
    -- jobs and 1,000 partitions) and the planner's generic join rebuilt a
    -- hash per running job.
    SELECT coalesce(jsonb_object_agg(p_keys[n.pos], p_nshards[n.pos]), '{}') INTO v_kk
    FROM (SELECT DISTINCT x.pos FROM unnest(v_npos) x(pos) WHERE p_conc[x.pos] IS NOT NULL) n;
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
    running AS MATERIALIZED (
      SELECT coalesce(jsonb_object_agg(x.key || '|' || x.shard, x.n), '{}') AS m FROM (
        SELECT u.key, coalesce(u.shard, 0) % (v_kk ->> u.key)::integer AS shard, count(*) AS n
        FROM chime.jobs j, unnest(j.limit_keys, j.limit_shards) u(key, shard)
        WHERE j.state = 'running' AND j.limit_keys IS NOT NULL AND v_kk ? u.key
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

CREATE OR REPLACE FUNCTION chime.jobs_claim_open(p_queues text[], p_n integer)
RETURNS TABLE (id bigint, keys text[], shards smallint[], started_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  -- Planning these statements cost more than running them (1.3 ms against
  -- 0.1 ms for the count): plan them once per connection.
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off ROWS 100 AS $$
#variable_conflict use_column
DECLARE
  v_limits  chime.limits[];
  v_pref    integer := pg_backend_pid();  -- This connection's own shard (mod count).
  v_most    integer := least(greatest(p_n * 3, 32), 4000);
  v_want    integer;      -- Candidates to read.
  -- Candidates, in claim order; candidate i's partitions are entries
  -- v_off[i] .. v_off[i + 1] - 1 (one per limit that applies): v_epos,
  -- the partition's position in v_keys; v_ecand, i.
  v_ids     bigint[];
  v_off     integer[];
  v_epos    integer[];
  v_ecand   integer[];
  v_single  boolean;      -- No candidate counts under two partitions.
  v_eslot   integer[];    -- Per entry taken: the slot it counts under.
  v_take    boolean[];    -- Per candidate: taken.
  v_ntaken  integer;
  v_held_back integer;    -- Candidates passed over for a full partition this claim holds.
  v_hb      integer[];    -- The same, per partition.
  -- The distinct partitions, sorted, and per partition: its limit's
  -- budgets and shard count, its candidates (demand), whether this claim
  -- holds a shard of it; for the loop below, its slots v_first .. v_last
  -- and the first with room (v_cur).
  v_keys    text[];
  v_conc    integer[];
  v_rate    integer[];
  v_window  bigint[];
  v_nshards integer[];
  v_demand  integer[];
  v_held    integer[];      -- Per partition: 1 when this claim holds a shard of it.
  v_first   integer[];
  v_last    integer[];
  v_cur     integer[];
  -- Slots: the shards this claim holds (partition, shard) and their room.
  v_skey    integer[];
  v_sshard  smallint[];
  v_sfree_c integer[];
  v_sfree_r integer[];
  -- What the set-based assignment answers: the candidates taken, their
  -- entries and slots, and the partitions that held some back with how many.
  v_tcand   integer[];
  v_tentry  integer[];
  v_tslot   integer[];
  v_hpos    integer[];
  v_hn      integer[];
  v_partitioned boolean;  -- A limit on these queues has partition_by.
  v_lqueue  text[];       -- Fast path: per limit, its queue and kind,
  v_lkind   text[];
  v_kslot   integer[];    -- and the slot all its jobs count under.
  v_order   integer[];
  v_now     timestamptz;
  v_ok      boolean;
  v_p       integer;
  v_s       integer;
  i         integer;
  e         integer;
BEGIN
  SELECT array_agg(l ORDER BY l.name), bool_or(l.partition_by IS NOT NULL) INTO v_limits, v_partitioned
  FROM chime.limits l WHERE l.queue IS NULL OR l.queue = ANY(p_queues);
  IF v_limits IS NULL THEN
    IF cardinality(p_queues) = 1 THEN
      RETURN QUERY
        SELECT j.id, NULL::text[], NULL::smallint[], NULL::timestamptz FROM chime.jobs j
        WHERE j.queue = p_queues[1] AND j.state IN ('scheduled', 'available', 'retryable')
          AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id LIMIT p_n FOR UPDATE SKIP LOCKED;
    ELSE
      RETURN QUERY
        SELECT j.id, NULL::text[], NULL::smallint[], NULL::timestamptz FROM chime.jobs j
        WHERE j.queue = ANY(p_queues) AND j.state IN ('scheduled', 'available', 'retryable')
          AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id LIMIT p_n FOR UPDATE SKIP LOCKED;
    END IF;
    RETURN;
  END IF;

  -- Unpartitioned limits only: their partitions are known before the
  -- candidates are. When a held shard of each has room for the whole claim
  -- (a limit that does not bind), the claim is the plain index walk, each
  -- job counted under the limits that apply to it.
  IF NOT v_partitioned THEN
    SELECT array_agg(l.name || '/' ORDER BY l.name), array_agg(l.concurrency ORDER BY l.name),
           array_agg(l.rate ORDER BY l.name), array_agg(l.rate_window_ms ORDER BY l.name),
           array_agg(chime.limit_shard_count(l.concurrency, l.rate) ORDER BY l.name),
           array_agg(l.queue ORDER BY l.name), array_agg(l.kind ORDER BY l.name)
    INTO v_keys, v_conc, v_rate, v_window, v_nshards, v_lqueue, v_lkind
    FROM unnest(v_limits) l;
    SELECT array_agg(h.pos ORDER BY h.ord), array_agg(h.shard ORDER BY h.ord),
           array_agg(h.free_c ORDER BY h.ord), array_agg(h.free_r ORDER BY h.ord), max(h.counted_at)
    INTO v_skey, v_sshard, v_sfree_c, v_sfree_r, v_now
    FROM chime.limit_hold(v_keys, v_nshards, v_conc, v_rate, v_window,
                          array_fill(p_n, ARRAY[cardinality(v_keys)]), v_pref)
         WITH ORDINALITY h(pos, shard, free_c, free_r, counted_at, ord);
    SELECT array_agg((SELECT min(x.slot) FROM unnest(v_skey, v_sfree_c, v_sfree_r) WITH ORDINALITY x(pos, fc, fr, slot)
                      WHERE x.pos = k.pos AND coalesce(x.fc, p_n) >= p_n AND coalesce(x.fr, p_n) >= p_n)
                     ORDER BY k.pos)
    INTO v_kslot FROM generate_series(1, cardinality(v_keys)) k(pos);
    IF array_position(v_kslot, NULL) IS NULL THEN
      RETURN QUERY
        WITH w AS MATERIALIZED (
          SELECT j.id, j.kind, j.queue FROM chime.jobs j
          WHERE cardinality(p_queues) = 1 AND j.queue = p_queues[1]
            AND j.state IN ('scheduled', 'available', 'retryable') AND j.run_at <= now()
          ORDER BY j.priority, j.run_at, j.id LIMIT p_n FOR UPDATE SKIP LOCKED),
        wm AS MATERIALIZED (
          SELECT j.id, j.kind, j.queue FROM chime.jobs j
          WHERE cardinality(p_queues) > 1 AND j.queue = ANY(p_queues)
            AND j.state IN ('scheduled', 'available', 'retryable') AND j.run_at <= now()
          ORDER BY j.priority, j.run_at, j.id LIMIT p_n FOR UPDATE SKIP LOCKED),
        a AS MATERIALIZED (SELECT * FROM w UNION ALL SELECT * FROM wm),
        -- Per kind and queue among them (a few): the limits that apply.
        combo AS MATERIALIZED (SELECT a.kind, a.queue, count(*)::integer AS n FROM a GROUP BY a.kind, a.queue),
        ent AS MATERIALIZED (
          SELECT combo.kind, combo.queue, combo.n, k.pos
          FROM combo, generate_series(1, cardinality(v_keys)) k(pos)
          WHERE (v_lqueue[k.pos] IS NULL OR v_lqueue[k.pos] = combo.queue)
            AND (v_lkind[k.pos] IS NULL OR v_lkind[k.pos] = combo.kind)),
        ck AS (
          SELECT ent.kind, ent.queue, array_agg(v_keys[ent.pos] ORDER BY ent.pos) AS keys,
                 array_agg(v_sshard[v_kslot[ent.pos]] ORDER BY ent.pos) AS shards
          FROM ent GROUP BY ent.kind, ent.queue),
        ins AS (
          INSERT INTO chime.limit_starts AS st (key, shard, started_at, n)
          SELECT v_keys[ent.pos], v_sshard[v_kslot[ent.pos]],
                 chime.limit_bucket(v_now, v_window[ent.pos]),
                 sum(ent.n)::integer
          FROM ent WHERE v_rate[ent.pos] IS NOT NULL GROUP BY ent.pos ORDER BY 1, 2
          ON CONFLICT (key, shard, started_at) DO UPDATE SET n = st.n + excluded.n)
        SELECT a.id, ck.keys, ck.shards, CASE WHEN ck.keys IS NOT NULL THEN v_now END
        FROM a LEFT JOIN ck ON ck.kind = a.kind AND ck.queue = a.queue;
      RETURN;
    END IF;
  END IF;

  -- Candidates: what is asked for (at least 32 under a partitioned limit:
  -- some partitions will be full), and three times that, at most 4,000, in
  -- a second pass (which reads them again: its own locks do not stop it)
  -- when some were held back and the first pass came short: under
  -- unpartitioned limits only, short of what was asked; under a partitioned
  -- one, with nothing taken. A claim that found work returns it, and its
  -- claimer asks again; one that found none looks three times as deep
  -- before its claimer waits, so a backlog held by a limit costs each claim
  -- the same and jobs of free partitions behind it are found.
  v_want := CASE WHEN v_partitioned THEN least(greatest(p_n, 32), v_most) ELSE p_n END;
  FOR v_pass IN 1 .. 2 LOOP
    -- One queue is a walk of jobs_ready_idx in claim order (queue =
    -- ANY(...) makes PostgreSQL read and sort every ready job: 80 ms with
    -- 40,000). Set-based from here on, but for the assignment of
    -- candidates under two partitions: a statement per candidate cost 10 us.
    WITH c AS MATERIALIZED (
      SELECT j.id, j.kind, j.queue, j.payload, j.priority, j.run_at FROM chime.jobs j
      WHERE cardinality(p_queues) = 1 AND j.queue = p_queues[1]
        AND j.state IN ('scheduled', 'available', 'retryable') AND j.run_at <= now()
      ORDER BY j.priority, j.run_at, j.id LIMIT v_want
      FOR UPDATE SKIP LOCKED),
    cm AS MATERIALIZED (
      SELECT j.id, j.kind, j.queue, j.payload, j.priority, j.run_at FROM chime.jobs j
      WHERE cardinality(p_queues) > 1 AND j.queue = ANY(p_queues)
        AND j.state IN ('scheduled', 'available', 'retryable') AND j.run_at <= now()
      ORDER BY j.priority, j.run_at, j.id LIMIT v_want
      FOR UPDATE SKIP LOCKED),
    cand AS MATERIALIZED (
      SELECT u.*, row_number() OVER (ORDER BY u.priority, u.run_at, u.id)::integer AS i
      FROM (SELECT * FROM c UNION ALL SELECT * FROM cm) u),
    ent AS MATERIALIZED (
      SELECT x.*, dense_rank() OVER (ORDER BY x.key)::integer AS pos FROM (
        SELECT cand.i, l.name || '/' || coalesce(left(cand.payload ->> l.partition_by, 200), '') AS key, l.name
        FROM cand JOIN unnest(v_limits) l ON (l.queue IS NULL OR l.queue = cand.queue)
                                         AND (l.kind IS NULL OR l.kind = cand.kind)) x),
    keys AS MATERIALIZED (
      SELECT e.pos, min(e.key) AS key, min(e.name) AS name, count(*)::integer AS demand
      FROM ent e GROUP BY e.pos),
    kl AS (SELECT k.*, l.concurrency, l.rate, l.rate_window_ms
           FROM keys k JOIN unnest(v_limits) l ON l.name = k.name),
    per AS (SELECT cand.i, count(ent.i)::integer AS n FROM cand LEFT JOIN ent ON ent.i = cand.i GROUP BY cand.i)
    SELECT (SELECT array_agg(cand.id ORDER BY cand.i) FROM cand),
           (SELECT array_agg(o ORDER BY i) FROM (
              SELECT per.i, 1 + coalesce(sum(per.n) OVER (ORDER BY per.i ROWS BETWEEN UNBOUNDED PRECEDING
                                                                           AND 1 PRECEDING), 0)::integer AS o
              FROM per
              UNION ALL SELECT 2147483647, 1 + (SELECT count(*)::integer FROM ent)) x),
           (SELECT array_agg(ent.pos ORDER BY ent.i, ent.name) FROM ent),
           (SELECT array_agg(ent.i ORDER BY ent.i, ent.name) FROM ent),
           (SELECT count(*) = count(DISTINCT ent.i) FROM ent),
           (SELECT array_agg(k.key ORDER BY k.pos) FROM keys k),
           (SELECT array_agg(kl.concurrency ORDER BY kl.pos) FROM kl),
           (SELECT array_agg(kl.rate ORDER BY kl.pos) FROM kl),
           (SELECT array_agg(kl.rate_window_ms ORDER BY kl.pos) FROM kl),
           (SELECT array_agg(chime.limit_shard_count(kl.concurrency, kl.rate) ORDER BY kl.pos) FROM kl),
           (SELECT array_agg(k.demand ORDER BY k.pos) FROM keys k)
    INTO v_ids, v_off, v_epos, v_ecand, v_single, v_keys, v_conc, v_rate, v_window, v_nshards, v_demand;
    IF v_ids IS NULL THEN RETURN; END IF;
    v_take := array_fill(false, ARRAY[cardinality(v_ids)]);
    v_eslot := array_fill(0, ARRAY[greatest(cardinality(v_epos), 1)]);
    v_ntaken := 0;
    v_held_back := 0;

    IF v_keys IS NULL THEN
      -- No limit applies to these candidates.
      FOR i IN 1 .. least(p_n, cardinality(v_ids)) LOOP v_take[i] := true; END LOOP;
      v_ntaken := least(p_n, cardinality(v_ids));
    ELSE
      v_hb := array_fill(0, ARRAY[cardinality(v_keys)]);
      SELECT array_agg(h.pos ORDER BY h.ord), array_agg(h.shard ORDER BY h.ord),
             array_agg(h.free_c ORDER BY h.ord), array_agg(h.free_r ORDER BY h.ord), max(h.counted_at)
      INTO v_skey, v_sshard, v_sfree_c, v_sfree_r, v_now
      FROM chime.limit_hold(v_keys, v_nshards, v_conc, v_rate, v_window, v_demand, v_pref)
           WITH ORDINALITY h(pos, shard, free_c, free_r, counted_at, ord);
      v_held := array_fill(0, ARRAY[cardinality(v_keys)]);
      FOR e IN 1 .. cardinality(v_skey) LOOP v_held[v_skey[e]] := 1; END LOOP;

      IF v_single THEN
        -- Each candidate counts under one partition at most: the k-th
        -- candidate of a partition (claim order) fits in the slot whose
        -- room, added up over the partition's slots, first reaches k.
        WITH sl AS (
          SELECT x.slot, x.pos,
                 greatest(least(coalesce(x.fc, 2147483647), coalesce(x.fr, 2147483647)), 0)::bigint AS cap
          FROM unnest(v_skey, v_sfree_c, v_sfree_r) WITH ORDINALITY x(pos, fc, fr, slot)),
        rng AS (
          SELECT sl.slot, sl.pos, sum(sl.cap) OVER w - sl.cap AS lo, sum(sl.cap) OVER w AS hi
          FROM sl WINDOW w AS (PARTITION BY sl.pos ORDER BY sl.slot)),
        ent AS (
          SELECT u.e, u.i, u.pos, row_number() OVER (PARTITION BY u.pos ORDER BY u.i) AS r
          FROM unnest(v_ecand, v_epos) WITH ORDINALITY u(i, pos, e)),
        cand AS (
          SELECT t.i, ent.e, ent.pos, rng.slot, ent.e IS NULL OR rng.slot IS NOT NULL AS ok
          FROM generate_series(1, cardinality(v_ids)) t(i)
          LEFT JOIN ent ON ent.i = t.i
          LEFT JOIN rng ON rng.pos = ent.pos AND ent.r > rng.lo AND ent.r <= rng.hi),
        taken AS MATERIALIZED (SELECT cand.* FROM cand WHERE cand.ok ORDER BY cand.i LIMIT p_n),
        -- Passed over before the claim was full, under a partition it holds.
        held AS MATERIALIZED (
          SELECT cand.pos, count(*)::integer AS n FROM cand
          WHERE NOT cand.ok AND v_held[cand.pos] <> 0
            AND ((SELECT count(*) FROM taken) < p_n OR cand.i < (SELECT max(taken.i) FROM taken))
          GROUP BY cand.pos)
        SELECT (SELECT array_agg(taken.i) FROM taken),
               (SELECT array_agg(taken.e) FROM taken WHERE taken.e IS NOT NULL),
               (SELECT array_agg(taken.slot) FROM taken WHERE taken.e IS NOT NULL),
               (SELECT array_agg(held.pos) FROM held),
               (SELECT array_agg(held.n) FROM held)
        INTO v_tcand, v_tentry, v_tslot, v_hpos, v_hn;
        IF v_tcand IS NOT NULL THEN
          FOREACH i IN ARRAY v_tcand LOOP v_take[i] := true; END LOOP;
          v_ntaken := cardinality(v_tcand);
        END IF;
        IF v_tentry IS NOT NULL THEN
          FOR e IN 1 .. cardinality(v_tentry) LOOP v_eslot[v_tentry[e]] := v_tslot[e]; END LOOP;
        END IF;
        IF v_hpos IS NOT NULL THEN
          FOR e IN 1 .. cardinality(v_hpos) LOOP
            v_hb[v_hpos[e]] := v_hn[e];
            v_held_back := v_held_back + v_hn[e];
          END LOOP;
        END IF;
      ELSE
        -- Candidates under two partitions or more: one at a time, in claim
        -- order; a candidate is taken when every partition it counts under
        -- has a held slot with room, and counts under the first such slot
        -- of each. Each partition's slots together: v_first .. v_last.
        SELECT array_agg(x.slot ORDER BY x.pos, x.slot) INTO v_order
        FROM unnest(v_skey) WITH ORDINALITY x(pos, slot);
        v_skey := ARRAY(SELECT v_skey[s] FROM unnest(v_order) WITH ORDINALITY o(s, ord) ORDER BY ord);
        v_sshard := ARRAY(SELECT v_sshard[s] FROM unnest(v_order) WITH ORDINALITY o(s, ord) ORDER BY ord);
        v_sfree_c := ARRAY(SELECT v_sfree_c[s] FROM unnest(v_order) WITH ORDINALITY o(s, ord) ORDER BY ord);
        v_sfree_r := ARRAY(SELECT v_sfree_r[s] FROM unnest(v_order) WITH ORDINALITY o(s, ord) ORDER BY ord);
        v_first := array_fill(0, ARRAY[cardinality(v_keys)]);
        v_last := array_fill(-1, ARRAY[cardinality(v_keys)]);
        FOR v_s IN 1 .. cardinality(v_skey) LOOP
          v_p := v_skey[v_s];
          IF v_first[v_p] = 0 THEN v_first[v_p] := v_s; END IF;
          v_last[v_p] := v_s;
        END LOOP;
        v_cur := v_first;
        FOR i IN 1 .. cardinality(v_ids) LOOP
          EXIT WHEN v_ntaken >= p_n;
          v_ok := true;
          FOR e IN v_off[i] .. v_off[i + 1] - 1 LOOP
            v_p := v_epos[e];
            -- Skip the slots that ran out of room.
            WHILE v_cur[v_p] BETWEEN 1 AND v_last[v_p]
                  AND (coalesce(v_sfree_c[v_cur[v_p]], 1) < 1 OR coalesce(v_sfree_r[v_cur[v_p]], 1) < 1) LOOP
              v_cur[v_p] := CASE WHEN v_cur[v_p] < v_last[v_p] THEN v_cur[v_p] + 1 ELSE 0 END;
            END LOOP;
            IF v_cur[v_p] < 1 THEN
              -- (Held by another claim, it is that claim's to count.)
              IF v_first[v_p] > 0 THEN
                v_hb[v_p] := v_hb[v_p] + 1;
                v_held_back := v_held_back + 1;
              END IF;
              v_ok := false;
              EXIT;
            END IF;
          END LOOP;
          CONTINUE WHEN NOT v_ok;
          FOR e IN v_off[i] .. v_off[i + 1] - 1 LOOP
            v_s := v_cur[v_epos[e]];
            v_sfree_c[v_s] := v_sfree_c[v_s] - 1;
            v_sfree_r[v_s] := v_sfree_r[v_s] - 1;
            v_eslot[e] := v_s;
          END LOOP;
          v_take[i] := true;
          v_ntaken := v_ntaken + 1;
        END LOOP;
      END IF;
    END IF;
    EXIT WHEN v_ntaken >= p_n OR v_held_back = 0 OR v_want >= v_most OR cardinality(v_ids) < v_want
              OR (v_partitioned AND v_ntaken > 0);
    v_want := v_most;
  END LOOP;

  IF v_keys IS NOT NULL THEN
    -- Rate limits: the starts just taken, in their bucket.
    INSERT INTO chime.limit_starts AS st (key, shard, started_at, n)
    SELECT v_keys[v_skey[t.slot]], v_sshard[t.slot],
           chime.limit_bucket(v_now, v_window[v_skey[t.slot]]),
           t.n
    FROM (SELECT u.slot, count(*)::integer AS n FROM unnest(v_eslot) u(slot) WHERE u.slot > 0 GROUP BY u.slot) t
    WHERE v_rate[v_skey[t.slot]] IS NOT NULL
    ORDER BY 1, 2
    ON CONFLICT (key, shard, started_at) DO UPDATE SET n = st.n + excluded.n;
    IF v_held_back > 0 THEN
      -- Per limit, on one shard it holds: a row write per limit, not per
      -- partition, on a row this claim has locked already.
      UPDATE chime.limit_partitions lp SET held_back = lp.held_back + h.n
      FROM (SELECT DISTINCT ON (p.l) p.key, p.shard, sum(p.n) OVER (PARTITION BY p.l) AS n
            FROM (SELECT DISTINCT ON (x.pos) split_part(v_keys[x.pos], '/', 1) AS l, v_keys[x.pos] AS key,
                         v_sshard[x.slot] AS shard, v_hb[x.pos] AS n
                  FROM unnest(v_skey) WITH ORDINALITY x(pos, slot) WHERE v_hb[x.pos] > 0
                  ORDER BY x.pos, x.slot) p
            ORDER BY p.l, p.key) h
      WHERE lp.key = h.key AND lp.shard = h.shard;
    END IF;
  END IF;

  RETURN QUERY
    SELECT v_ids[u.i], array_agg(v_keys[u.pos] ORDER BY u.e), array_agg(v_sshard[u.slot] ORDER BY u.e), v_now
    FROM unnest(v_ecand, v_epos, v_eslot) WITH ORDINALITY u(i, pos, slot, e)
    WHERE v_take[u.i] GROUP BY u.i
    UNION ALL
    SELECT v_ids[t.i], NULL, NULL, NULL FROM generate_series(1, cardinality(v_ids)) t(i)
    WHERE v_take[t.i] AND v_off[t.i + 1] = v_off[t.i];
END;
$$;
REVOKE ALL ON FUNCTION chime.jobs_claim_open(text[], integer) FROM PUBLIC;
