// The store bench's workloads through Chime's own API (chime::db::JobStore),
// each on a JobStore with its own Connection. Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/claim_harness.h"
#include "common/base/error.h"

namespace chime::bench {

// A claimer over JobStore::JobsClaim + JobsCompleteIfLeased(kSucceeded).
std::unique_ptr<Claimer> MakeChimeClaimer(const std::string& conninfo, int batch,
                                          std::string worker_id);

// Inserts `jobs` jobs through JobsInsertMany, `batch` per call, split evenly
// over `sessions` concurrent sessions (a thread and a connection each);
// returns the wall-clock seconds from the first call to the last one's end
// (connecting and building the EnqueueParams are not timed).
[[nodiscard]] Result<double> TimeBulkEnqueue(const std::string& conninfo, int64_t jobs, int batch,
                                             int sessions);

// Claims one job at a time `warmup + samples` times, completing each, and
// returns the duration of each timed JobsClaim call in milliseconds. Fails if
// the queue runs dry first.
[[nodiscard]] Result<std::vector<double>> TimeClaims(const std::string& conninfo, int samples,
                                                     int warmup);

}  // namespace chime::bench
