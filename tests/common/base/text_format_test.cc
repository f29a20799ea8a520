#include "common/base/text_format.h"

#include <gtest/gtest.h>

namespace chime {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint Utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s);
}

TEST(ParseDurationTest, AcceptsEveryUnit) {
  EXPECT_EQ(ParseDuration("500ms").value(), milliseconds(500));
  EXPECT_EQ(ParseDuration("30s").value(), seconds(30));
  EXPECT_EQ(ParseDuration("5m").value(), minutes(5));
  EXPECT_EQ(ParseDuration("2h").value(), hours(2));
  EXPECT_EQ(ParseDuration("7d").value(), hours(7 * 24));
  EXPECT_EQ(ParseDuration("0").value(), milliseconds(0));
  EXPECT_EQ(ParseDuration("0s").value(), milliseconds(0));
}

TEST(ParseDurationTest, AddsCompoundParts) {
  EXPECT_EQ(ParseDuration("1h30m").value(), minutes(90));
  EXPECT_EQ(ParseDuration("1m500ms").value(), milliseconds(60'500));
  EXPECT_EQ(ParseDuration("1d1h1m1s1ms").value(), milliseconds(90'061'001));
}

TEST(ParseDurationTest, RejectsMalformedInput) {
  for (const char* bad : {"", "5", "5x", "m", "1.5h", "-5m", "+5m", " 5m", "5m ", "5M", "5mm",
                          "h5", "5 m", "1h-30m"}) {
    auto d = ParseDuration(bad);
    ASSERT_FALSE(d) << '"' << bad << '"';
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(ParseDurationTest, RejectsMoreThanAHundredYears) {
  EXPECT_TRUE(ParseDuration("36525d"));
  EXPECT_FALSE(ParseDuration("36526d"));
  EXPECT_FALSE(ParseDuration("36525d1ms"));
  EXPECT_FALSE(ParseDuration("99999999999999999999999ms"));
  EXPECT_FALSE(ParseDuration("9223372036854775807d"));
}

TEST(FormatDurationTest, PrintsCompactForms) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(7)), "7ms");
  EXPECT_EQ(FormatDuration(milliseconds(999)), "999ms");
  EXPECT_EQ(FormatDuration(milliseconds(1000)), "1s");
  EXPECT_EQ(FormatDuration(milliseconds(12'345)), "12.345s");
  EXPECT_EQ(FormatDuration(milliseconds(12'500)), "12.5s");
  EXPECT_EQ(FormatDuration(minutes(5)), "5m");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(hours(24) + seconds(5)), "1d5s");
  EXPECT_EQ(FormatDuration(milliseconds(-1500)), "-1.5s");
}

TEST(FormatDurationTest, RoundTripsThroughParse) {
  for (const char* text : {"500ms", "30s", "5m", "2h", "1h30m", "7d", "2d3h4m5s"}) {
    EXPECT_EQ(FormatDuration(ParseDuration(text).value()), text);
  }
}

TEST(ParseRfc3339Test, ParsesUtc) {
  EXPECT_EQ(ParseRfc3339("2026-01-31T02:00:00Z").value(), Utc(2026, 1, 31, 2, 0, 0));
  EXPECT_EQ(ParseRfc3339("2026-01-31t02:00:00z").value(), Utc(2026, 1, 31, 2, 0, 0));
  EXPECT_EQ(ParseRfc3339("2026-01-31 02:00:00Z").value(), Utc(2026, 1, 31, 2, 0, 0));
}

TEST(ParseRfc3339Test, AppliesOffsets) {
  EXPECT_EQ(ParseRfc3339("2026-01-31T04:00:00+02:00").value(), Utc(2026, 1, 31, 2, 0, 0));
  EXPECT_EQ(ParseRfc3339("2026-01-30T21:30:00-04:30").value(), Utc(2026, 1, 31, 2, 0, 0));
  EXPECT_EQ(ParseRfc3339("2026-01-01T00:30:00+01:00").value(), Utc(2025, 12, 31, 23, 30, 0));
  EXPECT_EQ(ParseRfc3339("2026-01-31T02:00:00-00:00").value(), Utc(2026, 1, 31, 2, 0, 0));
}

TEST(ParseRfc3339Test, KeepsFractions) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(ParseRfc3339("2026-01-31T02:00:00.5Z").value(), Utc(2026, 1, 31, 2, 0, 0) + milliseconds(500));
  EXPECT_EQ(ParseRfc3339("2026-01-31T02:00:00.123456789Z").value(),
            Utc(2026, 1, 31, 2, 0, 0) + nanoseconds(123'456'789));
  EXPECT_EQ(ParseRfc3339("2026-01-31T02:00:00.1234567891Z").value(),
            Utc(2026, 1, 31, 2, 0, 0) + nanoseconds(123'456'789));
}

TEST(ParseRfc3339Test, AcceptsLeapDaysAndLeapSeconds) {
  EXPECT_EQ(ParseRfc3339("2028-02-29T00:00:00Z").value(), Utc(2028, 2, 29, 0, 0, 0));
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60Z").value(), Utc(2017, 1, 1, 0, 0, 0));
}

TEST(ParseRfc3339Test, RejectsMalformedOrImpossibleTimes) {
  for (const char* bad : {"", "2026-01-31", "2026-01-31T02:00Z", "2026-01-31T02:00:00",
                          "2026-1-31T02:00:00Z", "2026-01-31T02:00:00+0200", "2026-01-31T02:00:00.Z",
                          "2026-01-31T02:00:00ZZ", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                          "2026-00-01T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-31T24:00:00Z",
                          "2026-01-31T02:60:00Z", "2026-01-31T02:00:61Z", "2026-01-31T02:00:00+24:00",
                          "1800-01-01T00:00:00Z", "9999-01-01T00:00:00Z", "tomorrow",
                          "2026-01-31X02:00:00Z"}) {
    auto t = ParseRfc3339(bad);
    ASSERT_FALSE(t) << '"' << bad << '"';
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(FormatRfc3339Test, PrintsUtcWithZ) {
  EXPECT_EQ(FormatRfc3339(Utc(2026, 1, 31, 2, 0, 0)), "2026-01-31T02:00:00Z");
  EXPECT_EQ(FormatRfc3339(Utc(2026, 1, 31, 2, 0, 0) + milliseconds(999)), "2026-01-31T02:00:00Z");
  EXPECT_EQ(FormatRfc3339(Utc(2026, 1, 31, 2, 0, 0) + milliseconds(7), TimePrecision::kMillis),
            "2026-01-31T02:00:00.007Z");
  EXPECT_EQ(FormatRfc3339(Utc(1969, 12, 31, 23, 59, 59) + milliseconds(500), TimePrecision::kMillis),
            "1969-12-31T23:59:59.500Z");
}

TEST(FormatRfc3339Test, RoundTripsThroughParse) {
  for (const char* text : {"2026-01-31T02:00:00Z", "2000-02-29T23:59:59Z", "1970-01-01T00:00:00Z"}) {
    EXPECT_EQ(FormatRfc3339(ParseRfc3339(text).value()), text);
  }
}

TEST(ParseTimeOrAgoTest, TakesDurationsAsTimeBeforeNow) {
  const TimePoint now = Utc(2026, 1, 31, 2, 0, 0);
  EXPECT_EQ(ParseTimeOrAgo("24h", now).value(), Utc(2026, 1, 30, 2, 0, 0));
  EXPECT_EQ(ParseTimeOrAgo("90s", now).value(), Utc(2026, 1, 31, 1, 58, 30));
  EXPECT_EQ(ParseTimeOrAgo("2025-01-01T00:00:00Z", now).value(), Utc(2025, 1, 1, 0, 0, 0));
  EXPECT_FALSE(ParseTimeOrAgo("yesterday", now));
  EXPECT_FALSE(ParseTimeOrAgo("2025-01-01", now));
}

TEST(ParseJobIdTest, AcceptsOnlyPositiveDecimalIds) {
  EXPECT_EQ(ParseJobId("1").value(), 1);
  EXPECT_EQ(ParseJobId("9223372036854775807").value(), INT64_MAX);
  for (const char* bad : {"", "0", "-1", "+1", "1.0", "0x10", " 1", "1 ", "abc",
                          "9223372036854775808"}) {
    EXPECT_FALSE(ParseJobId(bad)) << '"' << bad << '"';
  }
}

TEST(OneLineTest, FlattensControlCharacters) {
  EXPECT_EQ(OneLine("a\nb\tc\r\n  d", 100), "a b c d");
  EXPECT_EQ(OneLine("\n  lead and trail  \n", 100), "lead and trail");
  EXPECT_EQ(OneLine("esc\x1b[31mred", 100), "esc [31mred");
}

TEST(OneLineTest, TruncatesByCodePointWithEllipsis) {
  EXPECT_EQ(OneLine("abcdef", 6), "abcdef");
  EXPECT_EQ(OneLine("abcdefg", 6), "abcde\u2026");
  EXPECT_EQ(OneLine("ab def", 4), "ab\u2026");  // No space before the ellipsis.
  EXPECT_EQ(OneLine("\u00e9\u00e9\u00e9\u00e9", 3), "\u00e9\u00e9\u2026");
  EXPECT_EQ(OneLine("abc", 0), "");
}

TEST(OneLineTest, ReplacesInvalidUtf8) {
  EXPECT_EQ(OneLine("a\xff" "b", 10), "a?b");
  EXPECT_EQ(OneLine("a\xc3", 10), "a?");  // Cut sequence.
}

TEST(DisplayWidthTest, CountsCodePoints) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("\u00e9t\u00e9"), 3u);
  EXPECT_EQ(DisplayWidth("\u2026"), 1u);
}

}  // namespace
}  // namespace chime
