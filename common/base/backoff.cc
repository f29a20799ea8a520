#include "common/base/backoff.h"

#include <algorithm>
#include <cmath>

namespace chime {

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int attempt,
                                       Rng& rng) {
  const double base = static_cast<double>(policy.base.count());
  const double cap = static_cast<double>(policy.cap.count());
  const int exponent = std::clamp(attempt - 1, 0, 62);
  const double raw = std::min(cap, base * std::ldexp(1.0, exponent));
  const double jittered = raw * (1.0 + std::clamp(policy.jitter, 0.0, 1.0) * rng.Uniform01());
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(cap, jittered)));
}

}  // namespace chime
