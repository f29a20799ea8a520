// A fire instant as people read it in the schedule's zone: the wall time,
// the UTC offset and the zone's abbreviation, and whether daylight saving
// is in effect, so a list of next fires can show where a clock change
// falls (the dashboard's schedule page). Pure; thread-safe.
#pragma once

#include <string>

#include "common/cron/cron.h"

namespace chime::cron {

struct ZonedTime {
  std::string local;   // "2026-03-29T03:00:00+02:00": wall time with its offset.
  std::string offset;  // "+02:00".
  std::string abbrev;  // "CEST" ("+0545" style where the zone has no name).
  bool dst = false;    // Daylight saving (or another saving) in effect.
};

ZonedTime InZone(const Zone& zone, Instant at);

}  // namespace chime::cron
