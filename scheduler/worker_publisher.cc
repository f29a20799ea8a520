#include "scheduler/worker_publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

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

std::vector<v1::WorkerInfo> AllWorkers(const Result<std::vector<db::WorkerRow>>& directory,
                                       std::vector<v1::WorkerInfo> own) {
  std::map<std::string, v1::WorkerInfo> by_id;
  if (directory) {
    for (const auto& row : *directory) {
      v1::WorkerInfo& w = by_id[row.worker_id];
      w.set_worker_id(row.worker_id);
      w.set_host(row.host);
      w.set_pid(row.pid);
      for (const auto& q : row.queues) w.add_queues(q);
      w.set_slots(row.slots);
      w.set_free_slots(row.free_slots);
      for (int64_t job : row.running_jobs) w.add_running_jobs(job);
      w.set_last_seen_ms(
          std::chrono::duration_cast<milliseconds>(row.last_seen_at.time_since_epoch()).count());
      w.set_version(row.version);
    }
  } else {
    spdlog::warn("workers: cannot read the directory, listing this replica's only: {}",
                 directory.error().ToString());
  }
  for (auto& w : own) by_id[w.worker_id()] = std::move(w);
  std::vector<v1::WorkerInfo> out;
  for (auto& [id, w] : by_id) out.push_back(std::move(w));
  return out;
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
