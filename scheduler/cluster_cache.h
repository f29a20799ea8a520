// The cluster-wide figures the scheduler's HTTP side reads from the
// database - job counts by state, ready depth and oldest-ready age per
// queue, jobs enqueued, firing alerts - read at most once per `max_age` however many
// scrapes and dashboard refreshes ask, so clients cannot hammer the
// database. A failed read is cached too (as the error). Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/base/error.h"
#include "common/db/job.h"
#include "common/db/limit_store.h"
#include "common/db/observe_store.h"
#include "common/web/db_pool.h"

namespace chime::scheduler {

struct ClusterSnapshot {
  db::Stats stats;  // Counts per (queue, kind, state) and ready depth per queue.
  // Firing alerts per schedule and rule; unset when they could not be read.
  std::optional<std::vector<db::FiringAlertCount>> alerts;
  // Jobs enqueued per (queue, kind) since the database was made; unset when
  // they could not be read.
  std::optional<std::vector<db::EnqueuedCount>> enqueued;
  // Cluster-wide limits with their use; unset when they could not be read.
  std::optional<std::vector<db::LimitRow>> limits;
  // The paused queues' names; unset when they could not be read.
  std::optional<std::vector<std::string>> paused_queues;
  std::chrono::system_clock::time_point read_at;
};

class ClusterCache {
 public:
  // `pool` must outlive the cache.
  explicit ClusterCache(web::DbPool& pool, std::chrono::milliseconds max_age = std::chrono::seconds(1));

  // The snapshot (or the error) of the last read when younger than max_age,
  // else a fresh read; concurrent callers share one read.
  [[nodiscard]] Result<std::shared_ptr<const ClusterSnapshot>> Get();

 private:
  web::DbPool& pool_;
  const std::chrono::milliseconds max_age_;
  std::mutex mu_;  // Held across a read: callers arriving meanwhile reuse it.
  std::chrono::steady_clock::time_point read_at_{};                // Guarded by mu_.
  std::optional<Result<std::shared_ptr<const ClusterSnapshot>>> last_;  // Guarded by mu_.
};

}  // namespace chime::scheduler
