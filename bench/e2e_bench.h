// `chime-bench e2e`: the whole system as processes - chime-scheduler and
// chime-worker binaries from this build against the bench database:
//   1. no-op throughput: N jobs enqueued in bulk first, then drained by W
//      workers x S slots (run ledger written);
//   2. pickup latency p50/p95/p99: jobs enqueued one at a time, 10 ms apart,
//      on an idle cluster, from just before the enqueue call (its commit
//      included) to the claim that starts the handler - once through
//      jobctl's path (a signed request to the scheduler) and once as an
//      application's plain SQL INSERT;
//   3. resident memory of the scheduler and a worker, idle and under load.
// With --rounds N the throughput drain repeats; a round slower than half the
// median leaves the scheduler's and workers' logs behind (--slow-logs) to
// find out why.
// Thread-compatible.
#pragma once

#include <string>

#include "bench/bench.h"

namespace chime::bench {

struct E2eBenchConfig {
  int64_t jobs = 0;          // Throughput jobs; 0: 100,000 (--quick 5,000).
  int workers = 2;
  int slots = 16;
  int prefetch = -1;  // Jobs each worker claims beyond its slots; < 0: the worker's default (auto).
  int claim_batch = 0;  // Most jobs a worker claims per round trip; 0: its default (100).
  int latency_samples = 0;   // Per path; 0: 1,000 (--quick 50).
  int interval_ms = 10;      // Between latency enqueues.
  // Throughput drains, each from a fresh cluster over the same jobs. Every
  // round's figure is printed and "throughput" is their median; the logs of
  // a round slower than half the median are kept in slow_logs/round-N.
  int rounds = 1;
  std::string slow_logs = "e2e-slow-logs";

  [[nodiscard]] Result<void> Validate() const;
};

class E2eBench final : public Bench {
 public:
  std::string name() const override { return "e2e"; }
  std::string description() const override;
  void AddOptions(CLI::App& command) override;
  [[nodiscard]] Result<void> Validate() const override { return config_.Validate(); }
  [[nodiscard]] Result<void> Run(const BenchEnv& env) override;

 private:
  E2eBenchConfig config_;
};

}  // namespace chime::bench
