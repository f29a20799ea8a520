// Internal to the scheduler's HTTP API (http_api*.cc, http_actions.cc): the
// handlers, and the helpers that read parameters and run a handler's
// statements on a pooled connection. Thread-safe (stateless).
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/admin/dispatch.h"
#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/web/db_pool.h"
#include "common/web/server.h"
#include "scheduler/http_api.h"

namespace chime::scheduler::api {

using json = nlohmann::ordered_json;

web::Response Json(const json& value, int status = 200);

// InvalidArgument naming the first parameter the route does not take.
[[nodiscard]] Result<void> OnlyParams(const web::Request& req, std::initializer_list<std::string_view> allowed);

// An integer parameter in [min, max]; unset when absent.
[[nodiscard]] Result<std::optional<int64_t>> IntParam(const web::Request& req, const std::string& name,
                                                      int64_t min, int64_t max);

// Runs `fn` with a pooled connection; its error becomes the JSON error.
template <typename Fn>
web::Response WithDb(web::DbPool& pool, Fn&& fn) {
  auto conn = pool.Acquire();
  if (!conn) return web::ErrorResponse(conn.error());
  Result<json> out = fn(**conn);
  if (!out) return web::ErrorResponse(out.error());
  return Json(*out);
}

// Runs `fn` with the admin operations' context (common/admin) over a pooled
// connection: a route that reads or does what a jobctl command does runs
// that command's one implementation (admin::Execute<C>). No ready hint: a
// job the API makes ready is announced by the database's notification.
template <typename Fn>
web::Response WithAdmin(web::DbPool& pool, Fn&& fn) {
  return WithDb(pool, [&](db::Connection& conn) -> Result<json> {
    admin::Stores stores(conn);
    admin::Context ctx{.stores = stores};
    return fn(ctx);
  });
}

// The first `count` fires of a schedule's expression after `now` in its
// zone (none when paused or when the expression or zone does not load).
std::vector<TimePoint> NextFires(const std::string& cron, const std::string& time_zone, bool paused,
                                 const cron::ParseOptions& options, TimePoint now, int count);

// The dashboard's reads (http_api_dashboard.cc).
web::Response ScheduleDetail(const ApiDeps& d, const web::Request& req);
web::Response Fires(const ApiDeps& d, const web::Request& req);
web::Response RunSeries(const ApiDeps& d, const web::Request& req);
web::Response QueueSeries(const ApiDeps& d, const web::Request& req);

// The actions (http_actions.cc): scope operate.
web::Response JobRetry(const ApiDeps& d, const web::Request& req);
web::Response JobCancel(const ApiDeps& d, const web::Request& req);
web::Response ScheduleTrigger(const ApiDeps& d, const web::Request& req);
web::Response SchedulePause(const ApiDeps& d, const web::Request& req);
web::Response ScheduleResume(const ApiDeps& d, const web::Request& req);
web::Response QueuePause(const ApiDeps& d, const web::Request& req);
web::Response QueueResume(const ApiDeps& d, const web::Request& req);

}  // namespace chime::scheduler::api
