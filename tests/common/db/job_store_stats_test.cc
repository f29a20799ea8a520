// JobsStats: counts per (queue, kind, state), including finished ones kept by
// trigger counters, and ready depth per queue.
#include <map>
#include <thread>
#include <tuple>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;
using Key = std::tuple<std::string, std::string, std::string>;  // queue, kind, state
using Counts = std::map<Key, int64_t>;

class JobStoreStatsTest : public JobStoreTestBase {
 protected:
  Counts StatsCounts() {
    auto stats = store().JobsStats();
    if (!stats) {
      ADD_FAILURE() << "JobsStats: " << stats.error().ToString();
      return {};
    }
    Counts counts;
    for (const auto& row : stats->rows) {
      Key key{row.queue, row.kind, std::string(JobStateName(row.state))};
      EXPECT_EQ(counts.count(key), 0u) << "row listed twice";
      EXPECT_GT(row.count, 0) << "rows with a zero count must be left out";
      counts[key] = row.count;
    }
    return counts;
  }

  // The truth, by counting the table.
  Counts TableCounts() {
    Counts counts;
    for (const auto& row :
         sql_.Query("SELECT queue, kind, state, count(*) FROM chime.jobs_all GROUP BY 1, 2, 3")) {
      counts[{row[0].c_str(), row[1].c_str(), row[2].c_str()}] = row[3].as<int64_t>();
    }
    return counts;
  }

  std::map<std::string, QueueDepth> Depths() {
    auto stats = store().JobsStats();
    if (!stats) {
      ADD_FAILURE() << "JobsStats: " << stats.error().ToString();
      return {};
    }
    std::map<std::string, QueueDepth> out;
    for (const auto& q : stats->queues) out[q.queue] = q;
    return out;
  }

  // q1/alpha: 3 available, 1 running, 1 succeeded, 1 discarded.
  // q2/beta: 2 scheduled, 1 cancelled, 1 retryable (backoff an hour away).
  void MakeMix() {
    for (int i = 0; i < 6; ++i) Enqueue("alpha", "q1");
    auto q1 = Claim(3, {"q1"});
    ASSERT_EQ(q1.size(), 3u);
    ASSERT_TRUE(Complete(q1[0], CompletionKind::kSucceeded).applied);
    ASSERT_TRUE(Complete(q1[1], CompletionKind::kFailedPermanent, {"bad"}).applied);

    EnqueueParams later = Params("beta", "q2");
    later.delay = hours(2);
    Enqueue(later);
    Enqueue(later);
    ASSERT_OK(store().JobCancel(Enqueue("beta", "q2")));
    const int64_t retryable = Enqueue("beta", "q2");
    auto q2 = Claim(1, {"q2"});
    ASSERT_EQ(q2.size(), 1u);
    ASSERT_EQ(q2[0].id, retryable);
    ASSERT_EQ(Complete(q2[0], CompletionKind::kFailed, {"x"}).new_state, JobState::kRetryable);
    sql_.Exec("UPDATE chime.jobs SET run_at = now() + interval '1 hour' WHERE id = $1", retryable);
  }
};

TEST_F(JobStoreStatsTest, CountsEveryQueueKindAndState) {
  ASSERT_NO_FATAL_FAILURE(MakeMix());
  const Counts expected{
      {{"q1", "alpha", "available"}, 3}, {{"q1", "alpha", "running"}, 1},
      {{"q1", "alpha", "succeeded"}, 1}, {{"q1", "alpha", "discarded"}, 1},
      {{"q2", "beta", "scheduled"}, 2},  {{"q2", "beta", "cancelled"}, 1},
      {{"q2", "beta", "retryable"}, 1},
  };
  EXPECT_EQ(TableCounts(), expected);  // The setup did what it says.
  EXPECT_EQ(StatsCounts(), expected);
}

