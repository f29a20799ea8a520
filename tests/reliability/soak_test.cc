// The soak: a loaded cluster - two scheduler replicas firing a schedule
// every second, three workers, batches of jobs enqueued throughout - under a
// seeded random nemesis for CHIME_SOAK_SECONDS (default 90: the CI version;
// scripts/soak.sh runs it for 30 minutes), then the history checker and the
// database checks of ReplicaTest::StopAndCheck. Faults: kill -9, SIGSTOP
// past the lease and SIGTERM of a worker; kill -9, SIGSTOP and terminated
// sessions of the leader; a random backend terminated. Replay a failure with
// CHIME_NEMESIS_SEED=N. Prints what was injected and run.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include "tests/reliability/nemesis.h"
#include "tests/reliability/replica_fixture.h"

namespace chime::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

class SoakTest : public ReplicaTest {
 protected:
  int64_t Epoch() { return Int("SELECT coalesce(max(epoch), 0) FROM chime.leader"); }

  std::string Endpoints() {
    std::string out;
    for (auto* s : schedulers_) {
      if (!s->running()) continue;
      out += (out.empty() ? "" : ",") + Endpoint(*s);
    }
    return out;
  }

  ChildProcess& AddScheduler() { return *schedulers_.emplace_back(&StartScheduler()); }

  ChildProcess& AddWorker() {
    auto& w = StartWorker("w" + std::to_string(++workers_started_), {{"CHIME_SCHEDULER", Endpoints()}});
    workers_.push_back(&w);
    return w;
  }

  // A running worker, chosen by the nemesis.
  ChildProcess* AnyWorker() {
    std::vector<ChildProcess*> alive;
    for (auto* w : workers_) {
      if (w->running()) alive.push_back(w);
    }
    return alive.empty() ? nullptr : alive[nemesis_.Pick(alive.size())];
  }

  void Enqueue() {
    const auto count = std::to_string(nemesis_.Between(10, 60));
    const auto ms = std::to_string(nemesis_.Between(5, 300));
    auto out = cluster_.Jobctl({"enqueue", "history_effect", "--payload", R"({"ms": )" + ms + "}", "--count",
                                count, "--database-url", cluster_.db().url()},
                               Env());
    // Refused while a fault hits the database: the next batch goes through.
    if (out.exit_code == 0) enqueued_batches_++;
  }

  void Fault(const std::string& fault) {
    ++injected_[fault];
    if (fault.starts_with("worker")) {
      ChildProcess* w = AnyWorker();
      ASSERT_NE(w, nullptr);
      if (fault == "worker_kill9" || fault == "worker_sigterm") {
        w->Signal(fault == "worker_kill9" ? SIGKILL : SIGTERM);
        ASSERT_TRUE(w->Wait(seconds(60)).has_value()) << w->log();
        AddWorker();  // As a supervisor would.
      } else {
        w->Signal(SIGSTOP);
        nemesis_sleep(milliseconds(nemesis_.Between(500, 3000)));  // Past its 1 s lease, or not.
        w->Signal(SIGCONT);
      }
      return;
    }
    if (fault == "backend_terminate") {
      Int("SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity WHERE "
          "datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'chime-%' "
          "ORDER BY random() LIMIT 1) v");
      return;
    }
    ChildProcess* leader = nullptr;
    ASSERT_TRUE(WaitUntil([&] { return (leader = Leader(schedulers_)) != nullptr; }, kClusterWaitBound));
    const int64_t epoch = Epoch();
    if (fault == "leader_kill9") {
      leader->Signal(SIGKILL);
      ASSERT_TRUE(leader->Wait(seconds(10)).has_value());
      AddScheduler();
    } else if (fault == "leader_sigstop") {
      leader->Signal(SIGSTOP);
      ASSERT_TRUE(WaitUntil([&] { return Epoch() > epoch; }, kClusterWaitBound)) << "no takeover";
      leader->Signal(SIGCONT);
    } else {
      Int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = "
          "'chime-scheduler-" + std::to_string(leader->pid()) + "'");
    }
  }

  // The nemesis' pause between faults: the cluster runs meanwhile; nothing
  // waits on it for synchronisation.
  static void nemesis_sleep(milliseconds d) { std::this_thread::sleep_for(d); }

  Nemesis nemesis_;
  std::vector<ChildProcess*> schedulers_;
  std::vector<ChildProcess*> workers_;
  int workers_started_ = 0;
  int64_t enqueued_batches_ = 0;
  std::map<std::string, int> injected_;
};

TEST_F(SoakTest, ARandomNemesisOverALoadedClusterLosesAndDoublesNothing) {
  SCOPED_TRACE(nemesis_.Describe());
  const char* env = std::getenv("CHIME_SOAK_SECONDS");
  const seconds length(env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 90);
  std::printf("%s; soak for %lld s\n", nemesis_.Describe().c_str(), static_cast<long long>(length.count()));
  AddScheduler();
  ASSERT_TRUE(schedulers_[0]->WaitForLog("cron: leading (epoch 1)", seconds(30))) << schedulers_[0]->log();
  AddScheduler();
  for (int i = 0; i < 3; ++i) AddWorker();

  const std::vector<std::string> faults{"worker_kill9",  "worker_sigstop", "worker_sigterm",   "leader_kill9",
                                        "leader_sigstop", "leader_sessions", "backend_terminate"};
  const auto until = steady_clock::now() + length;
  while (steady_clock::now() < until) {
    Enqueue();
    Fault(faults[nemesis_.Pick(faults.size())]);
    if (HasFatalFailure()) return;
    nemesis_sleep(nemesis_.Delay(milliseconds(500), milliseconds(4000)));
  }
  std::string summary;
  for (const auto& [fault, n] : injected_) summary += " " + fault + "=" + std::to_string(n);
  std::printf("faults:%s; %lld enqueue batches; %lld jobs, %lld runs (%lld lease_expired); epoch %lld\n",
              summary.c_str(), static_cast<long long>(enqueued_batches_),
              static_cast<long long>(Int("SELECT count(*) FROM chime.jobs_all")),
              static_cast<long long>(Int("SELECT count(*) FROM chime.runs")),
              static_cast<long long>(Int("SELECT count(*) FROM chime.runs WHERE outcome = 'lease_expired'")),
              static_cast<long long>(Epoch()));
  StopAndCheck(schedulers_, /*workers_faulted=*/true);
}

}  // namespace
}  // namespace chime::testing
