#include "scheduler/queue_sampler.h"

#include <spdlog/spdlog.h>

namespace chime::scheduler {

Result<void> QueueSamplerConfig::Validate() const {
  if (interval < std::chrono::seconds(1) || interval > std::chrono::minutes(5)) {
    return Fail(ErrorCode::kInvalidArgument, "queue-sample-interval: must be 1s-5m");
  }
  if (max_queues < 1 || max_queues > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "queue-sample-max-queues: must be 1-1000");
  }
  return {};
}

QueueSampler::QueueSampler(db::ConnectionConfig db, QueueSamplerConfig config,
                           std::function<bool()> is_leader)
    : conn_(std::move(db)), store_(conn_), config_(config), is_leader_(std::move(is_leader)) {}

QueueSampler::~QueueSampler() { Stop(); }

void QueueSampler::Start() {
  loop_.Start([this](std::stop_token stop) { Loop(stop); });
}

void QueueSampler::Stop() { loop_.Stop(); }

int64_t QueueSampler::recorded() const {
  std::lock_guard lock(mu_);
  return recorded_;
}

Result<db::QueueSampleResult> QueueSampler::RunOnce() {
  if (is_leader_ && !is_leader_()) return db::QueueSampleResult{};
  auto result = store_.QueueSamplesRecord({.interval = config_.interval, .max_queues = config_.max_queues});
  if (result && result->recorded) {
    std::lock_guard lock(mu_);
    ++recorded_;
  }
  return result;
}

void QueueSampler::Loop(std::stop_token stop) {
  bool failing = false;
  while (!stop.stop_requested()) {
    auto ok = RunOnce();
    if (!ok && !failing) {
      spdlog::warn("queue samples: {}", ok.error().ToString());
    } else if (ok && failing) {
      spdlog::info("queue samples recovered");
    }
    failing = !ok;
    // The next slot's start (slots are aligned to the epoch in the
    // database), or a whole interval after a failure.
    using std::chrono::milliseconds;
    const auto period = std::chrono::duration_cast<milliseconds>(config_.interval);
    const auto into =
        std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()) % period;
    const milliseconds wait = failing ? period : period - into + milliseconds(50);
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, stop, wait, [] { return false; });
  }
}

}  // namespace chime::scheduler
