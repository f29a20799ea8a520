#include "common/db/worker_directory.h"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>
#include <map>

#include "common/db/job_store_sql.h"  // CHIME_US
#include "common/db/pg_array.h"
#include "common/db/row_reader.h"

namespace chime::db {
namespace {

// One row per sighting; queues and running jobs travel as JSON arrays, one
// text per worker, since a statement cannot unnest arrays of arrays.
// $1 ids, $2 hosts, $3 pids, $4 queues (JSON), $5 slots, $6 free slots,
// $7 running jobs (JSON), $8 versions, $9 milliseconds silent, $10 replica.
constexpr const char* kPublish = R"sql(
INSERT INTO chime.workers AS w (id, host, pid, queues, slots, free_slots, running_jobs, version,
                                seen_by, started_at, last_seen_at)
SELECT t.id, t.host, t.pid,
       ARRAY(SELECT jsonb_array_elements_text(t.queues::jsonb)),
       t.slots, t.free_slots,
       ARRAY(SELECT jsonb_array_elements_text(t.running::jsonb)::bigint),
       t.version, $10, now(), now() - t.silent_ms * interval '1 millisecond'
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::int[], $7::text[],
            $8::text[], $9::bigint[]) AS t(id, host, pid, queues, slots, free_slots, running,
                                            version, silent_ms)
ON CONFLICT (id) DO UPDATE
  SET host = excluded.host, pid = excluded.pid, queues = excluded.queues, slots = excluded.slots,
      free_slots = excluded.free_slots, running_jobs = excluded.running_jobs,
      version = excluded.version, seen_by = excluded.seen_by,
      started_at = CASE WHEN w.host = excluded.host AND w.pid = excluded.pid THEN w.started_at
                        ELSE excluded.started_at END,
      last_seen_at = excluded.last_seen_at
  WHERE w.last_seen_at <= excluded.last_seen_at)sql";

constexpr const char* kForget = R"sql(
DELETE FROM chime.workers WHERE last_seen_at < now() - $1::bigint * interval '1 millisecond')sql";

constexpr const char* kList = R"sql(
SELECT id, host, pid, array_to_json(queues)::text, slots, free_slots, array_to_json(running_jobs)::text,
       version, seen_by, )sql" CHIME_US("started_at") ", " CHIME_US("last_seen_at") R"sql(
FROM chime.workers ORDER BY id)sql";

}  // namespace

Result<void> WorkerDirectory::Publish(std::span<const WorkerRow> workers, const std::string& replica,
                                      TimePoint now) {
  if (replica.empty()) return Fail(ErrorCode::kInvalidArgument, "replica: empty");
  // Freshest sighting per id: one statement may not update a row twice.
  std::map<std::string, const WorkerRow*> freshest;
  for (const auto& w : workers) {
    if (w.worker_id.empty()) return Fail(ErrorCode::kInvalidArgument, "worker id: empty");
    auto [it, inserted] = freshest.emplace(w.worker_id, &w);
    if (!inserted && w.last_seen > it->second->last_seen) it->second = &w;
  }
  if (freshest.empty()) return {};
  PgArrayBuilder ids, hosts, pids, queues, slots, free_slots, running, versions, silent;
  for (const auto& [id, w] : freshest) {
    ids.AddText(id);
    hosts.AddText(w->host);
    pids.AddInt(w->pid);
    queues.AddText(nlohmann::json(w->queues).dump());
    slots.AddInt(w->slots);
    free_slots.AddInt(w->free_slots);
    running.AddText(nlohmann::json(w->running_jobs).dump());
    versions.AddText(w->version);
    silent.AddInt(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(now - w->last_seen).count()));
  }
  return conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params(kPublish, ids.Finish(), hosts.Finish(), pids.Finish(), queues.Finish(), slots.Finish(),
                   free_slots.Finish(), running.Finish(), versions.Finish(), silent.Finish(), replica);
  });
}

Result<int64_t> WorkerDirectory::ForgetSilent(std::chrono::milliseconds silent_for) {
  int64_t deleted = 0;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    deleted = tx.exec_params(kForget, static_cast<int64_t>(silent_for.count())).affected_rows();
  });
  if (!ran) return std::unexpected(ran.error());
  return deleted;
}

Result<std::vector<WorkerRow>> WorkerDirectory::List() {
  std::vector<WorkerRow> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec(kList)) {
      WorkerRow w;
      w.worker_id = row[0].c_str();
      w.host = row[1].c_str();
      w.pid = row[2].as<int>();
      w.queues = nlohmann::json::parse(row[3].c_str()).get<std::vector<std::string>>();
      w.slots = row[4].as<int>();
      w.free_slots = row[5].as<int>();
      w.running_jobs = nlohmann::json::parse(row[6].c_str()).get<std::vector<int64_t>>();
      w.version = row[7].c_str();
      w.seen_by = row[8].c_str();
      w.started_at = MicrosToTime(row[9].as<int64_t>());
      w.last_seen = MicrosToTime(row[10].as<int64_t>());
      out.push_back(std::move(w));
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

}  // namespace chime::db
