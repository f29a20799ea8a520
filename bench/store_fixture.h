// Table set-up for the store bench, in plain SQL over libpq: empties Chime's
// job tables and loads pending or finished jobs far faster than any API would.
// Thread-compatible: one thread drives a fixture.
#pragma once

#include <cstdint>
#include <string>

#include "bench/pq.h"
#include "common/base/error.h"

namespace chime::bench {

class StoreFixture {
 public:
  [[nodiscard]] static Result<StoreFixture> Open(const std::string& conninfo);

  // Empties jobs, runs and the finished-job counters; identities restart.
  [[nodiscard]] Result<void> Reset();
  // Adds `n` available jobs of kind "bench" on queue "default", then ANALYZEs
  // so that claims are planned on real statistics.
  [[nodiscard]] Result<void> AddPending(int64_t n);
  // Adds `n` succeeded jobs finished now, held by their final runs as a
  // completion leaves them (one INSERT ... generate_series).
  [[nodiscard]] Result<void> AddFinished(int64_t n);
  // Adds `n` succeeded jobs, each held by its one run, spread evenly over
  // the `days` UTC days before today, after creating those days'
  // partitions, in statements of at most a million rows (the rollup counts
  // each).
  [[nodiscard]] Result<void> AddPastRuns(int64_t n, int days);
  // Runs in the ledger.
  [[nodiscard]] Result<int64_t> CountRuns();
  // Finished jobs as the counters hold them (chime.finished_job_counts).
  [[nodiscard]] Result<int64_t> CountFinishedJobs();
  [[nodiscard]] Result<void> VacuumAnalyze();
  // Jobs still waiting to be claimed.
  [[nodiscard]] Result<int64_t> CountPending();

  PqConnection& connection() { return conn_; }

 private:
  // Sets chime.job_history_counts from the held runs, as the completions
  // that left them would have (the fixture writes runs directly).
  [[nodiscard]] Result<void> CountHeldJobs();
  explicit StoreFixture(PqConnection conn) : conn_(std::move(conn)) {}

  PqConnection conn_;
};

}  // namespace chime::bench
