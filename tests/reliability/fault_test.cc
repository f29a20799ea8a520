// Fault tests: a real cluster (tests/integration/cluster.h) whose every
// process writes the event history; a seeded nemesis (nemesis.h) picks the
// victim, the moment and the order of faults; each test ends with the
// history checker over the histories and the database. A failure prints the
// seed (replay with CHIME_NEMESIS_SEED=N) and keeps the history file.
// Waits poll the database with deadlines that only a broken build reaches.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/integration/cluster.h"
#include "tests/reliability/history_checker.h"
#include "tests/reliability/nemesis.h"

namespace chime::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kUnfinished =
    "SELECT count(*) FROM chime.jobs_all WHERE state NOT IN ('succeeded', 'discarded', 'cancelled')";

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The poison pill aborts workers: no core files.
    struct rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    history_ = ::testing::TempDir() + "chime-history-" + std::to_string(getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl";
    std::remove(history_.c_str());
    std::printf("%s\n", nemesis_.Describe().c_str());
  }

  void TearDown() override {
    spawned_.clear();
    if (HasFailure()) {
      std::printf("history kept in %s; %s\n", history_.c_str(), nemesis_.Describe().c_str());
    } else {
      std::remove(history_.c_str());
    }
  }

  std::map<std::string, std::string> Env() const { return {{"CHIME_HISTORY_FILE", history_}}; }

  Cluster& cluster() {
    if (!cluster_) cluster_.emplace();
    return *cluster_;
  }

  ChildProcess& StartWorker(const std::string& id, std::vector<std::string> args = {}) {
    return cluster().StartWorker(id, std::move(args), Env());
  }

  // A worker as Cluster::StartWorker starts it, without waiting for the
  // scheduler to see it: a poison pill may kill it before its hello.
  ChildProcess& SpawnWorker(const std::string& id) {
    auto env = Env();
    env.emplace("CHIME_DATABASE_URL", cluster().db().url());
    env.emplace("CHIME_SCHEDULER", cluster().endpoint());
    auto& w = *spawned_.emplace_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("worker/chime-worker"), "--worker-id", id, "--slots", "4",
                                 "--lease-ms", "1000", "--poll-interval-ms", "200"},
        env));
    EXPECT_TRUE(w.Start()) << w.log();
    return w;
  }

  // Enqueues `count` jobs through jobctl; retries what an unavailable
  // scheduler or database refused. Returns how many were confirmed.
  int64_t Enqueue(const std::string& kind, const std::string& payload, int count) {
    int64_t confirmed = 0;
    for (int attempt = 0; attempt < 20 && confirmed < count; ++attempt) {
      auto out = cluster().Jobctl({"enqueue", kind, "--payload", payload, "--count",
                                   std::to_string(count - confirmed)},
                                  Env());
      std::istringstream lines(out.output);
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) ++confirmed;
      }
      if (out.exit_code == 0) break;
      if (out.exit_code != 5) {
        ADD_FAILURE() << "jobctl enqueue: exit " << out.exit_code << ": " << out.output;
        break;
      }
    }
    EXPECT_EQ(confirmed, count);
    return confirmed;
  }

  // An integer from the database; -1 while it cannot be reached.
  int64_t Int(const std::string& sql) {
    try {
      return cluster().Int(sql);
    } catch (const std::exception&) {
      return -1;
    }
  }

  bool WaitSettled(milliseconds deadline = seconds(90)) {
    return WaitUntil([&] { return Int(kUnfinished) == 0; }, deadline);
  }

  // Enqueues `count` jobs while it waits for `caught` (a victim worker
  // mid-job), so the wait sees the jobs from their first claim: on a loaded
  // machine the workers can drain them all before jobctl's process has
  // returned, and a wait begun after it would see none of them running.
  ::testing::AssertionResult EnqueueAndWaitUntil(const std::string& kind, const std::string& payload,
                                                 int count, const std::function<bool()>& caught) {
    std::thread enqueue([&] { Enqueue(kind, payload, count); });
    auto waited = WaitUntil(caught, kClusterWaitBound);
    enqueue.join();
    return waited;
  }

  int64_t RunningOn(const std::string& worker) {
    return Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'running' AND worker_id = '" + worker + "'");
  }
  int64_t RunsOf(const std::string& worker, const std::string& outcome = "") {
    return Int("SELECT count(*) FROM chime.runs WHERE worker_id = '" + worker + "'" +
               (outcome.empty() ? "" : " AND outcome = '" + outcome + "'"));
  }

  // The checker over everything the run wrote.
  void ExpectHistoryHolds(CheckerOptions options = {}) {
    HistoryChecker checker(options);
    ASSERT_TRUE(checker.AddHistoryFile(history_));
    EXPECT_GT(checker.events(), 0u);
    std::printf("history: %s\n", checker.Summary().c_str());
    const auto violations = checker.Check(ReadSnapshot(cluster().db().url()));
    EXPECT_TRUE(violations.empty()) << violations.size() << " violations:\n" << ToString(violations);
  }

  std::string history_;
  Nemesis nemesis_;
  std::optional<Cluster> cluster_;
  std::vector<std::unique_ptr<ChildProcess>> spawned_;  // Before cluster_ is gone: see TearDown.
};

