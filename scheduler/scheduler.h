// A whole scheduler replica: the ZeroMQ router with its dispatcher and the
// admin service, the ready feed, the worker publisher, the maintainer
// (rescue and retention), the cron runner with its leader elector, and - on
// the leader only - the health monitor and the queue sampler, plus the HTTP
// service (probes, metrics, API, dashboard), wired together. Start() then
// Stop(). Used by main.cc and, in-process, by tests.
//
// What main.cc does before: flags and environment into a SchedulerConfig,
// migrations, the schedule and limit files. The database must be migrated
// before Start(). Start()/Stop() from one controlling thread; Stop() is
// idempotent, safe before Start(), and stops the services in the reverse of
// their start order (the cron runner resigns its leader term).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/net/curve.h"
#include "common/wire/signing.h"
#include "scheduler/cron_runner.h"
#include "scheduler/health_monitor.h"
#include "scheduler/http_service.h"
#include "scheduler/maintainer.h"
#include "scheduler/queue_sampler.h"
#include "scheduler/router_server.h"

namespace chime::scheduler {

class AdminService;
class CredentialDirectory;
class LiveCounters;
class ReadyFeed;
class TokenCache;
class WorkerPublisher;

struct SchedulerConfig {
  db::ConnectionConfig db;
  // router.scheduler_id names this replica everywhere: the router's logs,
  // the workers' view, the published worker directory and (unless
  // cron.leader.holder says otherwise) the leader term.
  RouterConfig router;
  MaintainerConfig maintainer;
  CronRunnerConfig cron;
  HealthMonitorConfig health;
  QueueSamplerConfig sampler;
  // Nullopt: no HTTP (--http-listen off).
  std::optional<HttpServiceConfig> http;
  // The bootstrap admin secret; nullopt: named tokens only.
  std::optional<wire::AdminSecret> admin_secret;
  // CURVE server keys and the client keys allowed; nullopt: plain TCP.
  std::optional<net::CurveServerConfig> curve;

  // Every part's Validate(); the error names the field.
  [[nodiscard]] Result<void> Validate() const;
};

class Scheduler {
 public:
  // The clock must outlive the scheduler.
  explicit Scheduler(SchedulerConfig config, Clock& clock = SystemClock::Instance());
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Validates the configuration and starts every service; on an error (a
  // bind that fails, a bad health configuration) stops what it started and
  // returns the error. Once only.
  [[nodiscard]] Result<void> Start();
  void Stop();

  // After Start(): the router's bound endpoint, and the HTTP service's
  // bound "host:port" (empty without HTTP).
  const std::string& router_endpoint() const { return router_endpoint_; }
  const std::string& http_address() const { return http_address_; }

  const SchedulerConfig& config() const { return config_; }
  // Thread-safe reads of the services (status, counters).
  const CronRunner& cron() const { return *cron_; }
  const RouterServer& router() const { return *router_; }
  const Maintainer& maintainer() const { return *maintainer_; }
  // Whether this replica holds the leader term, as it last read it.
  bool leading() const { return cron_ && cron_->leader().leader; }
  // Whether the ready feed's LISTEN session is up: jobs enqueued from then
  // on are dispatched within milliseconds (before, workers find them by polling).
  bool following_ready_jobs() const;

 private:
  SchedulerConfig config_;
  Clock& clock_;
  DefaultRng cron_rng_;
  DefaultRng health_rng_;
  zmq::context_t context_;
  std::optional<net::ZapAuthenticator> zap_;
  std::unique_ptr<LiveCounters> counters_;
  std::unique_ptr<CredentialDirectory> credentials_;
  std::unique_ptr<TokenCache> token_cache_;
  std::unique_ptr<wire::RequestVerifier> verifier_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<RouterServer> router_;
  std::unique_ptr<ReadyFeed> feed_;
  std::unique_ptr<WorkerPublisher> publisher_;
  std::unique_ptr<Maintainer> maintainer_;
  std::unique_ptr<CronRunner> cron_;
  std::unique_ptr<HealthMonitor> health_;
  std::unique_ptr<QueueSampler> sampler_;
  std::unique_ptr<HttpService> http_;
  std::string router_endpoint_;
  std::string http_address_;
  bool started_ = false;
};

}  // namespace chime::scheduler
