// Claims jobs: never more than the executor's free slots plus the prefetch
// (fixed, or sized from the observed completion rate), immediately when woken (a dispatch arrived, slots freed after a full
// claim), when a rate limit's window lets the next job start, and otherwise
// every poll interval, so a dead scheduler only slows work down. Owns one database connection and one thread. Wake() is
// thread-safe. A claim whose reply was lost with the connection may have
// committed: the producer asks for its jobs by claim id and runs them,
// rather than leaving them leased to nobody until the rescuer takes them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "common/db/limit_store.h"
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
  // Instead of `prefetch`: as many jobs as the worker finishes in
  // `prefetch_horizon` at its recent completion rate, at most max_prefetch.
  // A stream of short jobs gets large claims without flags (10,000 no-ops a
  // second: 1,000 ahead), while jobs that take seconds or longer are not
  // hoarded (ten 1 s slots: 2 ahead; minutes: none), so another worker can
  // take them. The rate is measured every 100 ms, smoothed (EWMA, half per
  // window), and falls to nothing while the worker is idle.
  bool adaptive_prefetch = false;
  int max_prefetch = 1000;
  std::chrono::milliseconds prefetch_horizon{200};
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
  // The prefetch in force (adaptive: the latest sizing).
  int prefetch() const { return prefetch_.load(); }

 private:
  // A claim that failed with the connection: it may have committed.
  struct UnknownClaim {
    std::string id;
    std::chrono::steady_clock::time_point until;  // Its leases would be over.
  };

  void Loop(std::stop_token stop);
  // Adaptive prefetch: resizes prefetch_ from the completions since the
  // last window. Loop thread only.
  void AdaptPrefetch();
  int RefillBatch() const;
  // Jobs it may claim now: free slots plus the prefetch not yet queued.
  int Room() const;
  int Capacity() const { return executor_.slots() + prefetch_.load(); }
  // Counts claimed jobs, records them in the history and runs them.
  void Hand(std::vector<db::ClaimedJob> jobs);
  // Takes over the jobs of unknown claims that did commit.
  void RecoverClaims();
  // How long until a rate limit on its queues lets another job start;
  // nullopt when none holds anything back.
  std::optional<std::chrono::milliseconds> UntilNextSlot();

  const ProducerConfig config_;
  db::Connection conn_;
  db::JobStore store_;
  db::LimitStore limits_;
  Executor& executor_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;       // Guarded by mu_.
  bool slot_freed_ = false;  // Guarded by mu_.
  std::atomic<int64_t> claimed_{0};
  std::atomic<int64_t> finished_{0};  // Jobs whose slot freed.
  std::atomic<int> prefetch_;         // Written by the loop thread only.
  std::chrono::steady_clock::time_point window_start_;  // Loop thread only.
  int64_t window_finished_ = 0;                          // Loop thread only.
  double rate_ = 0;  // Smoothed completions per second; loop thread only.
  std::vector<UnknownClaim> unknown_claims_;  // Loop thread only.
  std::jthread thread_;
};

}  // namespace chime::worker
