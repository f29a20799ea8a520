// `chime-bench kinds`: the seeds' fan-out kinds as the cluster runs them -
// chime-scheduler and W chime-worker processes of this build (default 2)
// against chime_app tables bulk-loaded into the bench database:
//   1. process_all_users over U users (default 100,000) x the 4 default
//      providers, every integration due: from the parent's enqueue to its
//      success, children created and children/s (target: 400,000 children
//      enqueued in under 5 s), with the payload {"parallelism": P} (default
//      4); --fanout-parallelism 0 runs it as before the parallel fan-out, as
//      a capped run ({"maxUsers": 1000000}) that reads every due row into the
//      worker on one session. The workers claim only the parent's queue, so
//      the sync_integration children (queue "default") stay queued and
//      unexecuted while it is measured;
//   2. reconcile_exam_capacity over all active exams of E (default 10,000),
//      ~10% with drifted counters, default batch size (so it fans out into
//      child jobs): from the enqueue until the parent and every child
//      finished, exams/s and the corrections made (target: 10,000 exams in
//      under 10 s). Afterwards every active exam's counter must equal its
//      active bookings;
//   3. http_request: N calls (default 20,000) against a local keep-alive
//      endpoint, calls/s and the connections it accepted (target >= 2,000
//      calls/s with connections reused); see http_request_bench.h.
// --parts picks which run (default all three).
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "bench/bench.h"

namespace chime::bench {

struct KindsBenchConfig {
  int users = 0;  // 0: 100,000 (--quick 2,000).
  int exams = 0;  // 0: 10,000 (--quick 1,000: still more than one batch).
  int workers = 2;
  int slots = 16;
  int fanout_parallelism = 4;  // 0: the capped, one-session path.
  int http_calls = 0;          // 0: 20,000 (--quick 1,000).
  int http_prefetch = -1;      // The http part's workers' --prefetch; < 0: the worker's default (auto).
  std::vector<std::string> parts{"fanout", "reconcile", "http"};

  [[nodiscard]] Result<void> Validate() const;
};

class KindsBench final : public Bench {
 public:
  std::string name() const override { return "kinds"; }
  std::string description() const override;
  void AddOptions(CLI::App& command) override;
  [[nodiscard]] Result<void> Validate() const override { return config_.Validate(); }
  [[nodiscard]] Result<void> Run(const BenchEnv& env) override;

 private:
  // Parts 1 and 2.
  [[nodiscard]] Result<void> RunSeedKinds(const BenchEnv& env);

  KindsBenchConfig config_;
};

}  // namespace chime::bench
