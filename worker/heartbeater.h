// The job heartbeat: extends every job lease the worker holds in one round
// trip to the database each interval, stops jobs whose job lease was lost or
// whose cancel was requested, and gives up jobs whose lease no heartbeat has
// extended for a whole lease (the database is unreachable: the rescue path,
// db::JobRescuer, may have handed them to another worker). Not the worker
// heartbeat (WorkerHeartbeat, SchedulerLink), which tells the scheduler the
// worker is alive and how many slots it has free. Owns one database connection and two threads: the
// heartbeat's round trip can block for as long as the TCP timeouts allow
// (about 30 s on a cut link), so the executor's Tick() and the lease
// watchdog run on a thread of their own. Start()/Stop() from the
// controlling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "worker/executor.h"

namespace chime::worker {

class Heartbeater {
 public:
  Heartbeater(db::ConnectionConfig db, Executor& executor, std::chrono::milliseconds lease,
              std::chrono::milliseconds interval);
  ~Heartbeater();

  void Start();
  void Stop();

  // Jobs given up because no heartbeat extended their lease in time.
  int64_t unextended_abandoned() const { return unextended_abandoned_.load(); }

 private:
  void HeartbeatLoop(std::stop_token stop);
  // Executor::Tick() and the lease watchdog, every 100 ms.
  void WatchLoop(std::stop_token stop);
  // Stops (kLeaseLost) every job whose lease was last extended a lease ago.
  void AbandonUnextended();

  db::Connection conn_;    // Owned by the heartbeat thread.
  db::JobStore store_;     // Owned by the heartbeat thread.
  Executor& executor_;
  const std::chrono::milliseconds lease_;
  const std::chrono::milliseconds interval_;
  std::atomic<int64_t> unextended_abandoned_{0};
  std::jthread heartbeat_thread_;
  std::jthread watch_thread_;
};

}  // namespace chime::worker
