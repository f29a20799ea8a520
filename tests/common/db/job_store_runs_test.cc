// Runs, not attempts, in the ledger (migration 0018): every statement that
// finishes a job marks the attempt that ended it final with the job's
// outcome; a fan-out parent waits for its children and takes their
// aggregate, exactly once under concurrent completers; a payload's dry_run
// marks the job; runs and fires list as jobctl runs and schedule fires show
// them.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"
#include "tests/common/db/job_store_test_base.h"
#include "tests/support/wait_until.h"

namespace chime::db::testing {
namespace {

class JobStoreRunsTest : public JobStoreTestBase {
 protected:
  // A running parent with `n` children enqueued by it, all claimed.
  struct FanOut {
    ClaimedJob parent;
    std::vector<ClaimedJob> children;
  };
  FanOut StartFanOut(int n, const std::string& queue = "fan") {
    FanOut f;
    EnqueueParams p = Params("parent", queue + "-parent");
    Enqueue(p);
    f.parent = ClaimOne(queue + "-parent");
    std::vector<EnqueueParams> kids;
    for (int i = 0; i < n; ++i) {
      EnqueueParams c = Params("child", queue);
      c.parent_id = f.parent.id;
      c.max_attempts = 1;
      kids.push_back(c);
    }
    auto inserted = store().JobsInsertMany(kids);
    EXPECT_TRUE(inserted.has_value()) << inserted.error().ToString();
    f.children = Claim(n, {queue});
    EXPECT_EQ(static_cast<int>(f.children.size()), n);
    return f;
  }

