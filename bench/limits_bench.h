// `chime-bench limits`: what cluster-wide limits (issue 20, migration 0022)
// cost and how well they hold, on the bench database:
//   1. overhead: claim + complete throughput (the store bench's loop,
//      JobStore::JobsClaim + JobsCompleteIfLeased, several claimers) with no
//      limit vs a limit that never binds - concurrency 1,000,000 on the kind,
//      and a rate of 1,000,000 per second on it - and the ratio;
//   2. partitions: the same loop with 1,000 partitions of concurrency 1 (a
//      payload field with 1,000 values, jobs spread round-robin) vs none;
//   3. rate: a backlog claimed as fast as a rate of 100/s lets through, each
//      claimer sleeping until LimitsNextSlot after a short claim as the
//      worker's producer does; from the jobs' starts (attempted_at): starts
//      in the run, the rate achieved, the most starts in any 1 s window and
//      the error vs the limit;
//   4. slot: real chime-scheduler + chime-worker processes run `sleep` jobs
//      under a concurrency-1 partition; from chime.runs, the delay between
//      one run's finished_at and the next run's started_at (p50, p99).
// Each throughput configuration runs --rounds times, interleaved, and its
// median is reported, as the machine may be shared. Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "bench/bench.h"

namespace chime::bench {

struct LimitsBenchConfig {
  std::vector<std::string> parts{"overhead", "partitions", "rate", "slot"};
  std::vector<int> claim_batches{10, 100};
  int claimers = 4;
  int64_t jobs = 0;  // Per throughput cell; 0: 40,000 (--quick 4,000).
  int rounds = 3;    // Throughput cells per configuration; the median is shown.
  int partitions = 1000;
  int rate = 100;             // Starts per second.
  double rate_seconds = 0;    // The rate run's length; 0: 60 (--quick 5).
  int rate_claimers = 2;
  int rate_batch = 10;
  int slot_jobs = 0;          // 0: 300 (--quick 40).
  int slot_sleep_ms = 20;
  int slot_workers = 2;
  int slot_slots = 4;

  [[nodiscard]] Result<void> Validate() const;
};

class LimitsBench final : public Bench {
 public:
  std::string name() const override { return "limits"; }
  std::string description() const override;
  void AddOptions(CLI::App& command) override;
  [[nodiscard]] Result<void> Validate() const override { return config_.Validate(); }
  [[nodiscard]] Result<void> Run(const BenchEnv& env) override;

 private:
  bool Wants(const std::string& part) const;
  [[nodiscard]] Result<void> RunThroughput(const BenchEnv& env);
  [[nodiscard]] Result<void> RunRate(const BenchEnv& env);
  [[nodiscard]] Result<void> RunSlot(const BenchEnv& env);

  LimitsBenchConfig config_;
};

}  // namespace chime::bench
