#include "scheduler/scheduler.h"

#include <spdlog/spdlog.h>

#include "common/web/auth.h"
#include "scheduler/admin_service.h"
#include "scheduler/credential_directory.h"
#include "scheduler/live_counters.h"
#include "scheduler/ready_feed.h"
#include "scheduler/token_cache.h"
#include "scheduler/worker_publisher.h"

namespace chime::scheduler {

Result<void> SchedulerConfig::Validate() const {
  if (auto ok = router.Validate(); !ok) return ok;
  if (auto ok = maintainer.Validate(); !ok) return ok;
  if (auto ok = cron.Validate(); !ok) return ok;
  if (auto ok = health.Validate(); !ok) return ok;
  if (auto ok = sampler.Validate(); !ok) return ok;
  if (http) {
    if (auto ok = http->server.Validate(); !ok) return ok;
  }
  return {};
}

Scheduler::Scheduler(SchedulerConfig config, Clock& clock) : config_(std::move(config)), clock_(clock) {
  if (config_.cron.leader.holder.empty()) config_.cron.leader.holder = config_.router.scheduler_id;
  if (config_.curve) config_.router.curve = config_.curve->server;
}

Scheduler::~Scheduler() { Stop(); }

Result<void> Scheduler::Start() {
  if (started_) return Fail(ErrorCode::kFailedPrecondition, "scheduler already started");
  if (auto ok = config_.Validate(); !ok) return ok;
  started_ = true;
  const db::ConnectionConfig& db = config_.db;
  // Stops what has started so far; the caller sees the error.
  const auto failed = [this](Error error) -> Result<void> {
    Stop();
    return std::unexpected(std::move(error));
  };

  // Only the leader evaluates health rules and sends alerts, and samples
  // queue depth for the dashboard's charts: both ask the elector.
  const auto leading = [this] { return cron_->leader().leader; };
  auto health = HealthMonitor::Create(db, config_.health, leading, health_rng_);
  if (!health) return failed(health.error());
  health_ = std::move(*health);

  if (config_.curve) {
    zap_.emplace(context_, config_.curve->allowed_client_keys);
    if (auto ok = zap_->Start(); !ok) return failed(ok.error());
    spdlog::info("CURVE on: {} client keys allowed", config_.curve->allowed_client_keys.size());
  }
  counters_ = std::make_unique<LiveCounters>();
  // Named tokens and the replay ledger, in the database, shared by every
  // replica (a request refused when the database cannot be reached).
  credentials_ = std::make_unique<CredentialDirectory>(db, CredentialDirectoryConfig{});
  // The HTTP server checks bearer tokens on its event loop, before any body:
  // from memory, reloaded every second, never a round trip per request.
  token_cache_ = std::make_unique<TokenCache>(db, TokenCacheConfig{});
  // A token made or revoked through this replica reaches its HTTP at once.
  credentials_->SetChangeListener([cache = token_cache_.get()] { cache->RefreshNow(); });
  verifier_ = std::make_unique<wire::RequestVerifier>(
      wire::VerifierSources{.bootstrap = config_.admin_secret,
                            .tokens = credentials_.get(),
                            .ledger = credentials_.get()},
      clock_);
  admin_ = std::make_unique<AdminService>(db, db::JobStoreConfig{}, *counters_, credentials_.get());
  if (!config_.admin_secret) spdlog::info("named tokens only: the bootstrap admin secret is not accepted");

  router_ = std::make_unique<RouterServer>(context_, config_.router, clock_, *counters_, *admin_, *verifier_);
  auto endpoint = router_->Start();
  if (!endpoint) return failed(endpoint.error());
  router_endpoint_ = *endpoint;
  feed_ = std::make_unique<ReadyFeed>(context_, db);
  feed_->Start();
  // Every replica publishes the workers it hears from: jobctl workers lists
  // the union, wherever each worker said hello.
  publisher_ = std::make_unique<WorkerPublisher>(
      db, WorkerPublisherConfig{.replica = config_.router.scheduler_id, .forget_after = config_.router.forget_after},
      [router = router_.get()] { return router->WorkersSnapshot(); });
  publisher_->Start();
  maintainer_ = std::make_unique<Maintainer>(db, config_.maintainer);
  maintainer_->Start();
  cron_ = std::make_unique<CronRunner>(db, config_.cron, clock_, cron_rng_);
  cron_->Start();
  health_->Start();
  sampler_ = std::make_unique<QueueSampler>(db, config_.sampler, leading);
  sampler_->Start();
  // After the router: its "listening on" line comes first (tests read it).
  if (config_.http) {
    token_cache_->Start();
    auto bearer = std::make_shared<const web::BearerAuth>(
        config_.admin_secret ? std::string_view(config_.admin_secret->bytes()) : std::string_view(),
        token_cache_.get());
    http_ = std::make_unique<HttpService>(*config_.http, db, std::move(bearer), *cron_, *router_, *counters_);
    auto bound = http_->Start();
    if (!bound) return failed(bound.error());
    http_address_ = *bound;
  }
  return {};
}

bool Scheduler::following_ready_jobs() const { return feed_ && feed_->listening(); }

void Scheduler::Stop() {
  if (http_) http_->Stop();
  if (token_cache_) token_cache_->Stop();
  if (sampler_) sampler_->Stop();
  if (health_) health_->Stop();
  if (cron_) cron_->Stop();
  if (maintainer_) maintainer_->Stop();
  if (publisher_) publisher_->Stop();
  if (feed_) feed_->Stop();
  if (router_) router_->Stop();
  if (zap_) zap_->Stop();
}

}  // namespace chime::scheduler
