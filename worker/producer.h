// Claims jobs: never more than the executor's free slots, immediately when
// woken (a dispatch arrived, slots freed after a full claim) and otherwise
// every poll interval, so a dead scheduler only slows work down. Owns one
// database connection and one thread. Wake() is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "worker/executor.h"

namespace chime::worker {

struct ProducerConfig {
  std::string worker_id;
  std::vector<std::string> queues{"default"};
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds lease{std::chrono::seconds(30)};
  int max_batch = 100;  // Per claim round trip.
};

class Producer {
 public:
  Producer(ProducerConfig config, db::ConnectionConfig db, Executor& executor);
  ~Producer();

  void Start();
  void Stop();  // Stops claiming; running jobs are the executor's.

  // Claim now (dispatch arrived or a slot freed).
  void Wake();
  int64_t claimed() const { return claimed_.load(); }

 private:
  void Loop(std::stop_token stop);

  const ProducerConfig config_;
  db::Connection conn_;
  db::JobStore store_;
  Executor& executor_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;  // Guarded by mu_.
  std::atomic<int64_t> claimed_{0};
  std::jthread thread_;
};

}  // namespace chime::worker
