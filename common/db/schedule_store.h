// The schedule store: schedules, their fires and the leader term (the row
// chime.leader). Every
// write that creates jobs for a tick goes through FireTicks, whose unique
// (schedule, scheduled time) key and leader-epoch check make one tick one job
// however many schedulers believe they lead (DESIGN.md rule 3). Each method is
// one transaction. Thread-compatible: one ScheduleStore per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"
#include "common/schedule/schedule_spec.h"

namespace chime::db {

enum class ScheduleSource { kFile, kApi };  // schedules.source: 'file' | 'api'.
std::string_view ScheduleSourceName(ScheduleSource source);

struct ScheduleRow {
  int64_t id = 0;
  schedule::ScheduleSpec spec;
  ScheduleSource source = ScheduleSource::kApi;
  // The newest tick fired or skipped; ticks after it are due. Unset until the
  // first fire: then ticks after created_at are due.
  std::optional<TimePoint> last_fired_for;
  TimePoint created_at;
  TimePoint updated_at;
};

// Where a fire came from (fires.origin).
enum class FireOrigin { kCron, kMisfire, kManual, kBackfill };
std::string_view FireOriginName(FireOrigin origin);
std::optional<FireOrigin> ParseFireOrigin(std::string_view name);

// What a tick did (fires.outcome).
enum class FireOutcome { kEnqueued, kSkippedOverlap, kSkippedMisfire, kBuffered };
std::string_view FireOutcomeName(FireOutcome outcome);
std::optional<FireOutcome> ParseFireOutcome(std::string_view name);

// One tick to record. Jobs run at run_at (the tick plus jitter).
struct Tick {
  int64_t schedule_id = 0;
  TimePoint scheduled_for;
  TimePoint run_at;
  FireOrigin origin = FireOrigin::kCron;
  // Record the tick as skipped_misfire and enqueue nothing.
  bool skip = false;
  // Apply the schedule's overlap policy (cron and misfire ticks, manual
  // triggers). Backfills enqueue every tick regardless.
  bool apply_overlap = true;
};

struct FireResult {
  int64_t schedule_id = 0;
  TimePoint scheduled_for;
  // Unset: the tick had been recorded before (by another scheduler, or an
  // earlier call); nothing was done.
  std::optional<FireOutcome> outcome;
  std::optional<int64_t> job_id;  // Set when enqueued.
};

// The leader a fire must be made under: FireTicks refuses with LeaseLost
// unless this holder still holds this epoch and the term has not expired,
// all in database time, in the same transaction as the fire.
struct LeaderGuard {
  std::string holder;
  int64_t epoch = 0;
};

struct LeaderState {
  std::string holder;
  int64_t epoch = 0;
  TimePoint expires_at;
  TimePoint acquired_at;
  TimePoint db_now;  // The database's clock when this was read.
  bool held_by_caller = false;
};

// One schedule with what jobctl schedule list shows next to it.
struct ScheduleStatus {
  ScheduleRow row;
  // The newest fire: its tick, outcome and job; and that job's state.
  std::optional<TimePoint> last_fire_for;
  std::optional<FireOutcome> last_fire_outcome;
  std::optional<int64_t> last_job_id;
  std::optional<JobState> last_job_state;
  // The newest run (final outcome) of a job this schedule fired; a fan-out
  // waiting for its children has none yet.
  std::optional<JobOutcome> last_run_outcome;
  std::optional<TimePoint> last_run_finished_at;
};

// One recorded tick of a schedule and what became of it (jobctl schedule
// fires, /api/fires): skipped overlaps and misfires included.
struct FireRow {
  int64_t schedule_id = 0;
  TimePoint scheduled_for;
  TimePoint fired_at;
  FireOrigin origin = FireOrigin::kCron;
  FireOutcome outcome = FireOutcome::kEnqueued;
  std::optional<int64_t> job_id;
  int64_t leader_epoch = 0;
  // The job's state while the hot table holds it.
  std::optional<JobState> job_state;
  // The run's final outcome, from the ledger's final row (or the job's own).
  std::optional<JobOutcome> job_outcome;
  std::optional<int> attempts;  // Attempts the run took, once it has a final row.
};

struct FireListParams {
  std::string schedule;             // Its name; NotFound when unknown.
  std::optional<TimePoint> before;  // Keyset cursor: ticks before this one.
  int limit = 50;                   // 1..1000.
};

struct FirePage {
  std::vector<FireRow> fires;            // Newest tick first.
  std::optional<TimePoint> next_before;  // Set when more rows may follow.
};

struct FileSyncResult {
  std::vector<std::string> created;
  std::vector<std::string> updated;
  std::vector<std::string> deleted;  // Named under `remove:` and deleted now.
  std::vector<std::string> kept;     // File schedules neither listed nor removed: left alone.
};

struct ScheduleStoreConfig {
  int manual_triggers_per_minute = 5;  // Per schedule (the seeds' limit).
  int max_backfill_ticks = 1000;       // Per backfill call.
  // cron_options for validating specs; seconds_field only in test clocks.
  cron::ParseOptions cron_options;
};

class ScheduleStore {
 public:
  // `conn` must outlive the store.
  explicit ScheduleStore(Connection& conn, ScheduleStoreConfig config = {});

