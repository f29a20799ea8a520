#include "common/auth/request_scopes.h"

#include <array>
#include <string>

namespace chime::auth {
namespace {

using R = v1::AdminRequest;

// Reading never changes anything. Operating acts on jobs and schedules that
// exist, as they are defined: retry, cancel, pause/resume and trigger (rate-
// limited per schedule). Administering decides what runs and with which
// payload, or who may: enqueue (a job carries any payload, e.g. an
// http_request that sends a worker-held secret to its URL), schedule
// create/update/delete, backfill (up to 1,000 ticks at once, not rate-
// limited), limit set/delete (a limit decides how fast what runs may run,
// and deleting one unleashes what it held), and tokens.
constexpr std::array kAdminRequests{
    AdminRequestScope{R::kEnqueue, "enqueue", Scope::kAdmin},
    AdminRequestScope{R::kList, "list", Scope::kRead},
    AdminRequestScope{R::kShow, "show", Scope::kRead},
    AdminRequestScope{R::kCancel, "cancel", Scope::kOperate},
    AdminRequestScope{R::kRetry, "retry", Scope::kOperate},
    AdminRequestScope{R::kStats, "stats", Scope::kRead},
    AdminRequestScope{R::kWorkers, "workers", Scope::kRead},
    AdminRequestScope{R::kMigrate, "migrate --status", Scope::kRead},
    AdminRequestScope{R::kScheduleCreate, "schedule create", Scope::kAdmin},
    AdminRequestScope{R::kScheduleUpdate, "schedule update", Scope::kAdmin},
    AdminRequestScope{R::kScheduleDelete, "schedule delete", Scope::kAdmin},
    AdminRequestScope{R::kScheduleList, "schedule list", Scope::kRead},
    AdminRequestScope{R::kScheduleShow, "schedule show", Scope::kRead},
    AdminRequestScope{R::kSchedulePause, "schedule pause/resume", Scope::kOperate},
    AdminRequestScope{R::kScheduleTrigger, "schedule trigger", Scope::kOperate},
    AdminRequestScope{R::kScheduleBackfill, "schedule backfill", Scope::kAdmin},
    AdminRequestScope{R::kLeader, "schedule leader", Scope::kRead},
    AdminRequestScope{R::kRunStats, "stats --by", Scope::kRead},
    AdminRequestScope{R::kAlerts, "alerts", Scope::kRead},
    AdminRequestScope{R::kRuns, "runs", Scope::kRead},
    AdminRequestScope{R::kScheduleFires, "schedule fires", Scope::kRead},
    AdminRequestScope{R::kLimitSet, "limit set", Scope::kAdmin},
    AdminRequestScope{R::kLimitList, "limit list", Scope::kRead},
    AdminRequestScope{R::kLimitDelete, "limit delete", Scope::kAdmin},
    AdminRequestScope{R::kQueuePause, "queue pause", Scope::kOperate},
    AdminRequestScope{R::kQueueList, "queue list", Scope::kRead},
    AdminRequestScope{R::kTokenCreate, "token create", Scope::kAdmin},
    AdminRequestScope{R::kTokenList, "token list", Scope::kAdmin},
    AdminRequestScope{R::kTokenRevoke, "token revoke", Scope::kAdmin},
    AdminRequestScope{R::kWhoami, "whoami", Scope::kRead},
};

// The dashboard's files hold no data (they read /api with the token the
// user gives them); probes and metrics are for orchestrators and scrapers.
constexpr std::array kHttpRoutes{
    HttpRouteScope{"GET", "/healthz", std::nullopt},
    HttpRouteScope{"GET", "/readyz", std::nullopt},
    HttpRouteScope{"GET", "/metrics", std::nullopt},
    HttpRouteScope{"GET", "/", std::nullopt},
    HttpRouteScope{"GET", "/dashboard", std::nullopt},
    HttpRouteScope{"GET", "/dashboard.js", std::nullopt},
    HttpRouteScope{"GET", "/dashboard-ui.js", std::nullopt},
    HttpRouteScope{"GET", "/dashboard-views.js", std::nullopt},
    HttpRouteScope{"GET", "/dashboard.css", std::nullopt},
    HttpRouteScope{"GET", "/chart.js", std::nullopt},
    HttpRouteScope{"GET", "/api/whoami", Scope::kRead},
    HttpRouteScope{"GET", "/api/schedules", Scope::kRead},
    HttpRouteScope{"GET", "/api/schedules/([^/]+)", Scope::kRead},
    HttpRouteScope{"GET", "/api/jobs", Scope::kRead},
    HttpRouteScope{"GET", "/api/jobs/([^/]+)", Scope::kRead},
    HttpRouteScope{"GET", "/api/runs", Scope::kRead},
    HttpRouteScope{"GET", "/api/fires", Scope::kRead},
    HttpRouteScope{"GET", "/api/workers", Scope::kRead},
    HttpRouteScope{"GET", "/api/queues", Scope::kRead},
    HttpRouteScope{"GET", "/api/stats", Scope::kRead},
    HttpRouteScope{"GET", "/api/alerts", Scope::kRead},
    HttpRouteScope{"GET", "/api/limits", Scope::kRead},
    HttpRouteScope{"GET", "/api/series/runs", Scope::kRead},
    HttpRouteScope{"GET", "/api/series/queues", Scope::kRead},
    // The dashboard's actions, as jobctl's retry, cancel, schedule trigger
    // and schedule pause/resume.
    HttpRouteScope{"POST", "/api/jobs/([^/]+)/retry", Scope::kOperate},
    HttpRouteScope{"POST", "/api/jobs/([^/]+)/cancel", Scope::kOperate},
    HttpRouteScope{"POST", "/api/schedules/([^/]+)/trigger", Scope::kOperate},
    HttpRouteScope{"POST", "/api/schedules/([^/]+)/pause", Scope::kOperate},
    HttpRouteScope{"POST", "/api/schedules/([^/]+)/resume", Scope::kOperate},
    HttpRouteScope{"POST", "/api/queues/([^/]+)/pause", Scope::kOperate},
    HttpRouteScope{"POST", "/api/queues/([^/]+)/resume", Scope::kOperate},
};

}  // namespace

std::span<const AdminRequestScope> AdminRequestScopes() { return kAdminRequests; }

std::span<const HttpRouteScope> HttpRouteScopes() { return kHttpRoutes; }

Result<AdminRequestScope> ScopeOf(const v1::AdminRequest& request) {
  const int field = static_cast<int>(request.command_case());
  if (field == R::COMMAND_NOT_SET) {
    return Fail(ErrorCode::kInvalidArgument, "admin request: no command");
  }
  for (const auto& entry : kAdminRequests) {
    if (entry.field == field) return entry;
  }
  return Fail(ErrorCode::kPermissionDenied,
              "admin request " + std::to_string(field) + " has no scope; refused");
}

const HttpRouteScope* FindRouteScope(std::string_view method, std::string_view pattern) {
  for (const auto& entry : kHttpRoutes) {
    if (entry.method == method && entry.pattern == pattern) return &entry;
  }
  return nullptr;
}

}  // namespace chime::auth
