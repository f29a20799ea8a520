// Everything that holds a lease: heartbeat, completion, failure with backoff,
// and release at shutdown. A lease that was lost must never write anything.
#include <algorithm>
#include <map>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

class JobStoreLeaseTest : public JobStoreTestBase {
 protected:
  // Base 10 s, cap 1 h, 50 % jitter; the fixed RNG returns 0.5.
  JobStoreConfig StoreConfig() const override {
    JobStoreConfig config;
    config.retry_backoff = BackoffPolicy{seconds(10), hours(1), 0.5};
    return config;
  }

  // Claims `id`, lets its lease expire, rescues it and claims it again under
  // a new token. Returns the first (now stale) claim.
  ClaimedJob ClaimThenLoseLease(int64_t id, ClaimedJob* second) {
    ClaimedJob first = ClaimOne("default", "worker-old");
    EXPECT_EQ(first.id, id);
    ExpireLease(id);
    auto rescued = store().JobsRescue({});
    EXPECT_TRUE(rescued.has_value());
    MakeDue(id);
    *second = ClaimOne("default", "worker-new");
    EXPECT_EQ(second->id, id);
    EXPECT_NE(second->lease.token, first.lease.token);
    return first;
  }

  // Milliseconds between the job's run_at and the finish of its latest run:
  // both come from the same statement's now(), so this is the retry delay.
  int64_t RetryDelayMs(int64_t id) {
    return sql_.Int(
        "SELECT (extract(epoch FROM j.run_at - r.finished_at) * 1000)::bigint"
        " FROM chime.jobs_all j JOIN chime.runs r ON r.job_id = j.id"
        " WHERE j.id = $1 ORDER BY r.id DESC LIMIT 1",
        id);
  }
};

TEST_F(JobStoreLeaseTest, HeartbeatExtendsTheLease) {
  const int64_t id = Enqueue("long");
  auto claimed = Claim(1, {"default"}, seconds(5));
  ASSERT_EQ(claimed.size(), 1u);
  const std::string before =
      sql_.Scalar("SELECT lease_expires_at::text FROM chime.jobs_all WHERE id = $1", id);

  ASSERT_OK_AND_ASSIGN(HeartbeatResult hb,
                       store().JobsHeartbeat(std::vector<Lease>{claimed[0].lease}, hours(1)));
  EXPECT_EQ(hb.extended, std::vector<int64_t>{id});
  EXPECT_TRUE(hb.lost.empty());
  EXPECT_TRUE(hb.cancel_requested.empty());
  EXPECT_EQ(sql_.Scalar("SELECT lease_expires_at > $1::timestamptz + interval '55 minutes'"
                        " FROM chime.jobs_all WHERE id = $2",
                        before, id),
            "t");
  EXPECT_EQ(State(id), "running");
  EXPECT_EQ(sql_.Scalar("SELECT lease_token::text FROM chime.jobs_all WHERE id = $1", id),
            claimed[0].lease.token);
}

TEST_F(JobStoreLeaseTest, HeartbeatWithAStaleTokenReportsLostAndChangesNothing) {
  const int64_t id = Enqueue("stale");
  ClaimedJob current;
  ClaimedJob stale = ClaimThenLoseLease(id, &current);
  const std::string before = Snapshot(id);

  ASSERT_OK_AND_ASSIGN(HeartbeatResult hb,
                       store().JobsHeartbeat(std::vector<Lease>{stale.lease}, hours(1)));
  EXPECT_TRUE(hb.extended.empty());
  EXPECT_EQ(hb.lost, std::vector<int64_t>{id});
  EXPECT_EQ(Snapshot(id), before);

  // The current holder still heartbeats fine.
  ASSERT_OK_AND_ASSIGN(HeartbeatResult ok,
                       store().JobsHeartbeat(std::vector<Lease>{current.lease}, hours(1)));
  EXPECT_EQ(ok.extended, std::vector<int64_t>{id});
}

