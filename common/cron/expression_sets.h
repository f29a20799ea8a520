// Internal to common/cron: the bit sets a parsed Expression matches, and the
// calendar arithmetic Parse, Matches and NextFire share. Immutable once built.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <string>

#include "common/cron/cron.h"

namespace chime::cron::internal {

struct ExpressionSets {
  std::string text;  // As given, trimmed.

  // Bit v is set when value v matches. Seconds is {0} without a seconds field.
  uint64_t seconds = 0;        // 0-59.
  uint64_t minutes = 0;        // 0-59.
  uint32_t hours = 0;          // 0-23.
  uint32_t days_of_month = 0;  // 1-31.
  uint32_t months = 0;         // 1-12.
  uint32_t days_of_week = 0;   // 0-6, Sunday 0 (a 7 in the text is folded into 0).

  // Vixie's DOM_STAR and DOW_STAR: the field's text starts with '*'. With
  // either, a day must match both day fields; with neither, either suffices.
  bool dom_star = false;
  bool dow_star = false;
  bool wildcard_time = false;  // MIN_STAR | HR_STAR.
  bool seconds_field = false;

  // week_days[w]: the days of a month (bits 1-31) whose 1st is weekday w that
  // fall on a day in days_of_week. Spares NextFire a per-day weekday test.
  std::array<uint32_t, 7> week_days{};

  // The days (bits 1-31) of a month with `days_in_month` days, starting on
  // weekday `first_weekday`, that match both day fields by Vixie's rule.
  uint32_t MatchingDays(unsigned first_weekday, unsigned days_in_month) const {
    const uint32_t in_month = static_cast<uint32_t>((uint64_t{2} << days_in_month) - 2);
    const uint32_t by_week = week_days[first_weekday];
    const uint32_t days =
        (dom_star || dow_star) ? (days_of_month & by_week) : (days_of_month | by_week);
    return days & in_month;
  }
};

inline constexpr int64_t kSecondsPerDay = 86400;

// The lowest set bit of `mask` at or above `from`, or -1.
inline int NextBit(uint64_t mask, int from) {
  if (from >= 64) return -1;
  const uint64_t rest = mask >> from;
  return rest == 0 ? -1 : from + std::countr_zero(rest);
}

// Floor division for day numbers before 1970.
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Weekday of a day counted from 1970-01-01 (a Thursday), Sunday 0.
inline unsigned WeekdayOf(int64_t day) { return static_cast<unsigned>(((day % 7) + 7 + 4) % 7); }

inline bool IsLeapYear(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

inline unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 13> kDays = {0,  31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  return (m == 2 && IsLeapYear(y)) ? 29 : kDays[m];
}

// Howard Hinnant's days_from_civil / civil_from_days: exact for every
// proleptic Gregorian date an int64 day count can hold, and branch-light.
constexpr int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct CivilDate {
  int64_t year;
  unsigned month;  // 1-12.
  unsigned day;    // 1-31.
};

inline CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

}  // namespace chime::cron::internal
