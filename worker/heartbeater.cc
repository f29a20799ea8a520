#include "worker/heartbeater.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

namespace chime::worker {

Heartbeater::Heartbeater(db::ConnectionConfig db, Executor& executor, std::chrono::milliseconds lease,
                         std::chrono::milliseconds interval)
    : conn_(std::move(db)), store_(conn_), executor_(executor), lease_(lease), interval_(interval) {}

Heartbeater::~Heartbeater() { Stop(); }

void Heartbeater::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void Heartbeater::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

void Heartbeater::Loop(std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  bool failing = false;
  while (!stop.stop_requested()) {
    executor_.Tick();
    // Extends once per interval; Tick() (timeouts, hard stops) runs more often.
    const auto leases = executor_.Leases();
    if (!leases.empty()) {
      auto hb = store_.JobsHeartbeat(leases, lease_);
      if (!hb) {
        if (!failing) spdlog::warn("heartbeat failed: {}", hb.error().ToString());
        failing = true;
      } else {
        failing = false;
        for (int64_t id : hb->lost) {
          spdlog::warn("job {}: lease lost (rescued elsewhere); stopping it", id);
          executor_.RequestStop(id, StopReason::kLeaseLost);
        }
        for (int64_t id : hb->cancel_requested) executor_.RequestStop(id, StopReason::kCancelRequested);
      }
    }
    // Tick at least every 100 ms so timeouts fire on time.
    const auto until = std::chrono::steady_clock::now() + interval_;
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < until) {
      std::unique_lock lock(mu);
      cv.wait_for(lock, stop, std::min(interval_, std::chrono::milliseconds(100)), [] { return false; });
      executor_.Tick();
    }
  }
}

}  // namespace chime::worker
