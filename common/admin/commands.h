// Every admin command, declared once. A command is a struct:
//   kRequest / kReply   its AdminRequest and AdminReply oneof cases (the wire
//                       format: old jobctl binaries talk to new schedulers);
//   In / Out            what the caller gives and gets, in the stores' types;
//   ToRequest/FromRequest, ToReply/FromReply
//                       the codec between In/Out and chime.v1 (common/wire);
//   Run                 the one implementation (operations.cc), against the
//                       stores and the Context's scheduler-only parts;
//   Check (optional)    validation of In run by every path before Run, and by
//                       jobctl before a request leaves, so a bad flag is named
//                       without a round trip;
//   kNeeds (optional)   what jobctl's database path must have before Run
//                       (default: a connection with a current schema);
//   kSendOnce (optional) true: jobctl never sends the request to a second
//                       replica after the first timed out (it may have acted).
// jobctl sends a command with AdminBackend::Run<C> (jobctl/admin_backend.h):
// in process on the database path, RequestFor<C> → ZeroMQ → ReplyOutcome<C>
// on the scheduler path. The scheduler's AdminService hands each request to
// Dispatch (dispatch.h), which finds the command by kRequest in AllCommands
// below. The scope each request needs is in the one table of scopes,
// common/auth/request_scopes.cc. A new command: docs/ARCHITECTURE.md, "Admin
// commands". Thread-safe (no state).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/admin/context.h"
#include "common/base/error.h"
#include "common/db/migrations.h"
#include "common/wire/convert.h"
#include "common/wire/limit_convert.h"
#include "common/wire/queue_convert.h"
#include "common/wire/run_convert.h"
#include "common/wire/schedule_convert.h"
#include "common/wire/stats_convert.h"
#include "common/wire/token_convert.h"

namespace chime::admin {

using Request = v1::AdminRequest;
using Reply = v1::AdminReply;

// What jobctl's database path must provide before a command runs.
enum class Needs {
  kNothing,        // No database at all (whoami answers from the Context).
  kConnection,     // A connection, whatever the schema's version.
  kCurrentSchema,  // A connection to a schema this binary knows (the default).
};

// Arguments or results that carry nothing.
struct None {};
// What a delete answers: the name it deleted.
struct Deleted {
  std::string name;
};

// ---- Jobs ----------------------------------------------------------------

struct Enqueued {
  db::Job job;            // The job created, or the live job holding the unique key.
  bool existing = false;  // The unique key returned an existing job.
};

// Enqueues one job; a live job with the same (kind, unique key) is returned
// with existing=true. InvalidArgument names the field.
struct Enqueue {
  static constexpr auto kRequest = Request::kEnqueue;
  static constexpr auto kReply = Reply::kEnqueue;
  // A job without a unique key sent twice is two jobs.
  static constexpr bool kSendOnce = true;
  using In = db::EnqueueParams;
  using Out = Enqueued;
  static void ToRequest(const In& in, Request& r) { *r.mutable_enqueue() = wire::ToProto(in); }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.enqueue()); }
  static void ToReply(const Out& out, Reply& r) {
    *r.mutable_enqueue()->mutable_job() = wire::ToProto(out.job);
    r.mutable_enqueue()->set_existing(out.existing);
  }
  static Result<Out> FromReply(const Reply& r) {
    return Out{wire::FromProto(r.enqueue().job()), r.enqueue().existing()};
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

// One page of jobs, newest first.
struct JobList {
  static constexpr auto kRequest = Request::kList;
  static constexpr auto kReply = Reply::kList;
  using In = db::ListParams;
  using Out = db::JobPage;
  static void ToRequest(const In& in, Request& r) { *r.mutable_list() = wire::ToProto(in); }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.list()); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_list() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.list()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// One job with its runs; NotFound if there is no such job.
struct JobShow {
  static constexpr auto kRequest = Request::kShow;
  static constexpr auto kReply = Reply::kShow;
  using In = int64_t;
  using Out = db::JobWithRuns;
  static void ToRequest(const In& id, Request& r) { r.mutable_show()->set_job_id(id); }
  static Result<In> FromRequest(const Request& r) { return r.show().job_id(); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_show() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.show()); }
  static Result<Out> Run(Context& ctx, const In& id);
};

