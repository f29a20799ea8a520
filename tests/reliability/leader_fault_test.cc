// Faults of the leading scheduler with two replicas, under the history
// checker: kill -9, SIGSTOP past its lease then SIGCONT, and its database
// sessions terminated, in an order the nemesis picks (replay a failure with
// CHIME_NEMESIS_SEED=N). Throughout, a schedule fires every second and its
// jobs run on two workers: every tick must fire exactly once, in one epoch,
// never early, and no write with a stale epoch may be accepted
// (ReplicaTest::StopAndCheck).
#include <csignal>
#include <cstdio>

#include "tests/reliability/nemesis.h"
#include "tests/reliability/replica_fixture.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

class LeaderFaultTest : public ReplicaTest {
 protected:
  int64_t Epoch() { return Int("SELECT coalesce(max(epoch), 0) FROM chime.leader"); }

  // Waits for a leader under an epoch newer than `epoch`.
  ::testing::AssertionResult WaitForNewEpoch(int64_t epoch) {
    return WaitUntil("a live leader lease with an epoch above " + std::to_string(epoch), [&] {
      return Int("SELECT count(*) FROM chime.leader WHERE epoch > " + std::to_string(epoch) +
                 " AND expires_at > now()") == 1;
    }, kClusterWaitBound);
  }

  void Fault(const std::string& fault, std::vector<ChildProcess*>& schedulers) {
    ChildProcess* leader = nullptr;
    ASSERT_TRUE(WaitUntil([&] { return (leader = Leader(schedulers)) != nullptr; }, kClusterWaitBound));
    const int64_t epoch = Epoch();
    std::printf("%s of the leader (pid %d, epoch %lld)\n", fault.c_str(), leader->pid(),
                static_cast<long long>(epoch));
    if (fault == "kill9") {
      leader->Signal(SIGKILL);
      ASSERT_TRUE(leader->Wait(seconds(10)).has_value());
      ASSERT_TRUE(WaitForNewEpoch(epoch));
      schedulers.push_back(&StartScheduler());  // Two replicas again, as a Deployment would.
    } else if (fault == "sigstop") {
      leader->Signal(SIGSTOP);
      ASSERT_TRUE(WaitForNewEpoch(epoch));
      const size_t offset = leader->log().size();
      leader->Signal(SIGCONT);
      // It learns of the new epoch from its renewal, a refused fire or its
      // reconnect; until then its fires are refused by the database.
      ASSERT_TRUE(WaitUntil([&] {
        const std::string log = leader->log().substr(offset);
        return log.find("no longer leading") != std::string::npos ||
               log.find("is no longer held") != std::string::npos ||
               log.find("cron: standing by") != std::string::npos;
      }, kClusterWaitBound)) << leader->log();
    } else {
      // Every session of the leader at once, the lease's included.
      const std::string name = "chime-scheduler-" + std::to_string(leader->pid());
      const int64_t killed = Int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE application_name = '" + name + "'");
      EXPECT_GT(killed, 0) << "no session named " << name;
      std::printf("terminated %lld sessions\n", static_cast<long long>(killed));
    }
  }

  Nemesis nemesis_;
};

TEST_F(LeaderFaultTest, KillStopAndSessionLossOfTheLeaderLoseAndDoubleNoTick) {
  SCOPED_TRACE(nemesis_.Describe());
  std::printf("%s\n", nemesis_.Describe().c_str());
  std::vector<ChildProcess*> schedulers{&StartScheduler()};
  ASSERT_TRUE(schedulers[0]->WaitForLog("cron: leading (epoch 1)", seconds(30))) << schedulers[0]->log();
  schedulers.push_back(&StartScheduler());
  ASSERT_TRUE(schedulers[1]->WaitForLog("cron: standing by", seconds(30))) << schedulers[1]->log();
  StartWorker("w1");
  StartWorker("w2");
  ASSERT_TRUE(WaitForFires(3));

  std::vector<std::string> faults{"kill9", "sigstop", "terminate_sessions"};
  nemesis_.Shuffle(faults);
  for (const auto& fault : faults) {
    SCOPED_TRACE(fault);
    Fault(fault, schedulers);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(WaitForFires(nemesis_.Between(2, 4)));
  }
  StopAndCheck(schedulers);
  EXPECT_GE(Epoch(), 3) << "kill -9 and SIGSTOP each hand the lease on";
}

}  // namespace
}  // namespace chime::testing
