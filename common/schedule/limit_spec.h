// What a cluster-wide limit is (issue 20): a budget for the jobs matching a
// queue and/or kind, at most `concurrency` running at once and/or at most
// `rate` started in any sliding `window`, optionally one budget per value of
// a top-level payload field (`partition_by`). The claim enforces it in the
// database (migration 0022). Thread-safe (values and pure functions).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace chime::schedule {

struct LimitRate {
  int count = 0;                     // Starts allowed per window: 1-1,000,000.
  std::chrono::milliseconds window;  // 1 s - 24 h.
};

struct LimitSpec {
  std::string name;                         // 1-128 of A-Z a-z 0-9 _ . : -
  std::optional<std::string> queue;         // Unset: any queue.
  std::optional<std::string> kind;          // Unset: any kind.
  std::optional<std::string> partition_by;  // A payload field: A-Z a-z 0-9 _, 1-64.
  std::optional<int> concurrency;           // 1-1,000,000.
  std::optional<LimitRate> rate;
};

// "100/1m", "5000/1h", "10/s", "3/30s": starts per window; the window is a
// duration ("1m", "90s") or a bare unit ("s", "m", "h" for one of it).
// InvalidArgument says what is wrong.
[[nodiscard]] Result<LimitRate> ParseLimitRate(std::string_view text);
// The form ParseLimitRate reads: "100/1m", "5000/1h", "3/30s".
std::string FormatLimitRate(const LimitRate& rate);

// A limit's name: 1-128 of A-Z a-z 0-9 _ . : - (InvalidArgument otherwise).
[[nodiscard]] Result<void> CheckLimitName(std::string_view name);

// InvalidArgument naming the field: a bad name, queue, kind or field; no
// concurrency and no rate; a value out of range.
[[nodiscard]] Result<void> Validate(const LimitSpec& spec);

}  // namespace chime::schedule
