#include "scheduler/worker_publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace chime::scheduler {

using std::chrono::milliseconds;

db::WorkerSighting SightingOf(const v1::WorkerInfo& info, std::chrono::system_clock::time_point now) {
  db::WorkerSighting s;
  s.worker_id = info.worker_id();
  s.host = info.host();
  s.pid = info.pid();
  s.queues.assign(info.queues().begin(), info.queues().end());
  s.slots = info.slots();
  s.free_slots = info.free_slots();
  s.running_jobs.assign(info.running_jobs().begin(), info.running_jobs().end());
  s.version = info.version();
  const auto seen = std::chrono::system_clock::time_point(milliseconds(info.last_seen_ms()));
  s.silent_for = std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(now - seen));
  return s;
}

WorkerPublisher::WorkerPublisher(db::ConnectionConfig db, WorkerPublisherConfig config, Snapshot snapshot)
    : conn_(std::move(db)), directory_(conn_), config_(std::move(config)), snapshot_(std::move(snapshot)) {}

WorkerPublisher::~WorkerPublisher() { Stop(); }

void WorkerPublisher::Start() {
  loop_.Start([this](std::stop_token stop) { Loop(stop); });
}

void WorkerPublisher::Stop() { loop_.Stop(); }

Result<void> WorkerPublisher::PublishOnce() {
  const auto now = std::chrono::system_clock::now();
  std::vector<db::WorkerSighting> sightings;
  for (const auto& info : snapshot_()) sightings.push_back(SightingOf(info, now));
  if (auto ok = directory_.Publish(sightings, config_.replica); !ok) return ok;
  auto forgotten = directory_.ForgetSilent(config_.forget_after);
  if (!forgotten) return std::unexpected(forgotten.error());
  return {};
}

void WorkerPublisher::Loop(std::stop_token stop) {
  bool failing = false;
  while (!stop.stop_requested()) {
    auto ok = PublishOnce();
    if (!ok && !failing) {
      spdlog::warn("publishing workers to the directory failed: {}", ok.error().ToString());
    } else if (ok && failing) {
      spdlog::info("publishing workers to the directory again");
    }
    failing = !ok;
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, stop, config_.interval, [] { return false; });
  }
}

}  // namespace chime::scheduler