// NotFound if no such job; FailedPrecondition if it already finished.
struct JobCancel {
  static constexpr auto kRequest = Request::kCancel;
  static constexpr auto kReply = Reply::kCancel;
  using In = int64_t;
  using Out = db::CancelOutcome;
  static void ToRequest(const In& id, Request& r) { r.mutable_cancel()->set_job_id(id); }
  static Result<In> FromRequest(const Request& r) { return r.cancel().job_id(); }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_cancel()->set_cancelled_now(out == db::CancelOutcome::kCancelled);
  }
  static Result<Out> FromReply(const Reply& r) {
    return r.cancel().cancelled_now() ? db::CancelOutcome::kCancelled : db::CancelOutcome::kCancelRequested;
  }
  static Result<Out> Run(Context& ctx, const In& id);
};

// Makes a failed, cancelled or pending job available now; returns it.
// NotFound / FailedPrecondition (running or succeeded).
struct JobRetry {
  static constexpr auto kRequest = Request::kRetry;
  static constexpr auto kReply = Reply::kRetry;
  using In = int64_t;
  using Out = db::Job;
  static void ToRequest(const In& id, Request& r) { r.mutable_retry()->set_job_id(id); }
  static Result<In> FromRequest(const Request& r) { return r.retry().job_id(); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_retry() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.retry()); }
  static Result<Out> Run(Context& ctx, const In& id);
};

struct StatsOut {
  db::Stats stats;
  std::vector<v1::LiveCounter> live;  // The answering scheduler's; none in process.
};

