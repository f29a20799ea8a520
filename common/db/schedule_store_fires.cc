// ScheduleStore::FiresList: one schedule's recorded ticks with what became
// of each (its job's state and its run's final outcome). Apart from
// schedule_store.cc, whose statements write fires; this one only reads.
#include <pqxx/pqxx>

#include <algorithm>

#include "common/base/name_rule.h"
#include "common/db/job_state_sql.h"
#include "common/db/job_store_sql.h"  // CHIME_US.
#include "common/db/row_reader.h"
#include "common/db/schedule_store.h"

namespace chime::db {
namespace {

constexpr int kMaxFireList = 1000;

// $1 schedule id, $2 before (us) or NULL, $3 limit. The fires' primary key
// (schedule_id, scheduled_for) yields the ticks newest first; each job's
// final run row comes from runs_job_idx.
constexpr const char* kFiresList =
    "SELECT f.schedule_id, " CHIME_US("f.scheduled_for") ", " CHIME_US("f.fired_at") ", f.origin, "
    "f.outcome, f.job_id, f.leader_epoch, j.state, coalesce(fr.job_outcome, j.outcome), fr.attempt\n"
    "FROM chime.fires f\n"
    "LEFT JOIN LATERAL " CHIME_SQL_JOB_STATE_LATERAL("f.job_id", "f.fired_at") " j ON true\n"
    "LEFT JOIN LATERAL (SELECT r.job_outcome, r.attempt FROM chime.runs r\n"
    "                   WHERE r.job_id = f.job_id AND r.final\n"
    "                   ORDER BY r.finished_at DESC, r.id DESC LIMIT 1) fr ON true\n"
    "WHERE f.schedule_id = $1\n"
    "  AND ($2::bigint IS NULL OR f.scheduled_for < to_timestamp($2::bigint / 1000000.0))\n"
    "ORDER BY f.scheduled_for DESC LIMIT $3";

}  // namespace

Result<FirePage> ScheduleStore::FiresList(const FireListParams& params) {
  if (!IsValidName(params.schedule)) {
    return Fail(ErrorCode::kInvalidArgument, "schedule name: must be " + std::string(kNameRule));
  }
  if (params.limit < 1 || params.limit > kMaxFireList) {
    return Fail(ErrorCode::kInvalidArgument, "limit: must be 1-1000");
  }
  std::optional<int64_t> before_us;
  if (params.before) {
    before_us = std::chrono::duration_cast<std::chrono::microseconds>(params.before->time_since_epoch()).count();
  }
  FirePage page;
  bool missing = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    page = {};
    missing = false;
    pqxx::read_transaction tx(c, "fires_list");
    auto found = tx.exec_params("SELECT id FROM chime.schedules WHERE name = $1", params.schedule);
    if (found.empty()) {
      missing = true;
      return;
    }
    for (const auto& row : tx.exec_params(kFiresList, found[0][0].as<int64_t>(), before_us, params.limit + 1)) {
      if (static_cast<int>(page.fires.size()) == params.limit) {
        page.next_before = page.fires.back().scheduled_for;
        break;
      }
      FireRow f;
      f.schedule_id = row[0].as<int64_t>();
      f.scheduled_for = MicrosToTime(row[1].as<int64_t>());
      f.fired_at = MicrosToTime(row[2].as<int64_t>());
      f.origin = ParseFireOrigin(row[3].c_str()).value_or(FireOrigin::kCron);
      f.outcome = ParseFireOutcome(row[4].c_str()).value_or(FireOutcome::kEnqueued);
      if (!row[5].is_null()) f.job_id = row[5].as<int64_t>();
      f.leader_epoch = row[6].as<int64_t>();
      if (!row[7].is_null()) f.job_state = ParseJobState(row[7].c_str());
      if (!row[8].is_null()) f.job_outcome = ParseJobOutcome(row[8].c_str());
      if (!row[9].is_null()) f.attempts = row[9].as<int>();
      page.fires.push_back(std::move(f));
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (missing) return Fail(ErrorCode::kNotFound, "schedule \"" + params.schedule + "\" not found");
  return page;
}

}  // namespace chime::db
