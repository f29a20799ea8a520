// `chime-bench stats`: the latency of the run-statistics and alert queries
// behind `jobctl stats --by`, /api/stats and the health monitor, with a big
// run ledger. Bulk-loads R runs (default 1,000,000; --quick 50,000) by SQL,
// spread over the last 7 days, 50 schedules of 10 kinds plus unscheduled
// runs, mixed outcomes and log-normal-ish durations, through the same
// statement triggers that keep the hourly rollup (so the load also shows the
// trigger's cost), and 500 alerts. Then times each query Q times (default
// 30) through db::StatsStore / db::AlertStore and prints p50/p95 per query
// and target_met (every p95 under 50 ms). Then bench/stats_api.h times each
// call of the dashboard's pages over HTTP on that data. Thread-compatible.
#pragma once

#include <string>

#include "bench/bench.h"

namespace chime::bench {

struct StatsBenchConfig {
  int runs = 0;        // 0: 1,000,000 (--quick 50,000).
  int repeats = 30;    // Timed executions per query.
  bool skip_api = false;  // Only the store queries (bench/stats_api.h times the HTTP API).

  [[nodiscard]] Result<void> Validate() const;
};

class StatsBench final : public Bench {
 public:
  std::string name() const override { return "stats"; }
  std::string description() const override;
  void AddOptions(CLI::App& command) override;
  [[nodiscard]] Result<void> Validate() const override { return config_.Validate(); }
  [[nodiscard]] Result<void> Run(const BenchEnv& env) override;

 private:
  StatsBenchConfig config_;
};

}  // namespace chime::bench
