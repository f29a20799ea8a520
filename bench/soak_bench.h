// `chime-bench soak`: the claim path at full rate for a long time - the
// chime-scheduler and W chime-worker binaries of this build drain no-op jobs
// for --minutes (default 30) while a producer keeps --backlog (default
// 20,000) jobs queued and not yet succeeded, bulk-enqueued the way e2e loads
// its drain, so the workers never starve and the queue never grows without
// bound. Nothing deletes finished jobs or runs: the ledger and history grow
// as in production without the maintainer.
// Before the workers start, every --interval (default 60 s) and after they
// stopped, it samples chime.jobs, chime.runs and the counters the completion
// updates (chime.job_counts, chime.run_stats), each summed over its leaves
// (pg_partition_tree, so a plain table is its own leaf) and, when the table
// is partitioned with a DEFAULT partition (the live jobs), that partition on
// its own row: n_live_tup, n_dead_tup, heap and index size, the size of the
// claim's ready index (--ready-index, its partitions' indexes summed), and
// autovacuum/autoanalyze counts. It also reports jobs/s drained per
// interval and overall, and per table a verdict: dead tuples at the end vs
// at the start, the ready index at the end vs after the first interval.
// A verdict says "built up" when the end is over twice the reference and
// more than 10,000 dead rows (1 MB of index) above it.
// The counts are as fresh as PostgreSQL's cumulative statistics: the
// sampling session forces its own flush, but another busy session flushes
// at most once a second and skips a flush while the table's shared entry is
// locked, for up to 60 s, so an interval sample may lag the workers by up
// to a minute (most visibly right after an autovacuum, which resets the
// count); the "after" sample is taken once the workers' sessions ended, so
// it holds everything they did. Thread-compatible.
#pragma once

#include <string>

#include "bench/bench.h"

namespace chime::bench {

struct SoakBenchConfig {
  double minutes = 0;  // Run length, may be fractional; 0: 30 (--quick 0.25).
  int interval_s = 0;  // Between samples; 0: 60 (--quick 5).
  int workers = 2;
  int slots = 16;
  int prefetch = -1;     // < 0: the worker's default (auto).
  int claim_batch = 0;   // 0: the worker's default.
  int64_t backlog = 20'000;  // Jobs kept queued and not yet succeeded.
  std::string ready_index = "chime.jobs_ready_idx";  // The claim's index (0001).
  std::string logs = "soak-logs";  // The cluster's logs are saved here at the end.

  [[nodiscard]] Result<void> Validate() const;
};

class SoakBench final : public Bench {
 public:
  std::string name() const override { return "soak"; }
  std::string description() const override;
  void AddOptions(CLI::App& command) override;
  [[nodiscard]] Result<void> Validate() const override { return config_.Validate(); }
  [[nodiscard]] Result<void> Run(const BenchEnv& env) override;

 private:
  SoakBenchConfig config_;
};

}  // namespace chime::bench
