// Periodically rescues jobs whose job lease expired (through the one rescue
// path, db::JobRescuer, which the reset_stale_jobs kind shares), deletes
// finished jobs and runs past their retention, and deletes the expired nonces of signed admin
// requests (bounded batches each pass). Owns one database connection, used only by its
// own thread. Start()/Stop() are thread-safe; Stop() is idempotent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/base/error.h"
#include "common/base/loop_thread.h"
#include "common/db/auth_store.h"
#include "common/db/connection.h"
#include "common/db/job_rescuer.h"
#include "common/db/job_store.h"

namespace chime::scheduler {

struct MaintainerConfig {
  std::chrono::milliseconds rescue_interval{std::chrono::seconds(5)};
  std::chrono::milliseconds cleanup_interval{std::chrono::minutes(10)};
  db::RescueParams rescue;
  // Pages of rescue.limit jobs rescued per pass at most; a larger backlog
  // drains over the next passes.
  int rescue_max_pages = 10;
  db::CleanupParams cleanup;
  // Expired admin nonces deleted per statement, and statements per pass at
  // most (a backlog drains over later passes).
  int nonce_prune_batch = 1000;
  int nonce_prune_batches = 10;

  [[nodiscard]] Result<void> Validate() const;
};

// Totals since start, for logs and (later) metrics.
struct MaintainerCounters {
  int64_t rescued = 0;
  int64_t discarded = 0;
  int64_t jobs_deleted = 0;
  int64_t runs_deleted = 0;
  int64_t nonces_deleted = 0;
  int64_t passes = 0;  // Completed rescue passes.
};

class Maintainer {
 public:
  Maintainer(db::ConnectionConfig db, MaintainerConfig config);
  ~Maintainer();

  void Start();
  void Stop();

  // Runs one rescue pass and, if due, one cleanup pass on the calling
  // thread's own connection. Exposed for tests; not for use with Start().
  [[nodiscard]] Result<void> RunOnce(bool force_cleanup);

  MaintainerCounters counters() const;

 private:
  void Loop(std::stop_token stop);
  // Deletes expired admin nonces in bounded batches; returns how many.
  Result<int64_t> PruneNonces();

  db::Connection conn_;  // Owned by the maintenance thread (or RunOnce's caller).
  db::JobStore store_;
  db::JobRescuer rescuer_{store_};
  db::AuthStore auth_;
  MaintainerConfig config_;
  std::chrono::steady_clock::time_point next_cleanup_{};

  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  MaintainerCounters counters_;  // Guarded by mu_.
  LoopThread loop_;  // Last: stopped before the state it uses goes away.
};

}  // namespace chime::scheduler
