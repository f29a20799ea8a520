// `chime-bench store`: what the job store sustains on this machine.
//   1. bulk enqueue rate through JobsInsertMany, per batch size;
//   2. claim + complete rate through JobStore over a batch x claimers grid;
//   3. the same loop as bare libpq running JobStore's own SQL (the ceiling),
//      and the ratio Chime / bare per cell;
//   4. claim latency p50/p99 with and without a million finished jobs;
//   5. retention on the run ledger: what dropping the days past it costs
//      with ten million runs, beside deleting the same rows one by one.
// Thread-compatible; Run() spawns and joins its own claimer threads.
#pragma once

#include <string>
#include <vector>

#include "bench/bench.h"
#include "bench/store_fixture.h"

namespace chime::bench {

struct StoreBenchConfig {
  std::vector<std::string> parts{"enqueue", "claim", "latency", "retention"};
  std::vector<int> enqueue_batches{1000, 5000, 10000};
  std::vector<int> enqueue_sessions{1, 2};
  std::vector<int> claim_batches{1, 10, 100, 500};
  std::vector<int> claimers{1, 4, 16};
  // Zero or negative: the mode's default (full or --quick).
  int64_t bulk_jobs = 0;
  double cell_seconds = 0;  // Target run time of one grid cell.
  int64_t cell_jobs = 0;    // Fixed jobs per grid cell instead of sizing by time.
  int64_t finished_rows = 0;
  int latency_samples = 0;
  int64_t retention_runs = 0;

  [[nodiscard]] Result<void> Validate() const;
};

class StoreBench final : public Bench {
 public:
  std::string name() const override { return "store"; }
  std::string description() const override;
  void AddOptions(CLI::App& command) override;
  [[nodiscard]] Result<void> Validate() const override { return config_.Validate(); }
  [[nodiscard]] Result<void> Run(const BenchEnv& env) override;

 private:
  // Sizes after applying the mode's defaults.
  struct Sizes {
    int64_t bulk_jobs;
    double cell_seconds;
    int64_t min_cell_jobs, max_cell_jobs;
    int64_t pending;  // Latency: jobs waiting while claims are timed.
    int64_t finished_rows;
    int latency_samples, latency_warmup;
    int64_t retention_runs, retention_sample;  // Ledger size; rows deleted one by one.
  };
  Sizes Resolve(bool quick) const;
  bool Wants(const std::string& part) const;

  [[nodiscard]] Result<void> RunEnqueue(const BenchEnv& env, const Sizes& sizes,
                                        StoreFixture& fixture);
  [[nodiscard]] Result<void> RunClaimGrid(const BenchEnv& env, const Sizes& sizes,
                                          StoreFixture& fixture);
  [[nodiscard]] Result<void> RunLatency(const BenchEnv& env, const Sizes& sizes,
                                        StoreFixture& fixture);
  [[nodiscard]] Result<void> RunRetention(const BenchEnv& env, const Sizes& sizes,
                                          StoreFixture& fixture);

  StoreBenchConfig config_;
};

}  // namespace chime::bench
