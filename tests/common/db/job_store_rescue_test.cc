// JobsRescue (expired leases) and JobsCleanup (retention). Database time is
// moved by editing lease_expires_at and finished_at, never by waiting.
#include <algorithm>
#include <set>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;

std::set<int64_t> AsSet(const std::vector<int64_t>& ids) { return {ids.begin(), ids.end()}; }

class JobStoreRescueTest : public JobStoreTestBase {
 protected:
  RescueResult Rescue(int max_rescues = 3, int limit = 1000) {
    auto r = store().JobsRescue(RescueParams{.max_rescues = max_rescues, .limit = limit});
    if (!r) {
      ADD_FAILURE() << "JobsRescue: " << r.error().ToString();
      return {};
    }
    return *r;
  }
};

TEST_F(JobStoreRescueTest, RescuesAJobWhoseLeaseExpired) {
  const int64_t id = Enqueue("crashy");
  ClaimedJob j = ClaimOne("default", "worker-2");
  ExpireLease(id);

  RescueResult r = Rescue();
  EXPECT_EQ(r.rescued, std::vector<int64_t>{id});
  EXPECT_TRUE(r.discarded.empty());

  auto row = sql_.Query(
      "SELECT state, rescue_count, lease_token IS NULL, lease_expires_at IS NULL,"
      " run_at <= now(), finished_at IS NULL, attempt FROM chime.jobs_all WHERE id = $1",
      id);
  ASSERT_EQ(row.size(), 1u);
  const std::string state = row[0][0].c_str();
  EXPECT_TRUE(state == "retryable" || state == "available") << state;
  EXPECT_EQ(row[0][1].as<int>(), 1);
  for (int col = 2; col <= 5; ++col) EXPECT_TRUE(row[0][col].as<bool>()) << "column " << col;
  EXPECT_EQ(row[0][6].as<int>(), 1);

  auto run = sql_.Query(
      "SELECT r.outcome, r.attempt, r.worker_id, (extract(epoch FROM r.started_at) * 1000000)::bigint"
      " FROM chime.runs r WHERE r.job_id = $1",
      id);
  ASSERT_EQ(run.size(), 1u);
  EXPECT_STREQ(run[0][0].c_str(), "lease_expired");
  EXPECT_EQ(run[0][1].as<int>(), 1);
  EXPECT_STREQ(run[0][2].c_str(), "worker-2");
  EXPECT_EQ(run[0][3].as<int64_t>(), Micros(j.attempted_at));

  ClaimedJob again = ClaimOne("default", "worker-3");
  EXPECT_EQ(again.id, id);
  EXPECT_EQ(again.attempt, 2);
  EXPECT_NE(again.lease.token, j.lease.token);
}

TEST_F(JobStoreRescueTest, LeavesJobsWithALiveLeaseAlone) {
  const int64_t expired = Enqueue("a");
  const int64_t live = Enqueue("a");
  ASSERT_EQ(Claim(2).size(), 2u);
  ExpireLease(expired);
  const std::string before = Snapshot(live);

  RescueResult r = Rescue();
  EXPECT_EQ(r.rescued, std::vector<int64_t>{expired});
  EXPECT_TRUE(r.discarded.empty());
  EXPECT_EQ(Snapshot(live), before);
  EXPECT_EQ(RunCount(live), 0);

  // Nothing left to rescue.
  RescueResult again = Rescue();
  EXPECT_TRUE(again.rescued.empty());
  EXPECT_TRUE(again.discarded.empty());
  EXPECT_EQ(TotalRuns(), 1);
}

