// The built-in job kinds for smoke tests, demos and benchmarks: noop, sleep
// ({"ms": N}) and fail ({"times": N}: fails attempts 1..N). Thread-safe.
#pragma once

#include <atomic>

#include "common/db/job.h"

namespace chime::worker {

// Runs one claimed job of a built-in kind; an unknown kind is a permanent
// failure naming it. Stops a sleep early when *stop becomes true.
db::Completion RunBuiltin(const db::ClaimedJob& job, const std::string& worker_id,
                          const std::atomic<bool>& stop);

}  // namespace chime::worker
