#include "worker/heartbeater.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace chime::worker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Timeouts and hard stops fire at most this late.
constexpr milliseconds kTickPeriod(100);

// Sleeps for `d` unless `stop` is requested first.
void SleepFor(std::stop_token stop, milliseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
}

}  // namespace

Heartbeater::Heartbeater(db::ConnectionConfig db, Executor& executor, milliseconds lease,
                         milliseconds interval)
    : conn_(std::move(db)), store_(conn_), executor_(executor), lease_(lease), interval_(interval) {}

Heartbeater::~Heartbeater() { Stop(); }

void Heartbeater::Start() {
  if (heartbeat_thread_.joinable()) return;
  watch_thread_ = std::jthread([this](std::stop_token stop) { WatchLoop(stop); });
  heartbeat_thread_ = std::jthread([this](std::stop_token stop) { HeartbeatLoop(stop); });
}

void Heartbeater::Stop() {
  if (!heartbeat_thread_.joinable()) return;
  heartbeat_thread_.request_stop();
  watch_thread_.request_stop();
  heartbeat_thread_.join();
  watch_thread_.join();
}

void Heartbeater::HeartbeatLoop(std::stop_token stop) {
  bool failing = false;
  while (!stop.stop_requested()) {
    const auto leases = executor_.Leases();
    if (!leases.empty()) {
      // A lease is extended from the moment the database runs the update,
      // which is after this: the watchdog errs towards giving up early.
      const auto sent_at = Clock::now();
      auto hb = store_.JobsHeartbeat(leases, lease_);
      if (!hb) {
        if (!failing) spdlog::warn("heartbeat failed: {}", hb.error().ToString());
        failing = true;
      } else {
        if (failing) spdlog::info("heartbeats succeed again");
        failing = false;
        std::vector<int64_t> extended_ids = hb->extended;
        std::ranges::sort(extended_ids);
        std::vector<db::Lease> extended;
        for (const auto& l : leases) {
          if (std::ranges::binary_search(extended_ids, l.job_id)) extended.push_back(l);
        }
        executor_.MarkExtended(extended, sent_at);
        // By token: the answer is about the leases sent, and the job may
        // hold a new one by now (rescued, then claimed here again).
        auto token_of = [&](int64_t id) {
          auto it = std::ranges::find(leases, id, &db::Lease::job_id);
          return it == leases.end() ? std::string() : it->token;
        };
        for (int64_t id : hb->lost) {
          const std::string token = token_of(id);
          if (token.empty()) continue;
          if (executor_.RequestStop(id, StopReason::kLeaseLost, token)) {
            spdlog::warn("job {}: lease lost (rescued elsewhere); stopping it", id);
          }
        }
        for (int64_t id : hb->cancel_requested) {
          const std::string token = token_of(id);
          if (!token.empty()) executor_.RequestStop(id, StopReason::kCancelRequested, token);
        }
      }
    }
    SleepFor(stop, interval_);
  }
}

void Heartbeater::WatchLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    executor_.Tick();
    AbandonUnextended();
    SleepFor(stop, std::min(interval_, kTickPeriod));
  }
}

void Heartbeater::AbandonUnextended() {
  const auto now = Clock::now();
  for (const auto& held : executor_.LeasesExtendedBefore(now - lease_)) {
    // Once per lease: a stopped job is no longer listed.
    if (!executor_.RequestStop(held.lease.job_id, StopReason::kLeaseLost, held.lease.token)) continue;
    ++unextended_abandoned_;
    spdlog::error(
        "job {} ({}): abandoned: no heartbeat has extended its lease for {} ms (lease {} ms; is the "
        "database reachable?); it may be rescued and run elsewhere, so its handler is stopped and "
        "its outcome will not be recorded",
        held.lease.job_id, held.kind, duration_cast<milliseconds>(now - held.extended).count(),
        lease_.count());
  }
}

}  // namespace chime::worker
