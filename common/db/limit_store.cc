#include "common/db/limit_store.h"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "common/db/job_store_sql.h"  // CHIME_US
#include "common/db/job_state_sql.h"
#include "common/db/pg_array.h"
#include "common/db/row_reader.h"

namespace chime::db {
namespace {

using std::chrono::milliseconds;

// A partition's key is '<limit>/<payload value>' (migration 0022); its
// budget is split over shards (0023), which readers sum.
constexpr const char* kSet = R"sql(
WITH old AS (SELECT partition_by FROM chime.limits WHERE name = $1),
up AS (
  INSERT INTO chime.limits AS l (name, queue, kind, partition_by, concurrency, rate, rate_window_ms,
                                 source)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (name) DO UPDATE SET queue = excluded.queue, kind = excluded.kind,
    partition_by = excluded.partition_by, concurrency = excluded.concurrency, rate = excluded.rate,
    rate_window_ms = excluded.rate_window_ms, source = excluded.source, updated_at = now()
  RETURNING l.name)
-- Another field means other partitions: the old ones' logs no longer apply.
DELETE FROM chime.limit_partitions p
WHERE p.limit_name = (SELECT name FROM up)
  AND EXISTS (SELECT 1 FROM old WHERE old.partition_by IS DISTINCT FROM $4))sql";

// $1 a name, or NULL for every limit. Running attempts carry the keys they
// were counted under (jobs.limit_keys); the ready count (jobs due now, not
// those waiting for their run_at) walks jobs_ready_idx.
constexpr const char* kList = R"sql(
WITH run AS (
  SELECT k AS key, count(*) AS n FROM chime.jobs j, unnest(j.limit_keys) k
  WHERE j.state = 'running' AND j.limit_keys IS NOT NULL GROUP BY k),
st AS (
  SELECT s.key, sum(s.n)::bigint AS n FROM chime.limit_starts s
  JOIN chime.limits l ON l.name = split_part(s.key, '/', 1)
  WHERE chime.limit_bucket_leaves(s.started_at, l.rate_window_ms) > now()
  GROUP BY s.key),
parts AS (
  SELECT split_part(key, '/', 1) AS limit_name, substr(key, strpos(key, '/') + 1) AS part,
         coalesce(run.n, 0) AS r, coalesce(st.n, 0) AS s
  FROM run FULL JOIN st USING (key))
SELECT l.name, l.queue, l.kind, l.partition_by, l.concurrency, l.rate, l.rate_window_ms, l.source,
       )sql" CHIME_US("l.created_at") ", " CHIME_US("l.updated_at") R"sql(,
       (SELECT coalesce(sum(p.r), 0)::bigint FROM parts p WHERE p.limit_name = l.name),
       (SELECT count(*) FROM chime.jobs j
        WHERE j.state IN )sql" CHIME_SQL_QUEUED_STATES R"sql( AND j.run_at <= now()
          AND (l.queue IS NULL OR j.queue = l.queue) AND (l.kind IS NULL OR j.kind = l.kind)),
       (SELECT count(*) FROM parts p WHERE p.limit_name = l.name AND (p.r > 0 OR p.s > 0)),
       (SELECT coalesce(json_agg(json_build_array(t.part, t.r, t.s)), '[]')::text FROM (
          SELECT p.part, p.r, p.s FROM parts p WHERE p.limit_name = l.name AND (p.r > 0 OR p.s > 0)
          ORDER BY p.r DESC, p.s DESC, p.part LIMIT $2) t),
       (SELECT coalesce(sum(lp.held_back), 0)::bigint FROM chime.limit_partitions lp WHERE lp.limit_name = l.name)
FROM chime.limits l WHERE $1::text IS NULL OR l.name = $1 ORDER BY l.name)sql";

constexpr const char* kDelete = "DELETE FROM chime.limits WHERE name = $1 RETURNING queue";

// $1 a queue, or NULL for every queue: a changed or deleted limit may let
// waiting jobs through, so their workers look now rather than at their next
// poll ('*' wakes every worker, migration 0023).
constexpr const char* kWake =
    "SELECT " CHIME_SQL_READY_NOTICE("coalesce($1::text, '*')", "1");

constexpr const char* kFileLimitsNotIn =
    "SELECT name FROM chime.limits WHERE source = 'file' AND name <> ALL($1::text[]) ORDER BY name";

// Runs kSet for one spec in tx.
void Upsert(pqxx::transaction_base& tx, const schedule::LimitSpec& spec, const char* source) {
  std::optional<int> rate;
  std::optional<int64_t> window_ms;
  if (spec.rate) {
    rate = spec.rate->count;
    window_ms = spec.rate->window.count();
  }
  tx.exec_params(kSet, spec.name, spec.queue, spec.kind, spec.partition_by, spec.concurrency, rate, window_ms,
                 source);
}

