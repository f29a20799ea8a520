#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/cron/cron.h"
#include "tests/common/cron/cron_test_util.h"

namespace chime::cron {
namespace {

using namespace std::chrono;
using testing::Fires;
using testing::MustParse;
using testing::Wall;
using Values = std::vector<int>;

// The values one field matches, read back through Matches with the other
// fields at '*' (or 0 for minute and hour). January 2026 starts on a Thursday.
Values Seconds(const std::string& field) {
  const Expression e = MustParse(field + " * * * * *", {.seconds_field = true});
  Values out;
  for (int s = 0; s < 60; ++s) {
    if (e.Matches(local_days{2026y / 1 / 1} + seconds{s})) out.push_back(s);
  }
  return out;
}
Values Minutes(const std::string& field) {
  const Expression e = MustParse(field + " * * * *");
  Values out;
  for (int m = 0; m < 60; ++m) {
    if (e.Matches(local_days{2026y / 1 / 1} + minutes{m})) out.push_back(m);
  }
  return out;
}
Values Hours(const std::string& field) {
  const Expression e = MustParse("0 " + field + " * * *");
  Values out;
  for (int h = 0; h < 24; ++h) {
    if (e.Matches(local_days{2026y / 1 / 1} + hours{h})) out.push_back(h);
  }
  return out;
}
Values DaysOfMonth(const std::string& field) {
  const Expression e = MustParse("0 0 " + field + " * *");
  Values out;
  for (unsigned d = 1; d <= 31; ++d) {
    if (e.Matches(local_days{2026y / 1 / day{d}})) out.push_back(static_cast<int>(d));
  }
  return out;
}
Values Months(const std::string& field) {
  const Expression e = MustParse("0 0 1 " + field + " *");
  Values out;
  for (unsigned m = 1; m <= 12; ++m) {
    if (e.Matches(local_days{2026y / month{m} / 1})) out.push_back(static_cast<int>(m));
  }
  return out;
}
// 2026-01-04 is a Sunday, so day k of that week has weekday k.
Values DaysOfWeek(const std::string& field) {
  const Expression e = MustParse("0 0 * * " + field);
  Values out;
  for (int k = 0; k < 7; ++k) {
    if (e.Matches(local_days{2026y / 1 / 4} + days{k})) out.push_back(k);
  }
  return out;
}
// The days of January 2026 an expression's day fields match.
Values JanuaryDays(const std::string& day_fields) {
  const Expression e = MustParse("0 0 " + day_fields);
  Values out;
  for (unsigned d = 1; d <= 31; ++d) {
    if (e.Matches(local_days{2026y / 1 / day{d}})) out.push_back(static_cast<int>(d));
  }
  return out;
}

Values Range(int first, int last, int step = 1) {
  Values out;
  for (int v = first; v <= last; v += step) out.push_back(v);
  return out;
}

TEST(ExpressionParseTest, StarMatchesTheWholeRangeOfEveryField) {
  EXPECT_EQ(Seconds("*"), Range(0, 59));
  EXPECT_EQ(Minutes("*"), Range(0, 59));
  EXPECT_EQ(Hours("*"), Range(0, 23));
  EXPECT_EQ(DaysOfMonth("*"), Range(1, 31));
  EXPECT_EQ(Months("*"), Range(1, 12));
  EXPECT_EQ(DaysOfWeek("*"), Range(0, 6));
}

TEST(ExpressionParseTest, SingleValuesAtBothEndsOfEachRange) {
  EXPECT_EQ(Minutes("0"), Values({0}));
  EXPECT_EQ(Minutes("59"), Values({59}));
  EXPECT_EQ(Hours("23"), Values({23}));
  EXPECT_EQ(DaysOfMonth("1"), Values({1}));
  EXPECT_EQ(DaysOfMonth("31"), Values({31}));
  EXPECT_EQ(Months("12"), Values({12}));
  EXPECT_EQ(DaysOfWeek("6"), Values({6}));
  EXPECT_EQ(Minutes("007"), Values({7}));  // Leading zeros, within 3 digits.
}

TEST(ExpressionParseTest, ListsRangesAndStepsCombine) {
  EXPECT_EQ(Minutes("1,5,9"), Values({1, 5, 9}));
  EXPECT_EQ(Minutes("10-14"), Range(10, 14));
  EXPECT_EQ(Minutes("*/15"), Values({0, 15, 30, 45}));
  EXPECT_EQ(Minutes("10-30/7"), Values({10, 17, 24}));
  EXPECT_EQ(Minutes("1,5-7,*/20,58-59"), Values({0, 1, 5, 6, 7, 20, 40, 58, 59}));
  EXPECT_EQ(Minutes("5,5,5"), Values({5}));
  EXPECT_EQ(Minutes("3-3"), Values({3}));
  EXPECT_EQ(Hours("*/7"), Values({0, 7, 14, 21}));
  EXPECT_EQ(DaysOfMonth("*/10"), Values({1, 11, 21, 31}));  // Steps count from the field's minimum.
  EXPECT_EQ(Months("*/5"), Values({1, 6, 11}));
  EXPECT_EQ(Seconds("*/20"), Values({0, 20, 40}));
}

TEST(ExpressionParseTest, NumberSlashStepRunsToTheFieldMaximumAsInVixieCron) {
  EXPECT_EQ(Minutes("5/15"), Values({5, 20, 35, 50}));
  EXPECT_EQ(Hours("20/2"), Values({20, 22}));
  EXPECT_EQ(DaysOfMonth("25/3"), Values({25, 28, 31}));
  EXPECT_EQ(Months("nov/1"), Values({11, 12}));
  // 1, 3, 5, 7: and 7 is Sunday.
  EXPECT_EQ(DaysOfWeek("1/2"), Values({0, 1, 3, 5}));
}

TEST(ExpressionParseTest, StepsLargerThanTheRangeKeepOnlyTheStart) {
  EXPECT_EQ(Minutes("*/100"), Values({0}));
  EXPECT_EQ(Minutes("*/999"), Values({0}));
  EXPECT_EQ(Minutes("30/60"), Values({30}));
  EXPECT_EQ(DaysOfMonth("*/100"), Values({1}));
  EXPECT_EQ(Hours("5-10/24"), Values({5}));
}

TEST(ExpressionParseTest, MonthAndWeekdayNamesAreCaseInsensitiveAndWorkInRanges) {
  EXPECT_EQ(Months("jan"), Values({1}));
  EXPECT_EQ(Months("DEC"), Values({12}));
  EXPECT_EQ(Months("JaN,jUl"), Values({1, 7}));
  EXPECT_EQ(Months("jan-mar/2"), Values({1, 3}));
  EXPECT_EQ(Months("oct-DEC"), Values({10, 11, 12}));
  EXPECT_EQ(Months("feb-4"), Values({2, 3, 4}));  // A name and a number mix.
  EXPECT_EQ(Months("jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec"), Range(1, 12));
  EXPECT_EQ(DaysOfWeek("mon-fri"), Range(1, 5));
  EXPECT_EQ(DaysOfWeek("Mon-FRI"), Range(1, 5));
  EXPECT_EQ(DaysOfWeek("sun,mon,tue,wed,thu,fri,sat"), Range(0, 6));
  EXPECT_EQ(DaysOfWeek("SAT"), Values({6}));
}

TEST(ExpressionParseTest, DayOfWeekSevenIsSunday) {
  EXPECT_EQ(DaysOfWeek("7"), Values({0}));
  EXPECT_EQ(DaysOfWeek("0"), Values({0}));
  EXPECT_EQ(DaysOfWeek("sun"), Values({0}));
  EXPECT_EQ(DaysOfWeek("5-7"), Values({0, 5, 6}));
  EXPECT_EQ(DaysOfWeek("fri-7"), Values({0, 5, 6}));
  EXPECT_EQ(DaysOfWeek("0-7"), Range(0, 6));
  EXPECT_EQ(DaysOfWeek("*/7"), Values({0}));  // 0 and 7.
}

TEST(ExpressionParseTest, WhitespaceSeparatesFieldsAndIsTrimmed) {
  auto e = Expression::Parse(" \t 5\t\t4  *   * *\t ");
  ASSERT_TRUE(e.has_value()) << e.error().message;
  EXPECT_EQ(e->text(), "5\t\t4  *   * *");
  EXPECT_TRUE(e->Matches(Wall("2026-06-01T04:05:00")));
  EXPECT_FALSE(e->Matches(Wall("2026-06-01T05:04:00")));
  EXPECT_FALSE(e->has_seconds_field());
}

TEST(ExpressionParseTest, MacrosEqualTheirFiveFieldForms) {
  const std::vector<std::pair<std::string, std::string>> macros = {
      {"@yearly", "0 0 1 1 *"},     {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"},     {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},     {"@DAILY", "0 0 * * *"},    {"@Weekly", "0 0 * * 0"},
      {"  @hourly\t", "0 * * * *"},
  };
  const Zone utc = Zone::Utc();
  for (const auto& [macro, fields] : macros) {
    SCOPED_TRACE(macro);
    const Expression e = MustParse(macro);
    EXPECT_EQ(Fires(e, utc, "2025-12-30T12:34:56Z", 6),
              Fires(MustParse(fields), utc, "2025-12-30T12:34:56Z", 6));
  }
  EXPECT_EQ(Fires("@weekly", "UTC", "2026-01-01T00:00:00Z", 2),
            (std::vector<std::string>{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}));
  EXPECT_EQ(Fires("@yearly", "UTC", "2026-01-01T00:00:00Z", 2),
            (std::vector<std::string>{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}));
  EXPECT_EQ(MustParse("  @DAILY ").text(), "@DAILY");
}

TEST(ExpressionParseTest, WildcardTimeIsAMinuteOrHourFieldStartingWithStar) {
  EXPECT_TRUE(MustParse("* 2 * * *").wildcard_time());
  EXPECT_TRUE(MustParse("0 * * * *").wildcard_time());
  EXPECT_TRUE(MustParse("*/5 2 * * *").wildcard_time());
  EXPECT_TRUE(MustParse("0 */2 * * *").wildcard_time());
  EXPECT_TRUE(MustParse("*,5 3 * * *").wildcard_time());
  EXPECT_FALSE(MustParse("0 2 * * *").wildcard_time());
  EXPECT_FALSE(MustParse("0,30 2 * * *").wildcard_time());
  EXPECT_FALSE(MustParse("0-59 0-23 * * *").wildcard_time());  // Same set, not a '*'.
  EXPECT_TRUE(MustParse("@hourly").wildcard_time());
  EXPECT_FALSE(MustParse("@daily").wildcard_time());
  EXPECT_FALSE(MustParse("@weekly").wildcard_time());
  EXPECT_FALSE(MustParse("@yearly").wildcard_time());
  EXPECT_FALSE(Expression{}.wildcard_time());
}

// Vixie: with neither day field starting with '*', a day matching either
// fires; with one starting with '*' (DOM_STAR / DOW_STAR) it must match both.
TEST(ExpressionParseTest, DayFieldsBothRestrictedMatchEither) {
  // January 2026: Fridays are 2, 9, 16, 23, 30.
  EXPECT_EQ(JanuaryDays("13 * fri"), Values({2, 9, 13, 16, 23, 30}));
  EXPECT_EQ(JanuaryDays("1,15 * mon"), Values({1, 5, 12, 15, 19, 26}));
  // A step without '*' is a restriction: odd days or Mondays.
  EXPECT_EQ(JanuaryDays("1-31/2 * mon"),
            Values({1, 3, 5, 7, 9, 11, 12, 13, 15, 17, 19, 21, 23, 25, 26, 27, 29, 31}));
}

TEST(ExpressionParseTest, DayFieldStartingWithStarMakesBothNeedToMatch) {
  EXPECT_EQ(JanuaryDays("* * fri"), Values({2, 9, 16, 23, 30}));
  EXPECT_EQ(JanuaryDays("13 * *"), Values({13}));
  // '*/2' starts with '*' (DOM_STAR): odd days that are Mondays (5, 19), not
  // odd days or Mondays as "1-31/2" above gives.
  EXPECT_EQ(JanuaryDays("*/2 * mon"), Values({5, 19}));
  // The same on the weekday side: dow '*/2' is Sun, Tue, Thu, Sat; with day 13
  // (a Tuesday in January 2026) both must hold.
  EXPECT_EQ(JanuaryDays("13 * */2"), Values({13}));
  EXPECT_EQ(JanuaryDays("14 * */2"), Values({}));
  EXPECT_EQ(JanuaryDays("*,13 * fri"), Values({2, 9, 16, 23, 30}));
}

TEST(ExpressionParseTest, FiveFieldExpressionsMatchOnlySecondZero) {
  const Expression e = MustParse("* * * * *");
  EXPECT_TRUE(e.Matches(Wall("2026-01-01T10:00:00")));
  EXPECT_FALSE(e.Matches(Wall("2026-01-01T10:00:30")));
}

TEST(ExpressionParseTest, SecondsFieldIsLeadingAndOnlyWithTheOption) {
  const Expression e = MustParse("*/20 * * * * *", {.seconds_field = true});
  EXPECT_TRUE(e.has_seconds_field());
  EXPECT_EQ(Fires(e, Zone::Utc(), "2026-01-01T00:00:05Z", 4),
            (std::vector<std::string>{"2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z",
                                      "2026-01-01T00:01:00Z", "2026-01-01T00:01:20Z"}));
  // With the option a macro still works, firing at second 0.
  const Expression hourly = MustParse("@hourly", {.seconds_field = true});
  EXPECT_TRUE(hourly.has_seconds_field());
  EXPECT_EQ(Fires(hourly, Zone::Utc(), "2026-01-01T00:00:05Z", 1),
            (std::vector<std::string>{"2026-01-01T01:00:00Z"}));
}

TEST(ExpressionParseTest, DefaultConstructedExpressionNeverMatches) {
  const Expression e;
  EXPECT_EQ(e.text(), "");
  EXPECT_FALSE(e.has_seconds_field());
  EXPECT_FALSE(e.Matches(Wall("2026-01-01T00:00:00")));
}

TEST(ExpressionParseTest, AcceptsDaysThatOccurSomewhere) {
  EXPECT_TRUE(Expression::Parse("0 0 29 2 *").has_value());  // Leap years.
  EXPECT_TRUE(Expression::Parse("0 0 31 4,5 *").has_value());
  EXPECT_TRUE(Expression::Parse("0 0 30 2 mon").has_value());  // Either: Mondays in February.
  EXPECT_TRUE(Expression::Parse("0 0 30,1 2 *").has_value());
}

TEST(ExpressionParseTest, AcceptsExactly256Bytes) {
  std::string text = "0 0 * * *";
  text.resize(256, ' ');
  EXPECT_TRUE(Expression::Parse(text).has_value());
}

TEST(ParseErrorTest, ToErrorIsInvalidArgumentWithTheMessage) {
  auto e = Expression::Parse("60 * * * *");
  ASSERT_FALSE(e.has_value());
  const Error error = e.error().ToError();
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.message, "minute: 60 is out of range 0-59");
}

TEST(ParseErrorTest, FieldNames) {
  EXPECT_EQ(FieldName(Field::kSecond), "second");
  EXPECT_EQ(FieldName(Field::kMinute), "minute");
  EXPECT_EQ(FieldName(Field::kHour), "hour");
  EXPECT_EQ(FieldName(Field::kDayOfMonth), "day of month");
  EXPECT_EQ(FieldName(Field::kMonth), "month");
  EXPECT_EQ(FieldName(Field::kDayOfWeek), "day of week");
  EXPECT_EQ(FieldName(Field::kExpression), "expression");
}

struct BadCase {
  std::string text;
  ErrorKind kind;
  Field field;
  size_t position;
  std::string message;
  bool seconds_field = false;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << '"' << c.text << '"'; }

class ParseErrorCaseTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseErrorCaseTest, ReportsKindFieldPositionAndMessage) {
  const BadCase& c = GetParam();
  auto e = Expression::Parse(c.text, {.seconds_field = c.seconds_field});
  ASSERT_FALSE(e.has_value()) << "accepted";
  EXPECT_EQ(e.error().kind, c.kind);
  EXPECT_EQ(e.error().field, c.field);
  EXPECT_EQ(e.error().position, c.position);
  EXPECT_EQ(e.error().message, c.message);
  EXPECT_EQ(e.error().message.find('\n'), std::string::npos);
}

using K = ErrorKind;
using F = Field;

// A 10,000-item minute list, "0,1,...,59,0,...", then four fields.
std::string TenThousandItems() {
  std::string out;
  for (int i = 0; i < 10000; ++i) out += (i ? "," : "") + std::to_string(i % 60);
  return out + " * * * *";
}

INSTANTIATE_TEST_SUITE_P(
    TooLong, ParseErrorCaseTest,
    ::testing::Values(BadCase{"0 0 * * *" + std::string(248, ' '), K::kTooLong, F::kExpression, 0,
                              "expression: too long (257 bytes, at most 256)"},
                      BadCase{std::string(100000, '*'), K::kTooLong, F::kExpression, 0,
                              "expression: too long (100000 bytes, at most 256)"},
                      BadCase{TenThousandItems(), K::kTooLong, F::kExpression, 0,
                              "expression: too long (" + std::to_string(TenThousandItems().size()) +
                                  " bytes, at most 256)"}));

INSTANTIATE_TEST_SUITE_P(
    FieldCount, ParseErrorCaseTest,
    ::testing::Values(
        BadCase{"* * * *", K::kFieldCount, F::kExpression, 7,
                "expression: expected 5 fields, got 4"},
        BadCase{"* * * * * *", K::kFieldCount, F::kExpression, 10,
                "expression: expected 5 fields, got 6"},
        BadCase{"1 2 3 4 5 6 7 8 9", K::kFieldCount, F::kExpression, 10,
                "expression: expected 5 fields, got 9"},
        BadCase{"", K::kFieldCount, F::kExpression, 0, "expression: expected 5 fields, got 0"},
        BadCase{" \t ", K::kFieldCount, F::kExpression, 3, "expression: expected 5 fields, got 0"},
        BadCase{"* * * * *", K::kFieldCount, F::kExpression, 9,
                "expression: expected 6 fields (seconds first), got 5", true},
        BadCase{"@daily 5", K::kFieldCount, F::kExpression, 7,
                "expression: expected nothing after @daily, got \"5\""}));

INSTANTIATE_TEST_SUITE_P(EmptyField, ParseErrorCaseTest,
                         ::testing::Values(BadCase{"1,,2 * * * *", K::kEmptyField, F::kMinute, 2,
                                                   "minute: empty list element in \"1,,2\""},
                                           BadCase{"* 1, * * *", K::kEmptyField, F::kHour, 4,
                                                   "hour: empty list element in \"1,\""},
                                           BadCase{"* * ,5 * *", K::kEmptyField, F::kDayOfMonth, 4,
                                                   "day of month: empty list element in \",5\""},
                                           BadCase{"* * * , *", K::kEmptyField, F::kMonth, 6,
                                                   "month: empty list element in \",\""}));

INSTANTIATE_TEST_SUITE_P(
    Syntax, ParseErrorCaseTest,
    ::testing::Values(
        BadCase{"1- * * * *", K::kSyntax, F::kMinute, 2,
                "minute: \"1-\" ends early, expected a number or a name after '-'"},
        BadCase{"1--2 * * * *", K::kSyntax, F::kMinute, 2,
                "minute: unexpected '-' in \"1--2\", expected a number or a name after '-'"},
        BadCase{"** * * * *", K::kSyntax, F::kMinute, 1,
                "minute: unexpected '*' in \"**\", expected '/' or ','"},
        BadCase{"* * * a/b *", K::kSyntax, F::kMonth, 8,
                "month: unexpected 'b' in \"a/b\", expected a number after '/'"},
        BadCase{"*/ * * * *", K::kSyntax, F::kMinute, 2,
                "minute: \"*/\" ends early, expected a number after '/'"},
        BadCase{"* -5 * * *", K::kSyntax, F::kHour, 2,
                "hour: unexpected '-' in \"-5\", expected a number, a name or '*'"},
        BadCase{"*-5 * * * *", K::kSyntax, F::kMinute, 1,
                "minute: unexpected '-' in \"*-5\", expected '/' or ','"},
        BadCase{"1-2-3 * * * *", K::kSyntax, F::kMinute, 3,
                "minute: unexpected '-' in \"1-2-3\", expected '/' or ','"},
        BadCase{"1/2/3 * * * *", K::kSyntax, F::kMinute, 3,
                "minute: unexpected '/' in \"1/2/3\", expected ','"},
        BadCase{"* * * * 5#3", K::kSyntax, F::kDayOfWeek, 9,
                "day of week: unexpected '#' in \"5#3\", expected '-', '/' or ','"},
        BadCase{"* * ? * *", K::kSyntax, F::kDayOfMonth, 4,
                "day of month: unexpected '?' in \"?\", expected a number, a name or '*'"},
        BadCase{"1.5 * * * *", K::kSyntax, F::kMinute, 1,
                "minute: unexpected '.' in \"1.5\", expected '-', '/' or ','"},
        BadCase{"* * * jan1 *", K::kSyntax, F::kMonth, 9,
                "month: unexpected '1' in \"jan1\", expected '-', '/' or ','"},
        BadCase{"5\x01 * * * *", K::kSyntax, F::kMinute, 1,
                "minute: unexpected \\x01 in \"5\\x01\", expected '-', '/' or ','"},
        BadCase{"5\n * * * *", K::kSyntax, F::kMinute, 1,
                "minute: unexpected \\x0a in \"5\\x0a\", expected '-', '/' or ','"},
        BadCase{"\xc3\xa9 * * * *", K::kSyntax, F::kMinute, 0,
                "minute: unexpected \\xc3 in \"\\xc3\\xa9\", expected a number, a name or '*'"},
        BadCase{"0005 * * * *", K::kSyntax, F::kMinute, 0, "minute: 0005 has more than 3 digits"},
        BadCase{"*/0005 * * * *", K::kSyntax, F::kMinute, 2,
                "minute: 0005 has more than 3 digits"}));

INSTANTIATE_TEST_SUITE_P(
    OutOfRange, ParseErrorCaseTest,
    ::testing::Values(
        BadCase{"60 * * * *", K::kOutOfRange, F::kMinute, 0, "minute: 60 is out of range 0-59"},
        BadCase{"0-60 * * * *", K::kOutOfRange, F::kMinute, 2, "minute: 60 is out of range 0-59"},
        BadCase{"* 24 * * *", K::kOutOfRange, F::kHour, 2, "hour: 24 is out of range 0-23"},
        BadCase{"* * 0 * *", K::kOutOfRange, F::kDayOfMonth, 4,
                "day of month: 0 is out of range 1-31"},
        BadCase{"* * 1,32 * *", K::kOutOfRange, F::kDayOfMonth, 6,
                "day of month: 32 is out of range 1-31"},
        BadCase{"* * * 0 *", K::kOutOfRange, F::kMonth, 6, "month: 0 is out of range 1-12"},
        BadCase{"* * * 13 *", K::kOutOfRange, F::kMonth, 6, "month: 13 is out of range 1-12"},
        BadCase{"* * * * 8", K::kOutOfRange, F::kDayOfWeek, 8,
                "day of week: 8 is out of range 0-7"},
        BadCase{"60 * * * * *", K::kOutOfRange, F::kSecond, 0, "second: 60 is out of range 0-59",
                true},
        // 2^64 + 4: an overflowing parser would read 4.
        BadCase{"18446744073709551620 * * * *", K::kOutOfRange, F::kMinute, 0,
                "minute: 18446744073709551620 is out of range 0-59"},
        BadCase{"* 4294967296 * * *", K::kOutOfRange, F::kHour, 2,
                "hour: 4294967296 is out of range 0-23"},
        BadCase{"*/1000 * * * *", K::kOutOfRange, F::kMinute, 2,
                "minute: step 1000 in */1000 is out of range 1-999"},
        BadCase{"*/18446744073709551617 * * * *", K::kOutOfRange, F::kMinute, 2,
                "minute: step 18446744073709551617 in */18446744073709551617 is out of range "
                "1-999"}));

INSTANTIATE_TEST_SUITE_P(
    ReversedRange, ParseErrorCaseTest,
    ::testing::Values(BadCase{"* 5-1 * * *", K::kReversedRange, F::kHour, 2,
                              "hour: 5-1 is a reversed range"},
                      BadCase{"1,30-10/5 * * * *", K::kReversedRange, F::kMinute, 2,
                              "minute: 30-10 is a reversed range"},
                      BadCase{"* * * dec-jan *", K::kReversedRange, F::kMonth, 6,
                              "month: dec-jan is a reversed range"},
                      BadCase{"* * * * fri-mon", K::kReversedRange, F::kDayOfWeek, 8,
                              "day of week: fri-mon is a reversed range"},
                      BadCase{"* * * * sat-sun", K::kReversedRange, F::kDayOfWeek, 8,
                              "day of week: sat-sun is a reversed range (Sunday is also 7)"}));

INSTANTIATE_TEST_SUITE_P(ZeroStep, ParseErrorCaseTest,
                         ::testing::Values(BadCase{"*/0 * * * *", K::kZeroStep, F::kMinute, 2,
                                                   "minute: step 0 in */0 must be at least 1"},
                                           BadCase{"* 1-5/0 * * *", K::kZeroStep, F::kHour, 6,
                                                   "hour: step 0 in 1-5/0 must be at least 1"},
                                           BadCase{"* * * */00 *", K::kZeroStep, F::kMonth, 8,
                                                   "month: step 00 in */00 must be at least 1"},
                                           BadCase{"*/0 * * * * *", K::kZeroStep, F::kSecond, 2,
                                                   "second: step 0 in */0 must be at least 1",
                                                   true}));

INSTANTIATE_TEST_SUITE_P(
    UnknownName, ParseErrorCaseTest,
    ::testing::Values(
        BadCase{"* * * * fun", K::kUnknownName, F::kDayOfWeek, 8,
                "day of week: unknown name \"fun\""},
        BadCase{"* * * january *", K::kUnknownName, F::kMonth, 6,
                "month: unknown name \"january\""},
        BadCase{"* * * mon *", K::kUnknownName, F::kMonth, 6, "month: unknown name \"mon\""},
        BadCase{"* * * * jan", K::kUnknownName, F::kDayOfWeek, 8,
                "day of week: unknown name \"jan\""},
        BadCase{"* * * * mon-xyz", K::kUnknownName, F::kDayOfWeek, 12,
                "day of week: unknown name \"xyz\""},
        BadCase{"jan * * * *", K::kUnknownName, F::kMinute, 0,
                "minute: unknown name \"jan\" (names are allowed only in month and day of week)"},
        BadCase{"* * L * *", K::kUnknownName, F::kDayOfMonth, 4,
                "day of month: unknown name \"L\" (names are allowed only in month and day of "
                "week)"}));

INSTANTIATE_TEST_SUITE_P(
    UnsupportedMacro, ParseErrorCaseTest,
    ::testing::Values(BadCase{"@reboot", K::kUnsupportedMacro, F::kExpression, 0,
                              "expression: @reboot is not supported"},
                      BadCase{"  @REBOOT", K::kUnsupportedMacro, F::kExpression, 2,
                              "expression: @REBOOT is not supported"},
                      BadCase{"@every 5m", K::kUnsupportedMacro, F::kExpression, 0,
                              "expression: @every is not supported"},
                      BadCase{"@fortnightly", K::kUnsupportedMacro, F::kExpression, 0,
                              "expression: @fortnightly is not supported"},
                      BadCase{"@", K::kUnsupportedMacro, F::kExpression, 0,
                              "expression: @ is not supported"},
                      BadCase{"@daily\x7f", K::kUnsupportedMacro, F::kExpression, 0,
                              "expression: @daily\\x7f is not supported"}));

INSTANTIATE_TEST_SUITE_P(
    Unsatisfiable, ParseErrorCaseTest,
    ::testing::Values(
        BadCase{
            "0 0 30 2 *", K::kUnsatisfiable, F::kExpression, 4,
            "expression: 0 0 30 2 * can never fire (day of month 30 does not occur in month 2)"},
        BadCase{"0 0 31 4,6,9,11 *", K::kUnsatisfiable, F::kExpression, 4,
                "expression: 0 0 31 4,6,9,11 * can never fire (day of month 31 does not occur in "
                "month 4,6,9,11)"},
        BadCase{"0 0 30-31 feb *", K::kUnsatisfiable, F::kExpression, 4,
                "expression: 0 0 30-31 feb * can never fire (day of month 30-31 does not occur in "
                "month feb)"},
        // dow '*/1' is '*'-led: both day fields must match, and day 31 never does.
        BadCase{"0 0 31 apr */1", K::kUnsatisfiable, F::kExpression, 4,
                "expression: 0 0 31 apr */1 can never fire (day of month 31 does not occur in "
                "month apr)"},
        BadCase{"0 0 0 31 2 *", K::kUnsatisfiable, F::kExpression, 6,
                "expression: 0 0 0 31 2 * can never fire (day of month 31 does not occur in "
                "month 2)",
                true}));

}  // namespace
}  // namespace chime::cron
