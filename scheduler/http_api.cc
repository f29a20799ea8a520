#include "scheduler/http_api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>
#include <set>

#include "common/auth/request_scopes.h"
#include "common/base/text_format.h"
#include "common/db/alert_store.h"
#include "common/db/job_store.h"
#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"
#include "common/db/stats_store.h"
#include "common/db/worker_directory.h"
#include "common/observe/monitoring_json.h"
#include "common/view/json_view.h"
#include "scheduler/worker_publisher.h"

namespace chime::scheduler {
namespace {

using json = nlohmann::ordered_json;

constexpr int kScheduleNextFires = 5;
constexpr int kScheduleRecentRuns = 10;

web::Response Json(const json& value) {
  return web::JsonResponse(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

// 400 naming the first parameter the route does not take.
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

Result<std::optional<int64_t>> IntParam(const web::Request& req, const std::string& name,
                                        int64_t min, int64_t max) {
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

std::optional<TimePoint> NextFire(const db::ScheduleRow& row, const cron::ParseOptions& options,
                                  TimePoint now, int count, std::vector<TimePoint>* all) {
  if (row.spec.paused) return std::nullopt;
  auto expr = cron::Expression::Parse(row.spec.cron, options);
  if (!expr) return std::nullopt;
  auto zone = cron::Zone::Load(row.spec.time_zone);
  if (!zone) return std::nullopt;
  std::optional<TimePoint> first;
  cron::Instant t = std::chrono::floor<std::chrono::seconds>(now);
  for (int i = 0; i < count; ++i) {
    auto next = cron::NextFire(*expr, *zone, t);
    if (!next) break;
    if (!first) first = *next;
    if (all) all->push_back(*next);
    t = *next;
  }
  return first;
}

// A true/false query parameter; unset: `fallback`.
Result<bool> BoolParam(const web::Request& req, const std::string& name, bool fallback) {
  auto text = req.Query(name);
  if (!text) return fallback;
  if (*text == "true") return true;
  if (*text == "false") return false;
  return Fail(ErrorCode::kInvalidArgument, name + ": must be true or false");
}

// Runs `fn` with a pooled connection; its error becomes the JSON error.
template <typename Fn>
web::Response WithDb(web::DbPool& pool, Fn&& fn) {
  auto conn = pool.Acquire();
  if (!conn) return web::ErrorResponse(conn.error());
  Result<json> out = fn(**conn);
  if (!out) return web::ErrorResponse(out.error());
  return Json(*out);
}

web::Response Schedules(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    db::ScheduleStore store(conn);
    auto list = store.SchedulesList();
    if (!list) return std::unexpected(list.error());
    const auto now = std::chrono::system_clock::now();
    json items = json::array();
    for (const auto& s : *list) {
      items.push_back(view::ScheduleStatusJson(s, NextFire(s.row, d.cron_options, now, 1, nullptr)));
    }
    return json{{"schedules", std::move(items)}};
  });
}

web::Response ScheduleOne(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  const std::string& name = req.path_params.at(0);
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    db::ScheduleStore store(conn);
    auto row = store.ScheduleGet(name);
    if (!row) return std::unexpected(row.error());
    std::vector<TimePoint> next;
    NextFire(*row, d.cron_options, std::chrono::system_clock::now(), kScheduleNextFires, &next);
    json out = view::ScheduleJson(*row, next);
    db::ObserveStore observe(conn);
    auto runs = observe.RunsList({.schedule = name, .limit = kScheduleRecentRuns});
    if (!runs) return std::unexpected(runs.error());
    json recent = json::array();
    for (const auto& r : runs->runs) recent.push_back(view::RunItemJson(r));
    out["recent_runs"] = std::move(recent);
    return out;
  });
}

web::Response Jobs(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"state", "kind", "queue", "schedule", "since", "until", "limit", "cursor"});
      !ok) {
    return web::ErrorResponse(ok.error());
  }
  db::ListParams p;
  if (auto states = req.Query("state")) {
    std::string_view rest = *states;
    while (!rest.empty()) {
      const size_t comma = std::min(rest.find(','), rest.size());
      const std::string_view item = rest.substr(0, comma);
      auto state = db::ParseJobState(item);
      if (!state) {
        return web::ErrorResponse(400, "invalid_argument",
                                  "state: '" + OneLine(item, 32) +
                                      "' is not one of scheduled, available, running, retryable, "
                                      "succeeded, discarded, cancelled");
      }
      p.states.push_back(*state);
      rest.remove_prefix(std::min(rest.size(), comma + 1));
    }
  }
  p.kind = req.Query("kind");
  p.queue = req.Query("queue");
  p.schedule = req.Query("schedule");
  const auto now = std::chrono::system_clock::now();
  for (const auto& [name, target] : {std::pair{"since", &p.since}, std::pair{"until", &p.until}}) {
    if (auto text = req.Query(name)) {
      auto t = ParseTimeOrAgo(*text, now);
      if (!t) return web::ErrorResponse(400, "invalid_argument", std::string(name) + ": " + t.error().message);
      *target = *t;
    }
  }
  if (auto ok = ReadPaging(req, p); !ok) return web::ErrorResponse(ok.error());
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    db::JobStore store(conn);
    auto page = store.JobsList(p);
    if (!page) return std::unexpected(page.error());
    return view::JobPageJson(*page);
  });
}