  // Validates and inserts. AlreadyExists when the name is taken.
  [[nodiscard]] Result<ScheduleRow> ScheduleCreate(const schedule::ScheduleSpec& spec,
                                                   ScheduleSource source = ScheduleSource::kApi);
  // Replaces every field but name and paused. A change of cron or time zone
  // restarts the schedule from now (no catch-up of ticks the new expression
  // would have had). NotFound when there is no such schedule.
  [[nodiscard]] Result<ScheduleRow> ScheduleUpdate(const schedule::ScheduleSpec& spec);
  // Deletes the schedule; its fire records and the jobs and runs it made
  // stay (they keep its id). NotFound.
  [[nodiscard]] Result<void> ScheduleDelete(const std::string& name);
  // Pausing stops fires; resuming restarts from now (the paused ticks are not
  // misfires). NotFound.
  [[nodiscard]] Result<ScheduleRow> ScheduleSetPaused(const std::string& name, bool paused);
  [[nodiscard]] Result<ScheduleRow> ScheduleGet(const std::string& name);
  // Every schedule by name, with its latest fire and run.
  [[nodiscard]] Result<std::vector<ScheduleStatus>> SchedulesList();
  // Every schedule, for the scheduler's in-memory copy.
  [[nodiscard]] Result<std::vector<ScheduleRow>> SchedulesLoadAll();
  // Bumped by every create, update, pause, resume and delete.
  [[nodiscard]] Result<int64_t> SchedulesVersion();

  // Applies a schedule file: creates new names, updates changed ones
  // (keeping paused as an operator left it) and deletes the file schedules
  // named in `remove`. File schedules the file no longer lists are kept and
  // reported (a truncated file, or a replica starting with an older one,
  // must not delete schedules); fire history is never deleted. A name held
  // by an API-made schedule, in `specs` or `remove`, is FailedPrecondition
  // naming it; nothing changes then. A `remove` name that is not there is
  // nothing to do.
  [[nodiscard]] Result<FileSyncResult> SchedulesSyncFile(std::span<const schedule::ScheduleSpec> specs,
                                                         std::span<const std::string> remove = {});

  // Records each tick once (unique per schedule and tick) and enqueues its
  // job as the schedule's overlap policy says, updating last_fired_for. With
  // a guard, all of it happens only while the guard's leader term holds, else
  // LeaseLost and nothing changes. Results are in input order.
  [[nodiscard]] Result<std::vector<FireResult>> FireTicks(const std::optional<LeaderGuard>& guard,
                                                          std::span<const Tick> ticks);
  // Enqueues each buffered tick whose schedule has no live job any more.
  [[nodiscard]] Result<std::vector<FireResult>> ReleaseBuffered(const LeaderGuard& guard);

  // Fires the schedule now (origin manual, database time), paused or not,
  // applying its overlap policy. FailedPrecondition past the per-minute limit,
  // saying when the next trigger is allowed. NotFound.
  [[nodiscard]] Result<FireResult> TriggerNow(const std::string& name);
  // Fires every tick of the schedule in (from, to], oldest first, at most
  // max_backfill_ticks (more is InvalidArgument: narrow the range). Ticks
  // already recorded are left alone (their results have no outcome).
  [[nodiscard]] Result<std::vector<FireResult>> Backfill(const std::string& name, TimePoint from,
                                                         TimePoint to);

  // The schedule's recorded ticks, newest first (a walk of the fires'
  // primary key), with each job's state and run outcome.
  // InvalidArgument for a bad name or limit; NotFound.
  [[nodiscard]] Result<FirePage> FiresList(const FireListParams& params);

  // Takes the leader term when it is free or expired (a new epoch), or extends it
  // when `holder` holds it (same epoch). Reports who holds it either way.
  [[nodiscard]] Result<LeaderState> LeaderAcquire(const std::string& holder,
                                                  std::chrono::milliseconds ttl);
  // Gives the term up at once if `holder` still holds `epoch`.
  [[nodiscard]] Result<void> LeaderResign(const LeaderGuard& guard);
  // The term as stored; nullopt when no scheduler ever led.
  [[nodiscard]] Result<std::optional<LeaderState>> LeaderGet();

 private:
  Connection& conn_;
  ScheduleStoreConfig config_;
};

}  // namespace chime::db
