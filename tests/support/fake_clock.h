// A clock that only moves when told, so tests of timeouts, backoff and
// signature windows never sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/base/clock.h"

namespace chime::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
  }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
  }
  void Advance(std::chrono::milliseconds by) { now_ms_ += by.count(); }

 private:
  std::atomic<int64_t> now_ms_{1'700'000'000'000};  // 2023-11-14, a plausible wall time.
};

}  // namespace chime::testing
