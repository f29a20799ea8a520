#include "scheduler/http_api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>
#include <set>

#include "common/auth/request_scopes.h"
#include "common/base/text_format.h"
#include "common/db/alert_store.h"
#include "common/db/job_store.h"
#include "common/db/limit_store.h"
#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"
#include "common/db/stats_store.h"
#include "common/db/worker_directory.h"
#include "common/observe/monitoring_json.h"
#include "common/view/json_view.h"
#include "scheduler/http_api_util.h"
#include "scheduler/worker_publisher.h"

namespace chime::scheduler {
namespace api {

web::Response Json(const json& value, int status) {
  return web::JsonResponse(value.dump(-1, ' ', false, json::error_handler_t::replace), status);
}

Result<void> OnlyParams(const web::Request& req, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : req.query) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown parameter '" + OneLine(name, 64) + "'" +
                      (list.empty() ? " (this route takes none)" : " (takes: " + list + ")"));
    }
  }
  return {};
}

Result<std::optional<int64_t>> IntParam(const web::Request& req, const std::string& name, int64_t min,
                                        int64_t max) {
  auto text = req.Query(name);
  if (!text) return std::optional<int64_t>{};
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || v < min || v > max) {
    return Fail(ErrorCode::kInvalidArgument, name + ": '" + OneLine(*text, 32) + "' is not an integer " +
                                                 std::to_string(min) + "-" + std::to_string(max));
  }
  return std::optional<int64_t>(v);
}

std::vector<TimePoint> NextFires(const std::string& cron_text, const std::string& time_zone, bool paused,
                                 const cron::ParseOptions& options, TimePoint now, int count) {
  std::vector<TimePoint> out;
  if (paused) return out;
  auto expr = cron::Expression::Parse(cron_text, options);
  if (!expr) return out;
  auto zone = cron::Zone::Load(time_zone);
  if (!zone) return out;
  cron::Instant t = std::chrono::floor<std::chrono::seconds>(now);
  for (int i = 0; i < count; ++i) {
    auto next = cron::NextFire(*expr, *zone, t);
    if (!next) break;
    out.push_back(*next);
    t = *next;
  }
  return out;
}

}  // namespace api

namespace {

using namespace api;  // NOLINT: this file's handlers are the API's.

// limit (1-1000, default 50) and cursor (the last page's next_before_id)
// of the keyset-paged lists, into `p`'s limit and before_id.
template <typename Params>
Result<void> ReadPaging(const web::Request& req, Params& p) {
  auto limit = IntParam(req, "limit", 1, 1000);
  if (!limit) return std::unexpected(limit.error());
  auto cursor = IntParam(req, "cursor", 1, INT64_MAX);
  if (!cursor) return std::unexpected(cursor.error());
  p.limit = static_cast<int>(limit->value_or(50));
  p.before_id = *cursor;
  return {};
}

// A true/false query parameter; unset: `fallback`.
Result<bool> BoolParam(const web::Request& req, const std::string& name, bool fallback) {
  auto text = req.Query(name);
  if (!text) return fallback;
  if (*text == "true") return true;
  if (*text == "false") return false;
  return Fail(ErrorCode::kInvalidArgument, name + ": must be true or false");
}

web::Response Schedules(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto list = admin::Execute<admin::ScheduleList>(ctx, {});
    if (!list) return std::unexpected(list.error());
    const auto now = std::chrono::system_clock::now();
    json items = json::array();
    for (const auto& s : *list) {
      const auto next = NextFires(s.row.spec.cron, s.row.spec.time_zone, s.row.spec.paused, d.cron_options, now, 1);
      items.push_back(view::ScheduleStatusJson(s, next.empty() ? std::nullopt : std::optional(next.front())));
    }
    return json{{"schedules", std::move(items)}};
  });
}

constexpr size_t kMaxListItems = 16;
// What one page of /api/jobs may search (db::ListParams::scan_ids): a
// filter that matches nothing in a million jobs costs a window, not a walk
// of the table.
constexpr int64_t kJobsScanIds = 50'000;

// A comma-separated list of names, each parsed by `parse`; 400 naming the
// parameter, the bad item and the valid ones (or that there are too many).
template <typename T, typename Parse>
Result<std::vector<T>> ListParam(const web::Request& req, const std::string& name, Parse parse,
                                 std::string_view valid) {
  std::vector<T> out;
  auto text = req.Query(name);
  if (!text) return out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    if (out.size() == kMaxListItems) {
      return Fail(ErrorCode::kInvalidArgument, name + ": at most " + std::to_string(kMaxListItems) + " values");
    }
    const size_t comma = std::min(rest.find(','), rest.size());
    const std::string_view item = rest.substr(0, comma);
    auto value = parse(item);
    if (!value) {
      return Fail(ErrorCode::kInvalidArgument,
                  name + ": '" + OneLine(item, 32) + "' is not one of " + std::string(valid));
    }
    out.push_back(*value);
    rest.remove_prefix(std::min(rest.size(), comma + 1));
  }
  return out;
}