TEST_F(JobStoreLeaseTest, ProgressIsStoredOnlyUnderTheCurrentLease) {
  const int64_t id = Enqueue("progress");
  ClaimedJob current;
  ClaimedJob stale = ClaimThenLoseLease(id, &current);

  ASSERT_OK_AND_ASSIGN(bool stale_applied,
                       store().JobProgressSetIfLeased(stale.lease, R"({"done":1})"));
  EXPECT_FALSE(stale_applied);
  EXPECT_EQ(sql_.Scalar("SELECT progress IS NULL FROM chime.jobs_all WHERE id = $1", id), "t");

  ASSERT_OK_AND_ASSIGN(bool applied,
                       store().JobProgressSetIfLeased(current.lease, R"({"done": 2, "of": 5})"));
  EXPECT_TRUE(applied);
  EXPECT_EQ(sql_.Scalar("SELECT progress->>'done' FROM chime.jobs_all WHERE id = $1", id), "2");
  ASSERT_OK_AND_ASSIGN(JobWithRuns shown, store().JobGet(id));
  ASSERT_TRUE(shown.job.progress.has_value());
  EXPECT_NE(shown.job.progress->find("\"of\": 5"), std::string::npos) << *shown.job.progress;

  auto bad = store().JobProgressSetIfLeased(current.lease, "{not json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(JobStoreLeaseTest, HeartbeatSortsHeldFromLostInOneCall) {
  const int64_t held = Enqueue("a");
  const int64_t finished = Enqueue("a");
  auto claimed = Claim(2);
  ASSERT_EQ(claimed.size(), 2u);
  const ClaimedJob& done = claimed[0].id == finished ? claimed[0] : claimed[1];
  const ClaimedJob& running = claimed[0].id == held ? claimed[0] : claimed[1];
  ASSERT_TRUE(Complete(done, CompletionKind::kSucceeded).applied);

  const int64_t missing = finished + 1000;
  std::vector<Lease> leases{running.lease, done.lease, Lease{missing, "not-a-uuid"}};
  ASSERT_OK_AND_ASSIGN(HeartbeatResult hb, store().JobsHeartbeat(leases, hours(1)));
  EXPECT_EQ(hb.extended, std::vector<int64_t>{held});
  std::sort(hb.lost.begin(), hb.lost.end());
  EXPECT_EQ(hb.lost, (std::vector<int64_t>{finished, missing}));
}

TEST_F(JobStoreLeaseTest, HeartbeatReportsACancelRequest) {
  const int64_t id = Enqueue("cancellable");
  ClaimedJob j = ClaimOne();
  ASSERT_OK_AND_ASSIGN(CancelOutcome outcome, store().JobCancel(id));
  EXPECT_EQ(outcome, CancelOutcome::kCancelRequested);

  ASSERT_OK_AND_ASSIGN(HeartbeatResult hb,
                       store().JobsHeartbeat(std::vector<Lease>{j.lease}, hours(1)));
  EXPECT_EQ(hb.cancel_requested, std::vector<int64_t>{id});
  EXPECT_EQ(hb.extended, std::vector<int64_t>{id});
  EXPECT_TRUE(hb.lost.empty());
}

TEST_F(JobStoreLeaseTest, CompletionsUnderAStaleLeaseChangeNothing) {
  for (CompletionKind kind : {CompletionKind::kSucceeded, CompletionKind::kFailed,
                              CompletionKind::kFailedPermanent, CompletionKind::kCancelled}) {
    SCOPED_TRACE(static_cast<int>(kind));
    const int64_t id = Enqueue("stale");
    ClaimedJob current;
    ClaimedJob stale = ClaimThenLoseLease(id, &current);
    const std::string before = Snapshot(id);
    const int64_t runs_before = RunCount(id);
    ASSERT_EQ(runs_before, 1);  // The lease_expired run of the rescue.

    CompletionResult r = Complete(stale, kind, {"late"}, R"({"late": true})", "worker-old");
    EXPECT_EQ(r.job_id, id);
    EXPECT_FALSE(r.applied);
    EXPECT_FALSE(r.new_state.has_value());
    EXPECT_EQ(Snapshot(id), before);
    EXPECT_EQ(RunCount(id), runs_before);

    ASSERT_TRUE(Complete(current, CompletionKind::kSucceeded).applied);
  }
}

TEST_F(JobStoreLeaseTest, CompletionWithAnUnknownTokenOrOnAJobNotRunningChangesNothing) {
  const int64_t running = Enqueue("a");
  ClaimedJob j = ClaimOne();
  const int64_t waiting = Enqueue("a");
  ClaimedJob forged = j;
  forged.lease.token = "00000000-0000-4000-8000-000000000000";
  ClaimedJob not_running = j;
  not_running.id = waiting;
  not_running.lease.job_id = waiting;
  const std::string before_running = Snapshot(running);
  const std::string before_waiting = Snapshot(waiting);

  EXPECT_FALSE(Complete(forged, CompletionKind::kSucceeded).applied);
  EXPECT_FALSE(Complete(not_running, CompletionKind::kSucceeded).applied);
  EXPECT_EQ(Snapshot(running), before_running);
  EXPECT_EQ(Snapshot(waiting), before_waiting);
  EXPECT_EQ(TotalRuns(), 0);
}

TEST_F(JobStoreLeaseTest, ACompletionSentTwiceIsRefusedThenFoundRecorded) {
  const std::vector<std::pair<CompletionKind, JobState>> cases{
      {CompletionKind::kSucceeded, JobState::kSucceeded},
      {CompletionKind::kFailed, JobState::kRetryable},
      {CompletionKind::kFailedPermanent, JobState::kDiscarded},
      {CompletionKind::kCancelled, JobState::kCancelled}};
  for (const auto& [kind, state] : cases) {
    SCOPED_TRACE(static_cast<int>(kind));
    Enqueue("twice");
    const ClaimedJob j = ClaimOne("default", "worker-1");
    ASSERT_TRUE(Complete(j, kind, {}, "{}", "worker-1").applied);
    // Sent again, as after a lost answer: refused, and found recorded.
    EXPECT_FALSE(Complete(j, kind, {}, "{}", "worker-1").applied);
    const Completion again = MakeCompletion(j, kind, {}, "{}", "worker-1");
    ASSERT_OK_AND_ASSIGN(auto recorded, store().JobsCompletionRecorded(std::span<const Completion>(&again, 1)));
    EXPECT_EQ(recorded, (std::map<std::pair<int64_t, int>, JobState>{{{j.id, j.attempt}, state}}));
    // Not by another worker, nor for another attempt.
    const Completion other = MakeCompletion(j, kind, {}, "{}", "worker-2");
    ASSERT_OK_AND_ASSIGN(recorded, store().JobsCompletionRecorded(std::span<const Completion>(&other, 1)));
    EXPECT_TRUE(recorded.empty());
    Completion later = again;
    ++later.attempt;
    ASSERT_OK_AND_ASSIGN(recorded, store().JobsCompletionRecorded(std::span<const Completion>(&later, 1)));
    EXPECT_TRUE(recorded.empty());
  }
}

TEST_F(JobStoreLeaseTest, ALostLeaseIsNotARecordedCompletion) {
  const int64_t id = Enqueue("rescued");
  ClaimedJob current;
  const ClaimedJob stale = ClaimThenLoseLease(id, &current);
  EXPECT_FALSE(Complete(stale, CompletionKind::kSucceeded, {}, "{}", "worker-old").applied);
  const Completion c = MakeCompletion(stale, CompletionKind::kSucceeded, {}, "{}", "worker-old");
  ASSERT_OK_AND_ASSIGN(auto recorded, store().JobsCompletionRecorded(std::span<const Completion>(&c, 1)));
  EXPECT_TRUE(recorded.empty());  // Its run is the rescue's lease_expired one.
  ASSERT_TRUE(Complete(current, CompletionKind::kSucceeded, {}, "{}", "worker-new").applied);
  ASSERT_OK_AND_ASSIGN(recorded, store().JobsCompletionRecorded(std::span<const Completion>(&c, 1)));
  EXPECT_TRUE(recorded.empty());
}

// A worker can hold two attempts of one job in one completion batch: it
// claimed the job again (rescued while the database was away) before the
// first outcome could be written. Only the current lease applies, and the
// answer says which one did (it was once matched by job id alone, crediting
// the stale attempt: fault_test's history checker caught it).
TEST_F(JobStoreLeaseTest, ABatchWithAStaleAndACurrentAttemptOfOneJobCreditsTheCurrentOne) {
  const int64_t id = Enqueue("twice-held");
  ClaimedJob current;
  const ClaimedJob stale = ClaimThenLoseLease(id, &current);
  ASSERT_NE(stale.attempt, current.attempt);
  const std::vector<Completion> batch{MakeCompletion(stale, CompletionKind::kSucceeded, {}, "{}", "worker-old"),
                                      MakeCompletion(current, CompletionKind::kSucceeded, {}, "{}", "worker-new")};
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsCompleteIfLeased(batch));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0].applied) << "the stale attempt";
  EXPECT_TRUE(results[1].applied) << "the current attempt";
  EXPECT_EQ(results[1].new_state, JobState::kSucceeded);
  // Sent again after a lost answer, each is found recorded or not by its attempt.
  ASSERT_OK_AND_ASSIGN(auto recorded, store().JobsCompletionRecorded(batch));
  EXPECT_EQ(recorded,
            (std::map<std::pair<int64_t, int>, JobState>{{{id, current.attempt}, JobState::kSucceeded}}));
}