TEST_F(FaultTest, KillNineOfAWorkerMidJobLosesNothing) {
  SCOPED_TRACE(nemesis_.Describe());
  cluster().StartScheduler({}, Env());
  std::vector<ChildProcess*> workers{&StartWorker("w1"), &StartWorker("w2")};
  const size_t victim = nemesis_.Pick(workers.size());
  const std::string id = "w" + std::to_string(victim + 1);
  const int64_t after_runs = nemesis_.Between(0, 40);
  ASSERT_TRUE(EnqueueAndWaitUntil("history_effect", R"({"ms": 50})", 200,
                                  [&] { return RunsOf(id) >= after_runs && RunningOn(id) > 0; }))
      << workers[victim]->log();
  workers[victim]->Signal(SIGKILL);
  ASSERT_TRUE(workers[victim]->Wait(seconds(10)).has_value());
  StartWorker("w3");
  ASSERT_TRUE(WaitSettled());
  // The kill hit running jobs: they were rescued and run again elsewhere.
  EXPECT_GE(RunsOf(id, "lease_expired"), 1);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE state <> 'succeeded'"), 0);
  ExpectHistoryHolds();
}

TEST_F(FaultTest, APoisonPillIsQuarantinedWhileOtherJobsKeepFlowing) {
  SCOPED_TRACE(nemesis_.Describe());
  cluster().StartScheduler({}, Env());
  std::vector<ChildProcess*> workers{&StartWorker("w1"), &StartWorker("w2")};
  int next_id = 3;
  Enqueue("abort_worker", "{}", 1);
  Enqueue("history_effect", R"({"ms": 20})", 150);
  // A supervisor: every worker the pill kills is replaced, as a pod would be.
  ASSERT_TRUE(WaitUntil([&] {
    for (auto*& w : workers) {
      if (!w->running() && next_id < 30) w = &SpawnWorker("w" + std::to_string(next_id++));
    }
    return Int(kUnfinished) == 0;
  }, seconds(90))) << "restarted " << next_id - 3 << " workers";
  EXPECT_GE(next_id - 3, 4) << "the pill should have killed a worker on each of its 4 attempts";
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'abort_worker' AND state = 'discarded' "
                "AND last_error LIKE '%poison pill%'"),
            1);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.runs r JOIN chime.jobs_all j ON j.id = r.job_id "
                "WHERE j.kind = 'abort_worker' AND r.outcome = 'lease_expired'"),
            4);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'history_effect' AND state <> 'succeeded'"), 0);
  ExpectHistoryHolds();
}

