// The cron language of Chime's schedules: five fields (minute, hour, day of
// month, month, day of week) with lists, ranges, steps, month and weekday
// names and the @yearly .. @hourly macros, evaluated in an IANA time zone with
// Vixie cron's rules for daylight-saving changes. Pure: no clock, no I/O but
// the zone database. Expression and Zone are immutable values, safe to share
// between threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace date {
class time_zone;
}  // namespace date

namespace chime::cron {

// Fire times are whole seconds (whole minutes unless ParseOptions::seconds_field).
using Instant = std::chrono::sys_seconds;

enum class Field {
  kSecond,      // Only with ParseOptions::seconds_field.
  kMinute,
  kHour,
  kDayOfMonth,
  kMonth,
  kDayOfWeek,
  kExpression,  // The expression as a whole (field count, macros, satisfiability).
};

// "second", "minute", "hour", "day of month", "month", "day of week", "expression".
std::string_view FieldName(Field field);

enum class ErrorKind {
  kTooLong,           // More than 256 bytes.
  kFieldCount,        // Not five fields (six with seconds_field).
  kEmptyField,        // An empty list element: "1,,2", "1,", ",".
  kSyntax,            // A character or form that is not cron: "1-", "a/b", "1--2", "**".
  kOutOfRange,        // "60" in minute, "0" in day of month, "8" in day of week.
  kReversedRange,     // "5-1".
  kZeroStep,          // "*/0", "1-5/0".
  kUnknownName,       // "foo" in month; names outside month and day of week.
  kUnsupportedMacro,  // "@reboot", "@every", any unknown "@word".
  kUnsatisfiable,     // No date can ever match: "0 0 30 2 *", "0 0 31 4,6,9,11 *".
};

struct ParseError {
  ErrorKind kind;
  Field field;
  size_t position;      // 0-based byte offset, into the text given to Parse, of the
                        // offending token (the end of the text when fields are missing).
  std::string message;  // One line naming the field and reason: "minute: 60 is out of range 0-59".

  // InvalidArgument carrying `message`.
  Error ToError() const;
};

struct ParseOptions {
  // Require a sixth, leading seconds field (0-59): exactly six fields, or a
  // macro (which fires at second 0). For test clocks only: the production
  // language, and every user-facing entry point, is five fields.
  bool seconds_field = false;
};

class Zone;
namespace internal {
struct ExpressionSets;  // The matched values; common/cron/expression_sets.h.
}  // namespace internal

// A parsed expression: the sets of values each field matches. Cheap to copy
// (shares its sets). A default-constructed Expression has empty text and
// never matches or fires.
class Expression {
 public:
  // At most 256 bytes. Whitespace (spaces, tabs) separates fields; leading
  // and trailing whitespace is ignored. Or one macro, case-insensitive:
  // @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly (other
  // @words, @reboot and @every are kUnsupportedMacro). Elements: *, N, a-b,
  // */n, a-b/n and N/n (N to the field's maximum, as Vixie cron), joined by
  // commas. Month (jan..dec) and day-of-week (sun..sat) names are
  // case-insensitive, also in ranges; day of week 7 is Sunday. Numbers have at
  // most 3 digits; a step is 1-999 and may exceed the field's range (minute
  // */100 is minute 0). Rejects, besides malformed text, day-of-month/month
  // combinations that never occur ("0 0 30 2 *"); 29 February is accepted.
  static std::expected<Expression, ParseError> Parse(std::string_view text,
                                                     ParseOptions options = {});

  // The text as given (trimmed).
  const std::string& text() const;
  bool has_seconds_field() const;

  // Vixie's MIN_STAR | HR_STAR: the minute or the hour field starts with '*'.
  // Such "wildcard" schedules run on real time across DST changes (every real
  // occurrence in a repeated hour, no catch-up for skipped times); others run
  // once per wall-clock time (see NextFire).
  bool wildcard_time() const;

  // Whether a wall-clock (local) date and time matches: day of month and day
  // of week combine with Vixie's rule: when neither field starts with '*', a
  // day matching either fires; when one does (DOM_STAR / DOW_STAR), a day must
  // match both, so "*" leaves the other field alone and "*/2" still narrows
  // it. Without a seconds field only second 0 of a minute matches.
  bool Matches(std::chrono::local_seconds local) const;

 private:
  friend std::optional<Instant> NextFire(const Expression&, const Zone&, Instant);

  std::shared_ptr<const internal::ExpressionSets> sets_;
};

// A validated IANA time zone from the system zone database (date-tz reading
// /usr/share/zoneinfo). A default-constructed Zone is UTC. Offsets past the
// last transition stored in the zone file (2037 in Debian's files) stay at
// that transition's offset: date-tz does not extend the rules beyond it.
class Zone {
 public:
  // "UTC", "America/New_York", ... A name that is empty, longer than 64 bytes,
  // absolute, or has anything outside [A-Za-z0-9_+-/] (so no "..", no
  // backslash) is InvalidArgument `time zone "../x": not a zone name (...)`,
  // checked before the database is asked; one the database does not know is
  // InvalidArgument `time zone "Mars/Base": not in the zone database`. Never
  // opens a path built from the name. Thread-safe.
  static Result<Zone> Load(std::string_view name);
  static Zone Utc();

  const std::string& name() const;
  const date::time_zone* tz() const;  // Never null.

 private:
  std::string name_ = "UTC";
  const date::time_zone* tz_ = nullptr;  // Null only when default-constructed: UTC.
};

// The first fire instant strictly after `after`. Wall times are matched in
// `zone` with Vixie cron's DST rules:
// - a matching wall time that exists once fires at that instant;
// - a matching wall time skipped by a spring-forward: a non-wildcard schedule
//   fires once at the first instant after the jump (several skipped times
//   collapse into that one fire); a wildcard schedule does not fire for it;
// - a matching wall time repeated by a fall-back: a non-wildcard schedule fires
//   once, at its first occurrence; a wildcard schedule fires at both.
// A whole skipped day (Pacific/Apia, 2011-12-30) is one long gap: a
// non-wildcard schedule's times on it fire once at the jump.
// Bounded: searches at most 400 years (one Gregorian cycle, after which dates
// and weekdays repeat, so every expression Parse accepts fires within it; the
// longest real gap is 40 years, "0 0 29 2 */7" = 29 February on a Sunday).
// The search jumps by months and days using the field sets, so even that
// costs microseconds. Returns nullopt past the bound, for a default-constructed
// Expression, and for `after` outside the years 0001-9999.
std::optional<Instant> NextFire(const Expression& expression, const Zone& zone, Instant after);

}  // namespace chime::cron