  std::string Outcome(int64_t id) { return sql_.Scalar("SELECT outcome FROM chime.jobs_all WHERE id = $1", id); }
  // "attempt:outcome:final:job_outcome" per run of the job, oldest first.
  std::string Ledger(int64_t id) {
    return sql_.Scalar(
        "SELECT string_agg(attempt || ':' || outcome || ':' || final || ':' || coalesce(job_outcome, '-'), ',' "
        "ORDER BY finished_at, id) FROM chime.runs WHERE job_id = $1",
        id);
  }
  std::string ChildCounts(int64_t parent) {
    return sql_.Scalar("SELECT summary->'childOutcomes' FROM chime.runs WHERE job_id = $1 AND final", parent);
  }
};

TEST_F(JobStoreRunsTest, TheAttemptThatEndsAJobIsItsFinalRowWithTheJobsOutcome) {
  EnqueueParams p = Params("flaky");
  p.max_attempts = 2;
  const int64_t failing = Enqueue(p);
  ClaimedJob a = ClaimOne();
  Complete(a, CompletionKind::kFailed, {"HTTP 503"});
  MakeDue(failing);
  Complete(ClaimOne(), CompletionKind::kFailed, {"HTTP 503"});
  EXPECT_EQ(Ledger(failing), "1:failed:false:-,2:discarded:true:failed");

  const int64_t partial = Enqueue("report");
  Complete(ClaimOne(), CompletionKind::kSucceeded, {"row 7 failed"});
  EXPECT_EQ(Ledger(partial), "1:partial:true:partial");

  const int64_t skipped = Enqueue("locked");
  Complete(ClaimOne(), CompletionKind::kSkipped);
  EXPECT_EQ(Ledger(skipped), "1:skipped:true:skipped");

  // Rescued: to retry (not final), then out of attempts (final, failed).
  EnqueueParams r = Params("crashy");
  r.max_attempts = 2;
  const int64_t rescued = Enqueue(r);
  ClaimOne();
  ExpireLease(rescued);
  ASSERT_OK(store().JobsRescue({}));
  MakeDue(rescued);
  ClaimOne();
  ExpireLease(rescued);
  ASSERT_OK(store().JobsRescue({}));
  EXPECT_EQ(Ledger(rescued), "1:lease_expired:false:-,2:lease_expired:true:failed");

  // Cancelled between attempts: the newest attempt becomes the final row;
  // never run, no run at all.
  EnqueueParams c = Params("waiting");
  c.max_attempts = 5;
  const int64_t between = Enqueue(c);
  Complete(ClaimOne(), CompletionKind::kFailed, {"HTTP 503"});
  ASSERT_OK(store().JobCancel(between));
  EXPECT_EQ(Ledger(between), "1:failed:true:cancelled");
  const int64_t never = Enqueue("never");
  ASSERT_OK(store().JobCancel(never));
  EXPECT_EQ(RunCount(never), 0);
  EXPECT_EQ(Outcome(never), "cancelled");
}

TEST_F(JobStoreRunsTest, AParentWaitsForItsChildrenAndTakesTheirAggregate) {
  FanOut f = StartFanOut(3);
  ASSERT_TRUE(Complete(f.parent, CompletionKind::kSucceeded, {}, R"({"jobsQueued": 3})").applied);
  EXPECT_EQ(State(f.parent.id), "succeeded");
  EXPECT_EQ(Outcome(f.parent.id), "<null>") << "waiting for its children";
  EXPECT_EQ(Ledger(f.parent.id), "1:succeeded:true:-");
  ASSERT_OK_AND_ASSIGN(JobWithRuns shown, store().JobGet(f.parent.id));
  EXPECT_TRUE(shown.job.Waiting());
  EXPECT_EQ(shown.job.children_live, 3);

  Complete(f.children[0], CompletionKind::kSucceeded);
  Complete(f.children[1], CompletionKind::kFailedPermanent, {"401 bad token"});
  EXPECT_EQ(Outcome(f.parent.id), "<null>");
  ASSERT_OK_AND_ASSIGN(shown, store().JobGet(f.parent.id));
  EXPECT_EQ(shown.job.children_live, 1);
  Complete(f.children[2], CompletionKind::kSucceeded, {"row 3 skipped"});
  EXPECT_EQ(Outcome(f.parent.id), "partial");
  EXPECT_EQ(Ledger(f.parent.id), "1:succeeded:true:partial");
  EXPECT_EQ(ChildCounts(f.parent.id),
            R"({"total": 3, "failed": 1, "partial": 1, "skipped": 0, "cancelled": 0, "succeeded": 1})");
  EXPECT_EQ(sql_.Scalar("SELECT summary->>'jobsQueued' FROM chime.runs WHERE job_id = $1", f.parent.id), "3");
  EXPECT_EQ(sql_.Scalar("SELECT last_error FROM chime.jobs_all WHERE id = $1", f.parent.id),
            "1 of 3 children failed");
}

TEST_F(JobStoreRunsTest, AllChildrenFailedFailsTheParentAndAllSucceededSucceedsIt) {
  FanOut bad = StartFanOut(2, "bad");
  Complete(bad.parent, CompletionKind::kSucceeded);
  for (const auto& c : bad.children) Complete(c, CompletionKind::kFailed, {"boom"});  // Out of attempts.
  EXPECT_EQ(Outcome(bad.parent.id), "failed");
  EXPECT_EQ(State(bad.parent.id), "succeeded") << "its own attempt did succeed";

  FanOut good = StartFanOut(2, "good");
  // Children first: the parent settles at its own completion.
  Complete(good.children[0], CompletionKind::kSucceeded);
  Complete(good.children[1], CompletionKind::kSkipped);  // Decides nothing.
  EXPECT_EQ(Outcome(good.parent.id), "<null>") << "still running";
  Complete(good.parent, CompletionKind::kSucceeded);
  EXPECT_EQ(Outcome(good.parent.id), "succeeded");
  EXPECT_EQ(ChildCounts(good.parent.id),
            R"({"total": 2, "failed": 0, "partial": 0, "skipped": 1, "cancelled": 0, "succeeded": 1})");

  // A parent that failed itself does not wait.
  FanOut dead = StartFanOut(1, "dead");
  Complete(dead.parent, CompletionKind::kFailedPermanent, {"crashed after fanning out"});
  EXPECT_EQ(Outcome(dead.parent.id), "failed");
}

TEST_F(JobStoreRunsTest, AParentAndItsLastChildInOneBatchSettleIt) {
  FanOut f = StartFanOut(2);
  Complete(f.children[0], CompletionKind::kSucceeded);
  const std::vector<Completion> batch{MakeCompletion(f.children[1], CompletionKind::kSucceeded),
                                      MakeCompletion(f.parent, CompletionKind::kSucceeded)};
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsCompleteIfLeased(batch));
  EXPECT_TRUE(results[0].applied && results[1].applied);
  EXPECT_EQ(Outcome(f.parent.id), "succeeded");
}

TEST_F(JobStoreRunsTest, ChildrenEndedByRescueOrCancelSettleTheParent) {
  FanOut f = StartFanOut(2);
  Complete(f.parent, CompletionKind::kSucceeded);
  Complete(f.children[0], CompletionKind::kSucceeded);
  ExpireLease(f.children[1].id);  // max_attempts 1: the rescue discards it.
  ASSERT_OK(store().JobsRescue({}));
  EXPECT_EQ(Outcome(f.parent.id), "partial");

  EnqueueParams p = Params("parent", "p2");
  Enqueue(p);
  ClaimedJob parent = ClaimOne("p2");
  EnqueueParams kid = Params("child", "never-claimed");
  kid.parent_id = parent.id;
  const int64_t child = Enqueue(kid);
  Complete(parent, CompletionKind::kSucceeded);
  EXPECT_EQ(Outcome(parent.id), "<null>");
  ASSERT_OK(store().JobCancel(child));
  EXPECT_EQ(Outcome(parent.id), "succeeded") << "a cancelled child decides nothing";
}

TEST_F(JobStoreRunsTest, NestedFanOutsSettleFromTheBottomUp) {
  EnqueueParams p = Params("all-exams", "top");
  Enqueue(p);
  ClaimedJob top = ClaimOne("top");
  EnqueueParams mid = Params("batch", "mid");
  mid.parent_id = top.id;
  Enqueue(mid);
  ClaimedJob batch = ClaimOne("mid");
  EnqueueParams leaf = Params("deliver", "leaf");
  leaf.parent_id = batch.id;
  leaf.max_attempts = 1;
  Enqueue(leaf);
  ClaimedJob delivery = ClaimOne("leaf");
  Complete(top, CompletionKind::kSucceeded);
  Complete(batch, CompletionKind::kSucceeded);
  EXPECT_EQ(Outcome(batch.id), "<null>");
  EXPECT_EQ(Outcome(top.id), "<null>") << "its child is waiting too";
  Complete(delivery, CompletionKind::kFailed, {"receiver answered 500"});
  EXPECT_EQ(Outcome(batch.id), "failed");
  EXPECT_EQ(Outcome(top.id), "failed");
  EXPECT_EQ(ChildCounts(top.id),
            R"({"total": 1, "failed": 1, "partial": 0, "skipped": 0, "cancelled": 0, "succeeded": 0})");
}

// The race the settle trigger's lock exists for: the last children and the
// parent itself finished by concurrent completers, each with its own
// session. Whoever commits last must see the others and settle the parent,
// every round.
TEST_F(JobStoreRunsTest, ConcurrentCompletersSettleEveryParentExactlyOnce) {
  constexpr int kRounds = 25;
  constexpr int kChildren = 12;
  constexpr int kCompleters = 4;
  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<std::unique_ptr<JobStore>> stores;
  for (int i = 0; i < kCompleters + 1; ++i) {
    conns.push_back(std::make_unique<Connection>(ConnectionConfig{.url = db_.url()}));
    stores.push_back(std::make_unique<JobStore>(*conns.back(), StoreConfig(), &rng_));
  }
  std::vector<int64_t> parents;
  for (int round = 0; round < kRounds; ++round) {
    FanOut f = StartFanOut(kChildren, "race" + std::to_string(round));
    parents.push_back(f.parent.id);
    std::latch start(kCompleters + 1);
    std::vector<std::jthread> threads;
    for (int t = 0; t < kCompleters; ++t) {
      threads.emplace_back([&, t] {
        std::vector<Completion> mine;
        for (int i = t; i < kChildren; i += kCompleters) {
          // Every third child fails, so the aggregate is partial.
          mine.push_back(MakeCompletion(f.children[static_cast<size_t>(i)],
                                        i % 3 == 0 ? CompletionKind::kFailedPermanent : CompletionKind::kSucceeded,
                                        i % 3 == 0 ? std::vector<std::string>{"boom"} : std::vector<std::string>{}));
        }
        start.arrive_and_wait();
        // One child at a time: as many commits racing as there are children.
        for (const auto& c : mine) {
          auto r = stores[static_cast<size_t>(t)]->JobsCompleteIfLeased(std::span<const Completion>(&c, 1));
          EXPECT_TRUE(r.has_value() && r->at(0).applied) << (r ? "" : r.error().ToString());
        }
      });
    }
    threads.emplace_back([&] {
      const Completion c = MakeCompletion(f.parent, CompletionKind::kSucceeded);
      start.arrive_and_wait();
      auto r = stores[kCompleters]->JobsCompleteIfLeased(std::span<const Completion>(&c, 1));
      EXPECT_TRUE(r.has_value() && r->at(0).applied);
    });
  }
  for (size_t round = 0; round < parents.size(); ++round) {
    EXPECT_EQ(Outcome(parents[round]), "partial") << "round " << round;
    EXPECT_EQ(ChildCounts(parents[round]),
              R"({"total": 12, "failed": 4, "partial": 0, "skipped": 0, "cancelled": 0, "succeeded": 8})")
        << "round " << round;
    EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs WHERE job_id = $1 AND final", parents[round]), 1);
  }
  // Counted once each in the rollup.
  EXPECT_EQ(sql_.Int("SELECT sum(runs_partial) FROM chime.run_stats WHERE kind = 'parent' AND span = 'day'"),
            kRounds);
}

// A worker's heartbeat locks the rows of the parent and the child it runs in
// whatever order its statement meets them; the child's completion holds the
// child's row. Had settling waited for the parent's row, the two could
// deadlock; it waits for nothing a heartbeat holds.
TEST_F(JobStoreRunsTest, AChildCompletesWhileAHeartbeatHoldsItsParentsRow) {
  FanOut f = StartFanOut(1);
  pqxx::connection heartbeat(db_.url());
  pqxx::work held(heartbeat);
  held.exec_params("UPDATE chime.jobs SET heartbeat_at = now() WHERE id = $1", f.parent.id);
  std::atomic<bool> done{false};
  std::jthread completer([&] {
    Connection conn(ConnectionConfig{.url = db_.url()});
    JobStore other(conn, StoreConfig(), &rng_);
    const Completion c = MakeCompletion(f.children[0], CompletionKind::kSucceeded);
    auto r = other.JobsCompleteIfLeased(std::span<const Completion>(&c, 1));
    EXPECT_TRUE(r.has_value() && r->at(0).applied);
    done = true;
  });
  EXPECT_TRUE(chime::testing::WaitUntil([&] { return done.load(); }))
      << "the completion waited for the heartbeat's lock on its parent";
  held.commit();
  completer.join();
  Complete(f.parent, CompletionKind::kSucceeded);
  EXPECT_EQ(Outcome(f.parent.id), "succeeded");
}

TEST_F(JobStoreRunsTest, APayloadsDryRunMarksTheJobOnEveryInsert) {
  EnqueueParams one = Params("reconcile_exam_capacity");
  one.payload = R"({"examIds": [3], "dryRun": true})";
  const int64_t a = Enqueue(one);
  one.payload = R"({"dry_run": true})";
  const int64_t b = Enqueue(one);
  one.payload = R"({"dry_run": false, "nested": {"dry_run": true}, "note": "dry_run"})";
  const int64_t c = Enqueue(one);
  EXPECT_EQ(sql_.Scalar("SELECT string_agg(dry_run::text, ',' ORDER BY id) FROM chime.jobs_all WHERE id IN ($1, $2, $3)",
                        a, b, c),
            "true,true,false");
  EXPECT_TRUE(PayloadAsksDryRun(R"({"a": [1, {"b": 2}], "dryRun": true})"));
  EXPECT_FALSE(PayloadAsksDryRun(R"({"dryRun": "yes"})"));
  EXPECT_FALSE(PayloadAsksDryRun(R"([{"dry_run": true}])"));

  // Many at once, by the array statement and by COPY.
  std::vector<EnqueueParams> many(600, Params("bulk"));
  for (size_t i = 0; i < many.size(); ++i) many[i].payload = i % 2 ? R"({"dryRun": true})" : "{}";
  ASSERT_OK(store().JobsInsertMany(std::span(many).first(10)));
  ASSERT_OK(store().JobsInsertMany(many));
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'bulk' AND dry_run"), 305);

  // A schedule's fires.
  ScheduleStore schedules(conn_);
  schedule::ScheduleSpec spec;
  spec.name = "nightly";
  spec.cron = "0 2 * * *";
  spec.kind = "process_all_users";
  spec.payload = R"({"dry_run": true})";
  ASSERT_OK(schedules.ScheduleCreate(spec));
  ASSERT_OK_AND_ASSIGN(FireResult fire, schedules.TriggerNow("nightly"));
  ASSERT_TRUE(fire.job_id.has_value());
  EXPECT_EQ(sql_.Scalar("SELECT dry_run FROM chime.jobs_all WHERE id = $1", *fire.job_id), "t");
}

TEST_F(JobStoreRunsTest, RunsListShowsRunsOrAttemptsFilteredAndPaged) {
  EnqueueParams p = Params("flaky");
  p.max_attempts = 3;
  const int64_t flaky = Enqueue(p);
  Complete(ClaimOne(), CompletionKind::kFailed, {"HTTP 503"});
  MakeDue(flaky);
  Complete(ClaimOne(), CompletionKind::kSucceeded);
  const int64_t partial = Enqueue("report");
  Complete(ClaimOne(), CompletionKind::kSucceeded, {"row 7"});
  FanOut f = StartFanOut(1);
  Complete(f.parent, CompletionKind::kSucceeded);

  ObserveStore observe(conn_);
  ASSERT_OK_AND_ASSIGN(RunPage runs, observe.RunsList({}));
  ASSERT_EQ(runs.runs.size(), 3u);  // flaky's one run, partial's, the waiting parent's.
  EXPECT_EQ(runs.runs[0].run.job_id, f.parent.id);
  EXPECT_FALSE(runs.runs[0].run.job_outcome.has_value());
  EXPECT_EQ(runs.runs[2].run.job_id, flaky);
  EXPECT_EQ(runs.runs[2].run.attempt, 2);
  EXPECT_EQ(runs.runs[2].run.job_outcome, JobOutcome::kSucceeded);

  ASSERT_OK_AND_ASSIGN(RunPage attempts, observe.RunsList({.attempts = true}));
  EXPECT_EQ(attempts.runs.size(), 4u);
  ASSERT_OK_AND_ASSIGN(RunPage partials, observe.RunsList({.outcome = "partial"}));
  ASSERT_EQ(partials.runs.size(), 1u);
  EXPECT_EQ(partials.runs[0].run.job_id, partial);
  ASSERT_OK_AND_ASSIGN(RunPage waiting, observe.RunsList({.outcome = "waiting"}));
  ASSERT_EQ(waiting.runs.size(), 1u);
  EXPECT_EQ(waiting.runs[0].run.job_id, f.parent.id);

  ASSERT_OK_AND_ASSIGN(RunPage first, observe.RunsList({.limit = 2}));
  ASSERT_EQ(first.runs.size(), 2u);
  ASSERT_TRUE(first.next_before_id.has_value());
  ASSERT_OK_AND_ASSIGN(RunPage second, observe.RunsList({.before_id = first.next_before_id, .limit = 2}));
  ASSERT_EQ(second.runs.size(), 1u);
  EXPECT_EQ(second.runs[0].run.job_id, flaky);

  auto bad = observe.RunsList({.outcome = "discarded"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("waiting"), std::string::npos) << bad.error().message;
  ASSERT_OK_AND_ASSIGN(RunPage later, observe.RunsList({.since = std::chrono::system_clock::now() +
                                                                 std::chrono::hours(1)}));
  EXPECT_TRUE(later.runs.empty());
}

TEST_F(JobStoreRunsTest, FiresListShowsEveryTickWithItsJobAndRunOutcome) {
  ScheduleStore schedules(conn_);
  schedule::ScheduleSpec spec;
  spec.name = "every-hour";
  spec.cron = "0 * * * *";
  spec.kind = "noop";
  spec.overlap = schedule::OverlapPolicy::kSkip;
  ASSERT_OK_AND_ASSIGN(ScheduleRow row, schedules.ScheduleCreate(spec));
  const auto at = [](int hour) {
    using namespace std::chrono;
    return TimePoint(sys_days(year(2026) / 1 / 1) + hours(hour));
  };
  ASSERT_OK(schedules.FireTicks(std::nullopt, std::vector<Tick>{{.schedule_id = row.id, .scheduled_for = at(1),
                                                                 .run_at = at(1)}}));
  // The first tick's job still runs: the next is skipped as an overlap.
  ASSERT_OK(schedules.FireTicks(std::nullopt, std::vector<Tick>{{.schedule_id = row.id, .scheduled_for = at(2),
                                                                 .run_at = at(2)}}));
  Complete(ClaimOne(), CompletionKind::kSucceeded, {"one row failed"});
  ASSERT_OK(schedules.FireTicks(std::nullopt, std::vector<Tick>{{.schedule_id = row.id, .scheduled_for = at(3),
                                                                 .run_at = at(3), .skip = true}}));

  ASSERT_OK_AND_ASSIGN(FirePage page, schedules.FiresList({.schedule = "every-hour"}));
  ASSERT_EQ(page.fires.size(), 3u);
  EXPECT_EQ(page.fires[0].scheduled_for, at(3));
  EXPECT_EQ(page.fires[0].outcome, FireOutcome::kSkippedMisfire);
  EXPECT_EQ(page.fires[1].outcome, FireOutcome::kSkippedOverlap);
  EXPECT_FALSE(page.fires[1].job_id.has_value());
  EXPECT_EQ(page.fires[2].outcome, FireOutcome::kEnqueued);
  EXPECT_EQ(page.fires[2].job_state, JobState::kSucceeded);
  EXPECT_EQ(page.fires[2].job_outcome, JobOutcome::kPartial);
  EXPECT_EQ(page.fires[2].attempts, 1);

  ASSERT_OK_AND_ASSIGN(FirePage first, schedules.FiresList({.schedule = "every-hour", .limit = 2}));
  ASSERT_EQ(first.fires.size(), 2u);
  ASSERT_EQ(first.next_before, at(2));
  ASSERT_OK_AND_ASSIGN(FirePage rest,
                       schedules.FiresList({.schedule = "every-hour", .before = first.next_before, .limit = 2}));
  ASSERT_EQ(rest.fires.size(), 1u);
  EXPECT_EQ(rest.fires[0].scheduled_for, at(1));
  EXPECT_EQ(schedules.FiresList({.schedule = "nope"}).error().code, ErrorCode::kNotFound);

  // jobctl list --schedule.
  ASSERT_OK_AND_ASSIGN(JobPage jobs, store().JobsList({.schedule = "every-hour"}));
  ASSERT_EQ(jobs.jobs.size(), 1u);
  EXPECT_EQ(jobs.jobs[0].schedule_name, "every-hour");
  EXPECT_EQ(jobs.jobs[0].scheduled_for, at(1));
  EXPECT_EQ(jobs.jobs[0].outcome, JobOutcome::kPartial);
  EXPECT_EQ(store().JobsList({.schedule = "nope"}).error().code, ErrorCode::kNotFound);
}

// Migration 0029: an attempt that ends its job deletes the job from
// chime.jobs, and its final run holds the job's columns; chime.jobs_all and
// every reader of a job find it there as it was.
TEST_F(JobStoreRunsTest, AJobThatEndsLeavesTheHotTableAndItsFinalRunHoldsIt) {
  EnqueueParams p = Params("report", "mail");
  p.priority = 3;
  p.payload = R"({"to": "ops@example.com"})";
  p.max_attempts = 5;
  p.timeout = std::chrono::seconds(42);
  p.unique_key = "report-7";
  const int64_t id = Enqueue(p);
  ClaimedJob job = ClaimOne("mail");
  ASSERT_OK(store().JobProgressSetIfLeased(job.lease, R"({"step": 2})"));
  ASSERT_TRUE(Complete(job, CompletionKind::kSucceeded, {"row 7 failed"}).applied);

  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs"), 0);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs WHERE job_id = $1 AND holds_job AND final", id), 1);
  ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(id));
  EXPECT_EQ(got.job.id, id);
  EXPECT_EQ(got.job.kind, "report");
  EXPECT_EQ(got.job.queue, "mail");
  EXPECT_EQ(got.job.state, JobState::kSucceeded);
  EXPECT_EQ(got.job.outcome, JobOutcome::kPartial);
  EXPECT_EQ(got.job.priority, 3);
  EXPECT_EQ(got.job.payload, p.payload);  // jsonb prints it so.
  EXPECT_EQ(got.job.attempt, 1);
  EXPECT_EQ(got.job.max_attempts, 5);
  EXPECT_EQ(got.job.timeout, std::chrono::milliseconds(42000));
  EXPECT_EQ(got.job.unique_key, "report-7");
  EXPECT_EQ(got.job.worker_id, "worker-1");
  EXPECT_EQ(got.job.progress, R"({"step": 2})");
  ASSERT_TRUE(got.job.attempted_at.has_value());
  EXPECT_EQ(Micros(*got.job.attempted_at), Micros(job.attempted_at));
  EXPECT_EQ(Micros(got.job.run_at), Micros(job.run_at));
  ASSERT_TRUE(got.job.finished_at.has_value());
  EXPECT_FALSE(got.job.cancel_requested);
  ASSERT_EQ(got.runs.size(), 1u);
  EXPECT_EQ(Micros(*got.job.finished_at), Micros(got.runs[0].finished_at));
  ASSERT_OK_AND_ASSIGN(Job found, store().JobFind(id));
  EXPECT_EQ(found.state, JobState::kSucceeded);
  ASSERT_OK_AND_ASSIGN(JobPage page, store().JobsList({.states = {JobState::kSucceeded}}));
  ASSERT_EQ(page.jobs.size(), 1u);
  EXPECT_EQ(page.jobs[0].id, id);
  ASSERT_OK_AND_ASSIGN(Stats stats, store().JobsStats());
  ASSERT_EQ(stats.rows.size(), 1u);
  EXPECT_EQ(stats.rows[0].state, JobState::kSucceeded);
  EXPECT_EQ(stats.rows[0].count, 1);

  // Finished, its unique key is free again; a cancel has nothing to do.
  const int64_t again = Enqueue(p);
  EXPECT_NE(again, id);
  auto cancel = store().JobCancel(id);
  ASSERT_FALSE(cancel.has_value());
  EXPECT_EQ(cancel.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(cancel.error().message.find("already succeeded"), std::string::npos) << cancel.error().message;
}

