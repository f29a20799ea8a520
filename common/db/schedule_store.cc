#include "common/db/schedule_store.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <map>
#include <set>

#include "common/base/name_rule.h"
#include "common/db/pg_array.h"
#include "common/db/row_reader.h"
#include "common/db/schedule_store_sql.h"

namespace chime::db {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

int64_t Micros(TimePoint t) { return duration_cast<microseconds>(t.time_since_epoch()).count(); }

// Reads kScheduleColumns starting at row[0].
ScheduleRow ReadSchedule(const pqxx::row& row) {
  ScheduleRow s;
  s.id = row[0].as<int64_t>();
  s.spec.name = row[1].c_str();
  s.spec.cron = row[2].c_str();
  s.spec.time_zone = row[3].c_str();
  s.spec.kind = row[4].c_str();
  s.spec.payload = row[5].c_str();
  s.spec.queue = row[6].c_str();
  s.spec.priority = row[7].as<int>();
  s.spec.max_attempts = row[8].as<int>();
  if (!row[9].is_null()) s.spec.timeout = milliseconds(row[9].as<int64_t>());
  s.spec.jitter = milliseconds(row[10].as<int64_t>());
  // The schema's CHECKs admit only the names these parse.
  s.spec.overlap = schedule::ParseOverlapPolicy(row[11].c_str()).value_or(schedule::OverlapPolicy::kSkip);
  s.spec.misfire =
      schedule::ParseMisfirePolicy(row[12].c_str()).value_or(schedule::MisfirePolicy::kRunOnce);
  s.spec.paused = row[13].as<bool>();
  s.source = std::string_view(row[14].c_str()) == "file" ? ScheduleSource::kFile : ScheduleSource::kApi;
  s.last_fired_for = OptionalTime(row[15]);
  s.created_at = MicrosToTime(row[16].as<int64_t>());
  s.updated_at = MicrosToTime(row[17].as<int64_t>());
  // Written by HealthToJson; the column's CHECK keeps it an object. A value
  // an operator edited into something unreadable reads as the defaults.
  if (auto health = schedule::HealthFromJson(row[18].c_str())) s.spec.health = std::move(*health);
  return s;
}

std::optional<int64_t> TimeoutMs(const schedule::ScheduleSpec& spec) {
  if (!spec.timeout) return std::nullopt;
  return spec.timeout->count();
}

Error NoSuchSchedule(const std::string& name) {
  return Error{ErrorCode::kNotFound, "schedule \"" + name + "\" not found"};
}

// A lookup by a name no schedule can have (IsValidName; the schema's CHECK
// says the same) is refused before it reaches SQL: libpq sends
// parameters as C strings, so "nightly\0x" would find, pause or delete
// "nightly". The message does not quote the name.
Result<void> CheckLookupName(const std::string& name) {
  if (IsValidName(name)) return {};
  return Fail(ErrorCode::kInvalidArgument, "schedule name: must be " + std::string(kNameRule));
}

// The fire statements' arrays.
struct TickArrays {
  PgArrayBuilder ids, ticks, run_ats, origins, skips, overlaps, ords;
};

// Records `ticks` in `tx` (kCancelOverlapped, then kFireTicks); results in
// input order.
std::vector<FireResult> FireInTx(pqxx::work& tx, int64_t epoch, std::span<const Tick> ticks) {
  TickArrays a;
  PgArrayBuilder live;
  for (size_t i = 0; i < ticks.size(); ++i) {
    const Tick& t = ticks[i];
    a.ids.AddInt(t.schedule_id);
    a.ticks.AddInt(Micros(t.scheduled_for));
    a.run_ats.AddInt(Micros(t.run_at));
    a.origins.AddText(FireOriginName(t.origin));
    a.skips.AddBool(t.skip);
    a.overlaps.AddBool(t.apply_overlap);
    a.ords.AddInt(static_cast<int64_t>(i));
    live.AddBool(!t.skip && t.apply_overlap);
  }
  std::string ids = a.ids.Finish();
  std::string tick_us = a.ticks.Finish();
  tx.exec_params(sql::kCancelOverlapped, ids, tick_us, live.Finish());
  auto rows = tx.exec_params(sql::kFireTicks, ids, tick_us, a.run_ats.Finish(), a.origins.Finish(),
                             a.skips.Finish(), a.overlaps.Finish(), a.ords.Finish(), epoch);
  std::vector<FireResult> results(ticks.size());
  for (size_t i = 0; i < ticks.size(); ++i) {
    results[i].schedule_id = ticks[i].schedule_id;
    results[i].scheduled_for = ticks[i].scheduled_for;
  }
  for (const auto& row : rows) {
    auto& r = results.at(row[0].as<size_t>());
    if (!row[1].is_null()) r.outcome = ParseFireOutcome(row[1].c_str());
    if (!row[2].is_null()) r.job_id = row[2].as<int64_t>();
  }
  return results;
}

bool LeaderHolds(pqxx::work& tx, const LeaderGuard& guard) {
  return !tx.exec_params(sql::kLeaderHolds, guard.holder, guard.epoch).empty();
}

Error LeaseLost(const LeaderGuard& guard) {
  return Error{ErrorCode::kLeaseLost,
               "leadership epoch " + std::to_string(guard.epoch) + " is no longer held"};
}

LeaderState ReadLeader(const pqxx::row& row) {
  LeaderState s;
  s.holder = row[0].c_str();
  s.epoch = row[1].as<int64_t>();
  s.expires_at = MicrosToTime(row[2].as<int64_t>());
  s.acquired_at = MicrosToTime(row[3].as<int64_t>());
  s.db_now = MicrosToTime(row[4].as<int64_t>());
  s.held_by_caller = row[5].as<bool>();
  return s;
}

std::string SelectSchedule(std::string_view where) {
  return std::string("SELECT ") + sql::kScheduleColumns + " FROM chime.schedules " +
         std::string(where);
}

// The INSERT and UPDATE of one schedule, shared by the API and the file sync;
// each returns the schedule's columns, or no row (name taken; name missing or,
// with only_if_changed, nothing to change).
pqxx::result InsertSchedule(pqxx::work& tx, const schedule::ScheduleSpec& spec,
                            ScheduleSource source) {
  return tx.exec_params(std::string(sql::kScheduleInsert) + " RETURNING " + sql::kScheduleColumns,
                        spec.name, spec.cron, spec.time_zone, spec.kind, spec.payload, spec.queue,
                        spec.priority, spec.max_attempts, TimeoutMs(spec), spec.jitter.count(),
                        std::string(schedule::OverlapPolicyName(spec.overlap)),
                        std::string(schedule::MisfirePolicyName(spec.misfire)), spec.paused,
                        std::string(ScheduleSourceName(source)), schedule::HealthToJson(spec.health));
}

pqxx::result UpdateSchedule(pqxx::work& tx, const schedule::ScheduleSpec& spec,
                            bool only_if_changed) {
  return tx.exec_params(std::string(sql::kScheduleUpdate) + " RETURNING " + sql::kScheduleColumns,
                        spec.name, spec.cron, spec.time_zone, spec.kind, spec.payload, spec.queue,
                        spec.priority, spec.max_attempts, TimeoutMs(spec), spec.jitter.count(),
                        std::string(schedule::OverlapPolicyName(spec.overlap)),
                        std::string(schedule::MisfirePolicyName(spec.misfire)), only_if_changed,
                        schedule::HealthToJson(spec.health));
}

}  // namespace

