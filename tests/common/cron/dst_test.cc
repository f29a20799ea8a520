// Golden fire instants across daylight-saving changes, derived by hand from
// the zone data (`zdump -v ZONE | grep YEAR`, quoted above each test) and
// Vixie cron's rules as cron.h states them:
// - a non-wildcard schedule (minute and hour fields not starting with '*')
//   fires once per wall time: skipped times fire at the jump, repeated times
//   at their first occurrence;
// - a wildcard schedule follows real time: no fire for skipped times, a fire
//   at every occurrence of a repeated one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/cron/cron.h"
#include "tests/common/cron/cron_test_util.h"

namespace chime::cron {
namespace {

using testing::Fires;
using testing::MustLoad;
using testing::MustParse;
using Times = std::vector<std::string>;

// America/New_York, spring forward:
//   Sun Mar  8 06:59:59 2026 UT = 01:59:59 EST (-5)
//   Sun Mar  8 07:00:00 2026 UT = 03:00:00 EDT (-4)
// Wall times 02:00:00-02:59:59 on 8 March do not exist.
constexpr char kNewYork[] = "America/New_York";

TEST(DstNewYorkTest, SkippedFixedTimeFiresAtTheJump) {
  // 7 Mar 02:30 EST = 07:30Z; 8 Mar 02:30 is skipped: the jump, 07:00Z;
  // 9 Mar 02:30 EDT = 06:30Z.
  EXPECT_EQ(Fires("30 2 * * *", kNewYork, "2026-03-07T00:00:00Z", 3),
            Times({"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}));
  // The jump instant itself is not after itself.
  EXPECT_EQ(Fires("30 2 * * *", kNewYork, "2026-03-08T07:00:00Z", 1),
            Times({"2026-03-09T06:30:00Z"}));
  EXPECT_EQ(Fires("30 2 * * *", kNewYork, "2026-03-08T06:59:59Z", 1),
            Times({"2026-03-08T07:00:00Z"}));
}

TEST(DstNewYorkTest, SeveralSkippedTimesCollapseIntoOneFire) {
  // 02:15 and 02:45 are both skipped: one fire at 07:00Z; then 9 Mar 02:15
  // and 02:45 EDT = 06:15Z and 06:45Z.
  EXPECT_EQ(Fires("15,45 2 * * *", kNewYork, "2026-03-08T05:00:00Z", 3),
            Times({"2026-03-08T07:00:00Z", "2026-03-09T06:15:00Z", "2026-03-09T06:45:00Z"}));
  // 02:00 (skipped) and 03:00 EDT (which exists) are the same instant: once.
  EXPECT_EQ(Fires("0 2-3 * * *", kNewYork, "2026-03-08T05:00:00Z", 3),
            Times({"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T07:00:00Z"}));
  // 02:30 skipped fires at the jump, 03:30 EDT = 07:30Z as usual.
  EXPECT_EQ(Fires("30 2,3 * * *", kNewYork, "2026-03-08T05:00:00Z", 3),
            Times({"2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"}));
}

TEST(DstNewYorkTest, WildcardScheduleSkipsTheMissingHour) {
  // 01:00 EST = 06:00Z, 01:30 EST = 06:30Z, then 03:00 EDT = 07:00Z: no 02:xx.
  EXPECT_EQ(Fires("*/30 * * * *", kNewYork, "2026-03-08T05:59:00Z", 4),
            Times({"2026-03-08T06:00:00Z", "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z",
                   "2026-03-08T07:30:00Z"}));
  // Every minute of hour 2: none on 8 March; 9 Mar 02:00 EDT = 06:00Z.
  EXPECT_EQ(Fires("* 2 * * *", kNewYork, "2026-03-08T05:00:00Z", 2),
            Times({"2026-03-09T06:00:00Z", "2026-03-09T06:01:00Z"}));
}

// America/New_York, fall back:
//   Sun Nov  1 05:59:59 2026 UT = 01:59:59 EDT (-4)
//   Sun Nov  1 06:00:00 2026 UT = 01:00:00 EST (-5)
// Wall times 01:00:00-01:59:59 happen twice: 05:00-05:59Z and 06:00-06:59Z.
TEST(DstNewYorkTest, RepeatedFixedTimeFiresOnceAtItsFirstOccurrence) {
  // 1 Nov 01:30 EDT = 05:30Z (not again at 06:30Z); 2 Nov 01:30 EST = 06:30Z.
  EXPECT_EQ(Fires("30 1 * * *", kNewYork, "2026-10-31T12:00:00Z", 2),
            Times({"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}));
  // From within the repeated hour, before and after its second 01:30.
  EXPECT_EQ(Fires("30 1 * * *", kNewYork, "2026-11-01T05:45:00Z", 1),
            Times({"2026-11-02T06:30:00Z"}));
  EXPECT_EQ(Fires("30 1 * * *", kNewYork, "2026-11-01T06:10:00Z", 1),
            Times({"2026-11-02T06:30:00Z"}));
  // 01:00 EDT = 05:00Z, second 01:00 suppressed, 02:00 EST = 07:00Z.
  EXPECT_EQ(Fires("0 1-2 * * *", kNewYork, "2026-11-01T04:30:00Z", 3),
            Times({"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-02T06:00:00Z"}));
}

TEST(DstNewYorkTest, WildcardScheduleFiresInBothRepeatedHours) {
  EXPECT_EQ(Fires("*/30 * * * *", kNewYork, "2026-11-01T04:45:00Z", 5),
            Times({"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z",
                   "2026-11-01T06:30:00Z", "2026-11-01T07:00:00Z"}));
  // @hourly is "0 * * * *": wildcard.
  EXPECT_EQ(Fires("@hourly", kNewYork, "2026-11-01T04:30:00Z", 3),
            Times({"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}));
  // Every minute of hour 1: 120 fires, 05:00Z-06:59Z, then 2 Nov 01:00 EST.
  const Times all = Fires("* 1 * * *", kNewYork, "2026-11-01T04:59:00Z", 121);
  ASSERT_EQ(all.size(), 121u);
  EXPECT_EQ(all[0], "2026-11-01T05:00:00Z");
  EXPECT_EQ(all[59], "2026-11-01T05:59:00Z");
  EXPECT_EQ(all[60], "2026-11-01T06:00:00Z");
  EXPECT_EQ(all[119], "2026-11-01T06:59:00Z");
  EXPECT_EQ(all[120], "2026-11-02T06:00:00Z");
}

TEST(DstNewYorkTest, SecondsFormCollapsesSkippedSecondsIntoTheJump) {
  const Expression e = MustParse("0,30 30 2 * * *", {.seconds_field = true});
  EXPECT_EQ(Fires(e, MustLoad(kNewYork), "2026-03-08T06:00:00Z", 2),
            Times({"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}));
}

// Europe/Berlin:
//   Sun Mar 29 00:59:59 2026 UT = 01:59:59 CET (+1)
//   Sun Mar 29 01:00:00 2026 UT = 03:00:00 CEST (+2)     02:00-02:59 skipped
//   Sun Oct 25 00:59:59 2026 UT = 02:59:59 CEST (+2)
//   Sun Oct 25 01:00:00 2026 UT = 02:00:00 CET (+1)      02:00-02:59 twice
constexpr char kBerlin[] = "Europe/Berlin";

TEST(DstBerlinTest, SpringForward) {
  // 28 Mar 02:30 CET = 01:30Z; 29 Mar skipped: the jump, 01:00Z; 30 Mar 02:30 CEST = 00:30Z.
  EXPECT_EQ(Fires("30 2 * * *", kBerlin, "2026-03-28T00:00:00Z", 3),
            Times({"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}));
  // 01:40 CET = 00:40Z, then 03:00 CEST = 01:00Z.
  EXPECT_EQ(Fires("*/20 * * * *", kBerlin, "2026-03-29T00:20:00Z", 3),
            Times({"2026-03-29T00:40:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:20:00Z"}));
}

TEST(DstBerlinTest, FallBack) {
  // 25 Oct 02:30 CEST = 00:30Z only; 26 Oct 02:30 CET = 01:30Z.
  EXPECT_EQ(Fires("30 2 * * *", kBerlin, "2026-10-24T12:00:00Z", 2),
            Times({"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
  // Minute wildcard: both 02:00 and 02:30, in CEST then CET; 26 Oct 02:00 CET = 01:00Z.
  EXPECT_EQ(Fires("*/30 2 * * *", kBerlin, "2026-10-24T12:00:00Z", 5),
            Times({"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z",
                   "2026-10-25T01:30:00Z", "2026-10-26T01:00:00Z"}));
  // 03:00 exists once (CET): 02:00Z.
  EXPECT_EQ(Fires("0 3 * * *", kBerlin, "2026-10-24T12:00:00Z", 1),
            Times({"2026-10-25T02:00:00Z"}));
}

// Australia/Lord_Howe shifts by 30 minutes:
//   Sat Apr  4 14:59:59 2026 UT = Sun Apr  5 01:59:59 +11
//   Sat Apr  4 15:00:00 2026 UT = Sun Apr  5 01:30:00 +1030   01:30-01:59 twice
//   Sat Oct  3 15:29:59 2026 UT = Sun Oct  4 01:59:59 +1030
//   Sat Oct  3 15:30:00 2026 UT = Sun Oct  4 02:30:00 +11     02:00-02:29 skipped
constexpr char kLordHowe[] = "Australia/Lord_Howe";

TEST(DstLordHoweTest, HalfHourFallBack) {
  // 5 Apr 01:45 +11 = 4 Apr 14:45Z (not 15:15Z again); 6 Apr 01:45 +1030 = 5 Apr 15:15Z.
  EXPECT_EQ(Fires("45 1 * * *", kLordHowe, "2026-04-04T12:00:00Z", 2),
            Times({"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}));
  // Wildcard: 01:30 and 01:45 at +11, again at +1030, then 02:00 +1030.
  EXPECT_EQ(Fires("*/15 * * * *", kLordHowe, "2026-04-04T14:20:00Z", 5),
            Times({"2026-04-04T14:30:00Z", "2026-04-04T14:45:00Z", "2026-04-04T15:00:00Z",
                   "2026-04-04T15:15:00Z", "2026-04-04T15:30:00Z"}));
  // 02:00 exists once: +1030, 15:30Z.
  EXPECT_EQ(Fires("0 2 * * *", kLordHowe, "2026-04-04T12:00:00Z", 1),
            Times({"2026-04-04T15:30:00Z"}));
}

TEST(DstLordHoweTest, HalfHourSpringForward) {
  // 3 Oct 02:15 +1030 = 2 Oct 15:45Z; 4 Oct 02:15 skipped: the jump, 3 Oct
  // 15:30Z; 5 Oct 02:15 +11 = 4 Oct 15:15Z.
  EXPECT_EQ(Fires("15 2 * * *", kLordHowe, "2026-10-02T00:00:00Z", 3),
            Times({"2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}));
  // Wildcard: 01:45 +1030 = 15:15Z, 02:00 and 02:15 skipped, 02:30 +11 = 15:30Z.
  EXPECT_EQ(Fires("*/15 * * * *", kLordHowe, "2026-10-03T15:00:00Z", 3),
            Times({"2026-10-03T15:15:00Z", "2026-10-03T15:30:00Z", "2026-10-03T15:45:00Z"}));
  // 02:30 exists (+11, 15:30Z, the jump itself): one fire.
  EXPECT_EQ(Fires("30 2 * * *", kLordHowe, "2026-10-03T00:00:00Z", 2),
            Times({"2026-10-03T15:30:00Z", "2026-10-04T15:30:00Z"}));
}

// Pacific/Apia skipped a whole day:
//   Fri Dec 30 09:59:59 2011 UT = Thu Dec 29 23:59:59 2011 -10
//   Fri Dec 30 10:00:00 2011 UT = Sat Dec 31 00:00:00 2011 +14
// Every wall time of 30 December 2011 is one 24-hour gap; a non-wildcard
// schedule's times in it fire once, at the jump (10:00Z = 31 Dec 00:00 local).
// Later: +14 until Sat Mar 31 14:00:00 2012 UT, +13, then +14 again from
// Sat Sep 29 14:00:00 2012 UT.
constexpr char kApia[] = "Pacific/Apia";

TEST(DstApiaTest, NoonOnTheSkippedDayFiresAtTheJump) {
  // 29 Dec 12:00 -10 = 29 Dec 22:00Z; 30 Dec skipped: 10:00Z; 31 Dec 12:00
  // +14 = 30 Dec 22:00Z; 1 Jan 12:00 +14 = 31 Dec 22:00Z.
  EXPECT_EQ(Fires("0 12 * * *", kApia, "2011-12-29T00:00:00Z", 4),
            Times({"2011-12-29T22:00:00Z", "2011-12-30T10:00:00Z", "2011-12-30T22:00:00Z",
                   "2011-12-31T22:00:00Z"}));
  // Only 30 December: the jump in 2011; 2012-12-30 12:00 +14 = 29 Dec 22:00Z.
  EXPECT_EQ(Fires("0 12 30 12 *", kApia, "2011-12-01T00:00:00Z", 2),
            Times({"2011-12-30T10:00:00Z", "2012-12-29T22:00:00Z"}));
  // All 24 hours of the day collapse into that one fire.
  EXPECT_EQ(Fires("0 0-23 30 12 *", kApia, "2011-12-01T00:00:00Z", 2),
            Times({"2011-12-30T10:00:00Z", "2012-12-29T10:00:00Z"}));
}

TEST(DstApiaTest, WildcardScheduleSkipsTheWholeDay) {
  // 29 Dec 23:30 -10 = 09:30Z, then 31 Dec 00:00 +14 = 10:00Z.
  EXPECT_EQ(Fires("*/30 * * * *", kApia, "2011-12-30T09:00:00Z", 3),
            Times({"2011-12-30T09:30:00Z", "2011-12-30T10:00:00Z", "2011-12-30T10:30:00Z"}));
  // Hourly on 30 December only: nothing in 2011; 2012-12-30 00:00 +14 = 29 Dec 10:00Z.
  EXPECT_EQ(Fires("0 * 30 12 *", kApia, "2011-12-01T00:00:00Z", 1),
            Times({"2012-12-29T10:00:00Z"}));
}

}  // namespace
}  // namespace chime::cron
