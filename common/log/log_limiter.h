// Token buckets for log lines that someone outside can cause (a peer's
// garbage, a refused hello, a goodbye): each kind of line may burst, then
// flows at a steady rate; lines beyond that are counted instead of written,
// and the next line of that kind written, or Flush() once the bucket has
// refilled, says how many were suppressed. A hostile peer can then cost the
// log a bounded number of bytes per second whatever it sends.
// Time comes from the caller. Thread-compatible (one owner thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace chime {

struct LogLimiterConfig {
  double burst = 10;       // Lines of one kind written back to back.
  double per_second = 1;   // Then this many a second.
};

class LogLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  static constexpr size_t kMaxKinds = 256;

  explicit LogLimiter(LogLimiterConfig config = {}) : config_(config) {}

  // Whether a line of `kind` may be written at `now` (taking a token). When
  // it may, `*suppressed` is how many lines of that kind were dropped since
  // the last one written, which the caller appends to its line.
  bool Allow(std::string_view kind, TimePoint now, int64_t* suppressed);

  // For each kind with suppressed lines not yet reported and a token again
  // at `now`: its name and the count (taking the token and resetting the
  // count). Call periodically so that the last burst's count is not lost.
  std::vector<std::pair<std::string, int64_t>> Flush(TimePoint now);

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint refilled{};
    int64_t suppressed = 0;
  };
  void Refill(Bucket& bucket, TimePoint now) const;

  const LogLimiterConfig config_;
  std::map<std::string, Bucket, std::less<>> buckets_;  // At most kMaxKinds + 1.
};

// Appends " (N similar messages suppressed)" when N > 0.
std::string WithSuppressed(std::string line, int64_t suppressed);

}  // namespace chime
