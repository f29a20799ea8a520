#include "scheduler/admin_service.h"

#include <spdlog/spdlog.h>

#include "common/db/migrations.h"
#include "common/wire/convert.h"
#include "common/wire/limit_convert.h"
#include "common/wire/run_convert.h"
#include "common/wire/schedule_convert.h"
#include "common/wire/stats_convert.h"
#include "common/wire/token_convert.h"
#include "scheduler/worker_publisher.h"

namespace chime::scheduler {
namespace {

v1::AdminReply ErrorReply(const Error& error) {
  v1::AdminReply reply;
  *reply.mutable_error() = wire::ToProto(error);
  return reply;
}

}  // namespace

AdminService::AdminService(db::ConnectionConfig db, db::JobStoreConfig store,
                           const LiveCounters& counters, CredentialDirectory* credentials)
    : conn_(std::move(db)),
      store_(conn_, std::move(store)),
      schedules_(conn_),
      stats_(conn_),
      alerts_(conn_),
      observe_(conn_),
      directory_(conn_),
      auth_(conn_),
      limits_(conn_),
      counters_(counters),
      credentials_(credentials) {}

v1::AdminReply AdminService::Handle(const v1::AdminRequest& request, const auth::Principal& who,
                                    const WorkerRegistry& workers, const ReadyHint& ready) {
  v1::AdminReply reply;
  switch (request.command_case()) {
    case v1::AdminRequest::kEnqueue: {
      auto params = wire::FromProto(request.enqueue());
      if (!params) return ErrorReply(params.error());
      auto inserted = store_.JobInsert(*params);
      if (!inserted) return ErrorReply(inserted.error());
      if (!inserted->existing && inserted->state == db::JobState::kAvailable) ready({params->queue, 1});
      auto job = store_.JobFind(inserted->id);
      if (!job) return ErrorReply(job.error());
      *reply.mutable_enqueue()->mutable_job() = wire::ToProto(*job);
      reply.mutable_enqueue()->set_existing(inserted->existing);
      return reply;
    }
    case v1::AdminRequest::kList: {
      auto params = wire::FromProto(request.list());
      if (!params) return ErrorReply(params.error());
      auto page = store_.JobsList(*params);
      if (!page) return ErrorReply(page.error());
      *reply.mutable_list() = wire::ToProto(*page);
      return reply;
    }
    case v1::AdminRequest::kShow: {
      auto job = store_.JobGet(request.show().job_id());
      if (!job) return ErrorReply(job.error());
      *reply.mutable_show() = wire::ToProto(*job);
      return reply;
    }
    case v1::AdminRequest::kCancel: {
      auto outcome = store_.JobCancel(request.cancel().job_id());
      if (!outcome) return ErrorReply(outcome.error());
      reply.mutable_cancel()->set_cancelled_now(*outcome == db::CancelOutcome::kCancelled);
      return reply;
    }
    case v1::AdminRequest::kRetry: {
      auto job = store_.JobRetry(request.retry().job_id());
      if (!job) return ErrorReply(job.error());
      if (job->state == db::JobState::kAvailable) ready({job->queue, 1});
      *reply.mutable_retry() = wire::ToProto(*job);
      return reply;
    }
    case v1::AdminRequest::kStats: {
      auto stats = store_.JobsStats();
      if (!stats) return ErrorReply(stats.error());
      *reply.mutable_stats() = wire::ToProto(*stats);
      for (auto& c : counters_.Snapshot()) *reply.mutable_stats()->add_live() = std::move(c);
      return reply;
    }
    case v1::AdminRequest::kWorkers:
      return HandleWorkers(workers);
    case v1::AdminRequest::kMigrate: {
      auto status = db::MigrationsStatus(conn_);
      if (!status) return ErrorReply(status.error());
      reply.mutable_migrate()->set_current_version(status->current_version);
      reply.mutable_migrate()->set_known_version(status->latest_version);
      return reply;
    }
    case v1::AdminRequest::kScheduleCreate:
    case v1::AdminRequest::kScheduleUpdate:
    case v1::AdminRequest::kScheduleDelete:
    case v1::AdminRequest::kScheduleList:
    case v1::AdminRequest::kScheduleShow:
    case v1::AdminRequest::kSchedulePause:
    case v1::AdminRequest::kScheduleTrigger:
    case v1::AdminRequest::kScheduleBackfill:
    case v1::AdminRequest::kLeader:
    case v1::AdminRequest::kScheduleFires:
      return HandleSchedule(request);
    case v1::AdminRequest::kRunStats:
    case v1::AdminRequest::kAlerts:
    case v1::AdminRequest::kRuns:
      return HandleObserve(request);
    case v1::AdminRequest::kLimitSet:
    case v1::AdminRequest::kLimitList:
    case v1::AdminRequest::kLimitDelete:
      return HandleLimits(request, who);
    case v1::AdminRequest::kTokenCreate:
    case v1::AdminRequest::kTokenList:
    case v1::AdminRequest::kTokenRevoke:
    case v1::AdminRequest::kWhoami:
      return HandleCredentials(request, who);
    case v1::AdminRequest::COMMAND_NOT_SET:
      break;
  }
  return ErrorReply(Error{ErrorCode::kInvalidArgument, "admin request: no command"});
}

v1::AdminReply AdminService::HandleSchedule(const v1::AdminRequest& request) {
  v1::AdminReply reply;
  auto row_reply = [&](const Result<db::ScheduleRow>& row) {
    if (!row) return ErrorReply(row.error());
    *reply.mutable_schedule() = wire::ToProto(*row);
    return reply;
  };
  switch (request.command_case()) {
    case v1::AdminRequest::kScheduleCreate:
    case v1::AdminRequest::kScheduleUpdate: {
      const bool create = request.command_case() == v1::AdminRequest::kScheduleCreate;
      auto spec = wire::FromProto(create ? request.schedule_create() : request.schedule_update());
      if (!spec) return ErrorReply(spec.error());
      return row_reply(create ? schedules_.ScheduleCreate(*spec) : schedules_.ScheduleUpdate(*spec));
    }
    case v1::AdminRequest::kScheduleDelete: {
      auto deleted = schedules_.ScheduleDelete(request.schedule_delete().name());
      if (!deleted) return ErrorReply(deleted.error());
      reply.mutable_deleted()->set_name(request.schedule_delete().name());
      return reply;
    }
    case v1::AdminRequest::kScheduleList: {
      auto list = schedules_.SchedulesList();
      if (!list) return ErrorReply(list.error());
      reply.mutable_schedules();  // Set even when there are none.
      for (const auto& s : *list) *reply.mutable_schedules()->add_schedules() = wire::ToProto(s);
      return reply;
    }
    case v1::AdminRequest::kScheduleShow:
      return row_reply(schedules_.ScheduleGet(request.schedule_show().name()));
    case v1::AdminRequest::kSchedulePause:
      return row_reply(schedules_.ScheduleSetPaused(request.schedule_pause().name(),
                                                    request.schedule_pause().paused()));
    case v1::AdminRequest::kScheduleTrigger: {
      auto fire = schedules_.TriggerNow(request.schedule_trigger().name());
      if (!fire) return ErrorReply(fire.error());
      *reply.mutable_fires()->add_fires() = wire::ToProto(*fire);
      return reply;
    }
    case v1::AdminRequest::kScheduleBackfill: {
      const auto& b = request.schedule_backfill();
      auto fires = schedules_.Backfill(b.name(), db::TimePoint(std::chrono::milliseconds(b.from_ms())),
                                       db::TimePoint(std::chrono::milliseconds(b.to_ms())));
      if (!fires) return ErrorReply(fires.error());
      reply.mutable_fires();
      for (const auto& f : *fires) *reply.mutable_fires()->add_fires() = wire::ToProto(f);
      return reply;
    }
    case v1::AdminRequest::kScheduleFires: {
      auto page = schedules_.FiresList(wire::FromProto(request.schedule_fires()));
      if (!page) return ErrorReply(page.error());
      *reply.mutable_fire_page() = wire::ToProto(*page);
      return reply;
    }
    case v1::AdminRequest::kLeader: {
      auto leader = schedules_.LeaderGet();
      if (!leader) return ErrorReply(leader.error());
      *reply.mutable_leader() = wire::ToProto(*leader);
      return reply;
    }
    default:
      break;
  }
  return ErrorReply(Error{ErrorCode::kInternal, "admin request: not a schedule command"});
}

v1::AdminReply AdminService::HandleCredentials(const v1::AdminRequest& request,
                                               const auth::Principal& who) {
  v1::AdminReply reply;
  switch (request.command_case()) {
    case v1::AdminRequest::kTokenCreate: {
      auto params = wire::FromProto(request.token_create(), who.name);
      if (!params) return ErrorReply(params.error());
      auto row = auth_.TokenCreate(*params);
      if (!row) return ErrorReply(row.error());
      if (credentials_ != nullptr) credentials_->Invalidate(row->name);
      spdlog::info("token '{}' (scope {}) created by '{}'", row->name, row->scope, who.name);
      *reply.mutable_token() = wire::ToProto(*row);
      return reply;
    }
    case v1::AdminRequest::kTokenList: {
      auto rows = auth_.TokensList();
      if (!rows) return ErrorReply(rows.error());
      reply.mutable_tokens();  // Set even when there are none.
      for (const auto& row : *rows) *reply.mutable_tokens()->add_tokens() = wire::ToProto(row);
      return reply;
    }
    case v1::AdminRequest::kTokenRevoke: {
      auto row = auth_.TokenRevoke(request.token_revoke().name());
      if (!row) return ErrorReply(row.error());
      if (credentials_ != nullptr) credentials_->Invalidate(row->name);
      spdlog::info("token '{}' revoked by '{}'", row->name, who.name);
      *reply.mutable_token() = wire::ToProto(*row);
      return reply;
    }
    case v1::AdminRequest::kWhoami:
      *reply.mutable_whoami() = wire::ToProto(who);
      return reply;
    default:
      break;
  }
  return ErrorReply(Error{ErrorCode::kInternal, "admin request: not a credentials command"});
}

v1::AdminReply AdminService::HandleLimits(const v1::AdminRequest& request, const auth::Principal& who) {
  v1::AdminReply reply;
  switch (request.command_case()) {
    case v1::AdminRequest::kLimitSet: {
      auto spec = wire::FromProto(request.limit_set());
      if (!spec) return ErrorReply(spec.error());
      auto row = limits_.LimitSet(*spec);
      if (!row) return ErrorReply(row.error());
      spdlog::info("limit '{}' set by '{}'", row->spec.name, who.name);
      *reply.mutable_limit() = wire::ToProto(*row);
      return reply;
    }
    case v1::AdminRequest::kLimitList: {
      auto rows = limits_.LimitsList();
      if (!rows) return ErrorReply(rows.error());
      reply.mutable_limits();  // Set even when there are none.
      for (const auto& row : *rows) *reply.mutable_limits()->add_limits() = wire::ToProto(row);
      return reply;
    }
    case v1::AdminRequest::kLimitDelete: {
      const std::string& name = request.limit_delete().name();
      if (auto deleted = limits_.LimitDelete(name); !deleted) return ErrorReply(deleted.error());
      spdlog::info("limit '{}' deleted by '{}'", name, who.name);
      reply.mutable_limit_deleted()->set_name(name);
      return reply;
    }
    default:
      break;
  }
  return ErrorReply(Error{ErrorCode::kInternal, "admin request: not a limit command"});
}

v1::AdminReply AdminService::HandleWorkers(const WorkerRegistry& workers) {
  v1::AdminReply reply;
  reply.mutable_workers();  // Set even when no worker is connected.
  for (const auto& w : AllWorkers(directory_.List(), workers.List())) {
    *reply.mutable_workers()->add_workers() = wire::ToProto(w);
  }
  return reply;
}

v1::AdminReply AdminService::HandleObserve(const v1::AdminRequest& request) {
  v1::AdminReply reply;
  if (request.has_run_stats()) {
    auto params = wire::FromProto(request.run_stats());
    if (!params) return ErrorReply(params.error());
    auto report = stats_.StatsQuery(*params);
    if (!report) return ErrorReply(report.error());
    *reply.mutable_run_stats() = wire::ToProto(*report);
    return reply;
  }
  if (request.has_runs()) {
    auto params = wire::FromProto(request.runs());
    if (!params) return ErrorReply(params.error());
    auto page = observe_.RunsList(*params);
    if (!page) return ErrorReply(page.error());
    *reply.mutable_runs() = wire::ToProto(*page);
    return reply;
  }
  if (request.has_alerts()) {
    const int limit = request.alerts().limit() == 0 ? 100 : request.alerts().limit();
    auto alerts = alerts_.AlertsList(db::AlertListParams{.all = request.alerts().all(), .limit = limit});
    if (!alerts) return ErrorReply(alerts.error());
    reply.mutable_alerts();  // Set even when there are none.
    for (const auto& a : *alerts) *reply.mutable_alerts()->add_alerts() = wire::ToProto(a);
    return reply;
  }
  return ErrorReply(Error{ErrorCode::kInternal, "admin request: not a statistics command"});
}

}  // namespace chime::scheduler
