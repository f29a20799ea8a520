// The workers a scheduler has heard from, keyed by their ZeroMQ routing id:
// what they serve, their free slots and when they last spoke. Bookkeeping
// only: which worker is told about which ready jobs is the Dispatcher's
// decision (scheduler/dispatcher.h). Owned by the router thread;
// thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/base/clock.h"
#include "common/base/error.h"

namespace chime::scheduler {

// How many workers one scheduler registers: anyone who can reach its port
// may say hello (unless CURVE is on), and each registered worker costs
// memory, a row in the worker directory and a place in dispatch plans.
struct WorkerLimits {
  int max_workers = 512;              // --max-workers, CHIME_MAX_WORKERS.
  // Per peer network address (one host or pod): --max-workers-per-address,
  // CHIME_MAX_WORKERS_PER_ADDRESS. Workers behind one NAT share an address.
  int max_workers_per_address = 64;

  [[nodiscard]] Result<void> Validate() const;
};

class WorkerRegistry {
 public:
  WorkerRegistry(const Clock& clock, std::chrono::milliseconds forget_after, WorkerLimits limits = {});

  // Registers (or re-registers) the worker behind routing_id, connected
  // from `address` (the peer's IP; empty when the transport has none); true
  // when it was not already registered there (a repeated hello is not
  // news). A hello that would add a worker beyond the limits is refused
  // (Unavailable, naming the limit) and changes nothing; a routing id or a
  // worker id already registered is never refused, so registered workers
  // keep working when the limit is reached.
  Result<bool> Hello(const std::string& routing_id, const v1::WorkerHello& hello, std::string_view address = {});
  // The next three return false for an unknown sender, which should be asked
  // to say hello again (Reconnect).
  bool Capacity(const std::string& routing_id, int free_slots);
  // A worker heartbeat: liveness, free slots and running jobs.
  bool Heartbeat(const std::string& routing_id, const v1::WorkerHeartbeat& heartbeat);
  bool Touch(const std::string& routing_id);
  // A draining worker gets no more dispatch.
  void Goodbye(const std::string& routing_id);

  // Drops workers silent for longer than forget_after; returns their ids.
  std::vector<std::string> ForgetSilent();

  // A registered worker with free slots, as the Dispatcher plans over it.
  // The pointers stay valid until the registry next changes.
  struct FreeWorker {
    const std::string* routing_id;
    const google::protobuf::RepeatedPtrField<std::string>* queues;
    int free_slots;
  };
  // Every worker with free slots, in routing id order.
  std::vector<FreeWorker> WithFreeSlots() const;
  // Counts `n` of the worker's free slots as taken (dispatched) until it
  // reports its capacity again. No-op for an unknown routing id.
  void TakeSlots(const std::string& routing_id, int n);

  std::vector<v1::WorkerInfo> List() const;
  size_t size() const { return workers_.size(); }
  int64_t free_slots() const;

 private:
  struct Entry {
    v1::WorkerHello hello;
    std::string address;
    int free_slots = 0;
    std::vector<int64_t> running;
    std::chrono::steady_clock::time_point last_seen;
    std::chrono::system_clock::time_point last_seen_wall;
  };
  Entry* Find(const std::string& routing_id);
  void Seen(Entry& entry);

  const Clock& clock_;
  Result<void> Admit(const std::string& routing_id, const std::string& worker_id, std::string_view address) const;

  const std::chrono::milliseconds forget_after_;
  const WorkerLimits limits_;
  std::map<std::string, Entry> workers_;  // By routing id.
};

}  // namespace chime::scheduler
