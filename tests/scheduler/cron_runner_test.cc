// The cron runner against a real PostgreSQL with a clock that stands still:
// the runner reads the database's time at each renewal and carries it
// forward on the injected clock, so with the fake clock never advanced it
// makes exactly one pass per Start (renew, load, fire what is due) and then
// waits for Stop. Each phase therefore uses a fresh runner. Covered: the
// leader fires every due tick once, a second leader does not fire them
// again, a standby fires nothing while another holds the leader term and
// fires once the term is free, and a paused schedule never fires. The planning
// rules themselves are fire_planner_test's.
#include "scheduler/cron_runner.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/db/migrations.h"
#include "common/db/schedule_store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"

namespace chime::scheduler {
namespace {

using chime::testing::WaitForEq;
using chime::testing::WaitUntil;

class FixedRng final : public Rng {
 public:
  double Uniform01() override { return 0.5; }
};

class CronRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto migrated = db::MigrationsApply(conn_);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
  }

  // A schedule firing daily at 03:00 UTC, created `days` days ago: exactly
  // `days` of its ticks are due, all older than the misfire grace, and its
  // policies (run_all, allow) make each of them one job.
  void Daily(const std::string& name, int days, bool paused = false) {
    schedule::ScheduleSpec spec;
    spec.name = name;
    spec.cron = "0 3 * * *";
    spec.kind = "noop";
    spec.overlap = schedule::OverlapPolicy::kAllow;
    spec.misfire = schedule::MisfirePolicy::kRunAll;
    spec.paused = paused;
    auto created = store_.ScheduleCreate(spec);
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
    db_.Exec("UPDATE chime.schedules SET created_at = now() - interval '" + std::to_string(days) +
             " days' WHERE name = '" + name + "'");
  }

  std::unique_ptr<CronRunner> Runner(const std::string& holder) {
    CronRunnerConfig config;
    config.leader.holder = holder;
    EXPECT_TRUE(config.Validate().has_value());
    return std::make_unique<CronRunner>(db::ConnectionConfig{.url = db_.url()}, config, clock_, rng_);
  }

  int64_t Count(const std::string& sql) { return std::stoll(db_.Scalar(sql)); }
  int64_t FiresOf(const std::string& name) {
    return Count("SELECT count(*) FROM chime.fires f JOIN chime.schedules s ON s.id = f.schedule_id "
                 "WHERE s.name = '" + name + "'");
  }
  int64_t JobsOf(const std::string& name) {
    return Count("SELECT count(*) FROM chime.jobs_all j JOIN chime.fires f ON f.job_id = j.id "
                 "JOIN chime.schedules s ON s.id = f.schedule_id WHERE s.name = '" + name + "'");
  }
  static int64_t Counted(const FireCounts& counts, const std::string& schedule) {
    int64_t n = 0;
    for (const auto& [key, count] : counts) {
      if (key.schedule == schedule) n += count;
    }
    return n;
  }

  chime::testing::TestDatabase db_;
  db::Connection conn_{db::ConnectionConfig{.url = db_.url()}};
  db::ScheduleStore store_{conn_};
  chime::testing::FakeClock clock_;
  FixedRng rng_;
};

TEST_F(CronRunnerTest, TheLeaderFiresEachDueTickOnceAndTheNextLeaderDoesNotFireThemAgain) {
  Daily("nightly", 3);
  auto first = Runner("a");
  first->Start();
  ASSERT_TRUE(WaitForEq("ticks fired by the first leader", [&] { return first->status().fired; }, int64_t{3}));
  EXPECT_TRUE(first->status().leader);
  first->Stop();  // Resigns: the next runner leads at once.
  EXPECT_EQ(FiresOf("nightly"), 3);
  EXPECT_EQ(JobsOf("nightly"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM chime.fires WHERE scheduled_for <> date_trunc('day', scheduled_for) + "
                  "interval '3 hours'"),
            0)
      << "every tick is a 03:00";
  EXPECT_EQ(Counted(first->fire_counts(), "nightly"), 3);

  // A new schedule due once marks the end of the second leader's pass.
  Daily("marker", 1);
  auto second = Runner("b");
  second->Start();
  ASSERT_TRUE(WaitForEq("ticks fired by the second leader", [&] { return second->status().fired; }, int64_t{1}));
  EXPECT_TRUE(second->status().leader);
  EXPECT_GT(second->status().epoch, 0);
  second->Stop();
  EXPECT_EQ(FiresOf("marker"), 1);
  EXPECT_EQ(FiresOf("nightly"), 3);
  EXPECT_EQ(JobsOf("nightly"), 3);
  EXPECT_EQ(Counted(second->fire_counts(), "nightly"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM chime.jobs_all"), 4);
}

TEST_F(CronRunnerTest, AStandbyFiresNothingWhileAnotherHoldsTheTermAndFiresOnceItIsFree) {
  Daily("nightly", 2);
  db_.Exec("INSERT INTO chime.leader (holder, epoch, expires_at) VALUES ('other', 7, now() + interval '1 hour')");
  auto standby = Runner("a");
  standby->Start();
  // Its one pass is done once it has read who holds the leader term.
  ASSERT_TRUE(WaitForEq("the term holder as the standby read it", [&] { return standby->status().holder; },
                        std::string("other")));
  standby->Stop();
  EXPECT_FALSE(standby->status().leader);
  EXPECT_EQ(standby->status().epoch, 7);
  EXPECT_EQ(standby->status().fired, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM chime.fires"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM chime.jobs_all"), 0);

  // The other holder's term runs out: the next pass takes over and fires.
  db_.Exec("UPDATE chime.leader SET expires_at = now() - interval '1 second'");
  auto taking_over = Runner("a");
  taking_over->Start();
  ASSERT_TRUE(WaitForEq("ticks fired after the takeover", [&] { return taking_over->status().fired; }, int64_t{2}));
  EXPECT_TRUE(taking_over->status().leader);
  EXPECT_EQ(taking_over->status().epoch, 8);
  taking_over->Stop();
  EXPECT_EQ(FiresOf("nightly"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM chime.fires WHERE leader_epoch = 8"), 2);
}

TEST_F(CronRunnerTest, APausedScheduleIsNotFired) {
  Daily("paused", 3, /*paused=*/true);
  Daily("marker", 1);
  auto runner = Runner("a");
  runner->Start();
  ASSERT_TRUE(WaitForEq("ticks fired", [&] { return runner->status().fired; }, int64_t{1}));
  runner->Stop();
  EXPECT_EQ(FiresOf("marker"), 1);
  EXPECT_EQ(FiresOf("paused"), 0);
  EXPECT_EQ(JobsOf("paused"), 0);
}

TEST(CronRunnerConfigTest, ABadLeaderTermOrPlannerSettingIsRefused) {
  CronRunnerConfig config;
  config.leader.holder = "a";
  EXPECT_TRUE(config.Validate().has_value());
  config.leader.holder.clear();
  EXPECT_EQ(config.Validate().error().message, "leader: holder must not be empty");
  config.leader.holder = "a";
  config.planner.run_all_cap = 0;
  EXPECT_EQ(config.Validate().error().message, "misfire-run-all-cap: must be 1..100000");
}

}  // namespace
}  // namespace chime::scheduler