TEST_F(JobStoreRescueTest, ASilentWorkerPastTheThresholdIsStaleThoughItsLeaseLives) {
  const int64_t silent = Enqueue("a");
  const int64_t beating = Enqueue("a");
  ASSERT_EQ(Claim(2).size(), 2u);
  // Both leases run for an hour; only one worker heartbeated lately.
  sql_.Exec("UPDATE chime.jobs SET lease_expires_at = now() + interval '1 hour'");
  sql_.Exec("UPDATE chime.jobs SET heartbeat_at = now() - interval '31 minutes' WHERE id = $1", silent);
  const RescueParams params{.silent_for = std::chrono::minutes(30)};

  // Without the threshold a live lease is left alone.
  ASSERT_OK_AND_ASSIGN(RescueResult plain, store().JobsRescue(RescueParams{}));
  EXPECT_TRUE(plain.rescued.empty());

  const std::string before = Snapshot(silent);
  ASSERT_OK_AND_ASSIGN(RescueResult preview, store().JobsRescuePreview(params));
  EXPECT_EQ(preview.rescued, std::vector<int64_t>{silent});
  EXPECT_EQ(Snapshot(silent), before) << "a preview changes nothing";
  EXPECT_EQ(TotalRuns(), 0);

  ASSERT_OK_AND_ASSIGN(RescueResult r, store().JobsRescue(params));
  EXPECT_EQ(r.rescued, std::vector<int64_t>{silent});
  EXPECT_EQ(sql_.Scalar("SELECT state FROM chime.jobs_all WHERE id = $1", beating), "running");
  EXPECT_NE(sql_.Scalar("SELECT last_error FROM chime.jobs_all WHERE id = $1", silent)
                .find("no heartbeat from worker"),
            std::string::npos);
  EXPECT_EQ(store().JobsRescue(RescueParams{.silent_for = std::chrono::seconds(0)}).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(JobStoreRescueTest, HeartbeatsRecordWhenTheWorkerWasLastAlive) {
  const int64_t id = Enqueue("a");
  ClaimedJob j = ClaimOne("default", "w");
  sql_.Exec("UPDATE chime.jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1", id);
  ASSERT_TRUE(store().JobsHeartbeat(std::span(&j.lease, 1), std::chrono::seconds(30)).has_value());
  EXPECT_EQ(sql_.Scalar("SELECT heartbeat_at > now() - interval '1 minute' FROM chime.jobs_all WHERE id = $1", id),
            "t");
}

TEST_F(JobStoreRescueTest, DiscardsAJobThatHadNoAttemptsLeft) {
  EnqueueParams p = Params("crashy");
  p.max_attempts = 1;
  const int64_t id = Enqueue(p);
  ClaimOne();
  ExpireLease(id);

  RescueResult r = Rescue();
  EXPECT_TRUE(r.rescued.empty());
  EXPECT_EQ(r.discarded, std::vector<int64_t>{id});
  EXPECT_EQ(State(id), "discarded");
  EXPECT_EQ(sql_.Scalar("SELECT finished_at IS NOT NULL AND lease_token IS NULL FROM chime.jobs_all"
                        " WHERE id = $1",
                        id),
            "t");
  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.runs WHERE job_id = $1", id), "lease_expired");
  EXPECT_TRUE(Claim(10).empty());
}

TEST_F(JobStoreRescueTest, DiscardsAPoisonPillRescuedMoreThanMaxRescuesTimes) {
  const int64_t id = Enqueue("kills_its_worker");
  constexpr int kMaxRescues = 2;
  for (int round = 1; round <= kMaxRescues; ++round) {
    ClaimedJob j = ClaimOne();
    ASSERT_EQ(j.id, id);
    ExpireLease(id);
    RescueResult r = Rescue(kMaxRescues);
    ASSERT_EQ(r.rescued, std::vector<int64_t>{id}) << "round " << round;
    MakeDue(id);
  }
  ClaimOne();
  ExpireLease(id);
  RescueResult r = Rescue(kMaxRescues);
  EXPECT_TRUE(r.rescued.empty());
  EXPECT_EQ(r.discarded, std::vector<int64_t>{id});

  EXPECT_EQ(State(id), "discarded");
  EXPECT_EQ(sql_.Int("SELECT rescue_count FROM chime.jobs_all WHERE id = $1", id), 3);
  const std::string reason = sql_.Scalar("SELECT last_error FROM chime.jobs_all WHERE id = $1", id);
  EXPECT_NE(reason.find("poison"), std::string::npos) << reason;
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs WHERE job_id = $1"
                     " AND outcome = 'lease_expired'",
                     id),
            3);
  EXPECT_LT(sql_.Int("SELECT attempt FROM chime.jobs_all WHERE id = $1", id), 20);
}

