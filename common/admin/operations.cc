// The one implementation of every admin command declared in commands.h, for
// jobctl's database path, the scheduler's AdminService and the HTTP API's
// actions alike. What only a scheduler has (the caller, its workers, live
// counters, the ready hint, the credential cache) comes from the Context and
// is skipped when unset.
#include <spdlog/spdlog.h>

#include "common/admin/commands.h"

namespace chime::admin {

// ---- Jobs ----------------------------------------------------------------

Result<Enqueued> Enqueue::Run(Context& ctx, const In& in) {
  auto inserted = ctx.stores.jobs.JobInsert(in);
  if (!inserted) return std::unexpected(inserted.error());
  if (ctx.ready && !inserted->existing && inserted->state == db::JobState::kAvailable) {
    ctx.ready({in.queue, 1});
  }
  auto job = ctx.stores.jobs.JobFind(inserted->id);
  if (!job) return std::unexpected(job.error());
  return Enqueued{std::move(*job), inserted->existing};
}

Result<db::JobPage> JobList::Run(Context& ctx, const In& in) { return ctx.stores.jobs.JobsList(in); }

Result<db::JobWithRuns> JobShow::Run(Context& ctx, const In& id) { return ctx.stores.jobs.JobGet(id); }

Result<db::CancelOutcome> JobCancel::Run(Context& ctx, const In& id) { return ctx.stores.jobs.JobCancel(id); }

Result<db::Job> JobRetry::Run(Context& ctx, const In& id) {
  auto job = ctx.stores.jobs.JobRetry(id);
  if (job && ctx.ready && job->state == db::JobState::kAvailable) ctx.ready({job->queue, 1});
  return job;
}

Result<StatsOut> JobStats::Run(Context& ctx, const In&) {
  auto stats = ctx.stores.jobs.JobsStats();
  if (!stats) return std::unexpected(stats.error());
  StatsOut out{std::move(*stats), {}};
  if (ctx.live_counters) out.live = ctx.live_counters();
  return out;
}

Result<std::vector<db::WorkerRow>> Workers::Run(Context& ctx, const In&) {
  // What the scheduler replicas published (they refresh it every second).
  auto published = ctx.stores.directory.List();
  if (ctx.workers) return ctx.workers(published);
  return published;
}

Result<db::MigrationStatus> MigrateStatus::Run(Context& ctx, const In&) {
  return db::MigrationsStatus(ctx.stores.conn);
}

// ---- Schedules -----------------------------------------------------------

Result<db::ScheduleRow> ScheduleCreate::Run(Context& ctx, const In& in) {
  return ctx.stores.schedules.ScheduleCreate(in);
}

Result<db::ScheduleRow> ScheduleUpdate::Run(Context& ctx, const In& in) {
  return ctx.stores.schedules.ScheduleUpdate(in);
}

Result<Deleted> ScheduleDelete::Run(Context& ctx, const In& name) {
  if (auto deleted = ctx.stores.schedules.ScheduleDelete(name); !deleted) {
    return std::unexpected(deleted.error());
  }
  return Deleted{name};
}

Result<db::ScheduleRow> ScheduleShow::Run(Context& ctx, const In& name) {
  return ctx.stores.schedules.ScheduleGet(name);
}

Result<std::vector<db::ScheduleStatus>> ScheduleList::Run(Context& ctx, const In&) {
  return ctx.stores.schedules.SchedulesList();
}

Result<db::ScheduleRow> SchedulePause::Run(Context& ctx, const In& in) {
  return ctx.stores.schedules.ScheduleSetPaused(in.name, in.paused);
}

Result<db::FireResult> ScheduleTrigger::Run(Context& ctx, const In& name) {
  return ctx.stores.schedules.TriggerNow(name);
}

Result<std::vector<db::FireResult>> ScheduleBackfill::Run(Context& ctx, const In& in) {
  return ctx.stores.schedules.Backfill(in.name, in.from, in.to);
}

Result<db::FirePage> ScheduleFires::Run(Context& ctx, const In& in) {
  return ctx.stores.schedules.FiresList(in);
}

Result<std::optional<db::LeaderState>> Leader::Run(Context& ctx, const In&) {
  return ctx.stores.schedules.LeaderGet();
}

// ---- Runs, statistics, alerts --------------------------------------------

Result<db::StatsReport> RunStats::Run(Context& ctx, const In& in) { return ctx.stores.stats.StatsQuery(in); }

Result<db::RunPage> Runs::Run(Context& ctx, const In& in) { return ctx.stores.observe.RunsList(in); }

Result<std::vector<db::AlertRow>> Alerts::Run(Context& ctx, const In& in) {
  return ctx.stores.alerts.AlertsList(in);
}

// ---- Limits --------------------------------------------------------------

Result<db::LimitRow> LimitSet::Run(Context& ctx, const In& in) {
  auto row = ctx.stores.limits.LimitSet(in);
  if (row && ctx.who) spdlog::info("limit '{}' set by '{}'", row->spec.name, ctx.who->name);
  return row;
}

Result<std::vector<db::LimitRow>> LimitList::Run(Context& ctx, const In&) {
  return ctx.stores.limits.LimitsList();
}

Result<Deleted> LimitDelete::Run(Context& ctx, const In& name) {
  if (auto deleted = ctx.stores.limits.LimitDelete(name); !deleted) return std::unexpected(deleted.error());
  if (ctx.who) spdlog::info("limit '{}' deleted by '{}'", name, ctx.who->name);
  return Deleted{name};
}

// ---- Queues --------------------------------------------------------------

Result<db::QueueRow> QueuePause::Run(Context& ctx, const In& in) {
  // Recorded with the queue: the token's name, never the token.
  const std::string by = ctx.who ? "token '" + ctx.who->name + "'" : "database";
  auto row = in.paused ? ctx.stores.queues.QueuePause(in.name, by) : ctx.stores.queues.QueueResume(in.name, by);
  if (!row) return row;
  if (ctx.who) spdlog::info("queue '{}' {} by '{}'", in.name, in.paused ? "paused" : "resumed", ctx.who->name);
  // The store announced the ready jobs at commit; the router need not wait
  // for the database's notice.
  if (!in.paused && row->ready > 0 && ctx.ready) ctx.ready({row->name, row->ready});
  return row;
}

Result<std::vector<db::QueueRow>> QueueList::Run(Context& ctx, const In&) { return ctx.stores.queues.QueuesList(); }

// ---- Credentials ---------------------------------------------------------

Result<db::ApiTokenRow> TokenCreate::Run(Context& ctx, const In& in) {
  db::TokenCreateParams params = in;
  // No token on the database path: the database login is the authority, so
  // an operator can make the first token there.
  params.created_by = ctx.who ? ctx.who->name : "database";
  auto row = ctx.stores.auth.TokenCreate(params);
  if (!row) return row;
  if (ctx.token_changed) ctx.token_changed(row->name);
  if (ctx.who) spdlog::info("token '{}' (scope {}) created by '{}'", row->name, row->scope, ctx.who->name);
  return row;
}

Result<std::vector<db::ApiTokenRow>> TokenList::Run(Context& ctx, const In&) {
  return ctx.stores.auth.TokensList();
}

Result<db::ApiTokenRow> TokenRevoke::Run(Context& ctx, const In& name) {
  auto row = ctx.stores.auth.TokenRevoke(name);
  if (!row) return row;
  if (ctx.token_changed) ctx.token_changed(row->name);
  if (ctx.who) spdlog::info("token '{}' revoked by '{}'", row->name, ctx.who->name);
  return row;
}

Result<auth::Principal> Whoami::Run(Context& ctx, const In&) {
  if (!ctx.who) {
    return Fail(ErrorCode::kFailedPrecondition,
                "whoami asks a scheduler (set CHIME_SCHEDULER or --scheduler): straight to the "
                "database, jobctl acts with the database login's rights");
  }
  return *ctx.who;
}

}  // namespace chime::admin
