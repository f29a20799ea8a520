// The one way tests wait: poll a condition until it holds or a bound passes.
// The bound is only for broken builds: tests wait on states, never assert on
// how long they took. Every form returns a ::testing::AssertionResult whose
// failure says what was awaited (and, for WaitForValue, what was last seen),
// so `ASSERT_TRUE(WaitUntil("job 7 to succeed", [&] { ... }))` explains
// itself when it fails. Header-only; call from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include <gtest/gtest.h>

namespace chime::testing {

// For waits inside one process.
inline constexpr std::chrono::milliseconds kWaitBound = std::chrono::seconds(30);
// For waits on real processes (tests/integration, reliability, security):
// they start binaries and PostgreSQL sessions on a shared, loaded machine.
inline constexpr std::chrono::milliseconds kClusterWaitBound = std::chrono::seconds(60);

namespace internal {
inline constexpr std::chrono::milliseconds kPollEvery{10};
}  // namespace internal

// Polls `done` every 10 ms until it returns true. `done` runs at least once,
// and once more after the bound passes, so a slow first call cannot fail a
// wait whose condition already holds.
inline ::testing::AssertionResult WaitUntil(std::string_view what, const std::function<bool()>& done,
                                            std::chrono::milliseconds bound = kWaitBound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    const bool late = std::chrono::steady_clock::now() >= deadline;
    if (done()) return ::testing::AssertionSuccess();
    if (late) break;
    std::this_thread::sleep_for(internal::kPollEvery);
  }
  return ::testing::AssertionFailure() << "waited " << bound.count() << " ms for " << what
                                       << "; it never happened";
}

// As above, for a condition whose code (printed by ASSERT_TRUE) says what it is.
inline ::testing::AssertionResult WaitUntil(const std::function<bool()>& done,
                                            std::chrono::milliseconds bound = kWaitBound) {
  return WaitUntil("the condition", done, bound);
}

// Polls `observe()` until `accept(value)` holds; the failure names `what`
// and prints the last value observed.
template <typename Observe, typename Accept>
::testing::AssertionResult WaitForValue(std::string_view what, Observe&& observe, Accept&& accept,
                                        std::chrono::milliseconds bound = kWaitBound) {
  std::optional<std::decay_t<decltype(observe())>> last;
  ::testing::AssertionResult held = WaitUntil(what, [&] {
    last.emplace(observe());
    return accept(*last);
  }, bound);
  if (!held && last) held << "; last saw " << ::testing::PrintToString(*last);
  return held;
}

// Polls `observe()` until it equals `want`.
template <typename Observe, typename T>
::testing::AssertionResult WaitForEq(std::string_view what, Observe&& observe, const T& want,
                                     std::chrono::milliseconds bound = kWaitBound) {
  return WaitForValue(std::string(what) + " to be " + ::testing::PrintToString(want),
                      std::forward<Observe>(observe), [&](const auto& v) { return v == want; }, bound);
}

}  // namespace chime::testing