TEST_F(JobStoreRescueTest, ReportsRescuedAndDiscardedJobsExactly) {
  std::vector<int64_t> last_attempt, retry;
  for (int i = 0; i < 5; ++i) {
    EnqueueParams p = Params("mixed");
    p.max_attempts = i < 3 ? 1 : 5;
    (i < 3 ? last_attempt : retry).push_back(Enqueue(p));
  }
  ASSERT_EQ(Claim(5).size(), 5u);
  sql_.Exec("UPDATE chime.jobs SET lease_expires_at = now() - interval '1 second'");

  RescueResult r = Rescue();
  EXPECT_EQ(AsSet(r.discarded), AsSet(last_attempt));
  EXPECT_EQ(AsSet(r.rescued), AsSet(retry));
  EXPECT_EQ(r.discarded.size() + r.rescued.size(), 5u);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'discarded'"), 3);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state IN ('retryable', 'available')"),
            2);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs WHERE outcome = 'lease_expired'"), 5);
}

TEST_F(JobStoreRescueTest, HandlesAtMostLimitJobsPerCall) {
  for (int i = 0; i < 5; ++i) Enqueue("many");
  ASSERT_EQ(Claim(5).size(), 5u);
  sql_.Exec("UPDATE chime.jobs SET lease_expires_at = now() - interval '1 second'");

  RescueResult first = Rescue(3, 2);
  EXPECT_EQ(first.rescued.size(), 2u);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'"), 3);
  RescueResult second = Rescue(3, 2);
  RescueResult third = Rescue(3, 2);
  EXPECT_EQ(second.rescued.size(), 2u);
  EXPECT_EQ(third.rescued.size(), 1u);
  std::set<int64_t> all = AsSet(first.rescued);
  all.insert(second.rescued.begin(), second.rescued.end());
  all.insert(third.rescued.begin(), third.rescued.end());
  EXPECT_EQ(all.size(), 5u);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'"), 0);
}

class JobStoreCleanupTest : public JobStoreTestBase {
 protected:
  // Runs a job to `kind` and backdates its finish (and its runs) by `age`.
  int64_t FinishedJob(CompletionKind kind, hours age) {
    const int64_t id = Enqueue("finished");
    auto claimed = Claim(1);
    if (claimed.size() != 1 || claimed[0].id != id) {
      ADD_FAILURE() << "could not claim " << id;
      return id;
    }
    EXPECT_TRUE(Complete(claimed[0], kind, {"e"}).applied);
    Backdate(id, age);
    return id;
  }

  void Backdate(int64_t id, hours age) {
    sql_.Exec("UPDATE chime.jobs SET finished_at = now() - $1 * interval '1 hour' WHERE id = $2",
              static_cast<int>(age.count()), id);
    sql_.Exec("UPDATE chime.runs SET finished_at = now() - $1 * interval '1 hour',"
              " started_at = now() - $1 * interval '1 hour' WHERE job_id = $2",
              static_cast<int>(age.count()), id);
  }

  CleanupResult Cleanup(int batch_size = 1000, int max_batches = 1000) {
    auto r = store().JobsCleanup(CleanupParams{
        .retention = hours(24 * 7), .batch_size = batch_size, .max_batches = max_batches});
    if (!r) {
      ADD_FAILURE() << "JobsCleanup: " << r.error().ToString();
      return {};
    }
    return *r;
  }

  bool Exists(int64_t id) {
    return sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE id = $1", id) == 1;
  }
};

TEST_F(JobStoreCleanupTest, DeletesFinishedJobsAndRunsPastRetentionOnly) {
  const hours old(24 * 8);
  const int64_t old_succeeded = FinishedJob(CompletionKind::kSucceeded, old);
  const int64_t old_discarded = FinishedJob(CompletionKind::kFailedPermanent, old);
  const int64_t old_cancelled = Enqueue("finished");
  ASSERT_OK(store().JobCancel(old_cancelled));
  Backdate(old_cancelled, old);
  const int64_t new_succeeded = FinishedJob(CompletionKind::kSucceeded, hours(24));

  // Live jobs stay however old they are; a live job's old runs still go.
  const int64_t retryable = Enqueue("finished");
  ClaimedJob r = ClaimOne();
  ASSERT_EQ(r.id, retryable);
  ASSERT_TRUE(Complete(r, CompletionKind::kFailed, {"later"}).applied);
  Backdate(retryable, old);
  const int64_t available = Enqueue("live", "other");
  const int64_t running = Enqueue("live", "busy");
  ASSERT_EQ(ClaimOne("busy").id, running);
  sql_.Exec("UPDATE chime.jobs SET created_at = now() - interval '30 days',"
            " run_at = now() - interval '30 days' WHERE state IN ('available', 'running')");

  CleanupResult result = Cleanup();
  EXPECT_EQ(result.jobs_deleted, 3);
  EXPECT_EQ(result.runs_deleted, 3);  // old_succeeded's, old_discarded's, retryable's.
  EXPECT_FALSE(result.more);

  EXPECT_FALSE(Exists(old_succeeded));
  EXPECT_FALSE(Exists(old_discarded));
  EXPECT_FALSE(Exists(old_cancelled));
  EXPECT_TRUE(Exists(new_succeeded));
  EXPECT_TRUE(Exists(retryable));
  EXPECT_TRUE(Exists(available));
  EXPECT_TRUE(Exists(running));
  EXPECT_EQ(RunCount(new_succeeded), 1);
  EXPECT_EQ(TotalRuns(), 1);

  CleanupResult again = Cleanup();
  EXPECT_EQ(again.jobs_deleted, 0);
  EXPECT_EQ(again.runs_deleted, 0);
  EXPECT_FALSE(again.more);
}

