// The scheduler's JSON API under /api/, for the dashboard and operators.
// Every route needs a bearer token whose scope covers it, as the one table
// in common/auth/request_scopes.cc says: GETs read, POSTs operate. Objects
// have the JSON shapes of `jobctl ... --json` (common/view/json_view.h).
//   GET /api/whoami                {"name", "scope", "bootstrap", "expires_at"}:
//                                  the presented token, so a dashboard can offer
//                                  actions only to operate tokens
//   GET /api/schedules             {"schedules": [schedule + state, next_fire,
//                                   last fire / job / run outcome]}
//   GET /api/schedules/{name}      schedule + "next_fires" (10) + "next_fires_local"
//                                  (wall time, offset, abbreviation, DST, "change"
//                                  where the offset differs from the fire before)
//                                  + "zone_now" + "health" (each rule's condition
//                                  and state, firing alerts) + "recent_runs"
//   GET /api/jobs?state=a,b&outcome=a,b&kind=&queue=&schedule=&parent=&since=
//                 &until=&limit=&cursor=
//                                  {"jobs": [...], "next_before_id", "searched_to_id"}:
//                                  newest first, each job's "outcome" beside its
//                                  "state"; a page searches at most 50,000 ids
//                                  below its cursor (searched_to_id says where it
//                                  stopped short; next_before_id continues there)
//   GET /api/jobs/{id}             job + "runs" + "children" + "children_outcomes"
//                                  ("waiting_for_children" while a fan-out waits)
//   GET /api/runs?schedule=&kind=&outcome=&since=&attempts=true|false&limit=&cursor=
//                                  {"runs": [run + kind, queue, schedule, scheduled_for],
//                                   "next_before_id"}: runs (each finished job's final
//                                  attempt, "job_outcome" its outcome), or every attempt
//   GET /api/fires?schedule=NAME&before=&limit=
//                                  {"fires": [...], "next_before"}: a schedule's ticks,
//                                  skipped overlaps and misfires included
//   GET /api/workers               {"workers": [...]} (every replica's, from chime.workers;
//                                  this one's own when the database is away)
//   GET /api/queues                {"queues": [{queue, paused, paused_at, changed_by,
//                                   changed_at, ready, scheduled, running,
//                                   oldest_ready_age_ms}] (read at the call),
//                                   "states": {...}, "rows": [{queue, kind, state,
//                                   count}], "read_at"}
//   GET /api/stats?by=schedule|kind&hours=1..168&name=
//                                  the seeds' monitoring JSON (common/observe), as
//                                  jobctl stats --json: stats rows + firing alerts
//   GET /api/alerts?all=true|false&limit=
//                                  {"alerts": [...]} as jobctl alerts --json
//   GET /api/limits                {"limits": [...]} as jobctl limit list --json: each
//                                  limit with running and ready jobs and its busiest
//                                  partitions
//   GET /api/series/runs?range=1h|24h|7d&schedule=
//                                  {"range", "bucket_seconds", "since", "until",
//                                   "counts": "runs", "buckets": [{"start",
//                                   "succeeded", "partial", "failed", "skipped",
//                                   "cancelled", "p50_ms", "p95_ms"}]}
//                                  (db::SeriesStore; durations for one schedule)
//   GET /api/series/queues?range=1h|24h|7d&queue=
//                                  {"range", "step_seconds", "since", "until",
//                                   "queues": [{"queue", "points": [{"at", "ready",
//                                   "running", "oldest_ready_ms"}]}]}
//   POST /api/jobs/{id}/retry      the job, available now (409 when running or
//                                  succeeded)
//   POST /api/jobs/{id}/cancel     {"cancelled_now": bool, "job": ...} (a running
//                                  job is asked to stop)
//   POST /api/schedules/{name}/trigger   {"fire": ...}; 409 past 5 a minute
//   POST /api/schedules/{name}/pause, /resume   the schedule
//   POST /api/queues/{name}/pause, /resume      the queue (a paused queue accepts
//                                  jobs; no claim takes them until resumed)
// POSTs take no parameters and an empty body (or "{}"); they are logged
// with the token's name. Bearer tokens only, never cookies, so a page on
// another origin cannot make a browser send one (no CSRF).
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

struct ApiRouteName {
  std::string_view method;   // "GET" | "POST".
  std::string_view pattern;
};
// The routes AddApiRoutes registers, for the scope table's test.
std::vector<ApiRouteName> ApiRoutes();

// A scheduler route's access from the scope table (auth::HttpRouteScopes);
// a route missing there is a bug that stops the scheduler at start.
web::Access RouteAccess(std::string_view method, std::string_view pattern);

}  // namespace chime::scheduler
