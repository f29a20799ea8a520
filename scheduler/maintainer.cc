#include "scheduler/maintainer.h"

#include <spdlog/spdlog.h>

namespace chime::scheduler {

Result<void> MaintainerConfig::Validate() const {
  if (rescue_interval.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "rescue_interval: must be > 0");
  }
  if (cleanup_interval.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "cleanup_interval: must be > 0");
  }
  if (rescue.max_rescues < 0) return Fail(ErrorCode::kInvalidArgument, "max_rescues: must be >= 0");
  if (rescue.limit < 1 || rescue_max_pages < 1) {
    return Fail(ErrorCode::kInvalidArgument, "rescue: limit and rescue_max_pages must be >= 1");
  }
  if (cleanup.retention.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "retention: must be > 0");
  }
  if (nonce_prune_batch < 1 || nonce_prune_batch > db::AuthStore::kMaxPruneBatch ||
      nonce_prune_batches < 1) {
    return Fail(ErrorCode::kInvalidArgument, "nonce pruning: batch must be 1-10000, batches >= 1");
  }
  return {};
}

Maintainer::Maintainer(db::ConnectionConfig db, MaintainerConfig config)
    : conn_(std::move(db)), store_(conn_), auth_(conn_), config_(std::move(config)) {}

Maintainer::~Maintainer() { Stop(); }

void Maintainer::Start() {
  loop_.Start([this](std::stop_token stop) { Loop(stop); });
}

void Maintainer::Stop() { loop_.Stop(); }

MaintainerCounters Maintainer::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

Result<void> Maintainer::RunOnce(bool force_cleanup) {
  auto rescued = rescuer_.Run(config_.rescue, {.max_pages = config_.rescue_max_pages});
  if (!rescued) return std::unexpected(rescued.error());
  if (!rescued->rescued.empty() || !rescued->discarded.empty()) {
    spdlog::warn("rescued {} jobs whose job lease expired, discarded {}", rescued->rescued.size(),
                 rescued->discarded.size());
  }
  db::CleanupResult cleaned;
  const auto now = std::chrono::steady_clock::now();
  if (force_cleanup || now >= next_cleanup_) {
    auto result = store_.JobsCleanup(config_.cleanup);
    if (!result) return std::unexpected(result.error());
    cleaned = *result;
    // When the bound stopped it early, come back on the next pass.
    next_cleanup_ = cleaned.more ? now : now + config_.cleanup_interval;
    if (cleaned.jobs_deleted + cleaned.runs_deleted > 0) {
      spdlog::info("cleanup deleted {} finished jobs and {} runs", cleaned.jobs_deleted,
                   cleaned.runs_deleted);
    }
  }
  auto pruned = PruneNonces();
  if (!pruned) return std::unexpected(pruned.error());
  std::lock_guard lock(mu_);
  counters_.nonces_deleted += *pruned;
  counters_.rescued += static_cast<int64_t>(rescued->rescued.size());
  counters_.discarded += static_cast<int64_t>(rescued->discarded.size());
  counters_.jobs_deleted += cleaned.jobs_deleted;
  counters_.runs_deleted += cleaned.runs_deleted;
  ++counters_.passes;
  return {};
}

Result<int64_t> Maintainer::PruneNonces() {
  int64_t total = 0;
  for (int i = 0; i < config_.nonce_prune_batches; ++i) {
    auto deleted = auth_.NoncesPrune(config_.nonce_prune_batch);
    if (!deleted) return std::unexpected(deleted.error());
    total += *deleted;
    if (*deleted < config_.nonce_prune_batch) break;
  }
  if (total > 0) spdlog::debug("deleted {} expired admin nonces", total);
  return total;
}

void Maintainer::Loop(std::stop_token stop) {
  bool failing = false;
  while (!stop.stop_requested()) {
    auto ok = RunOnce(/*force_cleanup=*/false);
    if (!ok && !failing) {
      spdlog::error("maintenance pass failed: {}", ok.error().ToString());
    } else if (ok && failing) {
      spdlog::info("maintenance recovered");
    }
    failing = !ok;
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, stop, config_.rescue_interval, [] { return false; });
  }
}

}  // namespace chime::scheduler
