// What the dashboard's job browser and pages read from the job store: lists
// filtered by outcome, schedule and parent, paged by keyset with filters
// kept; a job's schedule and tick; a fan-out's children by outcome; and a
// schedule's fires, skipped ticks included, newest first in pages.
#include "common/db/schedule_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

class JobBrowseTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    schedules_ = std::make_unique<ScheduleStore>(conn_);
  }

  int64_t CreateSchedule(const std::string& name) {
    schedule::ScheduleSpec spec;
    spec.name = name;
    spec.cron = "*/5 * * * *";
    spec.kind = "noop";
    auto row = schedules_->ScheduleCreate(spec);
    EXPECT_TRUE(row.has_value()) << row.error().ToString();
    return row ? row->id : 0;
  }

  // Ends job `id` with `outcome` as the store's completion would.
  void Finish(int64_t id, const std::string& state, const std::string& outcome) {
    sql_.Exec("UPDATE chime.jobs SET state = $2, outcome = $3, finished_at = now() WHERE id = $1", id, state, outcome);
  }

  std::vector<int64_t> Ids(const ListParams& p) {
    auto page = store().JobsList(p);
    EXPECT_TRUE(page.has_value()) << page.error().ToString();
    std::vector<int64_t> out;
    if (page) for (const auto& j : page->jobs) out.push_back(j.id);
    return out;
  }

  std::unique_ptr<ScheduleStore> schedules_;
};