TEST_F(JobStoreLeaseTest, SuccessFinishesTheJobAndWritesASucceededRun) {
  const int64_t id = Enqueue("report");
  ClaimedJob j = ClaimOne("default", "worker-7");
  CompletionResult r =
      Complete(j, CompletionKind::kSucceeded, {}, R"({"processed": 12, "updated": 3})", "worker-7");
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.new_state, JobState::kSucceeded);

  auto job = sql_.Query(
      "SELECT state, finished_at IS NOT NULL, lease_token IS NULL, lease_expires_at IS NULL"
      " FROM chime.jobs_all WHERE id = $1",
      id);
  ASSERT_EQ(job.size(), 1u);
  EXPECT_STREQ(job[0][0].c_str(), "succeeded");
  EXPECT_TRUE(job[0][1].as<bool>());
  EXPECT_TRUE(job[0][2].as<bool>());
  EXPECT_TRUE(job[0][3].as<bool>());

  auto run = sql_.Query(
      "SELECT r.outcome, r.attempt, r.worker_id, r.kind, r.queue,"
      " r.started_at = j.attempted_at, r.finished_at >= r.started_at,"
      " r.summary = '{\"processed\": 12, \"updated\": 3}'::jsonb, cardinality(r.errors),"
      " r.finished_at = j.finished_at"
      " FROM chime.runs r JOIN chime.jobs_all j ON j.id = r.job_id WHERE r.job_id = $1",
      id);
  ASSERT_EQ(run.size(), 1u);
  EXPECT_STREQ(run[0][0].c_str(), "succeeded");
  EXPECT_EQ(run[0][1].as<int>(), 1);
  EXPECT_STREQ(run[0][2].c_str(), "worker-7");
  EXPECT_STREQ(run[0][3].c_str(), "report");
  EXPECT_STREQ(run[0][4].c_str(), "default");
  EXPECT_TRUE(run[0][5].as<bool>());
  EXPECT_TRUE(run[0][6].as<bool>());
  EXPECT_TRUE(run[0][7].as<bool>());
  EXPECT_EQ(run[0][8].as<int>(), 0);
  EXPECT_TRUE(run[0][9].as<bool>());
}

