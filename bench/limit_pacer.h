// Claimers that keep to a rate limit the way the worker's producer does
// (worker/producer.cc): claim a batch; after a short claim, ask
// LimitStore::LimitsNextSlot when a rate window next lets a start through
// and sleep until then (at least 1 ms) rather than poll. Each claimer has
// its own thread and connection and completes what it claims at once.
// Thread-compatible: RunPacedClaimers spawns and joins its own threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/base/error.h"

namespace chime::bench {

struct PacedOutcome {
  int64_t claimed = 0;       // Jobs claimed (and completed) in all.
  int64_t claims = 0;        // JobsClaim calls.
  int64_t short_claims = 0;  // Claims that came back short (each then slept).
};

// Runs `claimers` paced claimers on queue "default", `batch` jobs a claim,
// for `duration` from one start signal. Returns the first error.
[[nodiscard]] Result<PacedOutcome> RunPacedClaimers(const std::string& conninfo, int claimers,
                                                    int batch, std::chrono::milliseconds duration);

// The most of `sorted_us` (ascending microsecond times) that lie in any
// half-open window [t, t + window_us), the sliding window the claim keeps
// (a start exactly one window earlier has left it).
int64_t MostInWindow(const std::vector<int64_t>& sorted_us, int64_t window_us);

}  // namespace chime::bench
