#include "scheduler/cluster_cache.h"

#include <spdlog/spdlog.h>

#include "common/db/job_store.h"
#include "common/db/queue_store.h"

namespace chime::scheduler {

ClusterCache::ClusterCache(web::DbPool& pool, std::chrono::milliseconds max_age)
    : pool_(pool), max_age_(max_age) {}

Result<std::shared_ptr<const ClusterSnapshot>> ClusterCache::Get() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (last_ && now - read_at_ < max_age_) return *last_;
  auto read = [&]() -> Result<std::shared_ptr<const ClusterSnapshot>> {
    auto conn = pool_.Acquire();
    if (!conn) return std::unexpected(conn.error());
    db::JobStore jobs(**conn);
    auto stats = jobs.JobsStats();
    if (!stats) return std::unexpected(stats.error());
    auto snapshot = std::make_shared<ClusterSnapshot>();
    snapshot->stats = std::move(*stats);
    snapshot->read_at = std::chrono::system_clock::now();
    db::ObserveStore observe(**conn);
    if (auto alerts = observe.AlertsFiringCounts(); alerts) {
      snapshot->alerts = std::move(*alerts);
    } else {
      spdlog::debug("metrics: reading firing alerts: {}", alerts.error().message);
    }
    if (auto enqueued = observe.JobsEnqueuedCounts(); enqueued) {
      snapshot->enqueued = std::move(*enqueued);
    } else {
      spdlog::debug("metrics: reading jobs enqueued: {}", enqueued.error().message);
    }
    db::LimitStore limits(**conn);
    if (auto rows = limits.LimitsList(); rows) {
      snapshot->limits = std::move(*rows);
    } else {
      spdlog::debug("metrics: reading limits: {}", rows.error().message);
    }
    if (auto paused = db::QueueStore(**conn).QueuesPaused(); paused) {
      snapshot->paused_queues = std::move(*paused);
    } else {
      spdlog::debug("metrics: reading paused queues: {}", paused.error().message);
    }
    return std::shared_ptr<const ClusterSnapshot>(std::move(snapshot));
  };
  last_ = read();
  read_at_ = std::chrono::steady_clock::now();
  return *last_;
}

}  // namespace chime::scheduler
