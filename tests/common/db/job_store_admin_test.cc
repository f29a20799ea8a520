// Operator calls: JobCancel, JobRetry, JobGet, JobFind, JobsList.
#include <algorithm>
#include <set>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;

class JobStoreCancelTest : public JobStoreTestBase {};

TEST_F(JobStoreCancelTest, CancelsAJobThatIsNotRunning) {
  const int64_t available = Enqueue("a");
  EnqueueParams later = Params("a");
  later.delay = hours(1);
  const int64_t scheduled = Enqueue(later);
  for (int64_t id : {available, scheduled}) {
    ASSERT_OK_AND_ASSIGN(CancelOutcome outcome, store().JobCancel(id));
    EXPECT_EQ(outcome, CancelOutcome::kCancelled);
    EXPECT_EQ(State(id), "cancelled");
    EXPECT_EQ(sql_.Scalar("SELECT finished_at IS NOT NULL FROM chime.jobs_all WHERE id = $1", id), "t");
  }
  EXPECT_TRUE(Claim(10).empty());
}

TEST_F(JobStoreCancelTest, FlagsARunningJobAndItsWorkerFinishesTheCancel) {
  const int64_t id = Enqueue("long");
  ClaimedJob j = ClaimOne();
  ASSERT_OK_AND_ASSIGN(CancelOutcome outcome, store().JobCancel(id));
  EXPECT_EQ(outcome, CancelOutcome::kCancelRequested);
  EXPECT_EQ(State(id), "running");
  EXPECT_EQ(sql_.Scalar("SELECT cancel_requested FROM chime.jobs_all WHERE id = $1", id), "t");
  EXPECT_EQ(sql_.Scalar("SELECT lease_token::text FROM chime.jobs_all WHERE id = $1", id), j.lease.token);

  CompletionResult r = Complete(j, CompletionKind::kCancelled);
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.new_state, JobState::kCancelled);
  EXPECT_EQ(State(id), "cancelled");
  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.runs WHERE job_id = $1", id), "cancelled");
}

TEST_F(JobStoreCancelTest, RefusesToCancelAFinishedJob) {
  const int64_t succeeded = Enqueue("a");
  ASSERT_TRUE(Complete(ClaimOne(), CompletionKind::kSucceeded).applied);
  const int64_t cancelled = Enqueue("a");
  ASSERT_OK(store().JobCancel(cancelled));
  for (int64_t id : {succeeded, cancelled}) {
    const std::string before = Snapshot(id);
    auto r = store().JobCancel(id);
    ASSERT_FALSE(r.has_value()) << id;
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition) << r.error().ToString();
    EXPECT_EQ(Snapshot(id), before);
  }
}

TEST_F(JobStoreCancelTest, CancelOfAMissingJobIsNotFound) {
  auto r = store().JobCancel(987654);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(JobCount(), 0);
}

class JobStoreRetryTest : public JobStoreTestBase {};

TEST_F(JobStoreRetryTest, MakesDiscardedAndCancelledJobsAvailableNow) {
  EnqueueParams once = Params("a");
  once.max_attempts = 1;
  const int64_t discarded = Enqueue(once);
  ASSERT_EQ(Complete(ClaimOne(), CompletionKind::kFailed, {"x"}).new_state, JobState::kDiscarded);
  const int64_t cancelled = Enqueue("a");
  ASSERT_OK(store().JobCancel(cancelled));

  for (int64_t id : {discarded, cancelled}) {
    ASSERT_OK_AND_ASSIGN(Job job, store().JobRetry(id));
    EXPECT_EQ(job.id, id);
    EXPECT_EQ(job.state, JobState::kAvailable);
    EXPECT_FALSE(job.finished_at.has_value());
    EXPECT_EQ(State(id), "available");
    EXPECT_EQ(sql_.Scalar("SELECT run_at <= now() AND finished_at IS NULL FROM chime.jobs_all"
                          " WHERE id = $1",
                          id),
              "t");
  }
  // Both are claimable again, including the one that had used its only attempt.
  auto claimed = Claim(10);
  std::set<int64_t> got;
  for (const auto& j : claimed) got.insert(j.id);
  EXPECT_EQ(got, (std::set<int64_t>{discarded, cancelled}));
}