TEST_F(FaultTest, SigtermDrainsAndLeavesNoLeaseBehind) {
  SCOPED_TRACE(nemesis_.Describe());
  cluster().StartScheduler({}, Env());
  const std::string grace = std::to_string(nemesis_.Between(0, 400));
  ChildProcess& victim = StartWorker("w1", {"--shutdown-grace-ms", grace});
  StartWorker("w2");
  const int64_t after_runs = nemesis_.Between(0, 8);
  ASSERT_TRUE(EnqueueAndWaitUntil("history_effect", R"({"ms": 300})", 60,
                                  [&] { return RunsOf("w1") >= after_runs && RunningOn("w1") > 0; }))
      << victim.log();
  victim.Signal(SIGTERM);
  auto status = victim.Wait(seconds(30));
  ASSERT_TRUE(status.has_value()) << victim.log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << victim.log();
  ASSERT_TRUE(WaitSettled());
  // Drained, not abandoned: every job it held was finished or released.
  EXPECT_EQ(Int("SELECT count(*) FROM chime.runs WHERE outcome = 'lease_expired'"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE state <> 'succeeded'"), 0);
  ExpectHistoryHolds();
}

TEST_F(FaultTest, AWorkerStoppedPastItsLeaseCannotOverwriteTheRescuedJob) {
  SCOPED_TRACE(nemesis_.Describe());
  cluster().StartScheduler({}, Env());
  std::vector<ChildProcess*> workers{&StartWorker("w1"), &StartWorker("w2")};
  const size_t victim = nemesis_.Pick(workers.size());
  const std::string id = "w" + std::to_string(victim + 1);
  const int64_t after_runs = nemesis_.Between(0, 10);
  ASSERT_TRUE(EnqueueAndWaitUntil("history_effect", R"({"ms": 200})", 80,
                                  [&] { return RunsOf(id) >= after_runs && RunningOn(id) > 0; }));
  workers[victim]->Signal(SIGSTOP);
  // Wait until a job it held was rescued and claimed again by someone else.
  ASSERT_TRUE(WaitUntil([&] {
    return Int("SELECT count(*) FROM chime.jobs_all j WHERE (j.state = 'succeeded' OR "
               "(j.state = 'running' AND j.worker_id <> '" + id + "')) AND EXISTS (SELECT 1 FROM "
               "chime.runs r WHERE r.job_id = j.id AND r.worker_id = '" + id +
               "' AND r.outcome = 'lease_expired')") > 0;
  }, kClusterWaitBound));
  workers[victim]->Signal(SIGCONT);
  ASSERT_TRUE(WaitSettled());
  EXPECT_TRUE(workers[victim]->running()) << workers[victim]->log();
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE state <> 'succeeded'"), 0);
  ExpectHistoryHolds();
}

// PostgreSQL restarted fast, stopped immediately and started, and one
// backend killed, in a nemesis-chosen order, each under load, on a private
// server (the shared chime_pg server serves other tests meanwhile). A
// schedule fires every second throughout, so leadership and ticks are
// checked across the faults too.
class PostgresFaultTest : public FaultTest {
 protected:
  void SetUp() override {
    FaultTest::SetUp();
    const char* script = std::getenv("CHIME_PG_SCRIPT");
    ASSERT_NE(script, nullptr) << "CHIME_PG_SCRIPT is not set; run through ctest";
    script_ = script;
    char dir[] = "/tmp/chime-fault-pg.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    chmod(dir_.c_str(), 0755);
    // Normal durability: with CHIME_PG_FAST's synchronous_commit=off an
    // immediate stop loses commits already acknowledged - the test's fault,
    // not Chime's.
    url_ = Shell("CHIME_PG_FAST=0 '" + script_ + "' start '" + dir_ + "' 2>/dev/null");
    ASSERT_EQ(url_.rfind("postgresql://", 0), 0u) << url_;
    setenv("CHIME_TEST_DATABASE_URL", url_.c_str(), 1);
    schedules_ = dir_ + "/schedules.yaml";
    std::ofstream(schedules_) << "schedules:\n"
                                 "  - name: tick\n"
                                 "    cron: \"* * * * * *\"\n"
                                 "    kind: history_effect\n"
                                 "    overlap: allow\n";
  }

  void TearDown() override {
    spawned_.clear();
    cluster_.reset();  // Processes first, then its database, while the server runs.
    unsetenv("CHIME_TEST_DATABASE_URL");
    if (!dir_.empty()) {
      Shell("'" + script_ + "' destroy '" + dir_ + "' >/dev/null 2>&1; rm -rf '" + dir_ + "'");
    }
    FaultTest::TearDown();
  }

  // Runs a shell command; its stdout, trimmed.
  static std::string Shell(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
      char buf[512];
      while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
      pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  // pg_ctl on the private server, as the server's user.
  bool PgCtl(const std::string& args) {
    const std::string command =
        "D=$(readlink -f '" + dir_ + "/data'); "
        "B=${CHIME_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}; "
        "if [ \"$(id -u)\" = 0 ]; then R='runuser -u postgres --'; else R=''; fi; "
        "cd / && $R \"$B/pg_ctl\" -D \"$D\" " + args + " >>'" + dir_ + "/postgres.log' 2>&1 </dev/null";
    return std::system(command.c_str()) == 0;
  }

  void Fault(const std::string& fault) {
    if (fault == "restart_fast") {
      ASSERT_TRUE(PgCtl("-m fast -w -t 60 restart"));
    } else if (fault == "stop_immediate_start") {
      const size_t log_offset = scheduler_->log().size();
      ASSERT_TRUE(PgCtl("-m immediate -w -t 60 stop"));
      // Down until the leader's lease has run out (the scheduler says so),
      // so that the leader has to be elected again, under a new epoch.
      ASSERT_TRUE(Cluster::WaitForLogAfter(*scheduler_, log_offset, "may have expired", seconds(30)))
          << scheduler_->log();
      ASSERT_EQ(Shell("CHIME_PG_FAST=0 '" + script_ + "' start '" + dir_ + "' 2>/dev/null"), url_)
          << "the server came back on another port";
    } else {
      // One Chime backend of this run's database, chosen by the nemesis.
      const int64_t backends = Int("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                   "current_database() AND pid <> pg_backend_pid()");
      ASSERT_GT(backends, 0);
      const size_t victim = nemesis_.Pick(static_cast<size_t>(backends));
      const std::string pid = cluster().Text(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
          "pid <> pg_backend_pid() ORDER BY pid OFFSET " + std::to_string(victim) + " LIMIT 1");
      ASSERT_FALSE(pid.empty());
      std::printf("terminating backend %s (%zu of %lld): %s\n", pid.c_str(), victim,
                  static_cast<long long>(backends),
                  cluster().Text("SELECT left(query, 80) FROM pg_stat_activity WHERE pid = " + pid).c_str());
      EXPECT_EQ(cluster().Text("SELECT pg_terminate_backend(" + pid + ")"), "t");
    }
  }

  int64_t Fires() { return Int("SELECT count(*) FROM chime.fires"); }

  std::string script_;
  std::string dir_;
  std::string url_;
  std::string schedules_;
  ChildProcess* scheduler_ = nullptr;
};

TEST_F(PostgresFaultTest, RestartsStopsAndAKilledBackendUnderLoadLoseNothing) {
  SCOPED_TRACE(nemesis_.Describe());
  ChildProcess& scheduler = cluster().StartScheduler(
      {"--schedules", schedules_, "--cron-seconds", "--leader-ttl", "2s", "--leader-renew", "500ms"}, Env());
  scheduler_ = &scheduler;
  StartWorker("w1");
  StartWorker("w2");
  ASSERT_TRUE(WaitUntil([&] { return Fires() >= 2; }, kClusterWaitBound)) << scheduler.log();
  std::vector<std::string> faults{"restart_fast", "stop_immediate_start", "terminate_backend"};
  nemesis_.Shuffle(faults);
  for (const auto& fault : faults) {
    SCOPED_TRACE(fault);
    const int64_t runs_before = Int("SELECT count(*) FROM chime.runs");
    Enqueue("history_effect", R"({"ms": 10})", 100);
    // Strike while the batch is being worked.
    const int64_t into = nemesis_.Between(1, 60);
    ASSERT_TRUE(WaitUntil([&] { return Int("SELECT count(*) FROM chime.runs") >= runs_before + into; }, kClusterWaitBound));
    Fault(fault);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(WaitSettled()) << scheduler.log();
    // A leader holds a live lease and ticks are fired again.
    ASSERT_TRUE(WaitUntil([&] {
      return Int("SELECT count(*) FROM chime.leader WHERE expires_at > now()") == 1;
    }, kClusterWaitBound)) << scheduler.log();
    const int64_t fires = Fires();
    ASSERT_TRUE(WaitUntil([&] { return Fires() >= fires + 2; }, kClusterWaitBound)) << scheduler.log();
  }
  // The outage outlived the lease: leadership was taken again, as epoch 2.
  EXPECT_GE(Int("SELECT epoch FROM chime.leader"), 2);
  // Stop firing, let the last ticks' jobs finish, then check.
  scheduler.Signal(SIGTERM);
  ASSERT_TRUE(scheduler.Wait(seconds(30)).has_value()) << scheduler.log();
  ASSERT_TRUE(WaitSettled());
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE state <> 'succeeded'"), 0);
  ExpectHistoryHolds({.cron_seconds = true});
}

}  // namespace
}  // namespace chime::testing
