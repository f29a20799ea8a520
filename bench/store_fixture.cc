#include "bench/store_fixture.h"

#include <algorithm>

#include "common/db/job_state_sql.h"

namespace chime::bench {
namespace {

Result<void> Done(Result<PqResult> r) {
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace

Result<StoreFixture> StoreFixture::Open(const std::string& conninfo) {
  auto conn = PqConnection::Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  return StoreFixture(std::move(*conn));
}

Result<void> StoreFixture::Reset() {
  return Done(conn_.Exec("TRUNCATE chime.jobs, chime.runs, chime.job_counts RESTART IDENTITY"));
}

Result<void> StoreFixture::AddPending(int64_t n) {
  if (auto r = conn_.ExecParams(R"sql(
INSERT INTO chime.jobs (kind, queue, payload)
SELECT 'bench', 'default', jsonb_build_object('n', g) FROM generate_series(1, $1::bigint) g)sql",
                                {std::to_string(n)});
      !r) {
    return std::unexpected(r.error());
  }
  return Done(conn_.Exec("ANALYZE chime.jobs"));
}

Result<void> StoreFixture::AddFinished(int64_t n) {
  // Where a completion leaves a finished job (migration 0029): its final
  // run, holding the job's columns; chime.jobs keeps only live jobs.
  if (auto r = conn_.ExecParams(R"sql(
INSERT INTO chime.runs (job_id, kind, queue, attempt, started_at, finished_at, outcome, final,
                        job_outcome, holds_job, priority, payload, max_attempts, rescue_count,
                        invocation, created_at, run_at, fan_out)
SELECT nextval(pg_get_serial_sequence('chime.jobs', 'id')), 'bench', 'default', 1, now(), now(),
       'succeeded', true, 'succeeded', true, 0, jsonb_build_object('n', g), 20, 0, 'manual', now(),
       now(), false
FROM generate_series(1, $1::bigint) g)sql",
                                {std::to_string(n)});
      !r) {
    return std::unexpected(r.error());
  }
  return CountHeldJobs();
}

Result<void> StoreFixture::CountHeldJobs() {
  // What chime.jobs_complete adds for each job it leaves in the ledger.
  return Done(conn_.Exec(R"sql(
TRUNCATE chime.job_history_counts;
INSERT INTO chime.job_history_counts (day, queue, kind, state, shard, n)
SELECT (finished_at AT TIME ZONE 'UTC')::date, queue, kind, chime.job_state_of(job_outcome), 0, count(*)
FROM chime.runs WHERE holds_job GROUP BY 1, 2, 3, 4)sql"));
}

Result<void> StoreFixture::AddPastRuns(int64_t n, int days) {
  if (auto r = conn_.ExecParams("SELECT chime.runs_partitions_ensure(0, $1::integer)",
                                {std::to_string(days + 1)});
      !r) {
    return std::unexpected(r.error());
  }
  constexpr int64_t kChunk = 1'000'000;
  for (int64_t from = 1; from <= n; from += kChunk) {
    const int64_t to = std::min(n, from + kChunk - 1);
    // Run g finishes on the day (g % days) + 1 before today, at some second
    // of it; never in today's partition. Each is a job's only attempt, and
    // holds its job as a completion leaves it (migration 0029).
    if (auto r = conn_.ExecParams(R"sql(
INSERT INTO chime.runs (job_id, kind, queue, attempt, started_at, finished_at, outcome, final,
                        job_outcome, holds_job, priority, payload, max_attempts, rescue_count,
                        invocation, created_at, run_at, fan_out)
SELECT g, 'bench', 'default', 1, t - interval '1 millisecond', t, 'succeeded', true, 'succeeded',
       true, 0, jsonb_build_object('n', g), 20, 0, 'manual', t - interval '2 milliseconds',
       t - interval '2 milliseconds', false
FROM generate_series($1::bigint, $2::bigint) g,
     LATERAL (SELECT date_trunc('day', now(), 'UTC') - (g % $3::integer) * interval '1 day'
                     - interval '1 second' - (g % 86000) * interval '1 second') AS d(t))sql",
                                  {std::to_string(from), std::to_string(to), std::to_string(days)});
        !r) {
      return std::unexpected(r.error());
    }
  }
  return CountHeldJobs();
}

Result<int64_t> StoreFixture::CountRuns() {
  auto r = conn_.Exec("SELECT count(*) FROM chime.runs");
  if (!r) return std::unexpected(r.error());
  return r->int64(0, 0);
}

Result<int64_t> StoreFixture::CountFinishedJobs() {
  auto r = conn_.Exec("SELECT coalesce(sum(n), 0)::bigint FROM chime.finished_job_counts "
                      "WHERE state IN ('succeeded', 'discarded', 'cancelled')");
  if (!r) return std::unexpected(r.error());
  return r->int64(0, 0);
}

Result<void> StoreFixture::VacuumAnalyze() {
  return Done(conn_.Exec("VACUUM ANALYZE chime.jobs, chime.runs"));
}

Result<int64_t> StoreFixture::CountPending() {
  auto r = conn_.Exec(
      "SELECT count(*) FROM chime.jobs WHERE state IN " CHIME_SQL_QUEUED_STATES);
  if (!r) return std::unexpected(r.error());
  return r->int64(0, 0);
}

}  // namespace chime::bench