std::string_view ScheduleSourceName(ScheduleSource source) {
  return source == ScheduleSource::kFile ? "file" : "api";
}

std::string_view FireOriginName(FireOrigin origin) {
  switch (origin) {
    case FireOrigin::kCron: return "cron";
    case FireOrigin::kMisfire: return "misfire";
    case FireOrigin::kManual: return "manual";
    case FireOrigin::kBackfill: return "backfill";
  }
  return "cron";
}

std::optional<FireOrigin> ParseFireOrigin(std::string_view name) {
  for (auto o : {FireOrigin::kCron, FireOrigin::kMisfire, FireOrigin::kManual, FireOrigin::kBackfill}) {
    if (FireOriginName(o) == name) return o;
  }
  return std::nullopt;
}

std::string_view FireOutcomeName(FireOutcome outcome) {
  switch (outcome) {
    case FireOutcome::kEnqueued: return "enqueued";
    case FireOutcome::kSkippedOverlap: return "skipped_overlap";
    case FireOutcome::kSkippedMisfire: return "skipped_misfire";
    case FireOutcome::kBuffered: return "buffered";
  }
  return "enqueued";
}

std::optional<FireOutcome> ParseFireOutcome(std::string_view name) {
  for (auto o : {FireOutcome::kEnqueued, FireOutcome::kSkippedOverlap, FireOutcome::kSkippedMisfire,
                 FireOutcome::kBuffered}) {
    if (FireOutcomeName(o) == name) return o;
  }
  return std::nullopt;
}

