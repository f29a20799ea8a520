#include "scheduler/worker_publisher.h"

#include <spdlog/spdlog.h>

#include <map>

#include "common/wire/convert.h"

namespace chime::scheduler {

std::vector<db::WorkerRow> AllWorkers(const Result<std::vector<db::WorkerRow>>& directory,
                                      const std::vector<v1::WorkerInfo>& own) {
  std::map<std::string, db::WorkerRow> by_id;
  if (directory) {
    for (const auto& row : *directory) by_id[row.worker_id] = row;
  } else {
    spdlog::warn("workers: cannot read the directory, listing this replica's only: {}",
                 directory.error().ToString());
  }
  for (const auto& w : own) by_id[w.worker_id()] = wire::FromProto(w);
  std::vector<db::WorkerRow> out;
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
  std::vector<db::WorkerRow> seen;
  for (const auto& info : snapshot_()) seen.push_back(wire::FromProto(info));
  // last_seen_ms is on this process's wall clock, as is `now`.
  if (auto ok = directory_.Publish(seen, config_.replica, std::chrono::system_clock::now()); !ok) return ok;
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
