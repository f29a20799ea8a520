#include "common/db/queue_store.h"

#include <pqxx/pqxx>

#include "common/base/name_rule.h"
#include "common/db/job_state_sql.h"
#include "common/db/job_store_sql.h"  // CHIME_US
#include "common/db/row_reader.h"

namespace chime::db {
namespace {

constexpr size_t kMaxChangedByBytes = 200;

// $1 a queue, or NULL for every queue. Live jobs are few (rule 4); the
// queues on record fewer. Waiting and running jobs are counted apart, each
// through its partial index (jobs_ready_idx, jobs_running_idx): one filter
// on every live state matches neither, and the planner read the whole table
// (over 500 ms with 1,000,000 finished jobs, chime-bench stats).
constexpr const char* kList = R"sql(
WITH parts AS (
  SELECT queue, count(*) FILTER (WHERE run_at <= now()) AS ready,
         count(*) FILTER (WHERE run_at > now()) AS scheduled, 0 AS running,
         min(run_at) FILTER (WHERE run_at <= now()) AS oldest
  FROM chime.jobs
  WHERE state IN )sql" CHIME_SQL_QUEUED_STATES R"sql( AND ($1::text IS NULL OR queue = $1)
  GROUP BY queue
  UNION ALL
  SELECT queue, 0, 0, count(*), NULL FROM chime.jobs
  WHERE state = 'running' AND ($1::text IS NULL OR queue = $1)
  GROUP BY queue),
live AS (
  SELECT queue, sum(ready)::bigint AS ready, sum(scheduled)::bigint AS scheduled,
         sum(running)::bigint AS running,
         min(oldest) AS oldest
  FROM parts GROUP BY queue),
named AS (SELECT * FROM chime.queues WHERE $1::text IS NULL OR name = $1)
SELECT coalesce(q.name, l.queue), )sql" CHIME_US("q.paused_at") R"sql(, coalesce(q.changed_by, ''),
       )sql" CHIME_US("q.updated_at") R"sql(, coalesce(l.ready, 0), coalesce(l.scheduled, 0),
       coalesce(l.running, 0), coalesce((extract(epoch FROM now() - l.oldest) * 1000)::bigint, 0)
FROM live l FULL JOIN named q ON q.name = l.queue
ORDER BY 1)sql";

// A second pause keeps the first one's time and author.
constexpr const char* kPause = R"sql(
INSERT INTO chime.queues AS q (name, paused_at, changed_by) VALUES ($1, now(), $2)
ON CONFLICT (name) DO UPDATE SET paused_at = now(), changed_by = excluded.changed_by, updated_at = now()
WHERE q.paused_at IS NULL)sql";

// Resumed: its due jobs are announced as an insert announces them, so
// waiting workers claim them now rather than at their next poll.
constexpr const char* kResume = R"sql(
WITH r AS (
  UPDATE chime.queues SET paused_at = NULL, changed_by = $2, updated_at = now()
  WHERE name = $1 AND paused_at IS NOT NULL RETURNING name),
due AS (
  SELECT r.name, count(j.id) AS n FROM r LEFT JOIN chime.jobs j
    ON j.queue = r.name AND j.state IN )sql" CHIME_SQL_QUEUED_STATES R"sql( AND j.run_at <= now()
  GROUP BY r.name)
SELECT )sql" CHIME_SQL_READY_NOTICE("due.name", "due.n") R"sql(
FROM due WHERE due.n > 0)sql";

QueueRow ReadQueue(const pqxx::row& row) {
  QueueRow q;
  q.name = row[0].c_str();
  q.paused_at = OptionalTime(row[1]);
  q.changed_by = row[2].c_str();
  q.changed_at = OptionalTime(row[3]);
  q.ready = row[4].as<int64_t>();
  q.scheduled = row[5].as<int64_t>();
  q.running = row[6].as<int64_t>();
  q.oldest_ready_age = std::chrono::milliseconds(row[7].as<int64_t>());
  return q;
}

Result<void> CheckName(const std::string& name) {
  if (!IsValidName(name)) return Fail(ErrorCode::kInvalidArgument, "queue: must be " + std::string(kNameRule));
  return {};
}

Result<void> CheckChange(const std::string& name, const std::string& by) {
  if (auto ok = CheckName(name); !ok) return ok;
  if (by.empty() || by.size() > kMaxChangedByBytes) {
    return Fail(ErrorCode::kInvalidArgument, "changed by: must be 1-200 bytes");
  }
  return {};
}

// kList for one queue in tx; an unknown queue is open and empty.
QueueRow Read(pqxx::transaction_base& tx, const std::string& name) {
  auto r = tx.exec_params(kList, name);
  if (r.empty()) return QueueRow{.name = name};
  return ReadQueue(r[0]);
}

}  // namespace

Result<std::vector<QueueRow>> QueueStore::QueuesList() {
  std::vector<QueueRow> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.clear();
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec_params(kList, std::optional<std::string>())) out.push_back(ReadQueue(row));
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<std::vector<std::string>> QueueStore::QueuesPaused() {
  std::vector<std::string> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.clear();
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec("SELECT name FROM chime.queues WHERE paused_at IS NOT NULL ORDER BY name")) {
      out.push_back(row[0].c_str());
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<QueueRow> QueueStore::QueueGet(const std::string& name) {
  if (auto ok = CheckName(name); !ok) return std::unexpected(ok.error());
  QueueRow out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    out = Read(tx, name);
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<QueueRow> QueueStore::QueuePause(const std::string& name, const std::string& by) {
  return Change(kPause, name, by);
}

Result<QueueRow> QueueStore::QueueResume(const std::string& name, const std::string& by) {
  return Change(kResume, name, by);
}

Result<QueueRow> QueueStore::Change(const char* statement, const std::string& name, const std::string& by) {
  if (auto ok = CheckChange(name, by); !ok) return std::unexpected(ok.error());
  QueueRow out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    tx.exec_params(statement, name, by);
    out = Read(tx, name);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

}  // namespace chime::db
