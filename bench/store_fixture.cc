#include "bench/store_fixture.h"

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
  return Done(conn_.ExecParams(R"sql(
INSERT INTO chime.jobs (kind, queue, state, payload, attempt, attempted_at, finished_at)
SELECT 'bench', 'default', 'succeeded', jsonb_build_object('n', g), 1, now(), now()
FROM generate_series(1, $1::bigint) g)sql",
                               {std::to_string(n)}));
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
