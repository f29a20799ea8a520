// The dashboard's half of `chime-bench stats`: with the run ledger the stats
// bench loaded (1,000,000 runs over 7 days), it adds what a deployment with
// that history also holds - a job per run in the hot table (7 days of
// retention keeps them), a fire per scheduled run (2 % skipped), one
// fan-out of 10,000 children, a week of queue samples for 5 queues - then
// starts a real chime-scheduler on the database and times every GET the
// dashboard's pages make, over HTTP, as the browser does. Prints p50/p95
// per call, the answer's size and target_met (p95 under 50 ms).
// Thread-compatible.
#pragma once

#include <cstdint>

#include "bench/bench.h"
#include "bench/pq.h"

namespace chime::bench {

// `runs` runs are in chime.runs (ids 1..runs, job_id = id); `repeats`
// timed calls per endpoint. Adds to env.report.
[[nodiscard]] Result<void> TimeDashboardApi(const BenchEnv& env, PqConnection& pq, int64_t runs, int repeats);

}  // namespace chime::bench