web::Response JobOne(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  auto id = ParseJobId(req.path_params.at(0));
  if (!id) return web::ErrorResponse(400, "invalid_argument", "job id: " + id.error().message);
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    db::JobStore store(conn);
    auto job = store.JobGet(*id);
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
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    db::ObserveStore store(conn);
    auto page = store.RunsList(p);
    if (!page) return std::unexpected(page.error());
    return view::RunPageJson(*page);
  });
}

web::Response Fires(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"schedule", "before", "limit"}); !ok) return web::ErrorResponse(ok.error());
  db::FireListParams p;
  auto schedule = req.Query("schedule");
  if (!schedule) return web::ErrorResponse(400, "invalid_argument", "schedule: required");
  p.schedule = *schedule;
  if (auto text = req.Query("before")) {
    auto t = ParseRfc3339(*text);
    if (!t) return web::ErrorResponse(400, "invalid_argument", "before: " + t.error().message);
    p.before = *t;
  }
  auto limit = IntParam(req, "limit", 1, 1000);
  if (!limit) return web::ErrorResponse(limit.error());
  p.limit = static_cast<int>(limit->value_or(50));
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    db::ScheduleStore store(conn);
    auto page = store.FiresList(p);
    if (!page) return std::unexpected(page.error());
    return view::FirePageJson(*page);
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
  return Json(json{{"queues", stats["queues"]},
                   {"states", stats["states"]},
                   {"read_at", FormatRfc3339((*snapshot)->read_at, TimePrecision::kMillis)}});
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
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    db::StatsStore stats(conn);
    auto report = stats.StatsQuery(p);
    if (!report) return std::unexpected(report.error());
    db::AlertStore alerts(conn);
    auto firing = alerts.AlertsList(db::AlertListParams{.all = false, .limit = 1000});
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
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    db::AlertStore alerts(conn);
    auto list = alerts.AlertsList(p);
    if (!list) return std::unexpected(list.error());
    return json(observe::AlertsJson(*list));
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
  std::string_view pattern;
  ApiHandler handler;
};

constexpr ApiRoute kApiRoutes[] = {
    {"/api/whoami", Whoami},
    {"/api/schedules", Schedules},
    {"/api/schedules/([^/]+)", ScheduleOne},
    {"/api/jobs", Jobs},
    {"/api/jobs/([^/]+)", JobOne},
    {"/api/runs", Runs},
    {"/api/fires", Fires},
    {"/api/workers", Workers},
    {"/api/queues", Queues},
    {"/api/stats", Stats},
    {"/api/alerts", Alerts},
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

std::vector<std::string_view> ApiRoutePatterns() {
  std::vector<std::string_view> out;
  for (const auto& r : kApiRoutes) out.push_back(r.pattern);
  return out;
}

void AddApiRoutes(web::Server& server, const ApiDeps& deps) {
  for (const auto& r : kApiRoutes) {
    server.Get(std::string(r.pattern), RouteAccess("GET", r.pattern),
               [deps, fn = r.handler](const web::Request& req) { return fn(deps, req); });
  }
}

}  // namespace chime::scheduler
