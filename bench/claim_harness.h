// Runs several claimers, each on its own thread with its own connection,
// from one start signal until the queue is drained, and times the whole.
// Thread-compatible; the claimers it runs are each used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/base/error.h"

namespace chime::bench {

// One claimer: loops claim(batch) -> complete(all claimed) until a claim
// returns nothing. Implemented over JobStore and over bare libpq.
class Claimer {
 public:
  virtual ~Claimer() = default;
  // Connects and warms up (prepares statements) before timing starts.
  [[nodiscard]] virtual Result<void> Prepare() = 0;
  // Claims one batch and completes it; returns the number completed, 0 when
  // the claim found nothing.
  [[nodiscard]] virtual Result<int64_t> ClaimAndComplete() = 0;
  // After an empty claim while jobs are left (RunClaimers' `until`): waits,
  // as a worker does, for a sign that some may be claimable.
  virtual void AwaitWork() {}
};

struct CellOutcome {
  int64_t completed = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(completed) / seconds : 0; }
};

// Prepares every claimer on its own thread, releases them together and waits until all have
// drained the queue. Returns the first error; the others stop early then.
// `until`: the jobs to complete before a claimer that found nothing stops
// (under a limit another claimer's jobs may hold what is left for a moment);
// none: a claimer stops at its first empty claim.
[[nodiscard]] Result<CellOutcome> RunClaimers(std::vector<std::unique_ptr<Claimer>> claimers,
                                              std::optional<int64_t> until = std::nullopt);

}  // namespace chime::bench
