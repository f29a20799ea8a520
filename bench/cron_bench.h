// `chime-bench cron`: the leader's cost of cron with many schedules, in
// process against the bench database:
//   1. CPU time of one scheduler tick over S schedules (default 10,000) when
//      none is due and when every one is due (planning: next-fire search and
//      misfire policy), and the CPU of a whole due tick including firing;
//   2. fires per second when all S schedules are due at the same minute:
//      ScheduleStore::FireTicks under a leader lease, in the cron runner's
//      batches, each tick recorded once with its job (target: 10,000 fires
//      in under 1 s).
// Thread-compatible.
#pragma once

#include <string>

#include "bench/bench.h"

namespace chime::bench {

struct CronBenchConfig {
  int schedules = 0;  // 0: 10,000 (--quick 1,000).
  int rounds = 3;     // Due minutes fired; the table shows each.

  [[nodiscard]] Result<void> Validate() const;
};

class CronBench final : public Bench {
 public:
  std::string name() const override { return "cron"; }
  std::string description() const override;
  void AddOptions(CLI::App& command) override;
  [[nodiscard]] Result<void> Validate() const override { return config_.Validate(); }
  [[nodiscard]] Result<void> Run(const BenchEnv& env) override;

 private:
  CronBenchConfig config_;
};

}  // namespace chime::bench
