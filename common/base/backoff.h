// Exponential backoff with jitter, shared by job retries and reconnects.
#pragma once

#include <chrono>

#include "common/base/clock.h"

namespace chime {

struct BackoffPolicy {
  std::chrono::milliseconds base{1000};      // Delay before the first retry.
  std::chrono::milliseconds cap{3600 * 1000};  // No delay exceeds this.
  double jitter = 0.1;  // Fraction of the delay added at random, in [0, 1].
};

// Delay before retry number `attempt` (1-based): min(cap, base * 2^(attempt-1)),
// plus up to `jitter` of itself at random, never above cap. Pure given `rng`.
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int attempt,
                                       Rng& rng);

}  // namespace chime