web::Response Jobs(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"state", "outcome", "kind", "queue", "schedule", "parent", "since", "until",
                                 "limit", "cursor"});
      !ok) {
    return web::ErrorResponse(ok.error());
  }
  db::ListParams p;
  auto states = ListParam<db::JobState>(req, "state", db::ParseJobState,
                                        "scheduled, available, running, retryable, succeeded, discarded, cancelled");
  if (!states) return web::ErrorResponse(states.error());
  p.states = std::move(*states);
  auto outcomes = ListParam<db::JobOutcome>(req, "outcome", db::ParseJobOutcome,
                                            "succeeded, partial, failed, skipped, cancelled");
  if (!outcomes) return web::ErrorResponse(outcomes.error());
  p.outcomes = std::move(*outcomes);
  p.kind = req.Query("kind");
  p.queue = req.Query("queue");
  p.schedule = req.Query("schedule");
  auto parent = IntParam(req, "parent", 1, INT64_MAX);
  if (!parent) return web::ErrorResponse(parent.error());
  p.parent_id = *parent;
  const auto now = std::chrono::system_clock::now();
  for (const auto& [name, target] : {std::pair{"since", &p.since}, std::pair{"until", &p.until}}) {
    if (auto text = req.Query(name)) {
      auto t = ParseTimeOrAgo(*text, now);
      if (!t) return web::ErrorResponse(400, "invalid_argument", std::string(name) + ": " + t.error().message);
      *target = *t;
    }
  }
  if (auto ok = ReadPaging(req, p); !ok) return web::ErrorResponse(ok.error());
  // A page never searches more than this many jobs below its cursor.
  p.scan_ids = kJobsScanIds;
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto page = admin::Execute<admin::JobList>(ctx, p);
    if (!page) return std::unexpected(page.error());
    return view::JobPageJson(*page);
  });
}

web::Response JobOne(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  auto id = ParseJobId(req.path_params.at(0));
  if (!id) return web::ErrorResponse(400, "invalid_argument", "job id: " + id.error().message);
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto job = admin::Execute<admin::JobShow>(ctx, *id);
    if (!job) return std::unexpected(job.error());
    return view::JobWithRunsJson(*job);
  });
}

web::Response Runs(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"schedule", "kind", "outcome", "since", "attempts", "limit", "cursor"}); !ok) {
    return web::ErrorResponse(ok.error());
  }
  db::RunListParams p;
  p.schedule = req.Query("schedule");
  p.kind = req.Query("kind");
  p.outcome = req.Query("outcome");
  if (auto text = req.Query("since")) {
    auto t = ParseTimeOrAgo(*text, std::chrono::system_clock::now());
    if (!t) return web::ErrorResponse(400, "invalid_argument", "since: " + t.error().message);
    p.since = *t;
  }
  auto attempts = BoolParam(req, "attempts", false);
  if (!attempts) return web::ErrorResponse(attempts.error());
  p.attempts = *attempts;
  if (auto ok = ReadPaging(req, p); !ok) return web::ErrorResponse(ok.error());
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto page = admin::Execute<admin::Runs>(ctx, p);
    if (!page) return std::unexpected(page.error());
    return view::RunPageJson(*page);
  });
}

web::Response Workers(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  // Every replica's workers, as jobctl workers lists them; this replica's
  // own when the database is away.
  auto conn = d.pool.Acquire();
  Result<std::vector<db::WorkerRow>> rows =
      conn ? db::WorkerDirectory(**conn).List() : std::unexpected(conn.error());
  return Json(view::WorkersJson(AllWorkers(rows, d.router.WorkersSnapshot())));
}

web::Response Queues(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  auto snapshot = d.cluster.Get();
  if (!snapshot) return web::ErrorResponse(snapshot.error());
  json stats = view::StatsJson((*snapshot)->stats);
  // The queues are read now, not from the snapshot: a pause shows at once.
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto queues = admin::Execute<admin::QueueList>(ctx, {});
    if (!queues) return std::unexpected(queues.error());
    return json{{"queues", view::QueuesJson(*queues)["queues"]},
                {"states", stats["states"]},
                {"rows", stats["rows"]},
                {"read_at", FormatRfc3339((*snapshot)->read_at, TimePrecision::kMillis)}};
  });
}

// The seeds' monitoring shape (common/observe), as jobctl stats --json.
web::Response Stats(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"by", "hours", "name"}); !ok) return web::ErrorResponse(ok.error());
  db::StatsParams p;
  const std::string by = req.Query("by").value_or("schedule");
  auto scope = db::ParseStatsScope(by);
  if (!scope) {
    return web::ErrorResponse(400, "invalid_argument",
                              "by: '" + OneLine(by, 32) + "' is not one of schedule, kind");
  }
  p.scope = *scope;
  p.name = req.Query("name");
  auto hours = IntParam(req, "hours", db::kMinStatsRange.count(), db::kMaxStatsRange.count());
  if (!hours) return web::ErrorResponse(hours.error());
  if (*hours) p.range = std::chrono::hours(**hours);
  if (auto ok = p.Validate(); !ok) return web::ErrorResponse(ok.error());
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto report = admin::Execute<admin::RunStats>(ctx, p);
    if (!report) return std::unexpected(report.error());
    auto firing = admin::Execute<admin::Alerts>(ctx, {.all = false, .limit = 1000});
    if (!firing) return std::unexpected(firing.error());
    return json(observe::MonitoringJson(*report, *firing));
  });
}

