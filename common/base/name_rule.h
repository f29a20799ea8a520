// The rule for the names of kinds, queues, schedules and limits: 1-128 bytes,
// each one of A-Z a-z 0-9 _ . : - (ASCII only; no locale). Every check in C++
// asks IsValidName and every message quotes kNameRule. The schema's CHECKs say
// the same in migrations 0001 (jobs.kind, jobs.queue, schedules.name) and 0022
// (limits), which cannot change after they were applied; from 0024 on the
// schema declares it once, as the domain chime.name, for new columns.
// Thread-safe (constants and pure functions).
#pragma once

#include <cstddef>
#include <string_view>

namespace chime {

inline constexpr size_t kMaxNameBytes = 128;

// For messages: "kind: must be " + kNameRule.
inline constexpr std::string_view kNameRule = "1-128 characters of A-Z a-z 0-9 _ . : -";

constexpr bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == ':' || c == '-';
}

constexpr bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

}  // namespace chime
