// Cron across scheduler replicas, as processes: two chime-scheduler processes
// with every-second test schedules (--cron-seconds) compete for the lease;
// the leader is killed or frozen, and every tick must still be fired exactly
// once. Then the misfire policies after five minutes without a scheduler,
// and a job slower than its period under each overlap policy. All checks read
// the database; waits have deadlines only a broken build reaches.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <memory>

#include "common/base/child_process.h"
#include "tests/integration/cluster.h"
#include "tests/support/test_database.h"

namespace chime::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class CronClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schedules_path_ = ::testing::TempDir() + "chime-cron-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml";
  }
  void TearDown() override { std::remove(schedules_path_.c_str()); }

  void WriteSchedules(const std::string& yaml) {
    std::ofstream(schedules_path_) << yaml;
  }

  // A scheduler with a short lease, so that a takeover happens within seconds.
  ChildProcess& StartScheduler(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{BinaryPath("scheduler/chime-scheduler"),
                                  "--bind", "tcp://127.0.0.1:0",
                                  "--schedules", schedules_path_,
                                  "--cron-seconds",
                                  "--leader-ttl", "2s",
                                  "--leader-renew", "500ms",
                                  "--log-level", "debug",
                                  "--http-listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto& p = *schedulers_.emplace_back(std::make_unique<ChildProcess>(
        argv, std::map<std::string, std::string>{{"CHIME_DATABASE_URL", cluster_.db().url()},
                                                 {"CHIME_ADMIN_SECRET", kClusterSecret}}));
    EXPECT_TRUE(p.Start()) << p.log();
    EXPECT_TRUE(p.WaitForLog("scheduler running", seconds(30)).has_value()) << p.log();
    return p;
  }

  int64_t Int(const std::string& sql) { return cluster_.Int(sql); }

  int64_t Fires(const std::string& schedule) {
    return Int("SELECT count(*) FROM chime.fires f JOIN chime.schedules s ON s.id = f.schedule_id "
               "WHERE s.name = '" + schedule + "'");
  }

  // Every second from the first fire to the last has exactly one fire, and
  // every enqueued fire exactly one job.
  void ExpectEveryTickOnce(const std::string& schedule) {
    const std::string id = "(SELECT id FROM chime.schedules WHERE name = '" + schedule + "')";
    const int64_t fires = Int("SELECT count(*) FROM chime.fires WHERE schedule_id = " + id);
    const int64_t span = Int("SELECT extract(epoch FROM max(scheduled_for) - min(scheduled_for))::bigint + 1 "
                             "FROM chime.fires WHERE schedule_id = " + id);
    EXPECT_EQ(fires, span) << "a tick was lost: " << fires << " fires over " << span << " seconds";
    EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE schedule_id = " + id),
              Int("SELECT count(*) FROM chime.fires WHERE job_id IS NOT NULL AND schedule_id = " + id));
    EXPECT_EQ(Int("SELECT count(*) - count(DISTINCT scheduled_for) FROM chime.jobs_all WHERE schedule_id = " + id),
              0);
  }

  Cluster cluster_;  // Only for its database and helpers.
  std::string schedules_path_;
  std::vector<std::unique_ptr<ChildProcess>> schedulers_;
};

constexpr const char* kEverySecond = R"(schedules:
  - name: tick
    cron: "* * * * * *"
    kind: noop
    overlap: allow
)";

TEST_F(CronClusterTest, KillingTheLeaderLosesAndDoublesNoTick) {
  WriteSchedules(kEverySecond);
  ChildProcess& a = StartScheduler();
  ASSERT_TRUE(a.WaitForLog("cron: leading (epoch 1)", seconds(30))) << a.log();
  ChildProcess& b = StartScheduler();
  ASSERT_TRUE(b.WaitForLog("cron: standing by", seconds(30))) << b.log();
  ASSERT_TRUE(WaitUntil([&] { return Fires("tick") >= 3; }, kClusterWaitBound)) << a.log();

  a.Signal(SIGKILL);
  ASSERT_TRUE(b.WaitForLog("cron: leading (epoch 2)", seconds(30))) << b.log();
  const int64_t at_takeover = Fires("tick");
  ASSERT_TRUE(WaitUntil([&] { return Fires("tick") >= at_takeover + 3; }, kClusterWaitBound)) << b.log();
  b.Signal(SIGTERM);
  ASSERT_TRUE(b.Wait(seconds(30)).has_value());

  ExpectEveryTickOnce("tick");
  EXPECT_GT(Int("SELECT count(*) FROM chime.fires WHERE leader_epoch = 1"), 0);
  EXPECT_GT(Int("SELECT count(*) FROM chime.fires WHERE leader_epoch = 2"), 0);
  // The ticks of the gap were fired late by the new leader, not dropped.
  EXPECT_EQ(Int("SELECT count(*) FROM chime.fires WHERE origin <> 'cron'"), 0);
}

