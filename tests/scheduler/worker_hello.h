// A worker's hello for the scheduler's unit tests (registry, dispatcher).
#pragma once

#include <string>
#include <vector>

#include "chime/v1/chime.pb.h"

namespace chime::scheduler::testing {

inline v1::WorkerHello Hello(const std::string& id, int slots, int free, const std::vector<std::string>& queues) {
  v1::WorkerHello h;
  h.set_worker_id(id);
  h.set_slots(slots);
  h.set_free_slots(free);
  for (const auto& q : queues) h.add_queues(q);
  return h;
}

}  // namespace chime::scheduler::testing
