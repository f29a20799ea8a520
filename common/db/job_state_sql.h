// The sets of job states the SQL of Chime names, spelled once for every
// statement written in C++ (job_store_sql.h, schedule_store_sql.h, the other
// stores, the kinds that read chime.jobs). Each matches db::IsFinished
// (job_states_test checks it). The migrations keep their own copies, which
// cannot change once applied: 0001 (the state CHECK, jobs_ready_idx,
// jobs_unique_live_idx, jobs_notify_ready), 0002 (jobs_schedule_live_idx),
// 0022 and 0023 (the limited claim). A statement that must use a partial
// index names the index's set in the same order: CHIME_SQL_LIVE_STATES is
// jobs_unique_live_idx's. Thread-safe (constants).
#pragma once

// Live: not finished. A unique key is unique among these.
#define CHIME_SQL_LIVE_STATES "('scheduled', 'available', 'running', 'retryable')"
// Live and not running: waiting for its run_at or for a claim.
#define CHIME_SQL_QUEUED_STATES "('scheduled', 'available', 'retryable')"
// Finished (db::IsFinished): kept until retention deletes them.
#define CHIME_SQL_FINISHED_STATES "('succeeded', 'discarded', 'cancelled')"

// A job's state and outcome wherever it is (migration 0029: chime.jobs, else
// the final run that holds it, as chime.jobs_held reads it), joined by a
// reader as `LEFT JOIN LATERAL (...) AS alias ON true`: `alias.state`,
// `alias.outcome`. `id` and `since` are SQL expressions of the outer row:
// the job's id, and a time before it finished (its fire), so that only the
// ledger's days since then are probed. Why not chime.jobs_all: a UNION ALL
// member that reads a partitioned table is not flattened into a join, so
// joining the view reads every held run; each side probed by id is not.
#define CHIME_SQL_JOB_STATE_LATERAL(id, since)                                                     \
  "(SELECT js.state, js.outcome FROM chime.jobs js WHERE js.id = " id                              \
  " UNION ALL SELECT jh.state, jh.outcome FROM chime.jobs_held jh"                                 \
  " WHERE jh.id = " id " AND jh.finished_at >= " since " LIMIT 1)"
