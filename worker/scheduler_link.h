// The worker's ZeroMQ link to the scheduler replicas: one DEALER per
// endpoint, owned by the link's own thread. Says hello (again whenever the
// scheduler asks, or until acknowledged), sends the worker heartbeat
// (liveness and free slots; not the job heartbeat, worker/heartbeater.h) at
// the interval the scheduler gives, reports capacity changes and results
// (a completer's batch in one JobResults message, to a scheduler that takes
// them; one JobResult each to an older one),
// says goodbye on drain, and turns Dispatch into a wake-up of the producer.
// Losing the link never stops work: the producer keeps polling. Send* are
// thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "chime/v1/chime.pb.h"
#include "common/net/curve.h"

namespace chime::worker {

struct LinkConfig {
  std::vector<std::string> endpoints;
  v1::WorkerHello hello;  // Sent as is, with free_slots refreshed.
  std::optional<net::CurveClientConfig> curve;
};

class SchedulerLink {
 public:
  using FreeSlots = std::function<int()>;
  using RunningJobs = std::function<std::vector<int64_t>()>;

  SchedulerLink(LinkConfig config, FreeSlots free_slots, RunningJobs running,
                std::function<void()> on_dispatch);
  ~SchedulerLink();

  void Start();
  void Stop();

  // Queues one result message each (moved out), waking the link once.
  void SendResults(std::span<v1::JobResult> results);
  void SendCapacity();  // Coalesced: at most one pending.
  void SendGoodbye(const std::string& reason);

  int64_t dispatches() const { return dispatches_.load(); }
  bool acknowledged() const { return acked_.load(); }

 private:
  void Loop(std::stop_token stop);
  void Enqueue(v1::Envelope envelope);
  v1::Envelope Hello() const;

  const LinkConfig config_;
  FreeSlots free_slots_;
  RunningJobs running_;
  std::function<void()> on_dispatch_;
  int wake_fd_ = -1;  // eventfd: other threads wake the link thread.
  std::mutex mu_;
  std::deque<v1::Envelope> outbox_;  // Guarded by mu_.
  bool capacity_pending_ = false;    // Guarded by mu_.
  std::atomic<int64_t> dispatches_{0};
  std::atomic<bool> acked_{false};
  std::jthread thread_;
};

}  // namespace chime::worker
