#include "scheduler/dispatcher.h"

#include <algorithm>
#include <map>

#include "common/wire/envelope.h"

namespace chime::scheduler {

std::vector<DispatchOrder> Dispatcher::OnNotice(std::string_view notice) {
  if (notice == "*") return PlanAll();
  return Plan(db::ParseReadyPayload(notice));
}

std::vector<DispatchOrder> Dispatcher::Plan(const std::vector<db::ReadyQueue>& ready) {
  // The workers' free slots as this plan goes on taking them; written back
  // to the registry at the end.
  std::vector<WorkerRegistry::FreeWorker> free = workers_.WithFreeSlots();
  const std::vector<WorkerRegistry::FreeWorker> before = free;
  std::map<std::string, v1::Dispatch> plan;
  std::vector<WorkerRegistry::FreeWorker*> serving;
  for (const auto& q : ready) {
    serving.clear();
    for (auto& w : free) {
      if (w.free_slots > 0 && std::ranges::find(*w.queues, q.queue) != w.queues->end()) {
        serving.push_back(&w);
      }
    }
    std::ranges::sort(serving, [](const auto* a, const auto* b) {
      return a->free_slots != b->free_slots ? a->free_slots > b->free_slots
                                            : *a->routing_id < *b->routing_id;
    });
    int64_t remaining = q.count;
    for (auto* w : serving) {
      if (remaining <= 0) break;
      const int take = static_cast<int>(std::min<int64_t>(w->free_slots, remaining));
      v1::Dispatch& d = plan[*w->routing_id];
      // The ready feed may list a queue once per notification it collected;
      // a worker rejects a dispatch naming more than kMaxQueues.
      if (std::ranges::find(d.queues(), q.queue) == d.queues().end()) d.add_queues(q.queue);
      d.set_max_jobs(std::min(d.max_jobs() + take, wire::kMaxSlots));
      w->free_slots -= take;
      remaining -= take;
    }
  }
  for (size_t i = 0; i < free.size(); ++i) {
    if (free[i].free_slots != before[i].free_slots) {
      workers_.TakeSlots(*free[i].routing_id, before[i].free_slots - free[i].free_slots);
    }
  }
  std::vector<DispatchOrder> out;
  for (auto& [id, d] : plan) out.push_back({id, std::move(d)});
  return out;
}

std::vector<DispatchOrder> Dispatcher::PlanAll() const {
  std::vector<DispatchOrder> out;
  for (const auto& w : workers_.WithFreeSlots()) {
    v1::Dispatch d;  // No queues: all of the worker's.
    d.set_max_jobs(w.free_slots);
    out.push_back({*w.routing_id, std::move(d)});
  }
  return out;
}

std::optional<DispatchOrder> Dispatcher::ForNewWorker(const std::string& routing_id,
                                                      const v1::WorkerHello& hello) {
  if (hello.free_slots() <= 0) return std::nullopt;
  v1::Dispatch d;
  d.set_max_jobs(hello.free_slots());
  return DispatchOrder{routing_id, std::move(d)};
}

}  // namespace chime::scheduler
