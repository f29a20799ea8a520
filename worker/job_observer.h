// What the worker tells its metrics about jobs, so that the executor and
// the completer need not know Prometheus (worker/http_metrics.h implements
// it). Implementations must be thread-safe and must not block.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "chime/v1/chime.pb.h"
#include "common/db/job.h"

namespace chime::worker {

class JobObserver {
 public:
  virtual ~JobObserver() = default;
  // A slot is about to run the job's handler (on the slot thread).
  virtual void JobStarted(const db::ClaimedJob& job) = 0;
  // An attempt's end as the completer reports it, accepted by the store or
  // not (on the completer thread).
  virtual void JobFinished(const v1::JobResult& result) = 0;
};

// From the job becoming due (run_at) to its claim (attempted_at), both in
// database time; never negative.
inline int64_t PickupLatencyMs(const db::ClaimedJob& job) {
  const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(job.attempted_at - job.run_at);
  return std::max<int64_t>(0, d.count());
}

}  // namespace chime::worker
