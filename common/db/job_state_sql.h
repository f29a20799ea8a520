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
