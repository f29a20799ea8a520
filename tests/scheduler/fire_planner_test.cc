// Which ticks are due, and what the misfire policies make of missed ones.
#include "scheduler/fire_planner.h"

#include <gtest/gtest.h>

namespace chime::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class HalfRng final : public Rng {
 public:
  double Uniform01() override { return 0.5; }
};

cron::Instant Utc(int y, unsigned mo, unsigned d, int h, int mi = 0, int s = 0) {
  using namespace std::chrono;
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s);
}

PlannedSchedule Hourly(schedule::MisfirePolicy misfire, cron::Instant after) {
  PlannedSchedule s{.id = 7,
                    .name = "hourly",
                    .expression = *cron::Expression::Parse("0 * * * *"),
                    .zone = cron::Zone::Utc(),
                    .misfire = misfire,
                    .jitter = {},
                    .paused = false,
                    .after = {},
                    .next = std::nullopt};
  s.SetAfter(after);
  return s;
}

struct Planned {
  PlanResult result;
  std::vector<db::Tick> ticks;
};

Planned Plan(const PlannedSchedule& s, cron::Instant now, PlannerConfig config = {}) {
  HalfRng rng;
  Planned p;
  p.result = PlanDue(s, now, config, rng, p.ticks);
  return p;
}

TEST(PlanDueTest, NothingBeforeTheNextTick) {
  auto s = Hourly(schedule::MisfirePolicy::kRunOnce, Utc(2026, 1, 1, 1));
  auto p = Plan(s, Utc(2026, 1, 1, 1, 59, 59));
  EXPECT_TRUE(p.ticks.empty());
  EXPECT_FALSE(p.result.newest.has_value());
}

TEST(PlanDueTest, ATickWithinTheGraceFiresAsCron) {
  auto s = Hourly(schedule::MisfirePolicy::kRunOnce, Utc(2026, 1, 1, 1));
  auto p = Plan(s, Utc(2026, 1, 1, 2, 0, 10));
  ASSERT_EQ(p.ticks.size(), 1u);
  EXPECT_EQ(p.ticks[0].scheduled_for, Utc(2026, 1, 1, 2));
  EXPECT_EQ(p.ticks[0].origin, db::FireOrigin::kCron);
  EXPECT_FALSE(p.ticks[0].skip);
  EXPECT_EQ(p.result.newest, Utc(2026, 1, 1, 2));
  EXPECT_FALSE(p.result.newest_missed.has_value());
}

TEST(PlanDueTest, RunOnceFiresTheNewestMissedTick) {
  auto s = Hourly(schedule::MisfirePolicy::kRunOnce, Utc(2026, 1, 1, 1));
  auto p = Plan(s, Utc(2026, 1, 1, 5, 30));
  ASSERT_EQ(p.ticks.size(), 1u);
  EXPECT_EQ(p.ticks[0].scheduled_for, Utc(2026, 1, 1, 5));
  EXPECT_EQ(p.ticks[0].origin, db::FireOrigin::kMisfire);
  EXPECT_EQ(p.result.newest, Utc(2026, 1, 1, 5));
  EXPECT_EQ(p.result.newest_missed, Utc(2026, 1, 1, 5));
}

TEST(PlanDueTest, RunOnceLetsATickOnTimeBeTheOneRun) {
  auto s = Hourly(schedule::MisfirePolicy::kRunOnce, Utc(2026, 1, 1, 1));
  auto p = Plan(s, Utc(2026, 1, 1, 5, 0, 30));
  ASSERT_EQ(p.ticks.size(), 1u);
  EXPECT_EQ(p.ticks[0].scheduled_for, Utc(2026, 1, 1, 5));
  EXPECT_EQ(p.ticks[0].origin, db::FireOrigin::kCron);
  EXPECT_EQ(p.result.newest_missed, Utc(2026, 1, 1, 4));
}

TEST(PlanDueTest, SkipRecordsTheNewestMissedTickAsSkipped) {
  auto s = Hourly(schedule::MisfirePolicy::kSkip, Utc(2026, 1, 1, 1));
  auto p = Plan(s, Utc(2026, 1, 1, 5, 30));
  ASSERT_EQ(p.ticks.size(), 1u);
  EXPECT_TRUE(p.ticks[0].skip);
  EXPECT_EQ(p.ticks[0].scheduled_for, Utc(2026, 1, 1, 5));
  EXPECT_EQ(p.result.newest, Utc(2026, 1, 1, 5));
}

TEST(PlanDueTest, RunAllFiresTheNewestMissedTicksUpToTheCap) {
  auto s = Hourly(schedule::MisfirePolicy::kRunAll, Utc(2026, 1, 1, 1));
  auto all = Plan(s, Utc(2026, 1, 1, 5, 30));
  ASSERT_EQ(all.ticks.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(all.ticks[i].scheduled_for, Utc(2026, 1, 1, 2 + static_cast<int>(i)));
    EXPECT_EQ(all.ticks[i].origin, db::FireOrigin::kMisfire);
  }
  auto capped = Plan(s, Utc(2026, 1, 1, 5, 30), PlannerConfig{.run_all_cap = 2});
  ASSERT_EQ(capped.ticks.size(), 2u);
  EXPECT_EQ(capped.ticks[0].scheduled_for, Utc(2026, 1, 1, 4));
  EXPECT_EQ(capped.ticks[1].scheduled_for, Utc(2026, 1, 1, 5));
}

TEST(PlanDueTest, PausedSchedulesPlanNothing) {
  auto s = Hourly(schedule::MisfirePolicy::kRunAll, Utc(2026, 1, 1, 1));
  s.paused = true;
  EXPECT_TRUE(Plan(s, Utc(2026, 1, 2, 0)).ticks.empty());
}

TEST(PlanDueTest, JitterDelaysTheJobNotTheTick) {
  auto s = Hourly(schedule::MisfirePolicy::kRunOnce, Utc(2026, 1, 1, 1));
  s.jitter = seconds(10);
  auto p = Plan(s, Utc(2026, 1, 1, 2, 0, 1));
  ASSERT_EQ(p.ticks.size(), 1u);
  EXPECT_EQ(p.ticks[0].scheduled_for, Utc(2026, 1, 1, 2));
  EXPECT_EQ(p.ticks[0].run_at, Utc(2026, 1, 1, 2) + seconds(5));
}

TEST(LatestTicksTest, ALongOutageCostsAboutWhatIsWanted) {
  auto every_minute = *cron::Expression::Parse("* * * * *");
  auto ticks = LatestTicks(every_minute, cron::Zone::Utc(), Utc(2020, 1, 1, 0),
                           Utc(2026, 1, 1, 0), 3);
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_EQ(ticks[0], Utc(2025, 12, 31, 23, 58));
  EXPECT_EQ(ticks[2], Utc(2026, 1, 1, 0));

  auto leap_day = *cron::Expression::Parse("0 0 29 2 *");
  auto rare = LatestTicks(leap_day, cron::Zone::Utc(), Utc(2017, 1, 1, 0), Utc(2026, 1, 1, 0), 5);
  ASSERT_EQ(rare.size(), 2u);
  EXPECT_EQ(rare[0], Utc(2020, 2, 29, 0));
  EXPECT_EQ(rare[1], Utc(2024, 2, 29, 0));
}

}  // namespace
}  // namespace chime::scheduler