TEST_F(JobStoreCleanupTest, BoundedCallsStopEarlyAndRepeatedCallsFinish) {
  constexpr int kJobs = 25;
  ASSERT_OK(store().JobsInsertMany(std::vector<EnqueueParams>(kJobs, Params("bulk"))));
  auto jobs = Claim(kJobs);
  ASSERT_EQ(jobs.size(), static_cast<size_t>(kJobs));
  std::vector<Completion> done;
  for (const auto& j : jobs) done.push_back(MakeCompletion(j, CompletionKind::kSucceeded));
  ASSERT_OK(store().JobsCompleteIfLeased(done));
  sql_.Exec("UPDATE chime.jobs SET finished_at = now() - interval '8 days'");
  sql_.Exec("UPDATE chime.runs SET finished_at = now() - interval '8 days'");
  const int64_t fresh = FinishedJob(CompletionKind::kSucceeded, hours(1));

  // The finished jobs are held by their final runs (migration 0029) and go
  // with them: here from the catch-all before the ledger's first day, in
  // bounded batches (the first batch finds no finished job in chime.jobs).
  ASSERT_OK_AND_ASSIGN(CleanupResult preview, store().JobsCleanupPreview(hours(24 * 7)));
  EXPECT_EQ(preview.jobs_deleted, kJobs);
  EXPECT_EQ(preview.runs_deleted, kJobs);
  CleanupResult first = Cleanup(10, 2);
  EXPECT_TRUE(first.more);
  EXPECT_EQ(first.jobs_deleted, 10);
  EXPECT_EQ(first.runs_deleted, 10);
  EXPECT_EQ(JobCount(), kJobs - 10 + 1);

  int64_t jobs_deleted = first.jobs_deleted;
  int64_t runs_deleted = first.runs_deleted;
  int calls = 1;
  bool more = first.more;
  while (more && calls < 20) {
    CleanupResult next = Cleanup(10, 2);
    EXPECT_LE(next.jobs_deleted, 20) << "call " << calls;
    jobs_deleted += next.jobs_deleted;
    runs_deleted += next.runs_deleted;
    more = next.more;
    ++calls;
  }
  EXPECT_FALSE(more);
  EXPECT_EQ(jobs_deleted, kJobs);
  EXPECT_EQ(runs_deleted, kJobs);
  EXPECT_EQ(JobCount(), 1);
  EXPECT_TRUE(Exists(fresh));
  EXPECT_EQ(TotalRuns(), 1);
}