ScheduleStore::ScheduleStore(Connection& conn, ScheduleStoreConfig config)
    : conn_(conn), config_(std::move(config)) {}

Result<ScheduleRow> ScheduleStore::ScheduleCreate(const schedule::ScheduleSpec& spec,
                                                  ScheduleSource source) {
  if (auto ok = schedule::Validate(spec, config_.cron_options); !ok) return std::unexpected(ok.error());
  std::optional<ScheduleRow> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    auto r = InsertSchedule(tx, spec, source);
    if (!r.empty()) row = ReadSchedule(r[0]);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!row) return Fail(ErrorCode::kAlreadyExists, "schedule \"" + spec.name + "\" already exists");
  return *row;
}

Result<ScheduleRow> ScheduleStore::ScheduleUpdate(const schedule::ScheduleSpec& spec) {
  if (auto ok = schedule::Validate(spec, config_.cron_options); !ok) return std::unexpected(ok.error());
  std::optional<ScheduleRow> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    auto r = UpdateSchedule(tx, spec, /*only_if_changed=*/false);
    if (!r.empty()) row = ReadSchedule(r[0]);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!row) return std::unexpected(NoSuchSchedule(spec.name));
  return *row;
}

Result<void> ScheduleStore::ScheduleDelete(const std::string& name) {
  if (auto ok = CheckLookupName(name); !ok) return std::unexpected(ok.error());
  bool deleted = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    deleted = !tx.exec_params("DELETE FROM chime.schedules WHERE name = $1 RETURNING id", name).empty();
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!deleted) return std::unexpected(NoSuchSchedule(name));
  return {};
}

Result<ScheduleRow> ScheduleStore::ScheduleSetPaused(const std::string& name, bool paused) {
  if (auto ok = CheckLookupName(name); !ok) return std::unexpected(ok.error());
  std::optional<ScheduleRow> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    // On resume, ticks from the paused time are not misfires: restart from now.
    auto r = tx.exec_params(
        std::string("UPDATE chime.schedules SET "
                    "last_fired_for = CASE WHEN paused AND NOT $2 "
                    "THEN greatest(coalesce(last_fired_for, created_at), now()) "
                    "ELSE last_fired_for END, "
                    "paused = $2, updated_at = now() WHERE name = $1 RETURNING ") +
            sql::kScheduleColumns,
        name, paused);
    if (!r.empty()) row = ReadSchedule(r[0]);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!row) return std::unexpected(NoSuchSchedule(name));
  return *row;
}

Result<ScheduleRow> ScheduleStore::ScheduleGet(const std::string& name) {
  if (auto ok = CheckLookupName(name); !ok) return std::unexpected(ok.error());
  std::optional<ScheduleRow> row;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params(SelectSchedule("WHERE name = $1"), name);
    if (!r.empty()) row = ReadSchedule(r[0]);
  });
  if (!ran) return std::unexpected(ran.error());
  if (!row) return std::unexpected(NoSuchSchedule(name));
  return *row;
}

