// Clocks: scheduler replicas and workers whose wall clocks are skewed by
// +-90 s, and whose wall clocks jump an hour forward and back mid-run, under
// libfaketime (Debian's libfaketime; the test skips where it is missing).
// Leases and ticks are judged in database time, so every tick fires exactly
// once and never before its time, and no lease expires under a job whose
// worker keeps heart-beating (ReplicaTest::StopAndCheck, with the history
// checker). The monotonic clock stays real (FAKETIME_DONT_FAKE_MONOTONIC),
// as it does when NTP or an operator steps the wall clock.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "tests/reliability/replica_fixture.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kLibFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

class ClockTest : public ReplicaTest {
 protected:
  void SetUp() override {
    // scripts/install-deps.sh installs it: missing is a broken setup, not a skip.
    ASSERT_EQ(access(kLibFaketime, R_OK), 0)
        << kLibFaketime << " missing (package libfaketime; scripts/install-deps.sh installs it)";
    ReplicaTest::SetUp();
  }

  void TearDown() override {
    ReplicaTest::TearDown();
    for (const auto& f : clock_files_) std::remove(f.c_str());
  }

  // A clock file that a faked process re-reads on every call, holding its
  // offset from the real time in seconds ("+90", "-3600").
  std::string ClockFile(const std::string& name, const std::string& offset) {
    const std::string path = history_ + "." + name + ".faketime";
    clock_files_.push_back(path);
    SetClock(path, offset);
    return path;
  }
  static void SetClock(const std::string& path, const std::string& offset) {
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << offset << "\n";
    ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);  // Never seen half-written.
  }

  static std::map<std::string, std::string> Faked(const std::string& clock_file) {
    std::map<std::string, std::string> env{{"LD_PRELOAD", kLibFaketime},
                                           {"FAKETIME_TIMESTAMP_FILE", clock_file},
                                           {"FAKETIME_NO_CACHE", "1"},
                                           {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}};
    // Sanitizer builds insist on coming first among preloaded libraries.
    const char* asan = std::getenv("ASAN_OPTIONS");
    env["ASAN_OPTIONS"] = std::string(asan && *asan ? std::string(asan) + ":" : "") + "verify_asan_link_order=0";
    return env;
  }

  std::vector<std::string> clock_files_;
};

TEST_F(ClockTest, ReplicasSkewedByNinetySecondsFireEachTickOnceInDatabaseTime) {
  ChildProcess& ahead = StartScheduler(Faked(ClockFile("ahead", "+90")));
  ASSERT_TRUE(ahead.WaitForLog("cron: leading (epoch 1)", seconds(30))) << ahead.log();
  ChildProcess& behind = StartScheduler(Faked(ClockFile("behind", "-90")));
  ASSERT_TRUE(behind.WaitForLog("cron: standing by", seconds(30))) << behind.log();
  StartWorker("w-ahead", Faked(ClockFile("w-ahead", "+90")));
  StartWorker("w-behind", Faked(ClockFile("w-behind", "-90")));
  ASSERT_TRUE(WaitForFires(4)) << ahead.log();

  // The leader 90 s ahead dies; the one 90 s behind takes over.
  ahead.Signal(SIGKILL);
  ASSERT_TRUE(ahead.Wait(seconds(10)).has_value());
  ASSERT_TRUE(behind.WaitForLog("cron: leading (epoch 2)", seconds(30))) << behind.log();
  ASSERT_TRUE(WaitForFires(4)) << behind.log();
  StopAndCheck({&behind});
  EXPECT_GT(Int("SELECT count(*) FROM chime.fires WHERE leader_epoch = 2"), 0);
}

TEST_F(ClockTest, WallClockJumpsForwardAndBackFireNothingEarlyAndLoseNothing) {
  const std::string clock = ClockFile("jumping", "+0");
  ChildProcess& scheduler = StartScheduler(Faked(clock));
  ASSERT_TRUE(scheduler.WaitForLog("cron: leading (epoch 1)", seconds(30))) << scheduler.log();
  StartWorker("w1", Faked(clock));
  StartWorker("w2", Faked(clock));
  ASSERT_TRUE(WaitForFires(3)) << scheduler.log();

  SetClock(clock, "+3600");  // An hour ahead: nothing of that hour may fire.
  ASSERT_TRUE(WaitForFires(4)) << scheduler.log();
  SetClock(clock, "-3600");  // Two hours back: the ticks keep coming.
  ASSERT_TRUE(WaitForFires(4)) << scheduler.log();
  SetClock(clock, "+0");
  ASSERT_TRUE(WaitForFires(2)) << scheduler.log();
  EXPECT_EQ(Int("SELECT count(DISTINCT leader_epoch) FROM chime.fires"), 1) << scheduler.log();
  StopAndCheck({&scheduler});
}

}  // namespace
}  // namespace chime::testing
