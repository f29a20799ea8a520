// Claims jobs: never more than the executor's free slots plus the prefetch,
// immediately when woken (a dispatch arrived, slots freed after a full
// claim) and otherwise every poll interval, so a dead scheduler only slows
// work down. Owns one database connection and one thread. Wake() is
// thread-safe. A claim whose reply was lost with the connection may have
// committed: the producer asks for its jobs by claim id and runs them,
// rather than leaving them leased to nobody until the rescuer takes them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  // A freed slot is refilled at once when this many slots are free (or the
  // worker is idle); otherwise after at most refill_delay, so that short jobs
  // are claimed in batches rather than one round trip per job. A dispatch
  // always claims at once. 0 means half the slots.
  int refill_batch = 0;
  std::chrono::milliseconds refill_delay{5};
  // Jobs claimed beyond the free slots; they wait in the executor's queue.
  int prefetch = 0;
};

class Producer {
 public:
  Producer(ProducerConfig config, db::ConnectionConfig db, Executor& executor);
  ~Producer();

  void Start();
  void Stop();  // Stops claiming; running jobs are the executor's.

  // Claim now: a dispatch arrived.
  void Wake();
  // A slot freed: claim once enough are free (see refill_batch).
  void SlotFreed();
  int64_t claimed() const { return claimed_.load(); }

 private:
  // A claim that failed with the connection: it may have committed.
  struct UnknownClaim {
    std::string id;
    std::chrono::steady_clock::time_point until;  // Its leases would be over.
  };

  void Loop(std::stop_token stop);
  int RefillBatch() const;
  // Jobs it may claim now: free slots plus the prefetch not yet queued.
  int Room() const;
  int Capacity() const { return executor_.slots() + config_.prefetch; }
  // Counts claimed jobs, records them in the history and runs them.
  void Hand(std::vector<db::ClaimedJob> jobs);
  // Takes over the jobs of unknown claims that did commit.
  void RecoverClaims();

  const ProducerConfig config_;
  db::Connection conn_;
  db::JobStore store_;
  Executor& executor_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;       // Guarded by mu_.
  bool slot_freed_ = false;  // Guarded by mu_.
  std::atomic<int64_t> claimed_{0};
  std::vector<UnknownClaim> unknown_claims_;  // Loop thread only.
  std::jthread thread_;
};

}  // namespace chime::worker
