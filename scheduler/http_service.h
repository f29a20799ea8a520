// The scheduler's HTTP endpoint (--http-listen, CHIME_HTTP_LISTEN):
//   /healthz   open; 200 while the process serves requests.
//   /readyz    open; database reachable, migrations current, leadership.
//              A standby is ready (it serves workers, jobctl and the API and
//              takes over when the leader goes); /readyz?leader=required is
//              503 unless this scheduler leads, for whatever must reach the
//              leader only. JSON shape: common/web/probe.h.
//   /metrics   open; Prometheus text (scheduler/http_metrics.h).
//   /api/...   a bearer token with scope read (scheduler/http_api.h): a named
//              token or the bootstrap admin secret.
// Owns the server, its database pool and the cluster cache. Start()/Stop()
// from the controlling thread; Stop() idempotent and joins.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/cron/cron.h"
#include "common/db/connection.h"
#include "common/web/db_pool.h"
#include "common/web/server.h"
#include "common/web/auth.h"
#include "scheduler/cluster_cache.h"
#include "scheduler/cron_runner.h"
#include "scheduler/http_metrics.h"
#include "scheduler/live_counters.h"
#include "scheduler/router_server.h"

namespace chime::scheduler {

struct HttpServiceConfig {
  web::ServerConfig server;
  cron::ParseOptions cron_options;  // How stored cron expressions parse (next fires).
  // Each database statement of a request is cut off after this long.
  std::chrono::milliseconds statement_timeout{std::chrono::seconds(5)};
};

class HttpService {
 public:
  // The sources must outlive the service. Registers itself as `counters`'
  // result observer (for the histograms) until destroyed.
  // `auth` checks the API's bearer tokens.
  HttpService(HttpServiceConfig config, db::ConnectionConfig db,
              std::shared_ptr<const web::BearerAuth> auth, const CronRunner& cron,
              const RouterServer& router, LiveCounters& counters);
  ~HttpService();

  // The bound "host:port"; the error names --http-listen.
  [[nodiscard]] Result<std::string> Start();
  void Stop();

 private:
  web::Response Ready(const web::Request& req);

  const HttpServiceConfig config_;
  const std::chrono::steady_clock::time_point started_;
  const CronRunner& cron_;
  LiveCounters& counters_;
  web::DbPool pool_;
  ClusterCache cluster_;
  SchedulerMetrics metrics_;
  std::shared_ptr<const web::BearerAuth> auth_;
  web::Server server_;
};

}  // namespace chime::scheduler