TEST_F(JobStoreLeaseTest, SuccessWithErrorsIsAPartialRunWithErrorsVerbatim) {
  const int64_t id = Enqueue("reconcile_exam_capacity");
  ClaimedJob j = ClaimOne();
  const std::vector<std::string> errors{
      "exam 17: webhook returned 503",
      "exam 'x\"y': {\"nested\": [1, 2]} \\ backslash, comma",
      "ünïcødé ✓",
  };
  CompletionResult r = Complete(j, CompletionKind::kSucceeded, errors, R"({"failed": 3})");
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.new_state, JobState::kSucceeded);
  EXPECT_EQ(State(id), "succeeded");

  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.runs WHERE job_id = $1", id), "partial");
  EXPECT_EQ(sql_.Int("SELECT cardinality(errors) FROM chime.runs WHERE job_id = $1", id), 3);
  for (size_t i = 0; i < errors.size(); ++i) {
    EXPECT_EQ(sql_.Scalar("SELECT errors[$1] FROM chime.runs WHERE job_id = $2",
                          static_cast<int>(i + 1), id),
              errors[i]);
  }
  ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(id));
  ASSERT_EQ(got.runs.size(), 1u);
  EXPECT_EQ(got.runs[0].errors, errors);
  EXPECT_EQ(got.runs[0].outcome, RunOutcome::kPartial);
}