TEST_F(JobStoreCleanupTest, RejectsNonPositiveBounds) {
  FinishedJob(CompletionKind::kSucceeded, hours(24 * 30));
  for (auto [batch, max] : {std::pair{0, 1}, std::pair{1, 0}, std::pair{-5, 3}, std::pair{100'001, 1}}) {
    auto r = store().JobsCleanup(CleanupParams{.batch_size = batch, .max_batches = max});
    ASSERT_FALSE(r.has_value()) << batch << "/" << max;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(JobCount(), 1);
}

// Workers run cleanup_old_jobs, and their role may not DELETE: the cleanup
// goes through the SECURITY DEFINER functions of migration 0004.
TEST_F(JobStoreCleanupTest, RunsUnderTheWorkerRoleWhichCannotDeleteDirectly) {
  const int64_t old_job = FinishedJob(CompletionKind::kSucceeded, hours(24 * 30));
  const int64_t fresh = FinishedJob(CompletionKind::kSucceeded, hours(1));
  Connection as_worker(ConnectionConfig{.url = db_.UrlAsRole("chime_worker")});
  ASSERT_OK(as_worker.Connect());
  auto role = as_worker.Run([](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec("SELECT current_user")[0][0].as<std::string>(), "chime_worker");
    EXPECT_THROW(tx.exec("DELETE FROM chime.runs"), pqxx::insufficient_privilege);
  });
  ASSERT_OK(role);
  JobStore worker_store(as_worker);
  ASSERT_OK_AND_ASSIGN(CleanupResult r, worker_store.JobsCleanup(CleanupParams{}));
  EXPECT_EQ(r.jobs_deleted, 1);
  EXPECT_EQ(r.runs_deleted, 1);
  EXPECT_FALSE(Exists(old_job));
  EXPECT_TRUE(Exists(fresh));
}

// The run ledger is partitioned by UTC day (migration 0025), contiguous days
// between two catch-alls: the days wholly past the retention (never today)
// go by dropping their partitions, with their rollup rows; runs older than the
// first day wait in chime.runs_before and are deleted row by row; days made at
// either edge take the rows the catch-all held for them.
TEST_F(JobStoreCleanupTest, DropsTheRunLedgersDaysPastTheRetention) {
  auto partition_of = [&](int64_t job_id) {
    return sql_.Scalar("SELECT tableoid::regclass::text FROM chime.runs WHERE job_id = $1", job_id);
  };
  auto day_name = [&](int days_ago) {
    return sql_.Scalar(
        "SELECT 'chime.runs_' || to_char((now() AT TIME ZONE 'UTC')::date - $1::integer, 'YYYYMMDD')",
        days_ago);
  };
  auto first_day_ago = [&] {
    return sql_.Int("SELECT (now() AT TIME ZONE 'UTC')::date - first_day FROM chime.runs_days()");
  };
  // Runs counted by the rollup (every run adds one to one outcome counter).
  auto counted = [&](const char* span) {
    return sql_.Int("SELECT coalesce(sum(succeeded + partial + failed + discarded), 0) FROM chime.run_stats"
                    " WHERE span = $1",
                    std::string(span));
  };
  const int64_t fresh = FinishedJob(CompletionKind::kSucceeded, hours(0));
  EXPECT_EQ(partition_of(fresh), day_name(0));
  EXPECT_EQ(first_day_ago(), 0);  // A new ledger starts today.
  const int64_t old_a = FinishedJob(CompletionKind::kSucceeded, hours(24 * 10));
  const int64_t old_b = FinishedJob(CompletionKind::kFailedPermanent, hours(24 * 10));
  const int64_t ancient = FinishedJob(CompletionKind::kSucceeded, hours(24 * 400));
  const int64_t future = FinishedJob(CompletionKind::kSucceeded, hours(-24 * 30));
  EXPECT_EQ(partition_of(old_a), "chime.runs_before");
  EXPECT_EQ(partition_of(future), "chime.runs_after");
  EXPECT_EQ(sql_.Int("SELECT chime.old_runs_count(7 * 86400)"), 3);
  const int64_t rollup = counted("day");
  EXPECT_EQ(rollup, 5);

  // Days carved out of the catch-alls take their rows; the rollup, which
  // counted them once, stays.
  EXPECT_EQ(sql_.Int("SELECT chime.runs_partitions_ensure(30, 12)"), 23 + 12);
  EXPECT_EQ(first_day_ago(), 12);
  EXPECT_EQ(partition_of(old_a), day_name(10));
  EXPECT_EQ(partition_of(old_b), day_name(10));
  EXPECT_EQ(partition_of(ancient), "chime.runs_before");
  EXPECT_EQ(partition_of(future), day_name(-30));
  EXPECT_EQ(counted("day"), rollup);
  EXPECT_EQ(sql_.Int("SELECT chime.runs_partitions_ensure(30, 12)"), 0);

  // A run backdated into a day whose partition exists moves into it.
  const int64_t also_old = FinishedJob(CompletionKind::kSucceeded, hours(24 * 10));
  EXPECT_EQ(partition_of(also_old), day_name(10));

  ASSERT_OK_AND_ASSIGN(CleanupResult r, store().JobsCleanup(CleanupParams{.retention = hours(24 * 7)}));
  // Days 12 to 8 before today dropped (3 runs in day 10, counted from its
  // rollup rows), and the ancient run deleted from chime.runs_before.
  EXPECT_EQ(r.runs_deleted, 4);
  EXPECT_EQ(r.jobs_deleted, 4);
  EXPECT_EQ(first_day_ago(), 7);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM pg_class WHERE relnamespace = 'chime'::regnamespace"
                     " AND relname = $1",
                     day_name(10).substr(6)),
            0);
  EXPECT_EQ(TotalRuns(), 2);  // fresh's and future's.
  // The rollup lost exactly the dropped day's rows and the deleted run, in
  // both spans.
  EXPECT_EQ(counted("day"), 2);
  EXPECT_EQ(counted("hour"), 2);
  EXPECT_EQ(sql_.Int("SELECT chime.old_runs_count(7 * 86400)"), 0);

  // With no retention at all, every day before today goes and today's stays.
  const int64_t yesterday = FinishedJob(CompletionKind::kSucceeded, hours(24));
  EXPECT_EQ(partition_of(yesterday), day_name(1));
  ASSERT_OK_AND_ASSIGN(CleanupResult again, store().JobsCleanup(CleanupParams{.retention = hours(0)}));
  EXPECT_EQ(again.runs_deleted, 1);
  EXPECT_EQ(RunCount(yesterday), 0);
  EXPECT_EQ(RunCount(fresh), 1);
  EXPECT_EQ(partition_of(fresh), day_name(0));
  EXPECT_EQ(first_day_ago(), 0);
  // A run of a day now dropped lands in chime.runs_before, never fails.
  const int64_t late = FinishedJob(CompletionKind::kSucceeded, hours(24 * 3));
  EXPECT_EQ(partition_of(late), "chime.runs_before");
}

