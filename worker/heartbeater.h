// Extends every lease the worker holds in one round trip each interval,
// stops jobs whose lease was lost or whose cancel was requested, and tells
// the scheduler link what runs. Owns one database connection and a thread.
#pragma once

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

 private:
  void Loop(std::stop_token stop);

  db::Connection conn_;
  db::JobStore store_;
  Executor& executor_;
  const std::chrono::milliseconds lease_;
  const std::chrono::milliseconds interval_;
  std::jthread thread_;
};

}  // namespace chime::worker
