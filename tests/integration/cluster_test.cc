// The cluster as processes: chime-scheduler, chime-worker and jobctl on a
// real PostgreSQL. Every job runs to exactly one success; a worker killed
// or frozen mid-job loses its job to another worker and its late word
// changes nothing; SIGTERM drains; a dead scheduler slows work down but
// never stops it.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

class ClusterTest : public ::testing::Test {
 protected:
  // Enqueues one job through jobctl and returns its id.
  int64_t Enqueue(const std::string& kind, const std::string& payload = "{}") {
    auto r = cluster_.Jobctl({"enqueue", kind, "--payload", payload, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    if (r.exit_code != 0) return 0;
    return nlohmann::json::parse(r.output)["id"].get<int64_t>();
  }

  std::string StateOf(int64_t id) {
    return cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id));
  }

  bool RunningOn(int64_t id, const std::string& worker) {
    return cluster_.Text("SELECT state || '@' || coalesce(worker_id, '') FROM chime.jobs_all WHERE id = " +
                         std::to_string(id)) == "running@" + worker;
  }

  // "attempt:outcome:worker" per run, in attempt order.
  std::string Runs(int64_t id) {
    return cluster_.Text(
        "SELECT string_agg(attempt || ':' || outcome || ':' || coalesce(worker_id, ''), ',' "
        "ORDER BY attempt, id) FROM chime.runs WHERE job_id = " + std::to_string(id));
  }

  static int ExitCode(ChildProcess& p) {
    auto status = p.Wait(seconds(60));
    if (!status) return -1;
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  }

  Cluster cluster_;
};

TEST_F(ClusterTest, TwoThousandJobsEachSucceedWithExactlyOneSuccessfulRun) {
  cluster_.StartScheduler();
  cluster_.StartWorker("w1", {"--slots", "8"});
  cluster_.StartWorker("w2", {"--slots", "8"});
  auto enqueued = cluster_.Jobctl({"enqueue", "noop", "--count", "2000"});
  ASSERT_EQ(enqueued.exit_code, 0) << enqueued.output;
  ASSERT_EQ(std::count(enqueued.output.begin(), enqueued.output.end(), '\n'), 2000);

  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'") == 2000;
  }, seconds(120))) << cluster_.Text("SELECT string_agg(state || '=' || n, ',') FROM "
                                     "(SELECT state, count(*) n FROM chime.jobs_all GROUP BY state) s");
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.runs"), 2000);
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM (SELECT job_id FROM chime.runs WHERE outcome = 'succeeded' "
                         "GROUP BY job_id HAVING count(*) = 1) s"), 2000);
  EXPECT_EQ(cluster_.Int("SELECT count(DISTINCT worker_id) FROM chime.runs"), 2)
      << "the work was not spread over both workers";

  auto stats = cluster_.Jobctl({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.output;
  EXPECT_EQ(nlohmann::json::parse(stats.output)["states"]["succeeded"], 2000);
}

TEST_F(ClusterTest, AKilledWorkersJobIsRescuedAndFinishesElsewhere) {
  cluster_.StartScheduler();
  ChildProcess& doomed = cluster_.StartWorker("doomed");
  const int64_t id = Enqueue("sleep", R"({"ms": 1500})");
  ASSERT_TRUE(WaitUntil([&] { return RunningOn(id, "doomed"); }, kClusterWaitBound)) << StateOf(id);
  doomed.Signal(SIGKILL);
  ASSERT_EQ(ExitCode(doomed), 128 + SIGKILL);

  cluster_.StartWorker("rescuer");
  ASSERT_TRUE(WaitUntil([&] { return StateOf(id) == "succeeded"; }, kClusterWaitBound)) << StateOf(id) << " " << Runs(id);
  EXPECT_EQ(Runs(id), "1:lease_expired:doomed,2:succeeded:rescuer");
}

TEST_F(ClusterTest, AFrozenWorkersLateCompletionChangesNothing) {
  cluster_.StartScheduler();
  ChildProcess& frozen = cluster_.StartWorker("frozen");
  const int64_t id = Enqueue("sleep", R"({"ms": 1500})");
  ASSERT_TRUE(WaitUntil([&] { return RunningOn(id, "frozen"); }, kClusterWaitBound)) << StateOf(id);
  frozen.Signal(SIGSTOP);

  cluster_.StartWorker("thawed-out");
  ASSERT_TRUE(WaitUntil([&] { return StateOf(id) == "succeeded"; }, kClusterWaitBound)) << StateOf(id) << " " << Runs(id);
  const std::string before = Runs(id);
  EXPECT_EQ(before, "1:lease_expired:frozen,2:succeeded:thawed-out");

  // Continued, the frozen worker finds its lease gone; whatever it tries to
  // write is refused. Draining it flushes every outcome it still holds.
  const size_t offset = frozen.log().size();
  frozen.Signal(SIGCONT);
  ASSERT_TRUE(Cluster::WaitForLogAfter(frozen, offset, "lease")) << frozen.log();
  frozen.Signal(SIGTERM);
  EXPECT_EQ(ExitCode(frozen), 0) << frozen.log();
  EXPECT_EQ(Runs(id), before);
  EXPECT_EQ(cluster_.Text("SELECT state || ':' || attempt FROM chime.jobs_all WHERE id = " + std::to_string(id)),
            "succeeded:2");
}

TEST_F(ClusterTest, SigtermLetsShortJobsFinishAndReleasesTheRestWithoutUsingAnAttempt) {
  cluster_.StartScheduler();
  ChildProcess& worker = cluster_.StartWorker("draining", {"--shutdown-grace-ms", "3000"});
  const int64_t quick = Enqueue("sleep", R"({"ms": 1000})");
  const int64_t slow = Enqueue("sleep", R"({"ms": 600000})");
  ASSERT_TRUE(WaitUntil([&] { return RunningOn(quick, "draining") && RunningOn(slow, "draining"); }, kClusterWaitBound));

  worker.Signal(SIGTERM);
  EXPECT_EQ(ExitCode(worker), 0) << worker.log();
  EXPECT_EQ(StateOf(quick), "succeeded");
  EXPECT_EQ(cluster_.Text("SELECT state || ':' || attempt FROM chime.jobs_all WHERE id = " + std::to_string(slow)),
            "available:0");
  // Released, it runs again on the next worker, as its first attempt.
  cluster_.StartWorker("next");
  ASSERT_TRUE(WaitUntil([&] { return RunningOn(slow, "next"); }, kClusterWaitBound));
  EXPECT_EQ(cluster_.Int("SELECT attempt FROM chime.jobs_all WHERE id = " + std::to_string(slow)), 1);
}

TEST_F(ClusterTest, WorkersKeepDrainingWithoutTheSchedulerAndDispatchResumesOnItsReturn) {
  cluster_.StartScheduler();
  ChildProcess& worker = cluster_.StartWorker("steady");
  cluster_.scheduler().Signal(SIGKILL);
  ASSERT_EQ(ExitCode(cluster_.scheduler()), 128 + SIGKILL);

  // Straight to the database: the scheduler is gone.
  auto enqueued = cluster_.Jobctl({"enqueue", "noop", "--count", "20", "--database-url", cluster_.db().url()});
  ASSERT_EQ(enqueued.exit_code, 0) << enqueued.output;
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'") == 20;
  }, kClusterWaitBound)) << worker.log();

  const size_t offset = worker.log().size();
  cluster_.StartScheduler();  // Same endpoint; waits until it listens.
  ASSERT_TRUE(cluster_.scheduler().WaitForLog("worker steady (", seconds(60)).has_value())
      << cluster_.scheduler().log();
  auto waited = cluster_.Jobctl({"enqueue", "noop", "--wait", "--wait-timeout", "60s"});
  EXPECT_EQ(waited.exit_code, 0) << waited.output;
  EXPECT_TRUE(Cluster::WaitForLogAfter(worker, offset, "dispatch: up to")) << worker.log();
}

