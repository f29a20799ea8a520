// The workers a scheduler has heard from, keyed by their ZeroMQ routing id:
// what they serve, their free slots and when they last spoke. Plans dispatch
// by free capacity. Owned by the router thread; thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/base/clock.h"
#include "common/db/ready_listener.h"

namespace chime::scheduler {

// One Dispatch to send to one worker.
struct DispatchOrder {
  std::string routing_id;
  v1::Dispatch dispatch;
};

class WorkerRegistry {
 public:
  WorkerRegistry(const Clock& clock, std::chrono::milliseconds forget_after);

  // Registers (or re-registers) the worker behind routing_id; true when it
  // was not already registered there (a repeated hello is not news).
  bool Hello(const std::string& routing_id, const v1::WorkerHello& hello);
  // The next three return false for an unknown sender, which should be asked
  // to say hello again (Reconnect).
  bool Capacity(const std::string& routing_id, int free_slots);
  bool Heartbeat(const std::string& routing_id, const v1::WorkerHeartbeat& heartbeat);
  bool Touch(const std::string& routing_id);
  // A draining worker gets no more dispatch.
  void Goodbye(const std::string& routing_id);

  // Drops workers silent for longer than forget_after; returns their ids.
  std::vector<std::string> ForgetSilent();

  // Spreads the announced jobs over the workers serving each queue, most
  // free slots first, never more per worker than its free slots; counts the
  // slots as taken until the worker reports its capacity again.
  std::vector<DispatchOrder> PlanDispatch(const std::vector<db::ReadyQueue>& ready);
  // Every worker with free slots, for all its queues: used when
  // notifications may have been missed (listener reconnected).
  std::vector<DispatchOrder> PlanDispatchAll();

  std::vector<v1::WorkerInfo> List() const;
  size_t size() const { return workers_.size(); }
  int64_t free_slots() const;

 private:
  struct Entry {
    v1::WorkerHello hello;
    int free_slots = 0;
    std::vector<int64_t> running;
    std::chrono::steady_clock::time_point last_seen;
    std::chrono::system_clock::time_point last_seen_wall;
  };
  Entry* Find(const std::string& routing_id);
  void Seen(Entry& entry);

  const Clock& clock_;
  const std::chrono::milliseconds forget_after_;
  std::map<std::string, Entry> workers_;  // By routing id.
};

}  // namespace chime::scheduler
