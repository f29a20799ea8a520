#include "worker/producer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/history/history.h"

namespace chime::worker {

Producer::Producer(ProducerConfig config, db::ConnectionConfig db, Executor& executor)
    : config_(std::move(config)),
      conn_(std::move(db)),
      store_(conn_),
      limits_(conn_),
      executor_(executor),
      prefetch_(config_.adaptive_prefetch ? 0 : config_.prefetch),
      window_start_(std::chrono::steady_clock::now()) {}

Producer::~Producer() { Stop(); }

void Producer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void Producer::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void Producer::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void Producer::SlotFreed() {
  finished_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    slot_freed_ = true;
  }
  cv_.notify_one();
}

int Producer::RefillBatch() const {
  if (config_.refill_batch > 0) return std::min(config_.refill_batch, Capacity());
  return std::max(1, Capacity() / 2);
}

int Producer::Room() const { return executor_.room(prefetch_.load()); }

void Producer::AdaptPrefetch() {
  if (!config_.adaptive_prefetch) return;
  constexpr auto kWindow = std::chrono::milliseconds(100);
  const auto now = std::chrono::steady_clock::now();
  const auto elapsed = now - window_start_;
  if (elapsed < kWindow) return;
  const int64_t finished = finished_.load(std::memory_order_relaxed);
  const double rate =
      static_cast<double>(finished - window_finished_) / std::chrono::duration<double>(elapsed).count();
  window_start_ = now;
  window_finished_ = finished;
  // Half the old estimate per window; an idle window (long waits for a
  // dispatch) brings it down at once.
  rate_ = rate == 0 ? 0 : (rate_ == 0 ? rate : (rate_ + rate) / 2);
  const double ahead = rate_ * std::chrono::duration<double>(config_.prefetch_horizon).count();
  const int next = static_cast<int>(std::clamp(ahead, 0.0, static_cast<double>(config_.max_prefetch)));
  if (next != prefetch_.load()) {
    spdlog::debug("prefetch {} -> {} ({:.0f} jobs/s finished)", prefetch_.load(), next, rate_);
    prefetch_.store(next);
  }
}

void Producer::Hand(std::vector<db::ClaimedJob> jobs) {
  claimed_ += static_cast<int64_t>(jobs.size());
  if (auto* h = history::Process()) {
    for (const auto& job : jobs) h->Claim(job.id, job.attempt, job.lease.token);
  }
  if (!jobs.empty()) executor_.Run(std::move(jobs));
}

void Producer::RecoverClaims() {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(unknown_claims_, [&](const UnknownClaim& c) { return c.until <= now; });
  for (auto it = unknown_claims_.begin(); it != unknown_claims_.end();) {
    db::ClaimParams params;
    params.worker_id = config_.worker_id;
    params.lease = config_.lease;
    params.claim_id = it->id;
    auto jobs = store_.JobsClaimRecover(params);
    if (!jobs) return;  // Still unreachable: try again next round.
    if (jobs->empty()) {
      // Not committed, or not yet: a statement the server still runs may
      // commit later. Asked again each round until its leases would be over.
      ++it;
      continue;
    }
    // One statement: everything it took is visible at once.
    spdlog::info("recovered {} jobs claimed just before the connection dropped", jobs->size());
    Hand(std::move(*jobs));
    it = unknown_claims_.erase(it);
  }
}

std::optional<std::chrono::milliseconds> Producer::UntilNextSlot() {
  auto next = limits_.LimitsNextSlot(config_.queues);
  if (!next || !*next) return std::nullopt;  // No rate window to wait for (or no answer: poll).
  const auto ahead = std::chrono::ceil<std::chrono::milliseconds>(**next - std::chrono::system_clock::now());
  return std::max(ahead, std::chrono::milliseconds(1));
}

void Producer::Loop(std::stop_token stop) {
  bool failing = false;
  while (!stop.stop_requested()) {
    bool more = false;  // The last claim filled its batch: there may be more.
    // When a rate limit's window next lets a start through (a short claim
    // may have been held back by it): the wait below ends then.
    std::optional<std::chrono::milliseconds> until_slot;
    if (!unknown_claims_.empty()) RecoverClaims();
    AdaptPrefetch();
    const int free = Room();
    if (free > 0) {
      db::ClaimParams params;
      params.worker_id = config_.worker_id;
      params.queues = config_.queues;
      params.limit = std::min(free, config_.max_batch);
      params.lease = config_.lease;
      params.claim_id = db::NewClaimId();
      auto claimed = store_.JobsClaim(params);
      if (!claimed) {
        if (!failing) spdlog::warn("claim failed: {}; retrying each poll", claimed.error().ToString());
        failing = true;
        // The connection may have dropped after the claim committed: its
        // jobs would sit leased to nobody until their leases ran out.
        if (claimed.error().code == ErrorCode::kUnavailable) {
          unknown_claims_.push_back({params.claim_id, std::chrono::steady_clock::now() + config_.lease});
        }
      } else {
        if (failing) spdlog::info("claiming again");
        failing = false;
        more = static_cast<int>(claimed->size()) == params.limit;
        Hand(std::move(*claimed));
        if (!more) until_slot = UntilNextSlot();
      }
    }
    std::unique_lock lock(mu_);
    const int refill = std::min(RefillBatch(), config_.max_batch);
    auto enough_free = [&] {
      const int f = Room();
      return woken_ || f >= refill || f == Capacity();
    };
    if (more && Room() > 0) {
      // A backlog: take the next batch once enough slots are free.
      cv_.wait_for(lock, stop, config_.refill_delay, enough_free);
    } else {
      // Sleep until a dispatch or a freed slot, a rate limit's next slot,
      // the poll interval, or Stop().
      const auto wait = until_slot ? std::min(*until_slot, config_.poll_interval) : config_.poll_interval;
      cv_.wait_for(lock, stop, wait, [&] { return woken_ || slot_freed_; });
      if (!woken_ && slot_freed_) cv_.wait_for(lock, stop, config_.refill_delay, enough_free);
    }
    woken_ = false;
    slot_freed_ = false;
  }
  // Jobs of a claim whose reply was lost are run (or released) by the
  // worker's drain like any others.
  if (!unknown_claims_.empty()) RecoverClaims();
}

}  // namespace chime::worker
