// The worker's HTTP endpoint (http_listen / --http-listen /
// CHIME_HTTP_LISTEN; off by default):
//   /healthz   200 while the process serves requests.
//   /readyz    the database is reachable and the worker claims jobs (started,
//              not draining); 503 otherwise. JSON: common/web/probe.h.
//   /metrics   Prometheus text (worker/http_metrics.h).
// The worker exposes no API and so needs no secret. Start()/Stop() from the
// controlling thread; Stop() idempotent and joins.
#pragma once

#include <chrono>
#include <string>

#include "common/db/connection.h"
#include "common/web/db_pool.h"
#include "common/web/server.h"
#include "worker/http_metrics.h"
#include "worker/worker.h"

namespace chime::worker {

class HttpService {
 public:
  // `worker` and `metrics` must outlive the service; `worker` must be
  // started first. Routes scrape the worker's slots through `metrics`.
  HttpService(web::ServerConfig config, const Worker& worker, WorkerMetrics& metrics);
  ~HttpService();

  // The bound "host:port"; the error names http_listen.
  [[nodiscard]] Result<std::string> Start();
  void Stop();

 private:
  web::Response Ready();

  const std::chrono::steady_clock::time_point started_;
  const Worker& worker_;
  WorkerMetrics& metrics_;
  web::DbPool pool_;
  web::Server server_;
};

}  // namespace chime::worker
