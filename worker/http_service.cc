#include "worker/http_service.h"

#include "common/db/observe_store.h"
#include "common/web/probe.h"

namespace chime::worker {
namespace {

db::ConnectionConfig ForProbes(db::ConnectionConfig db) {
  db.statement_timeout = std::chrono::seconds(5);
  return db;
}

}  // namespace

HttpService::HttpService(web::ServerConfig config, const Worker& worker, WorkerMetrics& metrics)
    : started_(std::chrono::steady_clock::now()),
      worker_(worker),
      metrics_(metrics),
      pool_(ForProbes(worker.config().database()), static_cast<size_t>(config.threads + config.probe_threads)),
      server_(std::move(config)) {
  metrics_.set_slots([this] {
    return SlotCounts{.slots = worker_.config().slots,
                      .busy = worker_.config().slots - worker_.free_slots(),
                      .claiming = worker_.claiming()};
  });
  // Liveness runs on the HTTP event loop itself: it never blocks, so no
  // pool, busy client or slow database can delay it.
  server_.Get(
      "/healthz", web::Access::kOpen,
      [this](const web::Request&) {
        return web::ProbeResponse({web::ProbeCheck{.name = "process", .healthy = true, .status = "ok"}},
                                  {started_, std::chrono::steady_clock::now()});
      },
      web::Lane::kInline);
  server_.Get("/readyz", web::Access::kOpen, [this](const web::Request& req) {
    if (!req.query.empty()) return web::ErrorResponse(400, "invalid_argument", "readyz takes no parameters");
    return Ready();
  });
  server_.Get("/metrics", web::Access::kOpen,
              [this](const web::Request&) { return metrics_.registry().RenderResponse(); });
}

HttpService::~HttpService() {
  Stop();
  metrics_.set_slots(nullptr);
}

Result<std::string> HttpService::Start() { return server_.Start(); }

void HttpService::Stop() { server_.Stop(); }

web::Response HttpService::Ready() {
  const web::ProbeTimes times{started_, std::chrono::steady_clock::now()};
  std::vector<web::ProbeCheck> checks;
  checks.push_back(web::TimedCheck("database", [&](web::ProbeCheck& c) {
    auto conn = pool_.Acquire();
    auto ok = conn ? db::ObserveStore(**conn).Ping() : Result<void>(std::unexpected(conn.error()));
    c.healthy = ok.has_value();
    c.status = c.healthy ? "ok" : "fail";
    if (!ok) c.error = db::RedactUrl(ok.error().message);
  }));
  web::ProbeCheck claiming{.name = "claiming"};
  claiming.healthy = worker_.claiming();
  claiming.status = claiming.healthy ? "ok" : "draining";
  const int slots = worker_.config().slots;
  claiming.details = {{"slots", slots}, {"busy", slots - worker_.free_slots()}};
  if (!claiming.healthy) claiming.error = "this worker is not claiming jobs (stopped or draining)";
  checks.push_back(std::move(claiming));
  return web::ProbeResponse(checks, times);
}

}  // namespace chime::worker