TEST_F(JobStoreLeaseTest, FailureMakesTheJobRetryableAfterTheBackoff) {
  const int64_t id = Enqueue("flaky");
  ClaimedJob j = ClaimOne("default", "worker-3");
  CompletionResult r = Complete(j, CompletionKind::kFailed, {"first", "connection reset"},
                                R"({"step": 2})", "worker-3");
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.new_state, JobState::kRetryable);

  auto job = sql_.Query(
      "SELECT state, attempt, finished_at IS NULL, lease_token IS NULL, last_error"
      " FROM chime.jobs_all WHERE id = $1",
      id);
  ASSERT_EQ(job.size(), 1u);
  EXPECT_STREQ(job[0][0].c_str(), "retryable");
  EXPECT_EQ(job[0][1].as<int>(), 1);
  EXPECT_TRUE(job[0][2].as<bool>());
  EXPECT_TRUE(job[0][3].as<bool>());
  EXPECT_STREQ(job[0][4].c_str(), "connection reset");

  // Attempt 1: 10 s plus half of the 50 % jitter.
  FixedRng rng(0.5);
  const auto expected = BackoffDelay(StoreConfig().retry_backoff, 1, rng);
  EXPECT_EQ(expected, milliseconds(12'500));
  EXPECT_EQ(RetryDelayMs(id), expected.count());

  auto run = sql_.Query(
      "SELECT outcome, worker_id, attempt, summary = '{\"step\": 2}'::jsonb, errors[1], errors[2]"
      " FROM chime.runs WHERE job_id = $1",
      id);
  ASSERT_EQ(run.size(), 1u);
  EXPECT_STREQ(run[0][0].c_str(), "failed");
  EXPECT_STREQ(run[0][1].c_str(), "worker-3");
  EXPECT_EQ(run[0][2].as<int>(), 1);
  EXPECT_TRUE(run[0][3].as<bool>());
  EXPECT_STREQ(run[0][4].c_str(), "first");
  EXPECT_STREQ(run[0][5].c_str(), "connection reset");
}

TEST_F(JobStoreLeaseTest, FailureOnTheLastAttemptDiscardsTheJob) {
  EnqueueParams p = Params("flaky");
  p.max_attempts = 2;
  const int64_t id = Enqueue(p);
  ClaimedJob first = ClaimOne();
  EXPECT_EQ(Complete(first, CompletionKind::kFailed, {"one"}).new_state, JobState::kRetryable);
  MakeDue(id);
  ClaimedJob second = ClaimOne();
  EXPECT_EQ(second.attempt, 2);
  CompletionResult r = Complete(second, CompletionKind::kFailed, {"two"});
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.new_state, JobState::kDiscarded);

  EXPECT_EQ(State(id), "discarded");
  EXPECT_EQ(sql_.Scalar("SELECT finished_at IS NOT NULL FROM chime.jobs_all WHERE id = $1", id), "t");
  EXPECT_EQ(sql_.Scalar("SELECT last_error FROM chime.jobs_all WHERE id = $1", id), "two");
  EXPECT_EQ(sql_.Scalar("SELECT string_agg(outcome, ',' ORDER BY attempt) FROM chime.runs"
                        " WHERE job_id = $1",
                        id),
            "failed,discarded");
  EXPECT_TRUE(Claim(10).empty());
}

TEST_F(JobStoreLeaseTest, PermanentFailureDiscardsAtOnce) {
  const int64_t id = Enqueue("sync_integration");
  ClaimedJob j = ClaimOne();
  CompletionResult r = Complete(j, CompletionKind::kFailedPermanent, {"401: bad token"});
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.new_state, JobState::kDiscarded);
  EXPECT_EQ(State(id), "discarded");
  EXPECT_EQ(sql_.Scalar("SELECT attempt || '/' || max_attempts FROM chime.jobs_all WHERE id = $1", id),
            "1/20");
  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.runs WHERE job_id = $1", id), "discarded");
  EXPECT_EQ(sql_.Scalar("SELECT errors[1] FROM chime.runs WHERE job_id = $1", id),
            "401: bad token");
}

TEST_F(JobStoreLeaseTest, CancelledCompletionCancelsTheJob) {
  const int64_t id = Enqueue("cancellable");
  ClaimedJob j = ClaimOne();
  ASSERT_OK(store().JobCancel(id));
  CompletionResult r = Complete(j, CompletionKind::kCancelled);
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.new_state, JobState::kCancelled);
  EXPECT_EQ(State(id), "cancelled");
  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.runs WHERE job_id = $1", id), "cancelled");
}