// A page newest first takes from both sides of chime.jobs_all, each read in
// id order (migration 0030), and merges them: with a filter, a parent's
// children, and a cursor.
TEST_F(JobStoreRunsTest, PagesMergeLiveAndHeldJobsNewestFirst) {
  FanOut f = StartFanOut(6, "merge");
  // Children 0, 2 and 4 end (held in their runs); 1, 3 and 5 stay running.
  std::vector<int64_t> ids;
  for (const ClaimedJob& c : f.children) ids.push_back(c.id);
  for (int i : {0, 2, 4}) ASSERT_TRUE(Complete(f.children[i], CompletionKind::kSucceeded).applied);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs WHERE parent_id = $1 AND holds_job", f.parent.id), 3);

  auto page_ids = [](const JobPage& page) {
    std::vector<int64_t> out;
    for (const Job& j : page.jobs) out.push_back(j.id);
    return out;
  };
  ASSERT_OK_AND_ASSIGN(JobPage all, store().JobsList({.parent_id = f.parent.id, .limit = 4}));
  EXPECT_EQ(page_ids(all), (std::vector<int64_t>{ids[5], ids[4], ids[3], ids[2]}));
  ASSERT_TRUE(all.next_before_id.has_value());
  ASSERT_OK_AND_ASSIGN(JobPage rest,
                       store().JobsList({.parent_id = f.parent.id, .before_id = *all.next_before_id, .limit = 4}));
  EXPECT_EQ(page_ids(rest), (std::vector<int64_t>{ids[1], ids[0]}));
  EXPECT_FALSE(rest.next_before_id.has_value());

  ASSERT_OK_AND_ASSIGN(JobPage done, store().JobsList({.states = {JobState::kSucceeded}, .limit = 2}));
  EXPECT_EQ(page_ids(done), (std::vector<int64_t>{ids[4], ids[2]}));
  // The same through a window of ids below the newest of either side.
  ASSERT_OK_AND_ASSIGN(JobPage windowed,
                       store().JobsList({.states = {JobState::kSucceeded}, .limit = 2, .scan_ids = 100}));
  EXPECT_EQ(page_ids(windowed), (std::vector<int64_t>{ids[4], ids[2]}));
  ASSERT_OK_AND_ASSIGN(JobPage running, store().JobsList({.states = {JobState::kRunning}, .queue = "merge"}));
  EXPECT_EQ(page_ids(running), (std::vector<int64_t>{ids[5], ids[3], ids[1]}));
  // Unfiltered, the parent (running, oldest) comes last.
  ASSERT_OK_AND_ASSIGN(JobPage everything, store().JobsList({}));
  ASSERT_EQ(everything.jobs.size(), 7u);
  EXPECT_EQ(everything.jobs.front().id, ids[5]);
  EXPECT_EQ(everything.jobs.back().id, f.parent.id);
}