TEST_F(JobStoreStatsTest, FinishedCountsFollowRetriesAndCleanup) {
  ASSERT_NO_FATAL_FAILURE(MakeMix());
  // discarded -> available: the discarded counter goes down.
  const int64_t discarded = sql_.Int("SELECT id FROM chime.jobs_all WHERE state = 'discarded'");
  ASSERT_OK(store().JobRetry(discarded));
  EXPECT_EQ(StatsCounts(), TableCounts());
  EXPECT_EQ(StatsCounts().count({"q1", "alpha", "discarded"}), 0u);
  EXPECT_EQ(StatsCounts()[Key("q1", "alpha", "available")], 4);

  // Cleanup deletes the finished rows, in chime.jobs and held by their
  // final runs (migration 0029); their counters go with them.
  sql_.Exec("UPDATE chime.jobs SET finished_at = now() - interval '30 days'"
            " WHERE state IN ('succeeded', 'discarded', 'cancelled')");
  sql_.Exec("UPDATE chime.runs SET finished_at = now() - interval '30 days' WHERE holds_job");
  ASSERT_OK_AND_ASSIGN(CleanupResult cleaned, store().JobsCleanup({}));
  EXPECT_EQ(cleaned.jobs_deleted, 2);
  const Counts after = StatsCounts();
  EXPECT_EQ(after, TableCounts());
  EXPECT_EQ(after.count({"q1", "alpha", "succeeded"}), 0u);
  EXPECT_EQ(after.count({"q2", "beta", "cancelled"}), 0u);

  // New finishes count from zero again.
  auto claimed = Claim(2, {"q1"});
  ASSERT_EQ(claimed.size(), 2u);
  for (const auto& j : claimed) ASSERT_TRUE(Complete(j, CompletionKind::kSucceeded).applied);
  EXPECT_EQ(StatsCounts()[Key("q1", "alpha", "succeeded")], 2);
  EXPECT_EQ(StatsCounts(), TableCounts());
}

TEST_F(JobStoreStatsTest, FinishedCountsStayRightUnderConcurrentCompleters) {
  constexpr int kJobs = 400;
  ASSERT_OK(store().JobsInsertMany(std::vector<EnqueueParams>(kJobs, Params("bulk", "q"))));
  std::vector<std::string> errors(4);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        Connection conn(ConnectionConfig{.url = db_.url()});
        JobStore store(conn);
        ClaimParams cp;
        cp.worker_id = "w" + std::to_string(t);
        cp.queues = {"q"};
        cp.limit = 7;
        while (true) {
          auto jobs = store.JobsClaim(cp);
          if (!jobs) {
            errors[t] = jobs.error().ToString();
            return;
          }
          if (jobs->empty()) return;
          std::vector<Completion> done;
          for (size_t i = 0; i < jobs->size(); ++i) {
            done.push_back(MakeCompletion((*jobs)[i], i % 2 == 0 ? CompletionKind::kSucceeded
                                                                 : CompletionKind::kFailedPermanent));
          }
          if (auto r = store.JobsCompleteIfLeased(done); !r) {
            errors[t] = r.error().ToString();
            return;
          }
        }
      });
    }
  }
  for (const auto& e : errors) EXPECT_EQ(e, "");
  const Counts counts = StatsCounts();
  EXPECT_EQ(counts, TableCounts());
  int64_t total = 0;
  for (const auto& [key, n] : counts) total += n;
  EXPECT_EQ(total, kJobs);
}

TEST_F(JobStoreStatsTest, ReportsReadyDepthAndOldestReadyAgePerQueue) {
  ASSERT_NO_FATAL_FAILURE(MakeMix());
  const int64_t oldest = sql_.Int("SELECT min(id) FROM chime.jobs_all WHERE state = 'available'");
  sql_.Exec("UPDATE chime.jobs SET run_at = now() - interval '1 hour' WHERE id = $1", oldest);

  auto depths = Depths();
  ASSERT_EQ(depths.count("q1"), 1u);
  EXPECT_EQ(depths["q1"].ready, 3);
  EXPECT_GE(depths["q1"].oldest_ready_age, hours(1));
  EXPECT_LT(depths["q1"].oldest_ready_age, hours(2));
  // q2 holds only scheduled, retryable-later and cancelled jobs: nothing ready.
  if (depths.count("q2")) {
    EXPECT_EQ(depths["q2"].ready, 0);
  }

  // A due retryable job is ready work too.
  sql_.Exec("UPDATE chime.jobs SET run_at = now() - interval '2 hours' WHERE state = 'retryable'");
  depths = Depths();
  ASSERT_EQ(depths.count("q2"), 1u);
  EXPECT_EQ(depths["q2"].ready, 1);
  EXPECT_GE(depths["q2"].oldest_ready_age, hours(2));
}

TEST_F(JobStoreStatsTest, AnEmptyDatabaseHasNoRows) {
  ASSERT_OK_AND_ASSIGN(Stats stats, store().JobsStats());
  EXPECT_TRUE(stats.rows.empty());
  for (const auto& q : stats.queues) EXPECT_EQ(q.ready, 0) << q.queue;
}

}  // namespace
}  // namespace chime::db::testing
