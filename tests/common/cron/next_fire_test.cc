// NextFire on the calendar alone (UTC, where wall time is real time), checked
// against hand-derived instants and against a minute-by-minute scan.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/cron/cron.h"
#include "tests/common/cron/cron_test_util.h"

namespace chime::cron {
namespace {

using namespace std::chrono;
using testing::At;
using testing::Fires;
using testing::Iso;
using testing::MustParse;
using Times = std::vector<std::string>;

TEST(NextFireTest, IsStrictlyAfterTheGivenInstant) {
  EXPECT_EQ(Fires("* * * * *", "UTC", "2026-01-01T00:00:00Z", 2),
            Times({"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"}));
  EXPECT_EQ(Fires("* * * * *", "UTC", "2026-01-01T00:00:59Z", 1), Times({"2026-01-01T00:01:00Z"}));
  EXPECT_EQ(Fires("* * * * *", "UTC", "2026-01-01T00:00:30Z", 1), Times({"2026-01-01T00:01:00Z"}));
  EXPECT_EQ(Fires("0 12 * * *", "UTC", "2026-01-01T12:00:00Z", 1), Times({"2026-01-02T12:00:00Z"}));
  EXPECT_EQ(Fires("0 12 * * *", "UTC", "2026-01-01T11:59:59Z", 1), Times({"2026-01-01T12:00:00Z"}));
}

TEST(NextFireTest, StepsWithinAnHourAndAcrossHours) {
  EXPECT_EQ(Fires("*/15 * * * *", "UTC", "2026-01-01T00:50:00Z", 3),
            Times({"2026-01-01T01:00:00Z", "2026-01-01T01:15:00Z", "2026-01-01T01:30:00Z"}));
  EXPECT_EQ(Fires("10-12 9-10 * * *", "UTC", "2026-01-01T09:11:00Z", 4),
            Times({"2026-01-01T09:12:00Z", "2026-01-01T10:10:00Z", "2026-01-01T10:11:00Z",
                   "2026-01-01T10:12:00Z"}));
  // Past the last hour of the day: the first time of the next day.
  EXPECT_EQ(Fires("30 8,17 * * *", "UTC", "2026-01-01T17:30:00Z", 2),
            Times({"2026-01-02T08:30:00Z", "2026-01-02T17:30:00Z"}));
}

TEST(NextFireTest, RollsOverMonthAndYearEnds) {
  EXPECT_EQ(Fires("59 23 31 12 *", "UTC", "2026-01-01T00:00:00Z", 2),
            Times({"2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"}));
  EXPECT_EQ(Fires("0 0 1 * *", "UTC", "2026-12-15T00:00:00Z", 2),
            Times({"2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"}));
  // 31st only in long months: January, March, May.
  EXPECT_EQ(Fires("0 6 31 * *", "UTC", "2026-01-31T06:00:00Z", 2),
            Times({"2026-03-31T06:00:00Z", "2026-05-31T06:00:00Z"}));
  EXPECT_EQ(Fires("0 0 1 jan,jul *", "UTC", "2026-01-01T00:00:00Z", 3),
            Times({"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"}));
}

TEST(NextFireTest, TwentyNinthOfFebruaryWaitsForLeapYears) {
  EXPECT_EQ(Fires("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", 2),
            Times({"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}));
  // 2100 is not a leap year (divisible by 100, not by 400): eight years.
  EXPECT_EQ(Fires("0 0 29 2 *", "UTC", "2097-03-01T00:00:00Z", 1), Times({"2104-02-29T00:00:00Z"}));
  // 2000 is (divisible by 400).
  EXPECT_EQ(Fires("0 0 29 2 *", "UTC", "1997-01-01T00:00:00Z", 1), Times({"2000-02-29T00:00:00Z"}));
  EXPECT_EQ(Fires("0 0 28-29 2 *", "UTC", "2027-02-28T00:00:00Z", 2),
            Times({"2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z"}));
}

TEST(NextFireTest, DayFieldsCombineByVixiesRule) {
  // Either: the 13th or a Friday (Jan 2026 Fridays: 2, 9, 16; the 13th is a Tuesday).
  EXPECT_EQ(Fires("0 0 13 * fri", "UTC", "2026-01-01T00:00:00Z", 4),
            Times({"2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z",
                   "2026-01-16T00:00:00Z"}));
  // Both ('*/2' is DOM_STAR): odd days that are Mondays. Jan 2026 Mondays 5,
  // 12, 19, 26; Feb 2, 9, 16, 23.
  EXPECT_EQ(Fires("0 0 */2 * mon", "UTC", "2026-01-01T00:00:00Z", 4),
            Times({"2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z", "2026-02-09T00:00:00Z",
                   "2026-02-23T00:00:00Z"}));
  // The 31st or a Monday: Monday 5 January comes first, minute by minute.
  EXPECT_EQ(Fires("* * 31 * 1", "UTC", "2026-01-01T00:00:00Z", 2),
            Times({"2026-01-05T00:00:00Z", "2026-01-05T00:01:00Z"}));
  EXPECT_EQ(Fires("0 0 31 * 1", "UTC", "2026-01-27T00:00:00Z", 2),
            Times({"2026-01-31T00:00:00Z", "2026-02-02T00:00:00Z"}));
  // A '*'-led day of week ('*/1', every day) switches to "both": the 13th only.
  EXPECT_EQ(Fires("0 0 13 * */1", "UTC", "2026-01-01T00:00:00Z", 2),
            Times({"2026-01-13T00:00:00Z", "2026-02-13T00:00:00Z"}));
}

// Rare but valid expressions: the search jumps months and days and does not
// give up before a Gregorian cycle, so these all terminate with the right day.
TEST(NextFireTest, FindsRareDatesDecadesAway) {
  // 29 February on a Sunday ('*/7' is a '*' day of week, so both must match):
  // 2032, 2060, 2088, then 2128, 40 years later, as 2100 is not a leap year.
  EXPECT_EQ(Fires("0 0 29 2 */7", "UTC", "2026-01-01T00:00:00Z", 4),
            Times({"2032-02-29T00:00:00Z", "2060-02-29T00:00:00Z", "2088-02-29T00:00:00Z",
                   "2128-02-29T00:00:00Z"}));
  // 1 January on a Monday: 2035, then 2046 (11 years).
  EXPECT_EQ(Fires("0 0 */31 1 mon", "UTC", "2030-01-01T00:00:00Z", 2),
            Times({"2035-01-01T00:00:00Z", "2046-01-01T00:00:00Z"}));
  // Either rule: a Sunday in December (the 6th) comes before the 31st.
  EXPECT_EQ(Fires("59 23 31 12 sun", "UTC", "2026-01-01T00:00:00Z", 1),
            Times({"2026-12-06T23:59:00Z"}));
  EXPECT_EQ(Fires("59 23 31 12 */7", "UTC", "2026-01-01T00:00:00Z", 2),
            Times({"2028-12-31T23:59:00Z", "2034-12-31T23:59:00Z"}));
}

TEST(NextFireTest, AdversarialExpressionsStayOnTheirDays) {
  // Many calls in a row: each must land on a matching day and move forward.
  const std::vector<std::pair<std::string, bool>> cases = {
      {"0 0 29 2 *", false},   {"59 23 31 12 *", false},   {"* * 31 * 1", false},
      {"0 0 29 2 */7", false}, {"0 0 31 1-12/2 *", false}, {"59 59 23 29 2 *", true}};
  for (const auto& [text, seconds] : cases) {
    SCOPED_TRACE(text);
    const Expression e = MustParse(text, {.seconds_field = seconds});
    Instant t = At("2026-01-01T00:00:00Z");
    for (int i = 0; i < 200; ++i) {
      auto next = NextFire(e, Zone::Utc(), t);
      ASSERT_TRUE(next.has_value()) << "after " << Iso(t);
      ASSERT_GT(*next, t);
      ASSERT_TRUE(e.Matches(local_seconds{next->time_since_epoch()})) << Iso(*next);
      t = *next;
    }
  }
}

TEST(NextFireTest, SecondsFieldFiresAtSecondGranularity) {
  const Expression e = MustParse("5,50 0 12 * * *", {.seconds_field = true});
  EXPECT_EQ(Fires(e, Zone::Utc(), "2026-01-01T12:00:05Z", 3),
            Times({"2026-01-01T12:00:50Z", "2026-01-02T12:00:05Z", "2026-01-02T12:00:50Z"}));
  const Expression every = MustParse("* * * * * *", {.seconds_field = true});
  EXPECT_EQ(Fires(every, Zone::Utc(), "2026-12-31T23:59:58Z", 3),
            Times({"2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "2027-01-01T00:00:01Z"}));
}

TEST(NextFireTest, OutsideTheSupportedYearsIsNullopt) {
  const Expression e = MustParse("* * * * *");
  EXPECT_FALSE(NextFire(e, Zone::Utc(), Instant::max()).has_value());
  EXPECT_FALSE(NextFire(e, Zone::Utc(), Instant::min()).has_value());
  EXPECT_FALSE(NextFire(e, Zone::Utc(), At("10000-01-01T00:00:00Z")).has_value());
  EXPECT_EQ(Fires("0 0 1 1 *", "UTC", "9999-06-01T00:00:00Z", 1), Times({"10000-01-01T00:00:00Z"}));
  EXPECT_EQ(Fires("0 0 1 1 *", "UTC", "0001-01-01T00:00:00Z", 1), Times({"0002-01-01T00:00:00Z"}));
  EXPECT_EQ(Fires("0 0 1 1 *", "UTC", "1969-06-01T00:00:00Z", 1), Times({"1970-01-01T00:00:00Z"}));
}

TEST(NextFireTest, DefaultExpressionNeverFiresAndDefaultZoneIsUtc) {
  EXPECT_FALSE(NextFire(Expression{}, Zone::Utc(), At("2026-01-01T00:00:00Z")).has_value());
  const Zone zone;
  EXPECT_EQ(zone.name(), "UTC");
  ASSERT_NE(zone.tz(), nullptr);
  EXPECT_EQ(Fires(MustParse("0 3 * * *"), zone, "2026-07-01T00:00:00Z", 1),
            Times({"2026-07-01T03:00:00Z"}));
}

// A reference that tries every minute: slow, obviously right.
std::vector<Instant> ScanFires(const Expression& e, Instant from, Instant to) {
  std::vector<Instant> out;
  for (Instant t = floor<minutes>(from) + minutes(1); t <= to; t += minutes(1)) {
    if (e.Matches(local_seconds{t.time_since_epoch()})) out.push_back(t);
  }
  return out;
}

class NextFireScanTest : public ::testing::TestWithParam<const char*> {};

// From late 2027 past 29 February 2028 (a year end, a leap day, months of 28
// to 31 days), NextFire yields exactly the minutes a scan finds; from a point
// between two fires it yields the later one.
TEST_P(NextFireScanTest, AgreesWithAMinuteByMinuteScan) {
  const Expression e = MustParse(GetParam());
  const Instant from = At("2027-12-20T00:00:00Z");
  const Instant to = At("2028-03-10T00:00:00Z");
  const std::vector<Instant> expected = ScanFires(e, from, to);
  ASSERT_FALSE(expected.empty());
  std::vector<Instant> got;
  for (auto t = NextFire(e, Zone::Utc(), from); t && *t <= to; t = NextFire(e, Zone::Utc(), *t)) {
    got.push_back(*t);
  }
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(Iso(got[i]), Iso(expected[i])) << "fire " << i;
    if (i + 1 < got.size() && got[i] + seconds(37) < got[i + 1]) {
      auto mid = NextFire(e, Zone::Utc(), got[i] + seconds(37));
      ASSERT_TRUE(mid.has_value());
      ASSERT_EQ(Iso(*mid), Iso(got[i + 1]));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Expressions, NextFireScanTest,
                         ::testing::Values("0 0 * * *", "*/7 */5 * * *", "15 10 1,15 * *",
                                           "0 0 13 * fri", "0 0 */2 * mon", "0 0 1-31/2 * mon",
                                           "5 4 * * sun", "0 22 * * 1-5", "23 0-20/2 * * *",
                                           "0 0 31 * *", "59 23 28-31 * *", "0 12 * feb *",
                                           "0 9 29 2 *", "30 3 * * 7", "0 0 1 */3 *",
                                           "10/20 5/6 10-20/3 * *", "0 0 * * */2", "0 0 13 * */2",
                                           "45 23 * * 6", "0 0 8-14 * mon", "0 0 8-14 * */1",
                                           "* 3 1 1 *", "@weekly", "@monthly", "@hourly"));

}  // namespace
}  // namespace chime::cron
