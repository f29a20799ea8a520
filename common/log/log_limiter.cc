#include "common/log/log_limiter.h"

#include <algorithm>

namespace chime {

void LogLimiter::Refill(Bucket& bucket, TimePoint now) const {
  if (now <= bucket.refilled) return;
  const double elapsed = std::chrono::duration<double>(now - bucket.refilled).count();
  bucket.tokens = std::min(config_.burst, bucket.tokens + elapsed * config_.per_second);
  bucket.refilled = now;
}

bool LogLimiter::Allow(std::string_view kind, TimePoint now, int64_t* suppressed) {
  // Kinds are the callers' constants; should one pass text of its own, the
  // kinds beyond kMaxKinds share one bucket.
  if (buckets_.size() >= kMaxKinds && !buckets_.contains(kind)) kind = "other";
  auto it = buckets_.find(kind);
  if (it == buckets_.end()) {
    it = buckets_.emplace(std::string(kind), Bucket{.tokens = config_.burst, .refilled = now}).first;
  }
  Bucket& b = it->second;
  Refill(b, now);
  if (b.tokens < 1) {
    ++b.suppressed;
    return false;
  }
  b.tokens -= 1;
  *suppressed = b.suppressed;
  b.suppressed = 0;
  return true;
}

std::vector<std::pair<std::string, int64_t>> LogLimiter::Flush(TimePoint now) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (auto& [kind, b] : buckets_) {
    if (b.suppressed == 0) continue;
    Refill(b, now);
    if (b.tokens < 1) continue;
    b.tokens -= 1;
    out.emplace_back(kind, b.suppressed);
    b.suppressed = 0;
  }
  return out;
}

std::string WithSuppressed(std::string line, int64_t suppressed) {
  if (suppressed > 0) line += " (" + std::to_string(suppressed) + " similar messages suppressed)";
  return line;
}

}  // namespace chime
