// Fire instants as a zone reads them (common/cron/zoned_time.h): the wall
// time with its offset, the zone's abbreviation and whether daylight
// saving is in effect, on both sides of each kind of clock change.
#include "common/cron/zoned_time.h"

#include <gtest/gtest.h>

#include "tests/common/cron/cron_test_util.h"

namespace chime::cron {
namespace {

using testing::At;

ZonedTime In(const std::string& zone, std::string_view instant) {
  auto z = Zone::Load(zone);
  EXPECT_TRUE(z.has_value());
  return InZone(z ? *z : Zone::Utc(), At(instant));
}

TEST(ZonedTimeTest, BerlinInWinterAndInSummer) {
  const ZonedTime winter = In("Europe/Berlin", "2026-03-29T00:59:59Z");
  EXPECT_EQ(winter.local, "2026-03-29T01:59:59+01:00");
  EXPECT_EQ(winter.offset, "+01:00");
  EXPECT_EQ(winter.abbrev, "CET");
  EXPECT_FALSE(winter.dst);
  const ZonedTime summer = In("Europe/Berlin", "2026-03-29T01:00:00Z");
  EXPECT_EQ(summer.local, "2026-03-29T03:00:00+02:00") << "02:00 never happens that night";
  EXPECT_EQ(summer.abbrev, "CEST");
  EXPECT_TRUE(summer.dst);
}

TEST(ZonedTimeTest, WestOfGreenwichTheOffsetIsNegative) {
  const ZonedTime ny = In("America/New_York", "2026-11-01T05:30:00Z");
  EXPECT_EQ(ny.local, "2026-11-01T01:30:00-04:00") << "the first of the two 01:30s";
  EXPECT_EQ(ny.abbrev, "EDT");
  const ZonedTime again = In("America/New_York", "2026-11-01T06:30:00Z");
  EXPECT_EQ(again.local, "2026-11-01T01:30:00-05:00");
  EXPECT_EQ(again.abbrev, "EST");
  EXPECT_FALSE(again.dst);
}

TEST(ZonedTimeTest, HalfHourSavingsAndZonesWithoutAnAbbreviation) {
  const ZonedTime summer = In("Australia/Lord_Howe", "2026-01-15T00:00:00Z");
  EXPECT_EQ(summer.offset, "+11:00");
  EXPECT_TRUE(summer.dst);
  const ZonedTime winter = In("Australia/Lord_Howe", "2026-07-15T00:00:00Z");
  EXPECT_EQ(winter.offset, "+10:30");
  EXPECT_FALSE(winter.dst);
  EXPECT_EQ(In("Asia/Kathmandu", "2026-07-15T00:00:00Z").local, "2026-07-15T05:45:00+05:45");
  EXPECT_EQ(In("UTC", "2026-07-15T00:00:00Z").local, "2026-07-15T00:00:00+00:00");
}

}  // namespace
}  // namespace chime::cron
