// NextFire: walks the zone's stretches of constant UTC offset and, in each,
// asks the calendar for the next matching wall time. The calendar search
// jumps over unlisted months and, through the day bit sets, straight to the
// next matching day, so its cost grows with months, not minutes.
#include <date/tz.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <optional>

#include "common/cron/cron.h"
#include "common/cron/expression_sets.h"

namespace chime::cron {
namespace {

using internal::CivilDate;
using internal::kSecondsPerDay;
using Sets = internal::ExpressionSets;

// One Gregorian cycle (dates and weekdays repeat after it) plus a week for
// UTC offsets and DST gaps.
constexpr int64_t kSearchSeconds = (146097 + 7) * kSecondsPerDay;
// `after` must lie in the years 0001-9999.
constexpr int64_t kEarliestAfter = internal::DaysFromCivil(1, 1, 1) * kSecondsPerDay;
constexpr int64_t kLatestAfter = internal::DaysFromCivil(10000, 1, 1) * kSecondsPerDay - 1;
// More than any UTC offset change (-12:00 to +14:00 is 26 hours): past this
// long after a transition, its gap or repeat cannot matter any more.
constexpr int64_t kTransitionReach = 48 * 3600;

// The first second of the day at or after `tod` (seconds since midnight)
// whose hour, minute and second match, or -1.
int64_t NextTimeOfDay(const Sets& s, int64_t tod) {
  const int hour = static_cast<int>(tod / 3600);
  const int minute = static_cast<int>(tod / 60 % 60);
  const int second = static_cast<int>(tod % 60);
  const int64_t first_second = std::countr_zero(s.seconds);
  if ((s.hours >> hour & 1) != 0) {
    if ((s.minutes >> minute & 1) != 0) {
      const int next_second = internal::NextBit(s.seconds, second);
      if (next_second >= 0) return hour * 3600 + minute * 60 + next_second;
    }
    const int next_minute = internal::NextBit(s.minutes, minute + 1);
    if (next_minute >= 0) return hour * 3600 + next_minute * 60 + first_second;
  }
  const int next_hour = internal::NextBit(s.hours, hour + 1);
  if (next_hour < 0) return -1;
  return next_hour * 3600 + std::countr_zero(s.minutes) * 60 + first_second;
}

// The first matching wall time in [from, limit), both in seconds on the local
// time line (local midnight 1970-01-01 is 0), or nullopt.
std::optional<int64_t> NextWall(const Sets& s, int64_t from, int64_t limit) {
  int64_t day = internal::FloorDiv(from, kSecondsPerDay);
  int64_t tod = from - day * kSecondsPerDay;  // The earliest second still wanted on `day`.
  CivilDate date = internal::CivilFromDays(day);
  while (day * kSecondsPerDay < limit) {
    if ((s.months >> date.month & 1) == 0) {
      int next = internal::NextBit(s.months, static_cast<int>(date.month) + 1);
      if (next < 0) {
        ++date.year;
        next = std::countr_zero(s.months);
      }
      date.month = static_cast<unsigned>(next);
      date.day = 1;
      day = internal::DaysFromCivil(date.year, date.month, 1);
      tod = 0;
      continue;
    }
    const unsigned days_in_month = internal::DaysInMonth(date.year, date.month);
    const int64_t first_of_month = day - (date.day - 1);
    uint32_t days = s.MatchingDays(internal::WeekdayOf(first_of_month), days_in_month);
    days = days >> date.day << date.day;  // From today on.
    // Hours, minutes and seconds are the same every day: if today has no
    // time left, the next matching day's first time matches.
    while (days != 0) {
      const unsigned d = static_cast<unsigned>(std::countr_zero(days));
      if (d != date.day) tod = 0;
      const int64_t midnight = (first_of_month + d - 1) * kSecondsPerDay;
      if (midnight >= limit) return std::nullopt;
      const int64_t time = NextTimeOfDay(s, tod);
      if (time >= 0) {
        if (midnight + time >= limit) return std::nullopt;
        return midnight + time;
      }
      tod = 0;
      days &= days - 1;
    }
    day = first_of_month + days_in_month;
    date.day = 1;
    tod = 0;
    if (++date.month > 12) {
      date.month = 1;
      ++date.year;
    }
  }
  return std::nullopt;
}

Instant ToInstant(int64_t seconds) { return Instant(std::chrono::seconds(seconds)); }
int64_t Seconds(Instant instant) { return instant.time_since_epoch().count(); }

}  // namespace

std::optional<Instant> NextFire(const Expression& expression, const Zone& zone, Instant after) {
  if (!expression.sets_) return std::nullopt;
  const Sets& s = *expression.sets_;
  const int64_t after_seconds = Seconds(after);
  if (after_seconds < kEarliestAfter || after_seconds > kLatestAfter) return std::nullopt;
  const date::time_zone* tz = zone.tz();
  const int64_t search_end = after_seconds + kSearchSeconds;

  // Each pass covers one stretch [begin, end) of constant UTC offset, from
  // `t` (the earliest instant still wanted) on.
  int64_t t = after_seconds + 1;
  date::sys_info info = tz->get_info(ToInstant(t));
  while (true) {
    const int64_t begin = Seconds(info.begin);
    const int64_t end = std::min(Seconds(info.end), search_end);
    const int64_t offset = info.offset.count();
    int64_t from = t + offset;  // Wall time of t.
    if (!s.wildcard_time && t - begin < kTransitionReach) {
      const date::sys_info before = tz->get_info(info.begin - std::chrono::seconds(1));
      const int64_t before_offset = before.offset.count();
      if (before_offset < offset && begin >= t) {
        // Spring forward at `begin`: wall times [begin + before_offset,
        // begin + offset) never happen; any that match fire once, at the jump.
        if (NextWall(s, begin + before_offset, begin + offset)) return ToInstant(begin);
      } else if (before_offset > offset) {
        // Fall back at `begin`: wall times [begin + offset, begin +
        // before_offset) happen again; they fired at their first occurrence.
        from = std::max(from, begin + before_offset);
      }
    }
    if (auto wall = NextWall(s, from, end + offset)) return ToInstant(*wall - offset);
    if (end >= search_end) return std::nullopt;
    t = end;
    info = tz->get_info(ToInstant(t));
  }
}

}  // namespace chime::cron