web::Response Alerts(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"all", "limit"}); !ok) return web::ErrorResponse(ok.error());
  db::AlertListParams p;
  if (auto all = req.Query("all")) {
    if (*all != "true" && *all != "false") {
      return web::ErrorResponse(400, "invalid_argument", "all: must be true or false");
    }
    p.all = *all == "true";
  }
  auto limit = IntParam(req, "limit", 1, 1000);
  if (!limit) return web::ErrorResponse(limit.error());
  if (*limit) p.limit = static_cast<int>(**limit);
  if (auto ok = p.Validate(); !ok) return web::ErrorResponse(ok.error());
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto list = admin::Execute<admin::Alerts>(ctx, p);
    if (!list) return std::unexpected(list.error());
    return json(observe::AlertsJson(*list));
  });
}

web::Response Limits(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto rows = admin::Execute<admin::LimitList>(ctx, {});
    if (!rows) return std::unexpected(rows.error());
    return json(view::LimitsJson(*rows));
  });
}

web::Response Whoami(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  // The server let the request through, so the token checks out; asked
  // again for who it is (the server's check keeps no state per request).
  auto who = d.auth.Authenticate(req.Header("Authorization"));
  if (!who) return web::ErrorResponse(who.error());
  json out{{"name", who->name}, {"scope", auth::ScopeName(who->scope)}, {"bootstrap", who->bootstrap},
           {"expires_at", nullptr}};
  if (who->expires_at) out["expires_at"] = FormatRfc3339(*who->expires_at);
  return Json(out);
}

using ApiHandler = web::Response (*)(const ApiDeps&, const web::Request&);

struct ApiRoute {
  std::string_view method;
  std::string_view pattern;
  ApiHandler handler;
};

constexpr ApiRoute kApiRoutes[] = {
    {"GET", "/api/whoami", Whoami},
    {"GET", "/api/schedules", Schedules},
    {"GET", "/api/schedules/([^/]+)", ScheduleDetail},
    {"GET", "/api/jobs", Jobs},
    {"GET", "/api/jobs/([^/]+)", JobOne},
    {"GET", "/api/runs", Runs},
    {"GET", "/api/fires", Fires},
    {"GET", "/api/workers", Workers},
    {"GET", "/api/queues", Queues},
    {"GET", "/api/stats", Stats},
    {"GET", "/api/alerts", Alerts},
    {"GET", "/api/limits", Limits},
    {"GET", "/api/series/runs", RunSeries},
    {"GET", "/api/series/queues", QueueSeries},
    {"POST", "/api/jobs/([^/]+)/retry", JobRetry},
    {"POST", "/api/jobs/([^/]+)/cancel", JobCancel},
    {"POST", "/api/schedules/([^/]+)/trigger", ScheduleTrigger},
    {"POST", "/api/schedules/([^/]+)/pause", SchedulePause},
    {"POST", "/api/schedules/([^/]+)/resume", ScheduleResume},
    {"POST", "/api/queues/([^/]+)/pause", QueuePause},
    {"POST", "/api/queues/([^/]+)/resume", QueueResume},
};

}  // namespace

web::Access RouteAccess(std::string_view method, std::string_view pattern) {
  const auth::HttpRouteScope* entry = auth::FindRouteScope(method, pattern);
  if (entry == nullptr) {
    spdlog::critical("http route {} {} has no scope in common/auth/request_scopes.cc", method, pattern);
    std::abort();
  }
  if (!entry->scope) return web::Access::kOpen;
  switch (*entry->scope) {
    case auth::Scope::kRead: return web::Access::kRead;
    case auth::Scope::kOperate: return web::Access::kOperate;
    case auth::Scope::kAdmin: return web::Access::kAdmin;
  }
  std::abort();
}

std::vector<ApiRouteName> ApiRoutes() {
  std::vector<ApiRouteName> out;
  for (const auto& r : kApiRoutes) out.push_back({r.method, r.pattern});
  return out;
}

void AddApiRoutes(web::Server& server, const ApiDeps& deps) {
  for (const auto& r : kApiRoutes) {
    auto handler = [deps, fn = r.handler](const web::Request& req) { return fn(deps, req); };
    if (r.method == "POST") {
      server.Post(std::string(r.pattern), RouteAccess(r.method, r.pattern), std::move(handler));
    } else {
      server.Get(std::string(r.pattern), RouteAccess(r.method, r.pattern), std::move(handler));
    }
  }
}

}  // namespace chime::scheduler