// Over the rate limits on these queues: the soonest a bucket of starts
// leaves its window (migration 0023), among buckets still in it.
constexpr const char* kNextSlot = R"sql(
WITH s AS (
  SELECT chime.limit_bucket_leaves(s.started_at, l.rate_window_ms) AS leaves
  FROM chime.limits l JOIN chime.limit_partitions p ON p.limit_name = l.name
  JOIN chime.limit_starts s ON s.key = p.key AND s.shard = p.shard
  WHERE l.rate IS NOT NULL AND (l.queue IS NULL OR l.queue = ANY($1::text[])))
SELECT )sql" CHIME_US("min(s.leaves)") R"sql( FROM s WHERE s.leaves > now())sql";

LimitRow ReadLimit(const pqxx::row& row) {
  LimitRow l;
  l.spec.name = row[0].c_str();
  l.spec.queue = Optional<std::string>(row[1]);
  l.spec.kind = Optional<std::string>(row[2]);
  l.spec.partition_by = Optional<std::string>(row[3]);
  l.spec.concurrency = Optional<int>(row[4]);
  if (!row[5].is_null()) l.spec.rate = schedule::LimitRate{row[5].as<int>(), milliseconds(row[6].as<int64_t>())};
  l.source = std::string_view(row[7].c_str()) == "file" ? LimitSource::kFile : LimitSource::kApi;
  l.created_at = MicrosToTime(row[8].as<int64_t>());
  l.updated_at = MicrosToTime(row[9].as<int64_t>());
  l.running = row[10].as<int64_t>();
  l.ready = row[11].as<int64_t>();
  l.partitions_total = row[12].as<int64_t>();
  for (const auto& p : nlohmann::json::parse(row[13].c_str())) {
    l.partitions.push_back({p[0].get<std::string>(), p[1].get<int64_t>(), p[2].get<int64_t>()});
  }
  l.held_back = row[14].as<int64_t>();
  return l;
}

}  // namespace

Result<LimitRow> LimitStore::LimitSet(const schedule::LimitSpec& spec) {
  if (auto ok = schedule::Validate(spec); !ok) return std::unexpected(ok.error());
  std::optional<LimitRow> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    Upsert(tx, spec, "api");
    tx.exec_params(kWake, spec.queue);
    auto r = tx.exec_params(kList, spec.name, static_cast<int>(kMaxPartitionsShown));
    if (!r.empty()) row = ReadLimit(r[0]);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!row) return Fail(ErrorCode::kInternal, "limit '" + spec.name + "' was set but cannot be read back");
  return *row;
}

Result<std::vector<LimitRow>> LimitStore::LimitsList() {
  std::vector<LimitRow> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec_params(kList, std::optional<std::string>(),
                                          static_cast<int>(kMaxPartitionsShown))) {
      out.push_back(ReadLimit(row));
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<void> LimitStore::LimitDelete(const std::string& name) {
  if (auto ok = schedule::CheckLimitName(name); !ok) return ok;
  bool deleted = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params(kDelete, name);
    deleted = !r.empty();
    if (deleted) tx.exec_params(kWake, Optional<std::string>(r[0][0]));
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!deleted) return Fail(ErrorCode::kNotFound, "no limit named '" + name + "'");
  return {};
}

Result<LimitSyncResult> LimitStore::LimitsSyncFile(std::span<const schedule::LimitSpec> specs) {
  PgArrayBuilder names;
  for (const auto& spec : specs) {
    if (auto ok = schedule::Validate(spec); !ok) {
      return Fail(ErrorCode::kInvalidArgument, "limit '" + spec.name + "': " + ok.error().message);
    }
    names.AddText(spec.name);
  }
  LimitSyncResult out;
  const std::string listed = names.Finish();
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out = {};
    pqxx::work tx(c);
    for (const auto& spec : specs) Upsert(tx, spec, "file");
    if (!specs.empty()) tx.exec_params(kWake, std::optional<std::string>());
    for (const auto& row : tx.exec_params(kFileLimitsNotIn, listed)) out.kept.push_back(row[0].c_str());
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  out.applied = specs.size();
  return out;
}

Result<std::optional<TimePoint>> LimitStore::LimitsNextSlot(std::span<const std::string> queues) {
  PgArrayBuilder array;
  for (const auto& q : queues) array.AddText(q);
  std::optional<TimePoint> next;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(kNextSlot, array.Finish());
    if (!r.empty() && !r[0][0].is_null()) next = MicrosToTime(r[0][0].as<int64_t>());
  });
  if (!ran) return std::unexpected(ran.error());
  return next;
}

}  // namespace chime::db