TEST_F(ClusterTest, AnUnknownKindIsDiscardedWithItsReasonAndNotRetried) {
  cluster_.StartScheduler();
  cluster_.StartWorker("w");
  auto waited = cluster_.Jobctl({"enqueue", "no_such_kind", "--wait", "--wait-timeout", "60s"});
  EXPECT_EQ(waited.exit_code, 4) << waited.output;
  EXPECT_NE(waited.output.find("unknown job kind"), std::string::npos) << waited.output;
  EXPECT_EQ(cluster_.Text("SELECT state || ':' || attempt FROM chime.jobs_all"), "discarded:1");
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.runs"), 1);
}


// Each replica knows only the workers that said hello to it; jobctl workers
// lists them all, through any replica or the database, until they leave.
TEST_F(ClusterTest, JobctlWorkersListsTheWorkersOfEveryReplica) {
  cluster_.StartScheduler();
  auto& worker = cluster_.StartWorker("only-on-a");
  ChildProcess replica_b({BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0",
                          "--http-listen", "off", "--forget-after-ms", "2000"},
                         {{"CHIME_DATABASE_URL", cluster_.db().url()}, {"CHIME_ADMIN_SECRET", kClusterSecret}});
  ASSERT_TRUE(replica_b.Start()) << replica_b.log();
  auto line = replica_b.WaitForLog("listening on tcp://", seconds(30));
  ASSERT_TRUE(line.has_value()) << replica_b.log();
  const std::string endpoint_b = line->substr(line->find("listening on ") + 13);

  auto listed = [&](std::map<std::string, std::string> env, std::vector<std::string> args) {
    args.insert(args.begin(), {"workers", "--json"});
    auto r = cluster_.Jobctl(args, std::move(env));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::vector<std::string> ids;
    if (r.exit_code != 0) return ids;
    const auto reply = nlohmann::json::parse(r.output);
    for (const auto& w : reply["workers"]) ids.push_back(w["worker_id"]);
    return ids;
  };
  const std::vector<std::string> just_a{"only-on-a"};
  // Replica A publishes about once a second.
  EXPECT_TRUE(WaitUntil([&] { return listed({{"CHIME_SCHEDULER", endpoint_b}}, {}) == just_a; }, kClusterWaitBound));
  EXPECT_EQ(listed({{"CHIME_SCHEDULER", ""}}, {"--database-url", cluster_.db().url()}), just_a);
  EXPECT_EQ(listed({}, {}), just_a);

  // Gone from A after its goodbye, and from the directory once nobody saw it
  // for the forget window.
  worker.Signal(SIGTERM);
  ASSERT_TRUE(worker.Wait(seconds(60)).has_value());
  EXPECT_TRUE(WaitUntil([&] { return listed({{"CHIME_SCHEDULER", endpoint_b}}, {}).empty(); }, kClusterWaitBound));
  EXPECT_TRUE(listed({{"CHIME_SCHEDULER", ""}}, {"--database-url", cluster_.db().url()}).empty());
  replica_b.Signal(SIGTERM);
  EXPECT_TRUE(replica_b.Wait(seconds(30)).has_value());
}

}  // namespace
}  // namespace chime::testing