TEST_F(JobStoreLeaseTest, ABatchOfCompletionsAppliesEachOnItsOwn) {
  for (int i = 0; i < 3; ++i) Enqueue("batch");
  auto jobs = Claim(3);
  ASSERT_EQ(jobs.size(), 3u);
  std::vector<Completion> batch{
      MakeCompletion(jobs[0], CompletionKind::kSucceeded),
      MakeCompletion(jobs[1], CompletionKind::kFailedPermanent, {"bad"}),
      MakeCompletion(jobs[2], CompletionKind::kSucceeded),
  };
  batch[2].lease.token = "00000000-0000-4000-8000-000000000000";  // Not its lease.
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsCompleteIfLeased(batch));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].job_id, jobs[0].id);
  EXPECT_TRUE(results[0].applied);
  EXPECT_EQ(results[1].job_id, jobs[1].id);
  EXPECT_EQ(results[1].new_state, JobState::kDiscarded);
  EXPECT_EQ(results[2].job_id, jobs[2].id);
  EXPECT_FALSE(results[2].applied);
  EXPECT_EQ(State(jobs[0].id), "succeeded");
  EXPECT_EQ(State(jobs[1].id), "discarded");
  EXPECT_EQ(State(jobs[2].id), "running");
  EXPECT_EQ(TotalRuns(), 2);
}

// A finished job's outcome, in the seeds' words, beside its state.
TEST_F(JobStoreLeaseTest, AFinishedJobRecordsItsOutcomeBesideItsState) {
  struct Case {
    CompletionKind how;
    std::vector<std::string> errors;
    int max_attempts;
    std::string state;
    std::string outcome;
    std::string run_outcome;
  };
  const std::vector<Case> cases{
      {CompletionKind::kSucceeded, {}, 20, "succeeded", "succeeded", "succeeded"},
      {CompletionKind::kSucceeded, {"appt_102: timeout"}, 20, "succeeded", "partial", "partial"},
      {CompletionKind::kSkipped, {}, 20, "succeeded", "skipped", "skipped"},
      {CompletionKind::kCancelled, {}, 20, "cancelled", "cancelled", "cancelled"},
      {CompletionKind::kFailedPermanent, {"401"}, 20, "discarded", "failed", "discarded"},
      {CompletionKind::kFailed, {"503"}, 1, "discarded", "failed", "discarded"},
      {CompletionKind::kFailed, {"503"}, 2, "retryable", "<null>", "failed"},
  };
  for (const auto& c : cases) {
    EnqueueParams p = Params("outcomes");
    p.max_attempts = c.max_attempts;
    const int64_t id = Enqueue(p);
    ClaimedJob j = ClaimOne();
    EXPECT_TRUE(Complete(j, c.how, c.errors).applied);
    EXPECT_EQ(State(id), c.state) << c.outcome;
    EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.jobs_all WHERE id = $1", id), c.outcome);
    EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.runs WHERE job_id = $1", id), c.run_outcome);
    ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(id));
    EXPECT_EQ(got.job.outcome ? std::string(JobOutcomeName(*got.job.outcome)) : "<null>", c.outcome);
  }
}

TEST_F(JobStoreLeaseTest, ASkippedCompletionIsFoundRecordedAsSucceeded) {
  Enqueue("skips");
  ClaimedJob j = ClaimOne();
  const std::vector<Completion> c{MakeCompletion(j, CompletionKind::kSkipped)};
  ASSERT_OK_AND_ASSIGN(auto first, store().JobsCompleteIfLeased(c));
  ASSERT_TRUE(first[0].applied);
  EXPECT_EQ(first[0].new_state, JobState::kSucceeded);
  ASSERT_OK_AND_ASSIGN(auto again, store().JobsCompleteIfLeased(c));
  EXPECT_FALSE(again[0].applied);
  ASSERT_OK_AND_ASSIGN(auto recorded, store().JobsCompletionRecorded(c));
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ((recorded[{j.id, j.attempt}]), JobState::kSucceeded);
}

TEST_F(JobStoreLeaseTest, CancelAndRetrySetAndClearTheOutcome) {
  const int64_t id = Enqueue("operator");
  ASSERT_OK(store().JobCancel(id));
  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.jobs_all WHERE id = $1", id), "cancelled");
  ASSERT_OK(store().JobRetry(id));
  EXPECT_EQ(State(id), "available");
  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.jobs_all WHERE id = $1", id), "<null>");
}

// Fails one job until it is discarded, moving its run_at to now between
// attempts, and reads back each retry delay.
class JobStoreBackoffTest : public JobStoreTestBase {
 protected:
  JobStoreConfig StoreConfig() const override {
    JobStoreConfig config;
    config.retry_backoff = BackoffPolicy{seconds(1), seconds(8), 0.2};
    return config;
  }
};