TEST_F(JobStoreRetryTest, MakesARetryableJobAvailableBeforeItsBackoff) {
  const int64_t id = Enqueue("a");
  ASSERT_EQ(Complete(ClaimOne(), CompletionKind::kFailed, {"x"}).new_state, JobState::kRetryable);
  ASSERT_TRUE(Claim(1).empty());
  ASSERT_OK_AND_ASSIGN(Job job, store().JobRetry(id));
  EXPECT_EQ(job.state, JobState::kAvailable);
  EXPECT_EQ(ClaimOne().id, id);
}

TEST_F(JobStoreRetryTest, MakesAScheduledJobAvailableNow) {
  EnqueueParams later = Params("a");
  later.delay = hours(5);
  const int64_t id = Enqueue(later);
  ASSERT_TRUE(Claim(1).empty());
  ASSERT_OK_AND_ASSIGN(Job job, store().JobRetry(id));
  EXPECT_EQ(job.state, JobState::kAvailable);
  EXPECT_EQ(State(id), "available");
  EXPECT_EQ(ClaimOne().id, id);
}

TEST_F(JobStoreRetryTest, RefusesARunningOrSucceededJob) {
  const int64_t succeeded = Enqueue("a");
  ASSERT_TRUE(Complete(ClaimOne(), CompletionKind::kSucceeded).applied);
  const int64_t running = Enqueue("a");
  ASSERT_EQ(ClaimOne().id, running);
  for (int64_t id : {running, succeeded}) {
    const std::string before = Snapshot(id);
    auto r = store().JobRetry(id);
    ASSERT_FALSE(r.has_value()) << id;
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition) << r.error().ToString();
    EXPECT_EQ(Snapshot(id), before);
  }
}

TEST_F(JobStoreRetryTest, RetryOfAMissingJobIsNotFound) {
  auto r = store().JobRetry(424242);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

class JobStoreGetTest : public JobStoreTestBase {};

TEST_F(JobStoreGetTest, ReturnsTheJobWithItsRunsOldestFirst) {
  EnqueueParams p = Params("flaky", "q");
  p.payload = R"({"user": 7})";
  p.unique_key = "u7";
  const int64_t id = Enqueue(p);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ClaimedJob j = ClaimOne("q", "worker-" + std::to_string(attempt));
    ASSERT_TRUE(Complete(j, CompletionKind::kFailed, {"fail " + std::to_string(attempt)}, "{}",
                         "worker-" + std::to_string(attempt))
                    .applied);
    MakeDue(id);
  }
  ClaimedJob last = ClaimOne("q", "worker-3");
  ASSERT_TRUE(Complete(last, CompletionKind::kSucceeded, {}, R"({"ok": true})", "worker-3").applied);

  ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(id));
  EXPECT_EQ(got.job.id, id);
  EXPECT_EQ(got.job.kind, "flaky");
  EXPECT_EQ(got.job.queue, "q");
  EXPECT_EQ(got.job.state, JobState::kSucceeded);
  EXPECT_EQ(got.job.attempt, 3);
  EXPECT_EQ(got.job.unique_key, "u7");
  EXPECT_EQ(sql_.Scalar("SELECT $1::jsonb = '{\"user\": 7}'::jsonb", got.job.payload), "t");
  EXPECT_TRUE(got.job.finished_at.has_value());
  ASSERT_EQ(got.runs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got.runs[i].job_id, id);
    EXPECT_EQ(got.runs[i].attempt, i + 1);
    EXPECT_EQ(got.runs[i].worker_id, "worker-" + std::to_string(i + 1));
    EXPECT_LE(got.runs[i].started_at, got.runs[i].finished_at);
  }
  EXPECT_EQ(got.runs[0].outcome, RunOutcome::kFailed);
  EXPECT_EQ(got.runs[0].errors, std::vector<std::string>{"fail 1"});
  EXPECT_EQ(got.runs[1].outcome, RunOutcome::kFailed);
  EXPECT_EQ(got.runs[2].outcome, RunOutcome::kSucceeded);
  EXPECT_EQ(sql_.Scalar("SELECT $1::jsonb = '{\"ok\": true}'::jsonb", got.runs[2].summary), "t");
  EXPECT_LT(got.runs[0].id, got.runs[1].id);
  EXPECT_LT(got.runs[1].id, got.runs[2].id);
}