Result<std::vector<ScheduleStatus>> ScheduleStore::SchedulesList() {
  std::vector<ScheduleStatus> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.clear();
    pqxx::read_transaction tx(c);
    for (const auto& row : tx.exec(sql::kSchedulesList)) {
      ScheduleStatus s;
      s.row = ReadSchedule(row);
      constexpr int k = sql::kScheduleColumnCount;
      s.last_fire_for = OptionalTime(row[k]);
      if (!row[k + 1].is_null()) s.last_fire_outcome = ParseFireOutcome(row[k + 1].c_str());
      if (!row[k + 2].is_null()) s.last_job_id = row[k + 2].as<int64_t>();
      if (!row[k + 3].is_null()) s.last_job_state = ParseJobState(row[k + 3].c_str());
      if (!row[k + 4].is_null()) s.last_run_outcome = ParseJobOutcome(row[k + 4].c_str());
      s.last_run_finished_at = OptionalTime(row[k + 5]);
      out.push_back(std::move(s));
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<std::vector<ScheduleRow>> ScheduleStore::SchedulesLoadAll() {
  std::vector<ScheduleRow> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.clear();
    pqxx::read_transaction tx(c);
    for (const auto& row : tx.exec(SelectSchedule("ORDER BY id"))) out.push_back(ReadSchedule(row));
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<int64_t> ScheduleStore::SchedulesVersion() {
  int64_t version = 0;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    version = tx.exec("SELECT version FROM chime.schedules_version")[0][0].as<int64_t>();
  });
  if (!ran) return std::unexpected(ran.error());
  return version;
}

Result<FileSyncResult> ScheduleStore::SchedulesSyncFile(std::span<const schedule::ScheduleSpec> specs,
                                                        std::span<const std::string> remove) {
  std::set<std::string> names;
  for (const auto& spec : specs) {
    if (auto ok = schedule::Validate(spec, config_.cron_options); !ok) {
      return Fail(ErrorCode::kInvalidArgument, spec.name + ": " + ok.error().message);
    }
    if (!names.insert(spec.name).second) {
      return Fail(ErrorCode::kInvalidArgument, "schedule \"" + spec.name + "\" is listed twice");
    }
  }
  for (const auto& name : remove) {
    if (names.contains(name)) {
      return Fail(ErrorCode::kInvalidArgument, "schedule \"" + name + "\" is both listed and removed");
    }
  }
  FileSyncResult result;
  std::optional<std::string> taken_by_api;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    result = {};
    taken_by_api.reset();
    pqxx::work tx(c);
    // Schedulers starting together sync one after the other.
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('chime.schedules_sync'))");
    std::map<std::string, std::string> existing;  // name -> source
    for (const auto& row : tx.exec("SELECT name, source FROM chime.schedules")) {
      existing.emplace(row[0].c_str(), row[1].c_str());
    }
    for (const auto& spec : specs) {
      auto it = existing.find(spec.name);
      if (it != existing.end() && it->second != "file") {
        taken_by_api = spec.name;
        return;  // Rolls back.
      }
      if (it == existing.end()) {
        InsertSchedule(tx, spec, ScheduleSource::kFile);
        result.created.push_back(spec.name);
        continue;
      }
      // Paused stays as an operator left it; the file's value applies at creation.
      if (!UpdateSchedule(tx, spec, /*only_if_changed=*/true).empty()) {
        result.updated.push_back(spec.name);
      }
    }
    for (const auto& name : remove) {
      auto it = existing.find(name);
      if (it != existing.end() && it->second != "file") {
        taken_by_api = name;
        return;  // Rolls back.
      }
    }
    // Only what the file names under `remove:` is deleted; the fires stay
    // (migration 0013: no cascade).
    PgArrayBuilder gone;
    for (const auto& name : remove) gone.AddText(name);
    for (const auto& row : tx.exec_params(
             "DELETE FROM chime.schedules WHERE source = 'file' AND name = ANY($1::text[]) RETURNING name",
             gone.Finish())) {
      result.deleted.push_back(row[0].c_str());
    }
    std::ranges::sort(result.deleted);
    const std::set<std::string> removed(remove.begin(), remove.end());
    for (const auto& [name, source] : existing) {
      if (source == "file" && !names.contains(name) && !removed.contains(name)) result.kept.push_back(name);
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (taken_by_api) {
    return Fail(ErrorCode::kFailedPrecondition,
                "schedule \"" + *taken_by_api +
                    "\" was made through jobctl; delete it or rename the file's entry");
  }
  return result;
}

Result<std::vector<FireResult>> ScheduleStore::FireTicks(const std::optional<LeaderGuard>& guard,
                                                         std::span<const Tick> ticks) {
  if (ticks.empty()) return std::vector<FireResult>{};
  std::vector<FireResult> results;
  bool lost = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    if (guard && !LeaderHolds(tx, *guard)) {
      lost = true;
      return;
    }
    results = FireInTx(tx, guard ? guard->epoch : 0, ticks);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (lost) return std::unexpected(LeaseLost(*guard));
  return results;
}

Result<std::vector<FireResult>> ScheduleStore::ReleaseBuffered(const LeaderGuard& guard) {
  std::vector<FireResult> results;
  bool lost = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    results.clear();
    pqxx::work tx(c);
    if (!LeaderHolds(tx, guard)) {
      lost = true;
      return;
    }
    for (const auto& row : tx.exec(sql::kReleaseBuffered)) {
      results.push_back(FireResult{.schedule_id = row[0].as<int64_t>(),
                                   .scheduled_for = MicrosToTime(row[1].as<int64_t>()),
                                   .outcome = FireOutcome::kEnqueued,
                                   .job_id = row[2].as<int64_t>()});
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (lost) return std::unexpected(LeaseLost(guard));
  return results;
}

Result<FireResult> ScheduleStore::TriggerNow(const std::string& name) {
  if (auto ok = CheckLookupName(name); !ok) return std::unexpected(ok.error());
  std::optional<FireResult> result;
  bool found = false;
  int64_t retry_after_s = 0;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    result.reset();
    pqxx::work tx(c);
    auto s = tx.exec_params("SELECT id FROM chime.schedules WHERE name = $1 FOR UPDATE", name);
    found = !s.empty();
    if (!found) return;
    const int64_t id = s[0][0].as<int64_t>();
    // The row lock above serializes triggers of one schedule, so the count holds.
    auto recent = tx.exec_params(
        "SELECT count(*), " CHIME_US("now()") ", "
        "coalesce(ceil(extract(epoch FROM min(fired_at) + interval '1 minute' - now())), 0)::bigint "
        "FROM chime.fires WHERE schedule_id = $1 AND origin = 'manual' "
        "AND fired_at > now() - interval '1 minute'",
        id);
    if (recent[0][0].as<int>() >= config_.manual_triggers_per_minute) {
      retry_after_s = std::max<int64_t>(1, recent[0][2].as<int64_t>());
      return;
    }
    const TimePoint now = MicrosToTime(recent[0][1].as<int64_t>());
    const Tick tick{.schedule_id = id, .scheduled_for = now, .run_at = now,
                    .origin = FireOrigin::kManual};
    result = FireInTx(tx, 0, std::span(&tick, 1)).front();
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (!found) return std::unexpected(NoSuchSchedule(name));
  if (!result) {
    return Fail(ErrorCode::kFailedPrecondition,
                "schedule \"" + name + "\": at most " +
                    std::to_string(config_.manual_triggers_per_minute) +
                    " manual triggers per minute; try again in " + std::to_string(retry_after_s) +
                    " s");
  }
  return *result;
}

Result<std::vector<FireResult>> ScheduleStore::Backfill(const std::string& name, TimePoint from,
                                                        TimePoint to) {
  if (to <= from) return Fail(ErrorCode::kInvalidArgument, "backfill: --to must be after --from");
  auto row = ScheduleGet(name);
  if (!row) return std::unexpected(row.error());
  auto expr = cron::Expression::Parse(row->spec.cron, config_.cron_options);
  if (!expr) return std::unexpected(expr.error().ToError());
  auto zone = cron::Zone::Load(row->spec.time_zone);
  if (!zone) return std::unexpected(zone.error());

  std::vector<Tick> ticks;
  auto after = std::chrono::floor<std::chrono::seconds>(from);
  const auto limit = static_cast<size_t>(config_.max_backfill_ticks);
  while (auto next = cron::NextFire(*expr, *zone, after)) {
    if (*next > to) break;
    if (ticks.size() == limit) {
      return Fail(ErrorCode::kInvalidArgument,
                  "backfill: the range holds more than " + std::to_string(limit) +
                      " ticks of \"" + name + "\"; narrow it");
    }
    ticks.push_back(Tick{.schedule_id = row->id, .scheduled_for = *next, .run_at = *next,
                         .origin = FireOrigin::kBackfill, .apply_overlap = false});
    after = *next;
  }
  std::vector<FireResult> results;
  bool future = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    const TimePoint now = MicrosToTime(tx.exec("SELECT " CHIME_US("now()"))[0][0].as<int64_t>());
    if (to > now) {
      future = true;
      return;
    }
    results = ticks.empty() ? std::vector<FireResult>{} : FireInTx(tx, 0, ticks);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  if (future) return Fail(ErrorCode::kInvalidArgument, "backfill: --to must not be in the future");
  return results;
}

Result<LeaderState> ScheduleStore::LeaderAcquire(const std::string& holder, milliseconds ttl) {
  std::optional<LeaderState> state;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params(sql::kLeaderAcquire, holder, ttl.count());
    if (!r.empty()) state = ReadLeader(r[0]);
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  // The upsert either returns a row or a row exists: one is always read.
  if (!state) return Fail(ErrorCode::kInternal, "leader term: no row after upsert");
  return *state;
}

Result<void> ScheduleStore::LeaderResign(const LeaderGuard& guard) {
  return conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE chime.leader SET expires_at = now() "
        "WHERE name = 'scheduler' AND holder = $1 AND epoch = $2 AND expires_at > now()",
        guard.holder, guard.epoch);
    tx.commit();
  });
}

Result<std::optional<LeaderState>> ScheduleStore::LeaderGet() {
  std::optional<LeaderState> state;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec("SELECT holder, epoch, " CHIME_US("expires_at") ", " CHIME_US(
        "acquired_at") ", " CHIME_US("now()") ", false FROM chime.leader WHERE name = 'scheduler'");
    if (!r.empty()) state = ReadLeader(r[0]);
  });
  if (!ran) return std::unexpected(ran.error());
  return state;
}

}  // namespace chime::db
