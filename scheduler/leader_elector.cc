#include "scheduler/leader_elector.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/history/history.h"

namespace chime::scheduler {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

}  // namespace

Result<void> LeaderElectorConfig::Validate() const {
  if (holder.empty()) return Fail(ErrorCode::kInvalidArgument, "leader: holder must not be empty");
  if (term_ttl < milliseconds(500)) {
    return Fail(ErrorCode::kInvalidArgument, "leader-ttl: must be at least 500ms");
  }
  if (renew_interval <= milliseconds(0) || renew_interval * 2 > term_ttl) {
    return Fail(ErrorCode::kInvalidArgument,
                "leader-renew: must be positive and at most half of leader-ttl");
  }
  if (retry_interval <= milliseconds(0)) {
    return Fail(ErrorCode::kInvalidArgument, "leader: retry_interval must be positive");
  }
  return {};
}

LeaderElector::LeaderElector(LeaderTermStore& store, LeaderElectorConfig config, const Clock& clock)
    : store_(store),
      config_(std::move(config)),
      clock_(clock),
      db_anchor_(clock.WallNow()),  // Until the first renewal reads the database's.
      steady_anchor_(clock.SteadyNow()) {}

TermChange LeaderElector::RenewIfDue() {
  if (clock_.SteadyNow() < next_renew_) return TermChange::kNone;
  return Renew();
}

// The log lines keep their "cron: " prefix: operators and the cluster tests
// read "cron: leading (epoch N)" and "cron: standing by".
TermChange LeaderElector::Renew() {
  const auto sent = clock_.SteadyNow();
  auto state = store_.Acquire(config_.holder, config_.term_ttl);
  const auto back = clock_.SteadyNow();
  if (!state) {
    spdlog::warn("cron: leader term: {}", state.error().message);
    TermChange change = TermChange::kNone;
    if (leader_ && back >= term_valid_until_) {
      leader_ = false;
      change = TermChange::kExpired;
      spdlog::warn("cron: stopped firing: the leader term (epoch {}) may have expired", epoch_);
    }
    next_renew_ = sent + std::min(config_.renew_interval, config_.retry_interval);
    std::lock_guard lock(mu_);
    status_.leader = leader_;
    return change;
  }
  // As if the database read its clock when the reply arrived: the estimate
  // of database time then never runs ahead of it, so no tick fires early
  // (at worst one round trip late).
  db_anchor_ = state->db_now;
  steady_anchor_ = back;
  const bool was_leader = leader_;
  const int64_t old_epoch = epoch_;
  leader_ = state->held_by_caller;
  epoch_ = state->epoch;
  TermChange change = TermChange::kNone;
  if (leader_) {
    // Counted from before the request: never later than the database's expiry.
    term_valid_until_ = sent + duration_cast<microseconds>(state->expires_at - state->db_now);
    if (!was_leader || old_epoch != epoch_) {
      change = TermChange::kElected;
      spdlog::info("cron: leading (epoch {})", epoch_);
      if (auto* h = history::Process()) h->Leader(epoch_);
    }
  } else if (was_leader) {
    change = TermChange::kDeposed;
    spdlog::warn("cron: no longer leading; {} holds epoch {}", state->holder, state->epoch);
  } else if (last_holder_ != state->holder) {
    spdlog::info("cron: standing by; {} leads (epoch {})", state->holder, state->epoch);
  }
  last_holder_ = state->holder;
  next_renew_ = sent + config_.renew_interval;
  Publish(state->holder, state->epoch);
  return change;
}

void LeaderElector::Lost() {
  leader_ = false;
  next_renew_ = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  status_.leader = false;
}

void LeaderElector::Resign() {
  if (!leader_) return;
  if (auto ok = store_.Resign(guard()); ok) {
    spdlog::info("cron: resigned leadership (epoch {})", epoch_);
  } else {
    spdlog::warn("cron: could not resign leadership: {}", ok.error().message);
  }
  leader_ = false;
  std::lock_guard lock(mu_);
  status_.leader = false;
}

bool LeaderElector::Leading() const { return leader_ && clock_.SteadyNow() < term_valid_until_; }

std::chrono::system_clock::time_point LeaderElector::DbNow() const {
  return db_anchor_ + duration_cast<microseconds>(clock_.SteadyNow() - steady_anchor_);
}

LeaderStatus LeaderElector::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void LeaderElector::Publish(const std::string& holder, int64_t epoch) {
  std::lock_guard lock(mu_);
  status_.leader = leader_;
  status_.epoch = epoch;
  status_.holder = holder;
}

}  // namespace chime::scheduler