TEST_F(JobStoreGetTest, GetCountsAFanOutsChildrenByState) {
  const int64_t parent = Enqueue("fan_out");
  ASSERT_OK_AND_ASSIGN(JobWithRuns alone, store().JobGet(parent));
  EXPECT_TRUE(alone.children.empty());
  for (int i = 0; i < 3; ++i) {
    EnqueueParams child = Params("child", "kids");
    child.parent_id = parent;
    Enqueue(child);
  }
  ClaimedJob done = ClaimOne("kids", "w");
  ASSERT_TRUE(Complete(done, CompletionKind::kSucceeded, {}, "{}", "w").applied);
  ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(parent));
  EXPECT_EQ(got.children, (std::map<JobState, int64_t>{{JobState::kAvailable, 2},
                                                       {JobState::kSucceeded, 1}}));
}

TEST_F(JobStoreGetTest, GetOfAMissingJobIsNotFound) {
  auto r = store().JobGet(31337);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(JobStoreGetTest, FindReturnsTheRowAloneAsGetDoes) {
  EnqueueParams p = Params("flaky", "q");
  p.payload = R"({"user": 8})";
  p.delay = std::chrono::hours(1);
  const int64_t id = Enqueue(p);
  ASSERT_OK_AND_ASSIGN(Job found, store().JobFind(id));
  ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(id));
  EXPECT_EQ(found.id, id);
  EXPECT_EQ(found.kind, "flaky");
  EXPECT_EQ(found.queue, "q");
  EXPECT_EQ(found.state, JobState::kScheduled);
  EXPECT_EQ(found.payload, got.job.payload);
  EXPECT_EQ(found.run_at, got.job.run_at);
  EXPECT_EQ(found.created_at, got.job.created_at);

  auto missing = store().JobFind(31337);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

class JobStoreListTest : public JobStoreTestBase {
 protected:
  std::vector<int64_t> Ids(const ListParams& params) {
    auto r = store().JobsList(params);
    if (!r) {
      ADD_FAILURE() << "JobsList: " << r.error().ToString();
      return {};
    }
    std::vector<int64_t> ids;
    for (const auto& j : r->jobs) ids.push_back(j.id);
    return ids;
  }

  // Ids the filter should match, newest first, straight from SQL.
  std::vector<int64_t> Expected(const std::string& where) {
    std::vector<int64_t> ids;
    for (const auto& row : sql_.Query("SELECT id FROM chime.jobs_all WHERE " + where + " ORDER BY id DESC")) {
      ids.push_back(row[0].as<int64_t>());
    }
    return ids;
  }
};

TEST_F(JobStoreListTest, FiltersByStateKindQueueAndTime) {
  for (int i = 0; i < 12; ++i) {
    Enqueue(i % 2 == 0 ? "alpha" : "beta", i % 3 == 0 ? "q1" : "q2");
  }
  ASSERT_EQ(Claim(3, {"q2"}).size(), 3u);
  ASSERT_OK(store().JobCancel(sql_.Int("SELECT min(id) FROM chime.jobs_all WHERE state = 'available'")));
  sql_.Exec("UPDATE chime.jobs SET created_at = '2024-01-10T00:00:00Z' WHERE id % 3 = 0");
  sql_.Exec("UPDATE chime.jobs SET created_at = '2024-02-10T00:00:00Z' WHERE id % 3 = 1");
  sql_.Exec("UPDATE chime.jobs SET created_at = '2024-03-10T00:00:00Z' WHERE id % 3 = 2");

  ListParams all;
  all.limit = 1000;
  EXPECT_EQ(Ids(all), Expected("true"));
  EXPECT_EQ(Ids(all).size(), 12u);

  ListParams by_state = all;
  by_state.states = {JobState::kRunning, JobState::kCancelled};
  EXPECT_EQ(Ids(by_state), Expected("state IN ('running', 'cancelled')"));
  EXPECT_EQ(Ids(by_state).size(), 4u);

  ListParams by_kind = all;
  by_kind.kind = "beta";
  EXPECT_EQ(Ids(by_kind), Expected("kind = 'beta'"));
  EXPECT_EQ(Ids(by_kind).size(), 6u);

  ListParams by_queue = all;
  by_queue.queue = "q1";
  by_queue.kind = "alpha";
  EXPECT_EQ(Ids(by_queue), Expected("queue = 'q1' AND kind = 'alpha'"));
  EXPECT_FALSE(Ids(by_queue).empty());

  ListParams by_time = all;
  by_time.since = std::chrono::sys_days(std::chrono::year(2024) / 2 / 1);
  by_time.until = std::chrono::sys_days(std::chrono::year(2024) / 3 / 1);
  EXPECT_EQ(Ids(by_time), Expected("created_at >= '2024-02-01Z' AND created_at < '2024-03-01Z'"));
  EXPECT_EQ(Ids(by_time).size(), 4u);

  // `until` is exclusive, `since` inclusive.
  ListParams edge = all;
  edge.since = std::chrono::sys_days(std::chrono::year(2024) / 2 / 10);
  edge.until = std::chrono::sys_days(std::chrono::year(2024) / 3 / 10);
  EXPECT_EQ(Ids(edge), Expected("created_at = '2024-02-10Z'"));

  ListParams nothing = all;
  nothing.kind = "gamma";
  EXPECT_TRUE(Ids(nothing).empty());
}

TEST_F(JobStoreListTest, KeysetPagingWalksEveryRowOnceNewestFirst) {
  constexpr int kJobs = 23;
  ASSERT_OK(store().JobsInsertMany(std::vector<EnqueueParams>(kJobs, Params("paged"))));
  std::vector<int64_t> walked;
  ListParams p;
  p.limit = 5;
  int pages = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(JobPage page, store().JobsList(p));
    ++pages;
    ASSERT_LE(page.jobs.size(), 5u);
    for (const auto& j : page.jobs) walked.push_back(j.id);
    if (!page.next_before_id) break;
    ASSERT_LT(pages, 10) << "paging does not end";
    EXPECT_EQ(*page.next_before_id, page.jobs.back().id);
    p.before_id = page.next_before_id;
  }
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(walked, Expected("true"));
  EXPECT_EQ(std::set<int64_t>(walked.begin(), walked.end()).size(), static_cast<size_t>(kJobs));
}

TEST_F(JobStoreListTest, PagingAFilteredListSkipsOtherRows) {
  for (int i = 0; i < 30; ++i) Enqueue(i % 3 == 0 ? "wanted" : "other");
  std::vector<int64_t> walked;
  ListParams p;
  p.kind = "wanted";
  p.limit = 4;
  for (int pages = 0; pages < 10; ++pages) {
    ASSERT_OK_AND_ASSIGN(JobPage page, store().JobsList(p));
    for (const auto& j : page.jobs) {
      EXPECT_EQ(j.kind, "wanted");
      walked.push_back(j.id);
    }
    if (!page.next_before_id) break;
    p.before_id = page.next_before_id;
  }
  EXPECT_EQ(walked, Expected("kind = 'wanted'"));
}

TEST_F(JobStoreListTest, RejectsALimitOutsideOneToAThousand) {
  Enqueue("a");
  for (int limit : {0, 1001}) {
    ListParams p;
    p.limit = limit;
    auto r = store().JobsList(p);
    ASSERT_FALSE(r.has_value()) << limit;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace chime::db::testing