TEST_F(JobStoreBackoffTest, RetryDelaysDoubleUpToTheCap) {
  EnqueueParams p = Params("flaky");
  p.max_attempts = 7;
  const int64_t id = Enqueue(p);
  std::vector<int64_t> delays;
  for (int attempt = 1; attempt <= 7; ++attempt) {
    ClaimedJob j = ClaimOne();
    ASSERT_EQ(j.id, id);
    ASSERT_EQ(j.attempt, attempt);
    CompletionResult r = Complete(j, CompletionKind::kFailed, {"again"});
    ASSERT_TRUE(r.applied);
    if (attempt == 7) {
      EXPECT_EQ(r.new_state, JobState::kDiscarded);
      break;
    }
    ASSERT_EQ(r.new_state, JobState::kRetryable);
    delays.push_back(sql_.Int(
        "SELECT (extract(epoch FROM j.run_at - r.finished_at) * 1000)::bigint"
        " FROM chime.jobs_all j JOIN chime.runs r ON r.job_id = j.id AND r.attempt = j.attempt"
        " WHERE j.id = $1",
        id));
    MakeDue(id);
  }
  // 1, 2, 4, 8 s (capped), plus 10 % (half of 20 % jitter at rng 0.5), never above 8 s.
  EXPECT_EQ(delays, (std::vector<int64_t>{1100, 2200, 4400, 8000, 8000, 8000}));
  FixedRng rng(0.5);
  for (size_t i = 0; i < delays.size(); ++i) {
    EXPECT_EQ(delays[i], BackoffDelay(StoreConfig().retry_backoff, static_cast<int>(i + 1), rng)
                             .count())
        << "attempt " << i + 1;
  }
  EXPECT_EQ(State(id), "discarded");
  EXPECT_EQ(RunCount(id), 7);
}

class JobStoreReleaseTest : public JobStoreTestBase {};

TEST_F(JobStoreReleaseTest, ReleaseHandsTheJobBackWithoutUsingAnAttempt) {
  const int64_t id = Enqueue("interrupted");
  ClaimedJob j = ClaimOne("default", "worker-5");
  ASSERT_EQ(j.attempt, 1);

  ASSERT_OK_AND_ASSIGN(auto released,
                       store().JobsReleaseIfLeased(std::vector<Lease>{j.lease}, "worker-5"));
  EXPECT_EQ(released, std::vector<int64_t>{id});
  auto row = sql_.Query(
      "SELECT state, attempt, lease_token IS NULL, lease_expires_at IS NULL, run_at <= now(),"
      " finished_at IS NULL FROM chime.jobs_all WHERE id = $1",
      id);
  ASSERT_EQ(row.size(), 1u);
  EXPECT_STREQ(row[0][0].c_str(), "available");
  EXPECT_EQ(row[0][1].as<int>(), 0);
  for (int col = 2; col <= 5; ++col) EXPECT_TRUE(row[0][col].as<bool>()) << "column " << col;

  auto run = sql_.Query("SELECT outcome, attempt, worker_id FROM chime.runs WHERE job_id = $1", id);
  ASSERT_EQ(run.size(), 1u);
  EXPECT_STREQ(run[0][0].c_str(), "released");
  EXPECT_EQ(run[0][1].as<int>(), 1);
  EXPECT_STREQ(run[0][2].c_str(), "worker-5");

  ClaimedJob again = ClaimOne();
  EXPECT_EQ(again.id, id);
  EXPECT_EQ(again.attempt, 1);
}

TEST_F(JobStoreReleaseTest, ReleaseWithAStaleLeaseChangesNothing) {
  const int64_t id = Enqueue("interrupted");
  ClaimedJob j = ClaimOne();
  Lease stale = j.lease;
  stale.token = "00000000-0000-4000-8000-000000000000";
  const std::string before = Snapshot(id);
  ASSERT_OK_AND_ASSIGN(auto released,
                       store().JobsReleaseIfLeased(std::vector<Lease>{stale}, "worker-1"));
  EXPECT_TRUE(released.empty());
  EXPECT_EQ(Snapshot(id), before);
  EXPECT_EQ(TotalRuns(), 0);
}

}  // namespace
}  // namespace chime::db::testing
