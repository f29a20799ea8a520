// Internal to common/wire: times travel as Unix milliseconds, 0 meaning unset
// (fire ticks as microseconds).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "common/db/job.h"

namespace chime::wire::internal {

inline int64_t Ms(db::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline int64_t Ms(const std::optional<db::TimePoint>& t) { return t ? Ms(*t) : 0; }
inline db::TimePoint Time(int64_t ms) { return db::TimePoint(std::chrono::milliseconds(ms)); }
inline std::optional<db::TimePoint> OptTime(int64_t ms) {
  if (ms == 0) return std::nullopt;
  return Time(ms);
}

// Where milliseconds would lose what a reader needs back exactly (a fire's
// tick: a manual trigger's is the database's now(), and a page cursor must
// name it), microseconds.
inline int64_t Us(db::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
inline db::TimePoint FromUs(int64_t us) {
  return db::TimePoint(std::chrono::duration_cast<db::TimePoint::duration>(std::chrono::microseconds(us)));
}

}  // namespace chime::wire::internal
