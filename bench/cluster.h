// The cluster as processes for the benches that run Chime's binaries
// (e2e, kinds): one chime-scheduler and any number of chime-worker children
// of this build, against the bench database. The children die with the
// Cluster (ChildProcess kills what is still running). Thread-compatible.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/pq.h"
#include "common/base/child_process.h"
#include "common/base/error.h"

namespace chime::bench {

// The admin secret the benches' schedulers are started with.
inline constexpr const char* kBenchAdminSecret = "chime-bench-e2e-admin-secret";

// Points CHIME_BIN_DIR at the build directory chime-bench was built in (its
// parent holds the other binaries), unless CHIME_BIN_DIR is set already.
void EnsureBinDir();

class Cluster {
 public:
  // Workers run `slots` slots each and claim from `queues` (comma-separated).
  Cluster(std::string conninfo, int slots, std::string queues = "default");

  // Workers started from now on claim this many jobs beyond their slots.
  void set_prefetch(int prefetch) { prefetch_ = prefetch; }
  // ... and claim at most this many a round trip (0: the worker's default).
  void set_claim_batch(int claim_batch) { claim_batch_ = claim_batch; }
  // Workers started from now on get these flags and environment too
  // (--kinds-config FILE, the secrets it names).
  void set_worker_args(std::vector<std::string> args) { worker_args_ = std::move(args); }
  void set_worker_env(std::map<std::string, std::string> env) { worker_env_ = std::move(env); }

  // Starts the scheduler with `args` besides the defaults and waits (up to
  // 30 s) until it listens, on ZeroMQ and HTTP.
  [[nodiscard]] Result<void> StartScheduler(std::vector<std::string> args = {});
  // Starts one more worker, pointed at the scheduler if one was started.
  [[nodiscard]] Result<void> StartWorker();
  // Waits (up to 30 s) until the scheduler reports every started worker
  // connected with all its slots free, as `jobctl workers` shows them.
  [[nodiscard]] Result<void> WaitForIdleWorkers();
  // SIGTERM to every worker (each drains) and then to the scheduler;
  // idempotent.
  void Stop();
  // Writes the scheduler's and each worker's log so far into `dir` (made if
  // missing): scheduler.log, worker-0.log, ...
  [[nodiscard]] Result<void> SaveLogs(const std::string& dir) const;

  const std::string& endpoint() const { return endpoint_; }
  // The scheduler's HTTP "host:port".
  const std::string& http() const { return http_; }
  pid_t scheduler_pid() const { return scheduler_->pid(); }
  pid_t worker_pid(size_t i) const { return workers_[i]->pid(); }
  size_t worker_count() const { return workers_.size(); }

 private:
  std::string conninfo_;
  int slots_;
  int prefetch_ = -1;  // < 0: the worker's default (auto).
  int claim_batch_ = 0;
  std::string queues_;
  std::vector<std::string> worker_args_;
  std::map<std::string, std::string> worker_env_;
  std::unique_ptr<ChildProcess> scheduler_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  std::string endpoint_;
  std::string http_;
};

// The first column of the first row of `sql` as an integer.
[[nodiscard]] Result<int64_t> Count(PqConnection& pq, const std::string& sql);

// Enqueues `n` no-op jobs on queue "default" in one INSERT: the bulk path
// the benches that drain a cluster (e2e, soak) load it with.
[[nodiscard]] Result<void> EnqueueNoops(PqConnection& pq, int64_t n);
// Jobs that succeeded so far, from the counters the completion keeps
// (chime.job_counts), so polling it never scans the hot table.
[[nodiscard]] Result<int64_t> SucceededJobs(PqConnection& pq);

}  // namespace chime::bench