TEST_F(JobBrowseTest, ListsFilterByOutcomeScheduleAndParent) {
  const int64_t sched = CreateSchedule("nightly");
  CreateSchedule("idle");
  const int64_t a = Enqueue("noop");
  const int64_t b = Enqueue("noop");
  const int64_t c = Enqueue("noop");
  EnqueueParams child = Params("noop");
  child.parent_id = a;
  const int64_t d = Enqueue(child);
  Finish(a, "succeeded", "partial");
  Finish(b, "discarded", "failed");
  Finish(c, "succeeded", "skipped");
  sql_.Exec("UPDATE chime.jobs SET schedule_id = $1, scheduled_for = '2026-01-01T02:00:00Z' WHERE id IN ($2, $3)",
            sched, b, c);

  EXPECT_EQ(Ids({.outcomes = {JobOutcome::kFailed, JobOutcome::kPartial}}), (std::vector<int64_t>{b, a}));
  EXPECT_EQ(Ids({.schedule = "nightly"}), (std::vector<int64_t>{c, b}));
  EXPECT_EQ(Ids({.schedule = "idle"}), (std::vector<int64_t>{}));
  EXPECT_EQ(Ids({.parent_id = a}), (std::vector<int64_t>{d}));
  EXPECT_EQ(Ids({.states = {JobState::kSucceeded}, .schedule = "nightly", .outcomes = {JobOutcome::kSkipped}}),
            (std::vector<int64_t>{c}));
  auto missing = store().JobsList({.schedule = "nope"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto bad = store().JobsList({.schedule = "no spaces"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  // A job knows the schedule that fired it and the tick.
  ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(b));
  EXPECT_EQ(got.job.schedule_id, sched);
  EXPECT_EQ(got.job.schedule_name, "nightly");
  ASSERT_TRUE(got.job.scheduled_for.has_value());
  EXPECT_EQ(Micros(*got.job.scheduled_for), 1767232800LL * 1000000);
  ASSERT_OK_AND_ASSIGN(JobWithRuns plain, store().JobGet(d));
  EXPECT_FALSE(plain.job.schedule_id.has_value());
  EXPECT_FALSE(plain.job.schedule_name.has_value());
}

TEST_F(JobBrowseTest, KeysetPagesKeepTheirFilters) {
  std::vector<int64_t> failed;
  for (int i = 0; i < 7; ++i) {
    const int64_t id = Enqueue("noop");
    if (i % 2 == 0) {
      Finish(id, "discarded", "failed");
      failed.insert(failed.begin(), id);
    }
  }
  ListParams p{.outcomes = {JobOutcome::kFailed}, .limit = 3};
  ASSERT_OK_AND_ASSIGN(JobPage first, store().JobsList(p));
  ASSERT_EQ(first.jobs.size(), 3u);
  ASSERT_TRUE(first.next_before_id.has_value());
  p.before_id = first.next_before_id;
  ASSERT_OK_AND_ASSIGN(JobPage second, store().JobsList(p));
  ASSERT_EQ(second.jobs.size(), 1u);
  EXPECT_FALSE(second.next_before_id.has_value());
  std::vector<int64_t> seen;
  for (const auto* page : {&first, &second}) for (const auto& j : page->jobs) seen.push_back(j.id);
  EXPECT_EQ(seen, failed);
}

TEST_F(JobBrowseTest, AScanWindowBoundsAPageAndTheCursorContinuesWhereItStopped) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(Enqueue("noop"));
  Finish(ids[2], "discarded", "failed");
  Finish(ids[4], "discarded", "failed");
  ListParams p{.outcomes = {JobOutcome::kFailed}, .limit = 5, .scan_ids = 10};
  // The newest ten ids hold no failure: an empty page that says how far it looked.
  ASSERT_OK_AND_ASSIGN(JobPage first, store().JobsList(p));
  EXPECT_TRUE(first.jobs.empty());
  EXPECT_EQ(first.searched_to_id, ids[29] + 1 - 10);
  EXPECT_EQ(first.next_before_id, first.searched_to_id);
  std::vector<int64_t> found;
  int pages = 1;
  for (auto cursor = first.next_before_id; cursor && pages < 10; ++pages) {
    p.before_id = cursor;
    ASSERT_OK_AND_ASSIGN(JobPage next, store().JobsList(p));
    for (const auto& j : next.jobs) found.push_back(j.id);
    cursor = next.next_before_id;
  }
  EXPECT_EQ(found, (std::vector<int64_t>{ids[4], ids[2]}));
  EXPECT_EQ(pages, 3) << "ten ids a page, thirty ids";
  // Without filters, or by schedule or parent, the window does not apply.
  ASSERT_OK_AND_ASSIGN(JobPage plain, store().JobsList({.limit = 5, .scan_ids = 10}));
  EXPECT_EQ(plain.jobs.size(), 5u);
  EXPECT_FALSE(plain.searched_to_id.has_value());
  EXPECT_EQ(store().JobsList({.limit = 50, .scan_ids = 10}).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(JobBrowseTest, AScheduleWithMoreFiltersReadsThatSchedulesJobs) {
  const int64_t sched = CreateSchedule("nightly");
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Enqueue("noop"));
  sql_.Exec("UPDATE chime.jobs SET schedule_id = $1 WHERE id IN ($2, $3, $4)", sched, ids[0], ids[1], ids[5]);
  Finish(ids[1], "discarded", "failed");
  Finish(ids[3], "discarded", "failed");
  EXPECT_EQ(Ids({.schedule = "nightly", .outcomes = {JobOutcome::kFailed}, .scan_ids = 1000}),
            (std::vector<int64_t>{ids[1]}));
  EXPECT_EQ(Ids({.states = {JobState::kAvailable}, .schedule = "nightly", .limit = 1}),
            (std::vector<int64_t>{ids[5]}));
}

TEST_F(JobBrowseTest, AFanOutCountsItsChildrenByOutcome) {
  const int64_t parent = Enqueue("process_all_users");
  std::vector<int64_t> kids;
  for (int i = 0; i < 6; ++i) {
    EnqueueParams child = Params("sync_integration");
    child.parent_id = parent;
    kids.push_back(Enqueue(child));
  }
  Finish(kids[0], "succeeded", "succeeded");
  Finish(kids[1], "succeeded", "succeeded");
  Finish(kids[2], "succeeded", "partial");
  Finish(kids[3], "discarded", "failed");
  ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(parent));
  EXPECT_EQ(got.children_outcomes, (std::map<std::string, int64_t>{
                                       {"", 2}, {"failed", 1}, {"partial", 1}, {"succeeded", 2}}));
  EXPECT_EQ(got.children.at(JobState::kSucceeded), 3);
  EXPECT_EQ(got.children.at(JobState::kAvailable), 2);
  ASSERT_OK_AND_ASSIGN(JobWithRuns leaf, store().JobGet(kids[0]));
  EXPECT_TRUE(leaf.children_outcomes.empty());
}

TEST_F(JobBrowseTest, FiresListEveryTickNewestFirstWithItsJob) {
  const int64_t sched = CreateSchedule("tick");
  const int64_t job = Enqueue("noop");
  Finish(job, "succeeded", "succeeded");
  // Its second attempt ended it: the final run row says how many it took.
  sql_.Exec("INSERT INTO chime.runs (job_id, kind, queue, attempt, started_at, finished_at, outcome, final, "
            "job_outcome) VALUES ($1, 'noop', 'default', 2, now(), now(), 'succeeded', true, 'succeeded')",
            job);
  sql_.Exec("INSERT INTO chime.fires (schedule_id, scheduled_for, job_id, leader_epoch, outcome, origin) VALUES "
            "($1, '2026-01-01T00:00:00Z', $2, 3, 'enqueued', 'cron'), "
            "($1, '2026-01-01T00:05:00Z', NULL, 3, 'skipped_overlap', 'cron'), "
            "($1, '2026-01-01T00:10:00Z', NULL, 4, 'skipped_misfire', 'misfire'), "
            "($1, '2026-01-01T00:12:34.567891Z', 999999, 4, 'enqueued', 'manual')",
            sched, job);
  ASSERT_OK_AND_ASSIGN(FirePage first, schedules_->FiresList({.schedule = "tick", .limit = 2}));
  ASSERT_EQ(first.fires.size(), 2u);
  EXPECT_EQ(first.fires[0].origin, FireOrigin::kManual);
  EXPECT_EQ(first.fires[0].job_id, 999999);
  EXPECT_FALSE(first.fires[0].job_state.has_value()) << "its job is gone from the hot table";
  EXPECT_EQ(first.fires[1].outcome, FireOutcome::kSkippedMisfire);
  ASSERT_TRUE(first.next_before.has_value());
  ASSERT_OK_AND_ASSIGN(FirePage second,
                       schedules_->FiresList({.schedule = "tick", .before = first.next_before, .limit = 2}));
  ASSERT_EQ(second.fires.size(), 2u);
  EXPECT_EQ(second.fires[0].outcome, FireOutcome::kSkippedOverlap);
  EXPECT_EQ(second.fires[1].job_id, job);
  EXPECT_EQ(second.fires[1].job_state, JobState::kSucceeded);
  EXPECT_EQ(second.fires[1].job_outcome, JobOutcome::kSucceeded);
  EXPECT_EQ(second.fires[1].attempts, 2);
  EXPECT_FALSE(second.next_before.has_value());
  // Microseconds survive the cursor: the manual tick is not repeated.
  ASSERT_OK_AND_ASSIGN(FirePage after_manual,
                       schedules_->FiresList({.schedule = "tick", .before = first.fires[0].scheduled_for, .limit = 5}));
  EXPECT_EQ(after_manual.fires.size(), 3u);

  EXPECT_EQ(schedules_->FiresList({.schedule = "nope"}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(schedules_->FiresList({.schedule = "tick", .limit = 0}).error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace chime::db::testing
