// Pure parsing and formatting of the values Chime reads and prints:
// durations ("30s", "1h30m"), RFC 3339 times, job ids and one-line text.
// No I/O, no clock: callers pass `now`. Thread-safe (all functions are pure).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/error.h"

namespace chime {

using TimePoint = std::chrono::system_clock::time_point;

// Parses a non-negative duration: one or more <integer><unit> parts with
// units ms, s, m, h, d ("500ms", "30s", "5m", "2h", "1h30m", "7d"), or "0".
// A bare number without a unit, a negative value, an unknown unit or a value
// above 100 years is InvalidArgument.
[[nodiscard]] Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Compact human form: "0s", "500ms", "12.345s", "5m", "1h30m", "2d3h4m5s".
// Below one minute the seconds carry milliseconds; above, whole seconds.
// Negative durations get a leading '-'.
std::string FormatDuration(std::chrono::milliseconds d);

// Parses an RFC 3339 date-time: "2026-01-31T02:00:00Z",
// "2026-01-31T02:00:00.5+02:00" (also 't'/' ' as separator and 'z').
// Fractions keep up to nanoseconds; a leap second (":60") becomes the next
// minute's first second. Anything else is InvalidArgument.
[[nodiscard]] Result<TimePoint> ParseRfc3339(std::string_view text);

enum class TimePrecision { kSeconds, kMillis, kMicros };

// RFC 3339 in UTC with a 'Z': "2026-01-31T02:00:00Z", or with kMillis
// "2026-01-31T02:00:00.000Z" (kMicros: ".000000Z", exact for a database
// time). Sub-precision digits are truncated toward the past.
std::string FormatRfc3339(TimePoint t, TimePrecision precision = TimePrecision::kSeconds);

// A point in time given either as RFC 3339 or as a duration meaning "that
// long before now" ("24h" -> now - 24h).
[[nodiscard]] Result<TimePoint> ParseTimeOrAgo(std::string_view text, TimePoint now);

// A job id: decimal digits only, 1 .. INT64_MAX.
[[nodiscard]] Result<int64_t> ParseJobId(std::string_view text);

// Text for a one-line table cell: control characters (newlines, tabs) become
// spaces, runs of spaces collapse, and at most `max_chars` code points are
// kept, the last being "…" when cut. Never splits a UTF-8 sequence.
std::string OneLine(std::string_view text, size_t max_chars);

// Number of code points of valid or invalid UTF-8 (continuation bytes do not count).
size_t DisplayWidth(std::string_view text);

}  // namespace chime