// Jobs per (queue, kind, state) and ready work per queue.
struct JobStats {
  static constexpr auto kRequest = Request::kStats;
  static constexpr auto kReply = Reply::kStats;
  using In = None;
  using Out = StatsOut;
  static void ToRequest(const In&, Request& r) { r.mutable_stats(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) {
    *r.mutable_stats() = wire::ToProto(out.stats);
    for (const auto& c : out.live) *r.mutable_stats()->add_live() = c;
  }
  static Result<Out> FromReply(const Reply& r) {
    return Out{wire::FromProto(r.stats()), {r.stats().live().begin(), r.stats().live().end()}};
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

// Every replica's workers as published, merged with the answering
// scheduler's own fresher view.
struct Workers {
  static constexpr auto kRequest = Request::kWorkers;
  static constexpr auto kReply = Reply::kWorkers;
  using In = None;
  using Out = std::vector<db::WorkerRow>;
  static void ToRequest(const In&, Request& r) { r.mutable_workers(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_workers();  // Set even when no worker is connected.
    for (const auto& w : out) *r.mutable_workers()->add_workers() = wire::ToProto(w);
  }
  static Result<Out> FromReply(const Reply& r) {
    Out out;
    for (const auto& w : r.workers().workers()) out.push_back(wire::FromProto(w));
    return out;
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

// The schema's version and the newest this binary knows. (Applying
// migrations is jobctl's database path only: AdminBackend::Migrate.)
struct MigrateStatus {
  static constexpr auto kRequest = Request::kMigrate;
  static constexpr auto kReply = Reply::kMigrate;
  static constexpr Needs kNeeds = Needs::kConnection;
  using In = None;
  using Out = db::MigrationStatus;
  static void ToRequest(const In&, Request& r) { r.mutable_migrate(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_migrate()->set_current_version(out.current_version);
    r.mutable_migrate()->set_known_version(out.latest_version);
  }
  static Result<Out> FromReply(const Reply& r) {
    Out out;
    out.current_version = r.migrate().current_version();
    out.latest_version = r.migrate().known_version();
    return out;
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

// ---- Schedules (see db::ScheduleStore for each operation's errors) -------

struct ScheduleCreate {
  static constexpr auto kRequest = Request::kScheduleCreate;
  static constexpr auto kReply = Reply::kSchedule;
  using In = schedule::ScheduleSpec;
  using Out = db::ScheduleRow;
  static void ToRequest(const In& in, Request& r) { *r.mutable_schedule_create() = wire::ToProto(in); }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.schedule_create()); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_schedule() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.schedule()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// Every field replaced.
struct ScheduleUpdate {
  static constexpr auto kRequest = Request::kScheduleUpdate;
  static constexpr auto kReply = Reply::kSchedule;
  using In = schedule::ScheduleSpec;
  using Out = db::ScheduleRow;
  static void ToRequest(const In& in, Request& r) { *r.mutable_schedule_update() = wire::ToProto(in); }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.schedule_update()); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_schedule() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.schedule()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

struct ScheduleDelete {
  static constexpr auto kRequest = Request::kScheduleDelete;
  static constexpr auto kReply = Reply::kDeleted;
  using In = std::string;
  using Out = Deleted;
  static void ToRequest(const In& name, Request& r) { r.mutable_schedule_delete()->set_name(name); }
  static Result<In> FromRequest(const Request& r) { return r.schedule_delete().name(); }
  static void ToReply(const Out& out, Reply& r) { r.mutable_deleted()->set_name(out.name); }
  static Result<Out> FromReply(const Reply& r) { return Deleted{r.deleted().name()}; }
  static Result<Out> Run(Context& ctx, const In& name);
};

struct ScheduleShow {
  static constexpr auto kRequest = Request::kScheduleShow;
  static constexpr auto kReply = Reply::kSchedule;
  using In = std::string;
  using Out = db::ScheduleRow;
  static void ToRequest(const In& name, Request& r) { r.mutable_schedule_show()->set_name(name); }
  static Result<In> FromRequest(const Request& r) { return r.schedule_show().name(); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_schedule() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.schedule()); }
  static Result<Out> Run(Context& ctx, const In& name);
};

struct ScheduleList {
  static constexpr auto kRequest = Request::kScheduleList;
  static constexpr auto kReply = Reply::kSchedules;
  using In = None;
  using Out = std::vector<db::ScheduleStatus>;
  static void ToRequest(const In&, Request& r) { r.mutable_schedule_list(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_schedules();  // Set even when there are none.
    for (const auto& s : out) *r.mutable_schedules()->add_schedules() = wire::ToProto(s);
  }
  static Result<Out> FromReply(const Reply& r) {
    Out out;
    for (const auto& s : r.schedules().schedules()) {
      auto status = wire::StatusFromProto(s);
      if (!status) return std::unexpected(status.error());
      out.push_back(std::move(*status));
    }
    return out;
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

struct PauseArgs {
  std::string name;
  bool paused = true;  // false: resume.
};

struct SchedulePause {
  static constexpr auto kRequest = Request::kSchedulePause;
  static constexpr auto kReply = Reply::kSchedule;
  using In = PauseArgs;
  using Out = db::ScheduleRow;
  static void ToRequest(const In& in, Request& r) {
    r.mutable_schedule_pause()->set_name(in.name);
    r.mutable_schedule_pause()->set_paused(in.paused);
  }
  static Result<In> FromRequest(const Request& r) {
    return In{r.schedule_pause().name(), r.schedule_pause().paused()};
  }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_schedule() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.schedule()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// Fires a tick now (rate-limited per schedule).
struct ScheduleTrigger {
  static constexpr auto kRequest = Request::kScheduleTrigger;
  static constexpr auto kReply = Reply::kFires;
  using In = std::string;
  using Out = db::FireResult;
  static void ToRequest(const In& name, Request& r) { r.mutable_schedule_trigger()->set_name(name); }
  static Result<In> FromRequest(const Request& r) { return r.schedule_trigger().name(); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_fires()->add_fires() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) {
    if (r.fires().fires_size() != 1) {
      return Fail(ErrorCode::kInternal, "the scheduler answered a trigger with " +
                                            std::to_string(r.fires().fires_size()) + " fires");
    }
    return wire::FromProto(r.fires().fires(0));
  }
  static Result<Out> Run(Context& ctx, const In& name);
};

struct BackfillArgs {
  std::string name;
  db::TimePoint from;
  db::TimePoint to;
};

// Enqueues every tick in [from, to) (at most 1,000).
struct ScheduleBackfill {
  static constexpr auto kRequest = Request::kScheduleBackfill;
  static constexpr auto kReply = Reply::kFires;
  using In = BackfillArgs;
  using Out = std::vector<db::FireResult>;
  static void ToRequest(const In& in, Request& r) {
    using std::chrono::duration_cast, std::chrono::milliseconds;
    auto* b = r.mutable_schedule_backfill();
    b->set_name(in.name);
    b->set_from_ms(duration_cast<milliseconds>(in.from.time_since_epoch()).count());
    b->set_to_ms(duration_cast<milliseconds>(in.to.time_since_epoch()).count());
  }
  static Result<In> FromRequest(const Request& r) {
    const auto& b = r.schedule_backfill();
    return In{b.name(), db::TimePoint(std::chrono::milliseconds(b.from_ms())),
              db::TimePoint(std::chrono::milliseconds(b.to_ms()))};
  }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_fires();  // Set even when there are none.
    for (const auto& f : out) *r.mutable_fires()->add_fires() = wire::ToProto(f);
  }
  static Result<Out> FromReply(const Reply& r) {
    Out out;
    for (const auto& f : r.fires().fires()) out.push_back(wire::FromProto(f));
    return out;
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

// A schedule's recorded ticks, newest first.
struct ScheduleFires {
  static constexpr auto kRequest = Request::kScheduleFires;
  static constexpr auto kReply = Reply::kFirePage;
  using In = db::FireListParams;
  using Out = db::FirePage;
  static void ToRequest(const In& in, Request& r) { *r.mutable_schedule_fires() = wire::ToProto(in); }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.schedule_fires()); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_fire_page() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.fire_page()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// The leader lease; nullopt when no scheduler ever led.
struct Leader {
  static constexpr auto kRequest = Request::kLeader;
  static constexpr auto kReply = Reply::kLeader;
  using In = None;
  using Out = std::optional<db::LeaderState>;
  static void ToRequest(const In&, Request& r) { r.mutable_leader(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_leader() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.leader()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// ---- Runs, statistics, alerts --------------------------------------------

// Run statistics per schedule or kind over a range; InvalidArgument names
// the field, NotFound an unknown schedule.
struct RunStats {
  static constexpr auto kRequest = Request::kRunStats;
  static constexpr auto kReply = Reply::kRunStats;
  using In = db::StatsParams;
  using Out = db::StatsReport;
  static Result<void> Check(const In& in) { return in.Validate(); }
  static void ToRequest(const In& in, Request& r) { *r.mutable_run_stats() = wire::ToProto(in); }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.run_stats()); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_run_stats() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.run_stats()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// Runs (each finished job's final attempt) or every attempt, newest first.
struct Runs {
  static constexpr auto kRequest = Request::kRuns;
  static constexpr auto kReply = Reply::kRuns;
  using In = db::RunListParams;
  using Out = db::RunPage;
  static void ToRequest(const In& in, Request& r) { *r.mutable_runs() = wire::ToProto(in); }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.runs()); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_runs() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.runs()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// Health alerts, newest first: firing ones, or with `all` resolved too.
struct Alerts {
  static constexpr auto kRequest = Request::kAlerts;
  static constexpr auto kReply = Reply::kAlerts;
  using In = db::AlertListParams;
  using Out = std::vector<db::AlertRow>;
  static Result<void> Check(const In& in) { return in.Validate(); }
  static void ToRequest(const In& in, Request& r) {
    r.mutable_alerts()->set_all(in.all);
    r.mutable_alerts()->set_limit(in.limit);
  }
  static Result<In> FromRequest(const Request& r) {
    // 0 (unset): the default page.
    return In{.all = r.alerts().all(), .limit = r.alerts().limit() == 0 ? In{}.limit : r.alerts().limit()};
  }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_alerts();  // Set even when there are none.
    for (const auto& a : out) *r.mutable_alerts()->add_alerts() = wire::ToProto(a);
  }
  static Result<Out> FromReply(const Reply& r) {
    Out out;
    for (const auto& a : r.alerts().alerts()) out.push_back(wire::FromProto(a));
    return out;
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

// ---- Limits (common/db/limit_store.h for the errors) ---------------------

// Creates or replaces a limit.
struct LimitSet {
  static constexpr auto kRequest = Request::kLimitSet;
  static constexpr auto kReply = Reply::kLimit;
  using In = schedule::LimitSpec;
  using Out = db::LimitRow;
  static void ToRequest(const In& in, Request& r) { *r.mutable_limit_set() = wire::ToProto(in); }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.limit_set()); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_limit() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.limit()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

struct LimitList {
  static constexpr auto kRequest = Request::kLimitList;
  static constexpr auto kReply = Reply::kLimits;
  using In = None;
  using Out = std::vector<db::LimitRow>;
  static void ToRequest(const In&, Request& r) { r.mutable_limit_list(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_limits();  // Set even when there are none.
    for (const auto& row : out) *r.mutable_limits()->add_limits() = wire::ToProto(row);
  }
  static Result<Out> FromReply(const Reply& r) {
    Out out;
    for (const auto& l : r.limits().limits()) {
      auto row = wire::FromProto(l);
      if (!row) return std::unexpected(row.error());
      out.push_back(std::move(*row));
    }
    return out;
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

struct LimitDelete {
  static constexpr auto kRequest = Request::kLimitDelete;
  static constexpr auto kReply = Reply::kLimitDeleted;
  using In = std::string;
  using Out = Deleted;
  static void ToRequest(const In& name, Request& r) { r.mutable_limit_delete()->set_name(name); }
  static Result<In> FromRequest(const Request& r) { return r.limit_delete().name(); }
  static void ToReply(const Out& out, Reply& r) { r.mutable_limit_deleted()->set_name(out.name); }
  static Result<Out> FromReply(const Reply& r) { return Deleted{r.limit_deleted().name()}; }
  static Result<Out> Run(Context& ctx, const In& name);
};

// ---- Queues (common/db/queue_store.h for the errors) ----------------------

// Pauses or resumes a queue; answers it after. Pausing a paused queue or
// resuming an open one changes nothing.
struct QueuePause {
  static constexpr auto kRequest = Request::kQueuePause;
  static constexpr auto kReply = Reply::kQueue;
  using In = PauseArgs;
  using Out = db::QueueRow;
  static void ToRequest(const In& in, Request& r) {
    r.mutable_queue_pause()->set_name(in.name);
    r.mutable_queue_pause()->set_paused(in.paused);
  }
  static Result<In> FromRequest(const Request& r) { return In{r.queue_pause().name(), r.queue_pause().paused()}; }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_queue() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.queue()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// Every queue with live jobs or a pause on record, by name.
struct QueueList {
  static constexpr auto kRequest = Request::kQueueList;
  static constexpr auto kReply = Reply::kQueues;
  using In = None;
  using Out = std::vector<db::QueueRow>;
  static void ToRequest(const In&, Request& r) { r.mutable_queue_list(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_queues();  // Set even when there are none.
    for (const auto& row : out) *r.mutable_queues()->add_queues() = wire::ToProto(row);
  }
  static Result<Out> FromReply(const Reply& r) {
    Out out;
    for (const auto& q : r.queues().queues()) out.push_back(wire::FromProto(q));
    return out;
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

// ---- Credentials (common/db/auth_store.h for the errors) -----------------

// Creates or replaces a named token. In carries only its verifiers (a
// digest and a public key, never the secret); created_by is ignored: Run
// sets it to the caller (Context::who, or "database").
struct TokenCreate {
  static constexpr auto kRequest = Request::kTokenCreate;
  static constexpr auto kReply = Reply::kToken;
  using In = db::TokenCreateParams;
  using Out = db::ApiTokenRow;
  static void ToRequest(const In& in, Request& r) {
    auto* t = r.mutable_token_create();
    t->set_name(in.name);
    t->set_scope(in.scope);
    if (in.expires_in) t->set_expires_in_ms(in.expires_in->count());
    t->set_secret_sha256(in.secret_sha256);
    t->set_signing_key(in.signing_key);
  }
  static Result<In> FromRequest(const Request& r) { return wire::FromProto(r.token_create(), ""); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_token() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.token()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

struct TokenList {
  static constexpr auto kRequest = Request::kTokenList;
  static constexpr auto kReply = Reply::kTokens;
  using In = None;
  using Out = std::vector<db::ApiTokenRow>;
  static void ToRequest(const In&, Request& r) { r.mutable_token_list(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) {
    r.mutable_tokens();  // Set even when there are none.
    for (const auto& row : out) *r.mutable_tokens()->add_tokens() = wire::ToProto(row);
  }
  static Result<Out> FromReply(const Reply& r) {
    Out out;
    for (const auto& t : r.tokens().tokens()) out.push_back(wire::FromProto(t));
    return out;
  }
  static Result<Out> Run(Context& ctx, const In& in);
};

struct TokenRevoke {
  static constexpr auto kRequest = Request::kTokenRevoke;
  static constexpr auto kReply = Reply::kToken;
  using In = std::string;
  using Out = db::ApiTokenRow;
  static void ToRequest(const In& name, Request& r) { r.mutable_token_revoke()->set_name(name); }
  static Result<In> FromRequest(const Request& r) { return r.token_revoke().name(); }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_token() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.token()); }
  static Result<Out> Run(Context& ctx, const In& name);
};

// The credential the scheduler sees. FailedPrecondition without one (the
// database path).
struct Whoami {
  static constexpr auto kRequest = Request::kWhoami;
  static constexpr auto kReply = Reply::kWhoami;
  static constexpr Needs kNeeds = Needs::kNothing;
  using In = None;
  using Out = auth::Principal;
  static void ToRequest(const In&, Request& r) { r.mutable_whoami(); }
  static Result<In> FromRequest(const Request&) { return None{}; }
  static void ToReply(const Out& out, Reply& r) { *r.mutable_whoami() = wire::ToProto(out); }
  static Result<Out> FromReply(const Reply& r) { return wire::FromProto(r.whoami()); }
  static Result<Out> Run(Context& ctx, const In& in);
};

// Every command the scheduler dispatches. A command missing here is refused
// by the scheduler, and admin_commands_test fails for its AdminRequest case.
using AllCommands =
    std::tuple<Enqueue, JobList, JobShow, JobCancel, JobRetry, JobStats, Workers, MigrateStatus, ScheduleCreate,
               ScheduleUpdate, ScheduleDelete, ScheduleList, ScheduleShow, SchedulePause, ScheduleTrigger,
               ScheduleBackfill, Leader, RunStats, Alerts, Runs, ScheduleFires, LimitSet, LimitList, LimitDelete,
               QueuePause, QueueList, TokenCreate, TokenList, TokenRevoke, Whoami>;

}  // namespace chime::admin