TEST_F(CronClusterTest, AFrozenLeaderThatWakesUpFiresNothing) {
  WriteSchedules(kEverySecond);
  ChildProcess& a = StartScheduler();
  ASSERT_TRUE(a.WaitForLog("cron: leading (epoch 1)", seconds(30))) << a.log();
  ChildProcess& b = StartScheduler();
  ASSERT_TRUE(b.WaitForLog("cron: standing by", seconds(30))) << b.log();
  ASSERT_TRUE(WaitUntil([&] { return Fires("tick") >= 2; }, kClusterWaitBound));

  a.Signal(SIGSTOP);
  ASSERT_TRUE(b.WaitForLog("cron: leading (epoch 2)", seconds(30))) << b.log();
  const size_t a_log = a.log().size();
  a.Signal(SIGCONT);
  // A learns it lost the lease: from its renewal, from a refused fire, or -
  // when its session did not survive the pause (slow builds such as ASan's
  // see this) - from the reconnect, after which it stands by.
  ASSERT_TRUE(WaitUntil([&] {
    const std::string log = a.log().substr(a_log);
    return log.find("no longer leading") != std::string::npos ||
           log.find("is no longer held") != std::string::npos ||
           log.find("cron: standing by") != std::string::npos;
  }, kClusterWaitBound)) << a.log();
  const int64_t after_wake = Fires("tick");
  ASSERT_TRUE(WaitUntil([&] { return Fires("tick") >= after_wake + 3; }, kClusterWaitBound));
  EXPECT_EQ(a.log().find("cron: leading (epoch 3)"), std::string::npos) << a.log();

  ExpectEveryTickOnce("tick");
  EXPECT_EQ(Int("SELECT count(*) FROM chime.fires WHERE leader_epoch = 1 AND fired_at > "
                "(SELECT min(fired_at) FROM chime.fires WHERE leader_epoch = 2)"),
            0);
}

TEST_F(CronClusterTest, MisfirePoliciesAfterFiveMinutesWithoutAScheduler) {
  WriteSchedules(R"(schedules:
  - {name: m-skip, cron: "0 * * * * *", kind: noop, misfire: skip, overlap: allow}
  - {name: m-once, cron: "0 * * * * *", kind: noop, misfire: run_once, overlap: allow}
  - {name: m-all, cron: "0 * * * * *", kind: noop, misfire: run_all, overlap: allow}
)");
  ChildProcess& first = StartScheduler();
  ASSERT_TRUE(first.WaitForLog("cron: 3 schedules loaded", seconds(30))) << first.log();
  first.Signal(SIGTERM);
  ASSERT_TRUE(first.Wait(seconds(30)).has_value());

  // Keep clear of a minute boundary, so the newest missed tick is not "on time".
  ASSERT_TRUE(WaitUntil([&] {
    const int64_t s = Int("SELECT extract(second FROM now())::int");
    return s >= 3 && s <= 45;
  }, seconds(90)));
  // The database as if the last tick fired five minutes ago.
  cluster_.db().Exec("DELETE FROM chime.fires");
  cluster_.db().Exec("DELETE FROM chime.jobs");
  cluster_.db().Exec("UPDATE chime.schedules SET last_fired_for = "
                     "date_trunc('minute', now()) - interval '5 minutes'");
  const std::string base = "(SELECT date_trunc('minute', now()) - interval '5 minutes')";

  ChildProcess& second = StartScheduler({"--misfire-grace", "2s"});
  auto fires_of = [&](const std::string& name, const std::string& where) {
    return Int("SELECT count(*) FROM chime.fires f JOIN chime.schedules s ON s.id = f.schedule_id "
               "WHERE s.name = '" + name + "' AND " + where);
  };
  ASSERT_TRUE(WaitUntil([&] {
    return fires_of("m-all", "true") >= 5 && fires_of("m-once", "true") >= 1 &&
           fires_of("m-skip", "true") >= 1;
  }, kClusterWaitBound)) << second.log();
  second.Signal(SIGTERM);
  ASSERT_TRUE(second.Wait(seconds(30)).has_value());

  // run_all: each of the five missed ticks, once.
  EXPECT_EQ(fires_of("m-all", "origin = 'misfire' AND job_id IS NOT NULL AND scheduled_for > " + base), 5);
  // run_once: the newest missed tick only.
  EXPECT_EQ(fires_of("m-once", "job_id IS NOT NULL"), 1);
  EXPECT_EQ(fires_of("m-once", "scheduled_for = " + base + " + interval '5 minutes'"), 1);
  // skip: recorded as skipped, nothing enqueued.
  EXPECT_EQ(fires_of("m-skip", "outcome = 'skipped_misfire'"), 1);
  EXPECT_EQ(fires_of("m-skip", "job_id IS NOT NULL"), 0);
  // Each decision is in the log, not silent.
  EXPECT_NE(second.log().find("m-skip missed its ticks"), std::string::npos) << second.log();
}