TEST_F(JobStoreRunsTest, AJobWithAttemptsLeftOrChildrenToWaitForStaysInTheHotTable) {
  EnqueueParams p = Params("flaky");
  p.max_attempts = 2;
  const int64_t flaky = Enqueue(p);
  ASSERT_TRUE(Complete(ClaimOne(), CompletionKind::kFailed, {"HTTP 503"}).applied);
  EXPECT_EQ(sql_.Scalar("SELECT state FROM chime.jobs WHERE id = $1", flaky), "retryable");
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs WHERE job_id = $1 AND holds_job", flaky), 0);

  FanOut f = StartFanOut(1);
  sql_.Exec("UPDATE chime.jobs SET fan_out = true WHERE id = $1", f.parent.id);
  ASSERT_TRUE(Complete(f.parent, CompletionKind::kSucceeded).applied);
  EXPECT_EQ(sql_.Scalar("SELECT state || '/' || coalesce(outcome, '-') FROM chime.jobs WHERE id = $1",
                        f.parent.id),
            "succeeded/-");
  // Its last child's completion settles it in place.
  ASSERT_TRUE(Complete(f.children[0], CompletionKind::kSucceeded).applied);
  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.jobs WHERE id = $1", f.parent.id), "succeeded");
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs WHERE id = $1", f.children[0].id), 0);
  EXPECT_EQ(ChildCounts(f.parent.id),
            R"({"total": 1, "failed": 0, "partial": 0, "skipped": 0, "cancelled": 0, "succeeded": 1})");
}

