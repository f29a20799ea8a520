// The scheduler's JSON API under /api/, for the dashboard and operators.
// Every route needs a bearer token whose scope covers it, as the one table
// in common/auth/request_scopes.cc says (all of these: read). Objects have
// the JSON shapes of `jobctl ... --json` (common/view/json_view.h).
//   GET /api/whoami                {"name", "scope", "bootstrap", "expires_at"}:
//                                  the presented token, so a dashboard can offer
//                                  actions only to operate tokens
//   GET /api/schedules             {"schedules": [schedule + state, next_fire,
//                                   last fire / job / run outcome]}
//   GET /api/schedules/{name}      schedule + "next_fires" + "recent_runs"
//   GET /api/jobs?state=a,b&kind=&queue=&schedule=&since=&until=&limit=&cursor=
//                                  {"jobs": [...], "next_before_id"}; each job's
//                                  "outcome" beside its "state"
//   GET /api/jobs/{id}             job + "runs" + "children" ("waiting_for_children"
//                                  while a fan-out waits)
//   GET /api/runs?schedule=&kind=&outcome=&since=&attempts=true|false&limit=&cursor=
//                                  {"runs": [run + kind, queue, schedule, scheduled_for],
//                                   "next_before_id"}: runs (each finished job's final
//                                  attempt, "job_outcome" its outcome), or every attempt
//   GET /api/fires?schedule=NAME&before=&limit=
//                                  {"fires": [...], "next_before"}: a schedule's ticks,
//                                  skipped overlaps and misfires included
//   GET /api/workers               {"workers": [...]} (connected to this scheduler)
//   GET /api/queues                {"queues": [{queue, ready, oldest_ready_age_ms}],
//                                   "states": {...}, "read_at"}
//   GET /api/stats?by=schedule|kind&hours=1..168&name=
//                                  the seeds' monitoring JSON (common/observe), as
//                                  jobctl stats --json: stats rows + firing alerts
//   GET /api/alerts?all=true|false&limit=
//                                  {"alerts": [...]} as jobctl alerts --json
// An unknown parameter or a malformed value is 400 naming it; an unknown
// schedule or job 404; the database unreachable 503. Handlers run on HTTP
// threads and borrow pooled connections. Thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "common/cron/cron.h"
#include "common/web/auth.h"
#include "common/web/db_pool.h"
#include "common/web/server.h"
#include "scheduler/cluster_cache.h"
#include "scheduler/router_server.h"

namespace chime::scheduler {

struct ApiDeps {
  web::DbPool& pool;
  ClusterCache& cluster;
  const RouterServer& router;
  const web::BearerAuth& auth;  // The server's; /api/whoami asks it who the token is.
  cron::ParseOptions cron_options;  // How stored cron expressions parse here.
};

// Registers the routes on `server`; `deps` must outlive it.
void AddApiRoutes(web::Server& server, const ApiDeps& deps);

// The patterns AddApiRoutes registers (GET), for the scope table's test.
std::vector<std::string_view> ApiRoutePatterns();

// A scheduler route's access from the scope table (auth::HttpRouteScopes);
// a route missing there is a bug that stops the scheduler at start.
web::Access RouteAccess(std::string_view method, std::string_view pattern);

}  // namespace chime::scheduler