TEST_F(CronClusterTest, AJobSlowerThanItsPeriodUnderEachOverlapPolicy) {
  WriteSchedules(R"(schedules:
  - {name: o-skip, cron: "* * * * * *", kind: sleep, payload: {ms: 2500}, overlap: skip}
  - {name: o-allow, cron: "* * * * * *", kind: sleep, payload: {ms: 2500}, overlap: allow}
  - {name: o-buffer, cron: "* * * * * *", kind: sleep, payload: {ms: 2500}, overlap: buffer_one}
  - {name: o-cancel, cron: "* * * * * *", kind: sleep, payload: {ms: 2500}, overlap: cancel_running}
)");
  ChildProcess& s = StartScheduler();
  ASSERT_TRUE(s.WaitForLog("cron: leading", seconds(30))) << s.log();
  // Heartbeats (every lease/3) also carry cancel requests, so the lease stays
  // short enough for o-cancel to see them within its 2.5 s run.
  std::vector<std::string> argv{BinaryPath("worker/chime-worker"), "--worker-id", "w1",
                                "--slots", "16", "--lease-ms", "3000", "--poll-interval-ms", "100"};
  ChildProcess worker(argv, {{"CHIME_DATABASE_URL", cluster_.db().url()}});
  ASSERT_TRUE(worker.Start());
  // A buffered tick released after the live job: enqueued well after its tick.
  const std::string released_buffer =
      "SELECT count(*) FROM chime.fires f JOIN chime.schedules s ON s.id = f.schedule_id "
      "WHERE s.name = 'o-buffer' AND f.job_id IS NOT NULL "
      "AND f.fired_at > f.scheduled_for + interval '1 second'";
  ASSERT_TRUE(WaitUntil([&] {
    return Fires("o-skip") >= 8 && Fires("o-buffer") >= 8 && Int(released_buffer) >= 1 &&
           Int("SELECT count(*) FROM chime.runs r JOIN chime.schedules s ON s.id = r.schedule_id "
               "WHERE s.name = 'o-cancel' AND r.outcome = 'cancelled'") >= 1;
  }, kClusterWaitBound)) << s.log() << worker.log();
  s.Signal(SIGTERM);
  ASSERT_TRUE(s.Wait(seconds(30)).has_value());
  worker.Signal(SIGTERM);
  ASSERT_TRUE(worker.Wait(seconds(30)).has_value());

  auto overlapping_runs = [&](const std::string& name) {
    return Int("SELECT count(*) FROM chime.runs a JOIN chime.runs b ON a.schedule_id = b.schedule_id "
               "AND a.id < b.id AND a.started_at < b.finished_at AND b.started_at < a.finished_at "
               "JOIN chime.schedules s ON s.id = a.schedule_id WHERE s.name = '" + name +
               "' AND a.outcome <> 'released' AND b.outcome <> 'released'");
  };
  auto outcomes = [&](const std::string& name, const std::string& outcome) {
    return Int("SELECT count(*) FROM chime.fires f JOIN chime.schedules s ON s.id = f.schedule_id "
               "WHERE s.name = '" + name + "' AND f.outcome = '" + outcome + "'");
  };
  // skip: ticks during a run are recorded as skipped; runs never overlap.
  EXPECT_GT(outcomes("o-skip", "skipped_overlap"), 0);
  EXPECT_EQ(overlapping_runs("o-skip"), 0);
  // allow: every tick is a job, and they run side by side.
  EXPECT_EQ(outcomes("o-allow", "skipped_overlap"), 0);
  EXPECT_GT(overlapping_runs("o-allow"), 0);
  // buffer_one: one waiting tick is run after the live job, others skipped.
  EXPECT_GT(outcomes("o-buffer", "skipped_overlap"), 0);
  EXPECT_EQ(overlapping_runs("o-buffer"), 0);
  // cancel_running: each tick replaces the live job.
  EXPECT_EQ(outcomes("o-cancel", "skipped_overlap"), 0);
  EXPECT_GT(Int("SELECT count(*) FROM chime.jobs_all j JOIN chime.schedules s ON s.id = j.schedule_id "
                "WHERE s.name = 'o-cancel' AND j.state = 'cancelled'"),
            0);
}

TEST_F(CronClusterTest, ABadScheduleFileStopsTheSchedulerNamingTheEntry) {
  WriteSchedules(R"(schedules:
  - {name: good, cron: "0 * * * *", kind: noop}
  - {name: nightly, cron: "60 2 * * *", kind: noop}
)");
  ChildProcess p({BinaryPath("scheduler/chime-scheduler"), "--schedules", schedules_path_},
                 {{"CHIME_DATABASE_URL", cluster_.db().url()}, {"CHIME_ADMIN_SECRET", kClusterSecret}});
  ASSERT_TRUE(p.Start());
  auto status = p.Wait(seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  EXPECT_NE(p.log().find("nightly"), std::string::npos) << p.log();
  EXPECT_NE(p.log().find("minute"), std::string::npos) << p.log();
  EXPECT_EQ(p.log().find("scheduler running"), std::string::npos) << p.log();
}

}  // namespace
}  // namespace chime::testing
