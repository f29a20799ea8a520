#include "scheduler/worker_registry.h"

#include <algorithm>


namespace chime::scheduler {

Result<void> WorkerLimits::Validate() const {
  if (max_workers < 1 || max_workers > 100'000) {
    return Fail(ErrorCode::kInvalidArgument, "max_workers: must be 1-100000, got " + std::to_string(max_workers));
  }
  if (max_workers_per_address < 1 || max_workers_per_address > max_workers) {
    return Fail(ErrorCode::kInvalidArgument, "max_workers_per_address: must be 1-max_workers, got " +
                                                 std::to_string(max_workers_per_address));
  }
  return {};
}

WorkerRegistry::WorkerRegistry(const Clock& clock, std::chrono::milliseconds forget_after, WorkerLimits limits)
    : clock_(clock), forget_after_(forget_after), limits_(limits) {}

Result<void> WorkerRegistry::Admit(const std::string& routing_id, const std::string& worker_id,
                                   std::string_view address) const {
  // Already here, under this routing id or (restarted) this worker id: a
  // replacement, never a new place.
  if (workers_.contains(routing_id)) return {};
  for (const auto& [id, e] : workers_) {
    if (e.hello.worker_id() == worker_id) return {};
  }
  if (workers_.size() >= static_cast<size_t>(limits_.max_workers)) {
    return Fail(ErrorCode::kUnavailable, "worker limit reached: this scheduler registers at most " +
                                             std::to_string(limits_.max_workers) + " workers (--max-workers)");
  }
  const auto same_address =
      std::ranges::count_if(workers_, [&](const auto& kv) { return kv.second.address == address; });
  if (same_address >= limits_.max_workers_per_address) {
    return Fail(ErrorCode::kUnavailable, "worker limit reached: at most " +
                                             std::to_string(limits_.max_workers_per_address) +
                                             " workers from one address (--max-workers-per-address)");
  }
  return {};
}

WorkerRegistry::Entry* WorkerRegistry::Find(const std::string& routing_id) {
  auto it = workers_.find(routing_id);
  return it == workers_.end() ? nullptr : &it->second;
}

void WorkerRegistry::Seen(Entry& entry) {
  entry.last_seen = clock_.SteadyNow();
  entry.last_seen_wall = clock_.WallNow();
}

Result<bool> WorkerRegistry::Hello(const std::string& routing_id, const v1::WorkerHello& hello,
                                   std::string_view address) {
  if (auto ok = Admit(routing_id, hello.worker_id(), address); !ok) return std::unexpected(ok.error());
  // A restarted worker process may reuse its id under a new routing id.
  std::erase_if(workers_, [&](const auto& kv) {
    return kv.first != routing_id && kv.second.hello.worker_id() == hello.worker_id();
  });
  const Entry* before = Find(routing_id);
  const bool fresh = before == nullptr || before->hello.worker_id() != hello.worker_id() ||
                     before->hello.pid() != hello.pid();
  Entry& e = workers_[routing_id];
  e.hello = hello;
  e.address = std::string(address);
  e.free_slots = hello.free_slots();
  e.running.clear();
  Seen(e);
  return fresh;
}

bool WorkerRegistry::Capacity(const std::string& routing_id, int free_slots) {
  Entry* e = Find(routing_id);
  if (e == nullptr) return false;
  e->free_slots = std::clamp(free_slots, 0, e->hello.slots());
  Seen(*e);
  return true;
}

bool WorkerRegistry::Heartbeat(const std::string& routing_id, const v1::WorkerHeartbeat& hb) {
  Entry* e = Find(routing_id);
  if (e == nullptr) return false;
  e->free_slots = std::clamp(hb.free_slots(), 0, e->hello.slots());
  e->running.assign(hb.running_jobs().begin(), hb.running_jobs().end());
  Seen(*e);
  return true;
}

bool WorkerRegistry::Touch(const std::string& routing_id) {
  Entry* e = Find(routing_id);
  if (e == nullptr) return false;
  Seen(*e);
  return true;
}

void WorkerRegistry::Goodbye(const std::string& routing_id) { workers_.erase(routing_id); }

std::vector<std::string> WorkerRegistry::ForgetSilent() {
  std::vector<std::string> forgotten;
  const auto cutoff = clock_.SteadyNow() - forget_after_;
  std::erase_if(workers_, [&](const auto& kv) {
    if (kv.second.last_seen >= cutoff) return false;
    forgotten.push_back(kv.second.hello.worker_id());
    return true;
  });
  return forgotten;
}

std::vector<WorkerRegistry::FreeWorker> WorkerRegistry::WithFreeSlots() const {
  std::vector<FreeWorker> out;
  for (const auto& [id, e] : workers_) {
    if (e.free_slots > 0) out.push_back({&id, &e.hello.queues(), e.free_slots});
  }
  return out;
}

void WorkerRegistry::TakeSlots(const std::string& routing_id, int n) {
  if (Entry* e = Find(routing_id)) e->free_slots = std::max(0, e->free_slots - n);
}

std::vector<v1::WorkerInfo> WorkerRegistry::List() const {
  std::vector<v1::WorkerInfo> out;
  for (const auto& [id, e] : workers_) {
    v1::WorkerInfo w;
    w.set_worker_id(e.hello.worker_id());
    w.set_host(e.hello.host());
    w.set_pid(e.hello.pid());
    *w.mutable_queues() = e.hello.queues();
    w.set_slots(e.hello.slots());
    w.set_free_slots(e.free_slots);
    for (int64_t job : e.running) w.add_running_jobs(job);
    w.set_last_seen_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                           e.last_seen_wall.time_since_epoch())
                           .count());
    w.set_version(e.hello.version());
    out.push_back(std::move(w));
  }
  std::ranges::sort(out, [](const auto& a, const auto& b) { return a.worker_id() < b.worker_id(); });
  return out;
}

int64_t WorkerRegistry::free_slots() const {
  int64_t n = 0;
  for (const auto& [id, e] : workers_) n += e.free_slots;
  return n;
}

}  // namespace chime::scheduler