// A reader holding the ledger (a long statistics query, a backup) must not
// stall completions behind a waiting DDL: making or dropping a day waits at
// most 1 s for its lock, then leaves the day for the next call, without an
// error and without changing the caller's own lock_timeout.
TEST_F(JobStoreCleanupTest, ABusyLedgerLeavesItsDayForTheNextCall) {
  const int64_t old_run = FinishedJob(CompletionKind::kSucceeded, hours(24 * 10));
  pqxx::connection reader(db_.url());
  pqxx::work hold(reader);
  hold.exec("LOCK TABLE chime.runs IN ACCESS SHARE MODE");

  EXPECT_EQ(sql_.Int("SELECT chime.runs_partitions_ensure(0, 12)"), 0);  // Its DETACH timed out.
  EXPECT_EQ(sql_.Scalar("SELECT tableoid::regclass::text FROM chime.runs WHERE job_id = $1", old_run),
            "chime.runs_before");
  EXPECT_EQ(sql_.Scalar("SHOW lock_timeout"), "0");
  hold.commit();

  EXPECT_EQ(sql_.Int("SELECT chime.runs_partitions_ensure(0, 12)"), 12);
  pqxx::work again(reader);
  again.exec("LOCK TABLE chime.runs IN ACCESS SHARE MODE");
  EXPECT_EQ(sql_.Int("SELECT chime.delete_old_runs(7 * 86400, 1000)"), 0);  // Its DETACH timed out.
  EXPECT_EQ(RunCount(old_run), 1);
  again.commit();
  EXPECT_EQ(sql_.Int("SELECT chime.delete_old_runs(7 * 86400, 1000)"), 1);
  EXPECT_EQ(RunCount(old_run), 0);
}

// The functions check their own arguments: a caller with EXECUTE cannot
// delete unbounded batches or everything finished up to now + N.
TEST_F(JobStoreCleanupTest, TheDeleteFunctionsRefuseBadArguments) {
  FinishedJob(CompletionKind::kSucceeded, hours(24 * 30));
  for (const char* call : {"SELECT chime.delete_finished_jobs(-1, 10)", "SELECT chime.delete_finished_jobs(0, 0)",
                           "SELECT chime.delete_old_runs(0, 100001)", "SELECT chime.delete_old_runs(NULL, 10)",
                           "SELECT chime.runs_partitions_ensure(-1)", "SELECT chime.runs_partitions_ensure(7, 4000)",
                           "SELECT chime.runs_carve_day(current_date - 30)"}) {
    EXPECT_THROW(sql_.Exec(call), pqxx::data_exception) << call;
  }
  EXPECT_EQ(JobCount(), 1);
}

}  // namespace
}  // namespace chime::db::testing
