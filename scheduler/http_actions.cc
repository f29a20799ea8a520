// The API's actions (scope operate): retry and cancel a job, trigger, pause
// and resume a schedule, pause and resume a queue, through the same
// operations as jobctl's retry, cancel, schedule and queue commands
// (common/admin: admin::Execute). Each is logged with the token's name, so
// "who retried job 42" has an answer. A retried or triggered job is
// dispatched by the database's ready notice like any insert.
#include <spdlog/spdlog.h>

#include "common/auth/scope.h"
#include "common/base/text_format.h"
#include "common/view/json_view.h"
#include "scheduler/http_api_util.h"

namespace chime::scheduler::api {
namespace {

constexpr int kNextFires = 5;

// An action takes no parameters and no body beyond "{}": anything else is
// a client mistake worth a clear 400, not something to ignore.
Result<void> NoInput(const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return ok;
  std::string_view body = req.body;
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\r' ||
                           body.front() == '\t')) {
    body.remove_prefix(1);
  }
  while (!body.empty() && (body.back() == ' ' || body.back() == '\n' || body.back() == '\r' ||
                           body.back() == '\t')) {
    body.remove_suffix(1);
  }
  if (!body.empty() && body != "{}") {
    return Fail(ErrorCode::kInvalidArgument, "this action takes no body (or {})");
  }
  return {};
}

// The token's name for the log; the server already checked it.
std::string Who(const ApiDeps& d, const web::Request& req) {
  auto who = d.auth.Authenticate(req.Header("Authorization"));
  if (!who) return "?";
  return "'" + OneLine(who->name, 64) + "' (" + std::string(auth::ScopeName(who->scope)) + ")";
}

template <typename Fn>
web::Response JobAction(const ApiDeps& d, const web::Request& req, Fn&& fn) {
  if (auto ok = NoInput(req); !ok) return web::ErrorResponse(ok.error());
  auto id = ParseJobId(req.path_params.at(0));
  if (!id) return web::ErrorResponse(400, "invalid_argument", "job id: " + id.error().message);
  return WithAdmin(d.pool, [&](admin::Context& ctx) { return fn(ctx, *id); });
}

web::Response SetPaused(const ApiDeps& d, const web::Request& req, bool paused) {
  if (auto ok = NoInput(req); !ok) return web::ErrorResponse(ok.error());
  const std::string& name = req.path_params.at(0);
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto row = admin::Execute<admin::SchedulePause>(ctx, {name, paused});
    if (!row) return std::unexpected(row.error());
    spdlog::info("http: token {} {} schedule {}", Who(d, req), paused ? "paused" : "resumed", OneLine(name, 128));
    return view::ScheduleJson(*row, NextFires(row->spec.cron, row->spec.time_zone, row->spec.paused,
                                              d.cron_options, std::chrono::system_clock::now(), kNextFires));
  });
}

web::Response SetQueuePaused(const ApiDeps& d, const web::Request& req, bool paused) {
  if (auto ok = NoInput(req); !ok) return web::ErrorResponse(ok.error());
  const std::string& name = req.path_params.at(0);
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    // The queue records who paused it, and the operation logs it: the
    // token's name.
    if (auto who = d.auth.Authenticate(req.Header("Authorization")); who) ctx.who = *who;
    auto row = admin::Execute<admin::QueuePause>(ctx, {name, paused});
    if (!row) return std::unexpected(row.error());
    return view::QueueJson(*row);
  });
}

}  // namespace

web::Response JobRetry(const ApiDeps& d, const web::Request& req) {
  return JobAction(d, req, [&](admin::Context& ctx, int64_t id) -> Result<json> {
    auto job = admin::Execute<admin::JobRetry>(ctx, id);
    if (!job) return std::unexpected(job.error());
    spdlog::info("http: token {} retried job {}", Who(d, req), id);
    return view::JobJson(*job);
  });
}

web::Response JobCancel(const ApiDeps& d, const web::Request& req) {
  return JobAction(d, req, [&](admin::Context& ctx, int64_t id) -> Result<json> {
    auto outcome = admin::Execute<admin::JobCancel>(ctx, id);
    if (!outcome) return std::unexpected(outcome.error());
    spdlog::info("http: token {} cancelled job {}{}", Who(d, req), id,
                 *outcome == db::CancelOutcome::kCancelled ? "" : " (running: asked to stop)");
    auto job = ctx.stores.jobs.JobFind(id);
    if (!job) return std::unexpected(job.error());
    return json{{"cancelled_now", *outcome == db::CancelOutcome::kCancelled}, {"job", view::JobJson(*job)}};
  });
}

web::Response ScheduleTrigger(const ApiDeps& d, const web::Request& req) {
  if (auto ok = NoInput(req); !ok) return web::ErrorResponse(ok.error());
  const std::string& name = req.path_params.at(0);
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto fire = admin::Execute<admin::ScheduleTrigger>(ctx, name);
    if (!fire) return std::unexpected(fire.error());
    spdlog::info("http: token {} triggered schedule {} (job {})", Who(d, req), OneLine(name, 128),
                 fire->job_id ? std::to_string(*fire->job_id) : "none");
    return json{{"fire", view::FireResultJson(*fire)}};
  });
}

web::Response SchedulePause(const ApiDeps& d, const web::Request& req) { return SetPaused(d, req, true); }

web::Response ScheduleResume(const ApiDeps& d, const web::Request& req) { return SetPaused(d, req, false); }

web::Response QueuePause(const ApiDeps& d, const web::Request& req) { return SetQueuePaused(d, req, true); }

web::Response QueueResume(const ApiDeps& d, const web::Request& req) { return SetQueuePaused(d, req, false); }

}  // namespace chime::scheduler::api
