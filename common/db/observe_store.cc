#include "common/db/observe_store.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <cctype>

#include "common/base/name_rule.h"
#include "common/base/text_format.h"
#include "common/db/job_store_sql.h"
#include "common/db/row_reader.h"

namespace chime::db {
namespace {

constexpr int kMaxRunList = 1000;

// Newest finished first on (finished_at, id): runs_schedule_idx and
// runs_kind_finished_idx serve the filtered lists, runs_finished_idx the
// unfiltered one (most rows are final rows, so filtering them costs little;
// failed runs of a schedule or kind have indexes of their own). The cursor
// run's own (finished_at, id) bounds the page (a primary-key lookup).
// $1 schedule id, $2 kind, $3 before id, $4 limit, $5 final rows only,
// $6 outcome filter ('waiting': final rows without an outcome), $7 since (us).
constexpr const char* kRunsList =
    "SELECT r.id, r.job_id, r.attempt, coalesce(r.worker_id, ''), " CHIME_US("r.started_at") ", "
    CHIME_US("r.finished_at") ", r.outcome, r.summary::text, to_jsonb(r.errors)::text, r.dry_run,"
    " r.final, r.job_outcome, r.kind, r.queue, r.schedule_id, s.name, " CHIME_US("r.scheduled_for") "\n"
    "FROM chime.runs r LEFT JOIN chime.schedules s ON s.id = r.schedule_id\n"
    "WHERE ($1::bigint IS NULL OR r.schedule_id = $1)\n"
    "  AND ($2::text IS NULL OR r.kind = $2)\n"
    "  AND ($3::bigint IS NULL OR (r.finished_at, r.id) <\n"
    "       (SELECT c.finished_at, c.id FROM chime.runs c WHERE c.id = $3))\n"
    "  AND (NOT $5::bool OR r.final)\n"
    "  AND ($6::text IS NULL OR (r.final AND CASE WHEN $6 = 'waiting' THEN r.job_outcome IS NULL\n"
    "                                               ELSE r.job_outcome = $6 END))\n"
    "  AND ($7::bigint IS NULL OR r.finished_at >= to_timestamp($7::bigint / 1000000.0))\n"
    "ORDER BY r.finished_at DESC, r.id DESC LIMIT $4";

}  // namespace

Result<void> ObserveStore::Ping() {
  return conn_.Run([](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c, "ping");
    tx.exec("SELECT 1");
  });
}

Result<RunPage> ObserveStore::RunsList(const RunListParams& params) {
  if (params.limit < 1 || params.limit > kMaxRunList) {
    return Fail(ErrorCode::kInvalidArgument, "limit: must be 1-1000");
  }
  if (params.kind && !IsValidName(*params.kind)) {
    return Fail(ErrorCode::kInvalidArgument, "kind: must be " + std::string(kNameRule));
  }
  if (params.schedule && !IsValidName(*params.schedule)) {
    return Fail(ErrorCode::kInvalidArgument,
                "schedule: must be " + std::string(kNameRule));
  }
  if (params.before_id && *params.before_id <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "before_id: must be positive");
  }
  if (params.outcome && !ParseJobOutcome(*params.outcome) && *params.outcome != "waiting") {
    return Fail(ErrorCode::kInvalidArgument, "outcome: \"" + OneLine(*params.outcome, 32) +
                                                 "\" is not one of " + kRunOutcomeFilters);
  }
  std::optional<int64_t> since_us;
  if (params.since) {
    since_us = std::chrono::duration_cast<std::chrono::microseconds>(params.since->time_since_epoch()).count();
  }
  RunPage page;
  bool unknown_schedule = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c, "runs_list");
    std::optional<int64_t> schedule_id;
    if (params.schedule) {
      auto r = tx.exec_params("SELECT id FROM chime.schedules WHERE name = $1", *params.schedule);
      if (r.empty()) {
        unknown_schedule = true;
        return;
      }
      schedule_id = r[0][0].as<int64_t>();
    }
    auto rows = tx.exec_params(kRunsList, schedule_id, params.kind, params.before_id,
                               params.limit + 1, !params.attempts, params.outcome, since_us);
    for (const auto& row : rows) {
      if (static_cast<int>(page.runs.size()) == params.limit) {
        page.next_before_id = page.runs.back().run.id;
        break;
      }
      RunListItem item;
      item.run = ReadRun(row);
      constexpr int k = sql::kRunColumnCount;
      item.kind = row[k].c_str();
      item.queue = row[k + 1].c_str();
      if (!row[k + 2].is_null()) item.schedule_id = row[k + 2].as<int64_t>();
      if (!row[k + 3].is_null()) item.schedule = row[k + 3].c_str();
      if (!row[k + 4].is_null()) item.scheduled_for = MicrosToTime(row[k + 4].as<int64_t>());
      page.runs.push_back(std::move(item));
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (unknown_schedule) return Fail(ErrorCode::kNotFound, "schedule " + *params.schedule + " not found");
  return page;
}

Result<std::vector<FiringAlertCount>> ObserveStore::AlertsFiringCounts() {
  std::vector<FiringAlertCount> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c, "alerts_firing");
    // alerts_firing_idx holds exactly the firing rows.
    for (const auto& row : tx.exec("SELECT schedule_name, rule, count(*)::bigint FROM chime.alerts "
                                   "WHERE state = 'firing' GROUP BY 1, 2 ORDER BY 1, 2")) {
      out.push_back({row[0].c_str(), row[1].c_str(), row[2].as<int64_t>()});
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<std::vector<EnqueuedCount>> ObserveStore::JobsEnqueuedCounts() {
  std::vector<EnqueuedCount> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c, "jobs_enqueued");
    for (const auto& row : tx.exec("SELECT queue, kind, sum(n)::bigint FROM chime.jobs_enqueued "
                                   "GROUP BY 1, 2 ORDER BY 1, 2")) {
      out.push_back({row[0].c_str(), row[1].c_str(), row[2].as<int64_t>()});
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

}  // namespace chime::db
