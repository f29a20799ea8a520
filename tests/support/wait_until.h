// Polls a condition until it holds or a bound passes. The bound is only for
// broken builds: tests wait on states, never assert on how long they took.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace chime::testing {

inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds bound = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace chime::testing