TEST_F(JobStoreRunsTest, ARetryBringsAHeldJobBackUnderItsIdAndTheCountsFollow) {
  EnqueueParams p = Params("once");
  p.max_attempts = 1;
  p.payload = R"({"n": 1})";
  const int64_t id = Enqueue(p);
  ASSERT_TRUE(Complete(ClaimOne(), CompletionKind::kFailed, {"boom"}).applied);
  ASSERT_EQ(State(id), "discarded");
  ASSERT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs"), 0);
  EXPECT_EQ(sql_.Scalar("SELECT last_error FROM chime.jobs_all WHERE id = $1", id), "boom");

  ASSERT_OK_AND_ASSIGN(Job retried, store().JobRetry(id));
  EXPECT_EQ(retried.id, id);
  EXPECT_EQ(retried.state, JobState::kAvailable);
  EXPECT_EQ(retried.max_attempts, 2);
  EXPECT_EQ(retried.payload, p.payload);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE id = $1", id), 1);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs WHERE job_id = $1 AND holds_job", id), 0);
  ASSERT_OK_AND_ASSIGN(Stats stats, store().JobsStats());
  ASSERT_EQ(stats.rows.size(), 1u);
  EXPECT_EQ(stats.rows[0].state, JobState::kAvailable);

  // It runs and succeeds: held again, by its second final run.
  ClaimedJob again = ClaimOne();
  EXPECT_EQ(again.id, id);
  EXPECT_EQ(again.attempt, 2);
  ASSERT_TRUE(Complete(again, CompletionKind::kSucceeded).applied);
  EXPECT_EQ(State(id), "succeeded");
  EXPECT_EQ(Ledger(id), "1:discarded:true:failed,2:succeeded:true:succeeded");
  ASSERT_OK_AND_ASSIGN(Stats after, store().JobsStats());
  ASSERT_EQ(after.rows.size(), 1u);
  EXPECT_EQ(after.rows[0].state, JobState::kSucceeded);
  EXPECT_EQ(after.rows[0].count, 1);
  // A succeeded job is not retried.
  EXPECT_EQ(store().JobRetry(id).error().code, ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace chime::db::testing
