#include "scheduler/http_service.h"

#include "common/db/migrations.h"
#include "common/db/observe_store.h"
#include "common/web/probe.h"
#include "scheduler/dashboard.h"
#include "scheduler/http_api.h"

namespace chime::scheduler {
namespace {

db::ConnectionConfig ForHandlers(db::ConnectionConfig db, std::chrono::milliseconds timeout) {
  db.statement_timeout = timeout;
  return db;
}

}  // namespace

HttpService::HttpService(HttpServiceConfig config, db::ConnectionConfig db,
                         std::shared_ptr<const web::BearerAuth> auth, const CronRunner& cron,
                         const RouterServer& router, LiveCounters& counters)
    : config_(std::move(config)),
      started_(std::chrono::steady_clock::now()),
      cron_(cron),
      counters_(counters),
      pool_(ForHandlers(std::move(db), config_.statement_timeout),
            // One connection per handler thread of either pool: a probe never
            // waits for a connection an API request holds.
            static_cast<size_t>(config_.server.threads + config_.server.probe_threads)),
      cluster_(pool_),
      metrics_(cron, router, cluster_),
      auth_(std::move(auth)),
      server_(config_.server, auth_) {
  counters_.set_observer(&metrics_);
  // Liveness runs on the HTTP event loop itself: it never blocks, so no
  // pool, busy client or slow database can delay it.
  server_.Get(
      "/healthz", RouteAccess("GET", "/healthz"),
      [this](const web::Request&) {
        return web::ProbeResponse({web::ProbeCheck{.name = "process", .healthy = true, .status = "ok"}},
                                  {started_, std::chrono::steady_clock::now()});
      },
      web::Lane::kInline);
  server_.Get("/readyz", RouteAccess("GET", "/readyz"), [this](const web::Request& req) { return Ready(req); });
  server_.Get("/metrics", RouteAccess("GET", "/metrics"),
              [this](const web::Request&) { return metrics_.registry().RenderResponse(); });
  AddDashboardRoutes(server_);
  AddApiRoutes(server_, ApiDeps{.pool = pool_, .cluster = cluster_, .router = router,
                                .auth = *auth_, .cron_options = config_.cron_options});
}

HttpService::~HttpService() {
  Stop();
  counters_.set_observer(nullptr);
}

Result<std::string> HttpService::Start() { return server_.Start(); }

void HttpService::Stop() { server_.Stop(); }

web::Response HttpService::Ready(const web::Request& req) {
  const web::ProbeTimes times{started_, std::chrono::steady_clock::now()};
  bool require_leader = false;
  for (const auto& [name, value] : req.query) {
    if (name == "leader" && (value == "required" || value == "optional")) {
      require_leader = value == "required";
    } else {
      return web::ErrorResponse(400, "invalid_argument",
                                "readyz takes only leader=required|optional");
    }
  }
  std::vector<web::ProbeCheck> checks;
  auto conn = pool_.Acquire();
  checks.push_back(web::TimedCheck("database", [&](web::ProbeCheck& c) {
    auto ok = conn ? db::ObserveStore(**conn).Ping() : Result<void>(std::unexpected(conn.error()));
    c.healthy = ok.has_value();
    c.status = c.healthy ? "ok" : "fail";
    if (!ok) c.error = db::RedactUrl(ok.error().message);
  }));
  checks.push_back(web::TimedCheck("migrations", [&](web::ProbeCheck& c) {
    auto status = conn ? db::MigrationsStatus(**conn) : Result<db::MigrationStatus>(std::unexpected(conn.error()));
    if (!status) {
      c.healthy = false;
      c.status = "fail";
      c.error = db::RedactUrl(status.error().message);
      return;
    }
    c.details = {{"current", status->current_version}, {"latest", status->latest_version}};
    c.healthy = status->current_version == status->latest_version;
    c.status = c.healthy ? "ok" : "fail";
    if (status->current_version < status->latest_version) c.error = "migrations pending";
    if (status->current_version > status->latest_version) c.error = "database is newer than this binary";
  }));
  const CronRunnerStatus cron = cron_.status();
  web::ProbeCheck leader{.name = "leader"};
  leader.status = cron.leader ? "leader" : "standby";
  leader.healthy = cron.leader || !require_leader;
  leader.details = {{"leading", cron.leader}, {"epoch", cron.epoch}, {"holder", cron.holder}};
  if (!leader.healthy) leader.error = "this scheduler does not lead";
  checks.push_back(std::move(leader));
  return web::ProbeResponse(checks, times);
}

}  // namespace chime::scheduler
