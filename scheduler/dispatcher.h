// Decides which worker is told about which ready jobs: the scheduler's
// dispatch policy, apart from the transport (RouterServer sends what it
// plans) and the bookkeeping (WorkerRegistry holds each worker's queues and
// free slots). A dispatch is only a hint - the worker still claims in the
// database - so a plan may be lost, repeated or wrong without losing a job;
// it only decides how soon a job starts. Owned by the router thread, like
// the registry it plans over; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/db/ready_listener.h"
#include "scheduler/worker_registry.h"

namespace chime::scheduler {

// One Dispatch to send to one worker.
struct DispatchOrder {
  std::string routing_id;
  v1::Dispatch dispatch;
};

class Dispatcher {
 public:
  explicit Dispatcher(WorkerRegistry& workers) : workers_(workers) {}

  // A notice from the ready feed (RouterServer::kReadyEndpoint):
  // "queue:count,..." plans as Plan does; "*" (anything may be ready: the
  // feed reconnected and may have missed notifications) as PlanAll.
  std::vector<DispatchOrder> OnNotice(std::string_view notice);

  // Spreads the announced jobs over the workers serving each queue, most
  // free slots first (ties by routing id, so plans are deterministic), never
  // more per worker than its free slots; at most one order per worker. The
  // slots planned count as taken until the worker reports its capacity again.
  std::vector<DispatchOrder> Plan(const std::vector<db::ReadyQueue>& ready);

  // Every worker with free slots, for all its queues, as many jobs as it has
  // free slots. Takes no slots: it is a "look again", not an assignment.
  std::vector<DispatchOrder> PlanAll() const;

  // A worker that has just said hello with free slots may have arrived to an
  // existing backlog: it is asked to claim as many jobs as it has free, from
  // all its queues. Nullopt when it has none free.
  static std::optional<DispatchOrder> ForNewWorker(const std::string& routing_id,
                                                   const v1::WorkerHello& hello);

 private:
  WorkerRegistry& workers_;
};

}  // namespace chime::scheduler
