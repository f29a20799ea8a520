// The schedule store against a real PostgreSQL: schedule CRUD, exactly-once
// fires under the leader lease, overlap policies, manual triggers, backfill
// and the schedule file sync.
#include <thread>

#include "common/db/schedule_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

schedule::ScheduleSpec Spec(std::string name, std::string cron = "0 * * * *") {
  schedule::ScheduleSpec s;
  s.name = std::move(name);
  s.cron = std::move(cron);
  s.kind = "noop";
  return s;
}

TimePoint Utc(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  using namespace std::chrono;
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi);
}

class ScheduleStoreTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    schedules_ = std::make_unique<ScheduleStore>(conn_);
  }

  ScheduleStore& schedules() { return *schedules_; }

  int64_t Create(const schedule::ScheduleSpec& spec) {
    auto row = schedules().ScheduleCreate(spec);
    EXPECT_TRUE(row.has_value()) << row.error().ToString();
    return row ? row->id : 0;
  }

  static Tick At(int64_t schedule_id, TimePoint t, FireOrigin origin = FireOrigin::kCron) {
    return Tick{.schedule_id = schedule_id, .scheduled_for = t, .run_at = t, .origin = origin};
  }

  // Fires one tick without a leader guard; returns its result.
  FireResult FireOne(int64_t schedule_id, TimePoint t) {
    const Tick tick = At(schedule_id, t);
    auto r = schedules().FireTicks(std::nullopt, std::span(&tick, 1));
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? r->front() : FireResult{};
  }

  int64_t JobsOf(int64_t schedule_id) {
    return sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE schedule_id = $1", schedule_id);
  }

  std::unique_ptr<ScheduleStore> schedules_;
};

TEST_F(ScheduleStoreTest, CreatesShowsUpdatesAndDeletes) {
  auto spec = Spec("reconcile-exam-capacity", "0 */2 * * *");
  spec.payload = R"({"dry_run":false})";
  spec.time_zone = "Europe/Berlin";
  spec.timeout = minutes(5);
  spec.jitter = seconds(30);
  spec.overlap = schedule::OverlapPolicy::kBufferOne;
  spec.misfire = schedule::MisfirePolicy::kRunAll;
  Create(spec);

  ASSERT_OK_AND_ASSIGN(ScheduleRow row, schedules().ScheduleGet("reconcile-exam-capacity"));
  EXPECT_EQ(row.spec.cron, "0 */2 * * *");
  EXPECT_EQ(row.spec.time_zone, "Europe/Berlin");
  EXPECT_EQ(row.spec.payload, R"({"dry_run": false})");
  EXPECT_EQ(row.spec.timeout, minutes(5));
  EXPECT_EQ(row.spec.jitter, seconds(30));
  EXPECT_EQ(row.spec.overlap, schedule::OverlapPolicy::kBufferOne);
  EXPECT_EQ(row.spec.misfire, schedule::MisfirePolicy::kRunAll);
  EXPECT_EQ(row.source, ScheduleSource::kApi);
  EXPECT_FALSE(row.last_fired_for.has_value());

  auto again = schedules().ScheduleCreate(spec);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);

  spec.cron = "*/15 * * * *";
  ASSERT_OK_AND_ASSIGN(ScheduleRow updated, schedules().ScheduleUpdate(spec));
  EXPECT_EQ(updated.spec.cron, "*/15 * * * *");
  // A new expression starts from now, not from the old expression's ticks.
  EXPECT_TRUE(updated.last_fired_for.has_value());

  ASSERT_OK(schedules().ScheduleDelete("reconcile-exam-capacity"));
  auto gone = schedules().ScheduleGet("reconcile-exam-capacity");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(schedules().ScheduleDelete("reconcile-exam-capacity").error().code, ErrorCode::kNotFound);
}

TEST_F(ScheduleStoreTest, RefusesInvalidSpecsNamingTheField) {
  auto bad_cron = schedules().ScheduleCreate(Spec("a", "60 * * * *"));
  ASSERT_FALSE(bad_cron.has_value());
  EXPECT_EQ(bad_cron.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_cron.error().message.find("minute"), std::string::npos) << bad_cron.error().message;

  auto zone = Spec("b");
  zone.time_zone = "Mars/Base";
  auto bad_zone = schedules().ScheduleCreate(zone);
  ASSERT_FALSE(bad_zone.has_value());
  EXPECT_NE(bad_zone.error().message.find("time_zone"), std::string::npos);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.schedules"), 0);
}

TEST_F(ScheduleStoreTest, OneTickIsOneJobHoweverOftenItIsFired) {
  const int64_t id = Create(Spec("hourly"));
  const TimePoint tick = Utc(2026, 1, 31, 2);
  FireResult first = FireOne(id, tick);
  ASSERT_EQ(first.outcome, FireOutcome::kEnqueued);
  ASSERT_TRUE(first.job_id.has_value());
  EXPECT_EQ(sql_.Scalar("SELECT schedule_id || ' ' || kind || ' ' || state FROM chime.jobs_all "
                        "WHERE id = $1",
                        *first.job_id),
            std::to_string(id) + " noop available");
  EXPECT_EQ(sql_.Int("SELECT job_id FROM chime.fires WHERE schedule_id = $1", id), *first.job_id);

  FireResult second = FireOne(id, tick);
  EXPECT_FALSE(second.outcome.has_value());
  EXPECT_FALSE(second.job_id.has_value());
  EXPECT_EQ(JobsOf(id), 1);
  ASSERT_OK_AND_ASSIGN(ScheduleRow row, schedules().ScheduleGet("hourly"));
  EXPECT_EQ(row.last_fired_for, tick);
}

TEST_F(ScheduleStoreTest, ConcurrentFiresOfTheSameTicksMakeOneJobEach) {
  const int64_t id = Create(Spec("every-minute", "* * * * *"));
  std::vector<Tick> ticks;
  for (int i = 0; i < 200; ++i) ticks.push_back(At(id, Utc(2026, 1, 1, 0) + minutes(i)));
  std::atomic<int> enqueued{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Connection conn(ConnectionConfig{.url = db_.url()});
      ScheduleStore store(conn);
      auto r = store.FireTicks(std::nullopt, ticks);
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      for (const auto& f : *r) enqueued += f.job_id.has_value() ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(enqueued.load(), 200);
  EXPECT_EQ(JobsOf(id), 200);
  EXPECT_EQ(sql_.Int("SELECT count(DISTINCT scheduled_for) FROM chime.jobs_all WHERE schedule_id = $1", id),
            200);
}

TEST_F(ScheduleStoreTest, OnlyTheLeaseHolderFires) {
  const int64_t id = Create(Spec("hourly"));
  ASSERT_OK_AND_ASSIGN(LeaderState a, schedules().LeaderAcquire("sched-a", seconds(30)));
  EXPECT_TRUE(a.held_by_caller);
  EXPECT_EQ(a.epoch, 1);
  ASSERT_OK_AND_ASSIGN(LeaderState b, schedules().LeaderAcquire("sched-b", seconds(30)));
  EXPECT_FALSE(b.held_by_caller);
  EXPECT_EQ(b.holder, "sched-a");

  const Tick tick = At(id, Utc(2026, 1, 31, 2));
  auto refused = schedules().FireTicks(LeaderGuard{"sched-b", 1}, std::span(&tick, 1));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kLeaseLost);

  // A renews in the same epoch; then its lease lapses and B takes over.
  ASSERT_OK_AND_ASSIGN(LeaderState renewed, schedules().LeaderAcquire("sched-a", seconds(30)));
  EXPECT_EQ(renewed.epoch, 1);
  sql_.Exec("UPDATE chime.leader SET expires_at = now() - interval '1 second'");
  ASSERT_OK_AND_ASSIGN(LeaderState taken, schedules().LeaderAcquire("sched-b", seconds(30)));
  EXPECT_TRUE(taken.held_by_caller);
  EXPECT_EQ(taken.epoch, 2);

  // The old leader wakes up believing it still leads: nothing it fires lands.
  auto stale = schedules().FireTicks(LeaderGuard{"sched-a", 1}, std::span(&tick, 1));
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ErrorCode::kLeaseLost);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.fires"), 0);

  ASSERT_OK_AND_ASSIGN(auto fired, schedules().FireTicks(LeaderGuard{"sched-b", 2}, std::span(&tick, 1)));
  EXPECT_EQ(fired.front().outcome, FireOutcome::kEnqueued);
  EXPECT_EQ(sql_.Int("SELECT leader_epoch FROM chime.fires"), 2);

  ASSERT_OK(schedules().LeaderResign(LeaderGuard{"sched-b", 2}));
  ASSERT_OK_AND_ASSIGN(LeaderState after, schedules().LeaderAcquire("sched-a", seconds(30)));
  EXPECT_TRUE(after.held_by_caller);
  EXPECT_EQ(after.epoch, 3);
}

TEST_F(ScheduleStoreTest, OverlapSkipRecordsTheTickAndEnqueuesNothing) {
  const int64_t id = Create(Spec("skip"));
  ASSERT_EQ(FireOne(id, Utc(2026, 1, 1, 1)).outcome, FireOutcome::kEnqueued);
  FireResult second = FireOne(id, Utc(2026, 1, 1, 2));
  EXPECT_EQ(second.outcome, FireOutcome::kSkippedOverlap);
  EXPECT_FALSE(second.job_id.has_value());
  EXPECT_EQ(JobsOf(id), 1);
}

TEST_F(ScheduleStoreTest, OverlapAllowEnqueuesRegardless) {
  auto spec = Spec("allow");
  spec.overlap = schedule::OverlapPolicy::kAllow;
  const int64_t id = Create(spec);
  FireOne(id, Utc(2026, 1, 1, 1));
  EXPECT_EQ(FireOne(id, Utc(2026, 1, 1, 2)).outcome, FireOutcome::kEnqueued);
  EXPECT_EQ(JobsOf(id), 2);
}

TEST_F(ScheduleStoreTest, OverlapBufferOneKeepsOneTickUntilTheLiveJobEnds) {
  auto spec = Spec("buffer");
  spec.overlap = schedule::OverlapPolicy::kBufferOne;
  const int64_t id = Create(spec);
  ASSERT_OK_AND_ASSIGN(LeaderState lead, schedules().LeaderAcquire("s", seconds(30)));
  const LeaderGuard guard{"s", lead.epoch};

  FireOne(id, Utc(2026, 1, 1, 1));
  EXPECT_EQ(FireOne(id, Utc(2026, 1, 1, 2)).outcome, FireOutcome::kBuffered);
  EXPECT_EQ(FireOne(id, Utc(2026, 1, 1, 3)).outcome, FireOutcome::kSkippedOverlap);
  ASSERT_OK_AND_ASSIGN(auto none, schedules().ReleaseBuffered(guard));
  EXPECT_TRUE(none.empty());

  ClaimedJob job = ClaimOne();
  Complete(job, CompletionKind::kSucceeded);
  ASSERT_OK_AND_ASSIGN(auto released, schedules().ReleaseBuffered(guard));
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].scheduled_for, Utc(2026, 1, 1, 2));
  ASSERT_TRUE(released[0].job_id.has_value());
  EXPECT_EQ(State(*released[0].job_id), "available");
  EXPECT_EQ(JobsOf(id), 2);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.fires WHERE outcome = 'buffered'"), 0);
}

TEST_F(ScheduleStoreTest, OverlapCancelRunningCancelsOrStopsTheOldJob) {
  auto spec = Spec("replace");
  spec.overlap = schedule::OverlapPolicy::kCancelRunning;
  const int64_t id = Create(spec);
  const int64_t waiting = *FireOne(id, Utc(2026, 1, 1, 1)).job_id;
  FireResult second = FireOne(id, Utc(2026, 1, 1, 2));
  EXPECT_EQ(second.outcome, FireOutcome::kEnqueued);
  EXPECT_EQ(State(waiting), "cancelled");

  ClaimedJob running = ClaimOne();
  EXPECT_EQ(running.id, *second.job_id);
  FireResult third = FireOne(id, Utc(2026, 1, 1, 3));
  EXPECT_EQ(third.outcome, FireOutcome::kEnqueued);
  EXPECT_EQ(State(running.id), "running");
  EXPECT_EQ(sql_.Scalar("SELECT cancel_requested FROM chime.jobs_all WHERE id = $1", running.id), "t");
  // Replaying the third tick does not cancel the job it made.
  FireOne(id, Utc(2026, 1, 1, 3));
  EXPECT_EQ(State(*third.job_id), "available");
}

TEST_F(ScheduleStoreTest, ManualTriggersAreRateLimitedPerSchedule) {
  auto spec = Spec("manual");
  spec.overlap = schedule::OverlapPolicy::kAllow;
  spec.paused = true;  // Triggers work on paused schedules too.
  Create(spec);
  Create(Spec("other"));
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(FireResult r, schedules().TriggerNow("manual"));
    EXPECT_EQ(r.outcome, FireOutcome::kEnqueued);
  }
  auto refused = schedules().TriggerNow("manual");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message.find("at most 5 manual triggers per minute"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("try again in"), std::string::npos);
  EXPECT_TRUE(schedules().TriggerNow("other").has_value());
  EXPECT_EQ(schedules().TriggerNow("nope").error().code, ErrorCode::kNotFound);

  // A minute later the window has moved on.
  sql_.Exec("UPDATE chime.fires SET fired_at = fired_at - interval '61 seconds'");
  EXPECT_TRUE(schedules().TriggerNow("manual").has_value());
  // Manual fires do not move the cron bookkeeping.
  EXPECT_EQ(sql_.Scalar("SELECT last_fired_for IS NULL FROM chime.schedules WHERE name = 'manual'"),
            "t");
}

TEST_F(ScheduleStoreTest, JobsRecordWhetherAScheduleOrAPersonStartedThem) {
  auto spec = Spec("hourly");
  spec.overlap = schedule::OverlapPolicy::kAllow;
  const int64_t id = Create(spec);
  const int64_t cron_job = FireOne(id, Utc(2026, 1, 1, 2)).job_id.value_or(0);
  const Tick missed = At(id, Utc(2026, 1, 1, 3), FireOrigin::kMisfire);
  ASSERT_OK_AND_ASSIGN(auto misfire, schedules().FireTicks(std::nullopt, std::span(&missed, 1)));
  ASSERT_OK_AND_ASSIGN(FireResult trigger, schedules().TriggerNow("hourly"));
  ASSERT_OK_AND_ASSIGN(auto backfill,
                       schedules().Backfill("hourly", Utc(2026, 1, 1, 0), Utc(2026, 1, 1, 1)));
  ASSERT_EQ(backfill.size(), 1u);
  auto invocation = [&](std::optional<int64_t> job) {
    return sql_.Scalar("SELECT invocation FROM chime.jobs_all WHERE id = $1", job.value_or(0));
  };
  EXPECT_EQ(invocation(cron_job), "cron");
  EXPECT_EQ(invocation(misfire.front().job_id), "cron");
  EXPECT_EQ(invocation(trigger.job_id), "manual");
  EXPECT_EQ(invocation(backfill.front().job_id), "manual");

  // Claiming hands the invocation to the worker.
  ASSERT_OK_AND_ASSIGN(auto claimed, store_->JobsClaim({.worker_id = "w", .limit = 10}));
  ASSERT_EQ(claimed.size(), 4u);
  for (const auto& job : claimed) {
    EXPECT_EQ(InvocationName(job.invocation), invocation(job.id)) << job.id;
  }
}

TEST_F(ScheduleStoreTest, BackfillFiresEachTickOfTheRangeOnce) {
  const int64_t id = Create(Spec("hourly"));
  FireOne(id, Utc(2026, 1, 1, 2));
  ASSERT_OK_AND_ASSIGN(auto fires,
                       schedules().Backfill("hourly", Utc(2026, 1, 1, 0, 30), Utc(2026, 1, 1, 3)));
  ASSERT_EQ(fires.size(), 3u);
  EXPECT_EQ(fires[0].scheduled_for, Utc(2026, 1, 1, 1));
  EXPECT_EQ(fires[0].outcome, FireOutcome::kEnqueued);  // No overlap policy for backfills.
  EXPECT_FALSE(fires[1].outcome.has_value());            // 02:00 was fired already.
  EXPECT_EQ(fires[2].outcome, FireOutcome::kEnqueued);
  EXPECT_EQ(JobsOf(id), 3);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.fires WHERE origin = 'backfill'"), 2);

  auto too_many = schedules().Backfill("hourly", Utc(2020, 1, 1, 0), Utc(2026, 1, 1, 0));
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.error().message.find("narrow it"), std::string::npos);
  auto future = schedules().Backfill("hourly", Utc(2026, 1, 1, 0), Utc(2199, 1, 1, 0));
  ASSERT_FALSE(future.has_value());
  EXPECT_EQ(JobsOf(id), 3);
}

TEST_F(ScheduleStoreTest, FileSyncCreatesUpdatesAndDeletesOnlyFileSchedulesItNames) {
  Create(Spec("made-by-api"));
  std::vector<schedule::ScheduleSpec> file = {Spec("a"), Spec("b")};
  ASSERT_OK_AND_ASSIGN(FileSyncResult first, schedules().SchedulesSyncFile(file));
  EXPECT_EQ(first.created, (std::vector<std::string>{"a", "b"}));

  ASSERT_OK(schedules().ScheduleSetPaused("a", true));
  file = {Spec("a", "*/5 * * * *")};
  ASSERT_OK_AND_ASSIGN(FileSyncResult second, schedules().SchedulesSyncFile(file));
  EXPECT_EQ(second.updated, std::vector<std::string>{"a"});
  EXPECT_TRUE(second.deleted.empty());  // Not listed is not deleted...
  EXPECT_EQ(second.kept, std::vector<std::string>{"b"});  // ...only reported.
  ASSERT_OK_AND_ASSIGN(ScheduleRow a, schedules().ScheduleGet("a"));
  EXPECT_EQ(a.spec.cron, "*/5 * * * *");
  EXPECT_TRUE(a.spec.paused);  // An operator's pause survives a restart.
  EXPECT_EQ(a.source, ScheduleSource::kFile);
  EXPECT_TRUE(schedules().ScheduleGet("b").has_value());

  const std::vector<std::string> remove = {"b", "never-existed"};
  ASSERT_OK_AND_ASSIGN(FileSyncResult third, schedules().SchedulesSyncFile(file, remove));
  EXPECT_EQ(third.deleted, std::vector<std::string>{"b"});
  EXPECT_TRUE(third.kept.empty());
  EXPECT_FALSE(schedules().ScheduleGet("b").has_value());

  ASSERT_OK_AND_ASSIGN(FileSyncResult same, schedules().SchedulesSyncFile(file, remove));
  EXPECT_TRUE(same.created.empty() && same.updated.empty() && same.deleted.empty() && same.kept.empty());

  // remove: deletes file schedules only.
  const std::vector<std::string> remove_api = {"made-by-api"};
  auto api = schedules().SchedulesSyncFile(file, remove_api);
  ASSERT_FALSE(api.has_value());
  EXPECT_EQ(api.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(schedules().ScheduleGet("made-by-api").has_value());

  file.push_back(Spec("made-by-api"));
  auto clash = schedules().SchedulesSyncFile(file);
  ASSERT_FALSE(clash.has_value());
  EXPECT_EQ(clash.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(clash.error().message.find("made-by-api"), std::string::npos);
  EXPECT_TRUE(schedules().ScheduleGet("made-by-api").has_value());
}

// Issue 18, finding 7: deleting a schedule (by remove: or jobctl) used to
// cascade to its fires. Its history stays now, and nothing fires from it.
TEST_F(ScheduleStoreTest, ASchedulesFiresOutliveItsDeletion) {
  const std::vector<schedule::ScheduleSpec> file = {Spec("gone"), Spec("deleted-by-jobctl")};
  ASSERT_OK(schedules().SchedulesSyncFile(file));
  ASSERT_OK_AND_ASSIGN(ScheduleRow gone, schedules().ScheduleGet("gone"));
  ASSERT_OK(schedules().TriggerNow("gone"));
  ASSERT_OK(schedules().TriggerNow("deleted-by-jobctl"));
  ASSERT_EQ(sql_.Int("SELECT count(*) FROM chime.fires"), 2);

  const std::vector<std::string> remove = {"gone"};
  ASSERT_OK(schedules().SchedulesSyncFile(std::vector<schedule::ScheduleSpec>{Spec("deleted-by-jobctl")}, remove));
  ASSERT_OK(schedules().ScheduleDelete("deleted-by-jobctl"));
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.fires"), 2);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.fires WHERE schedule_id = " + std::to_string(gone.id)), 1);
  // Made again: a new id and a history of its own; listing copes with both.
  ASSERT_OK(schedules().SchedulesSyncFile(std::vector<schedule::ScheduleSpec>{Spec("gone")}));
  ASSERT_OK_AND_ASSIGN(ScheduleRow again, schedules().ScheduleGet("gone"));
  EXPECT_NE(again.id, gone.id);
  ASSERT_OK_AND_ASSIGN(auto listed, schedules().SchedulesList());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_FALSE(listed[0].last_fire_for.has_value());
}

TEST_F(ScheduleStoreTest, VersionMovesWithDefinitionsNotWithFires) {
  ASSERT_OK_AND_ASSIGN(int64_t v0, schedules().SchedulesVersion());
  const int64_t id = Create(Spec("hourly"));
  ASSERT_OK_AND_ASSIGN(int64_t v1, schedules().SchedulesVersion());
  EXPECT_GT(v1, v0);
  FireOne(id, Utc(2026, 1, 1, 1));
  ASSERT_OK_AND_ASSIGN(int64_t v2, schedules().SchedulesVersion());
  EXPECT_EQ(v2, v1);
  ASSERT_OK(schedules().ScheduleSetPaused("hourly", true));
  ASSERT_OK_AND_ASSIGN(int64_t v3, schedules().SchedulesVersion());
  EXPECT_GT(v3, v2);
}

TEST_F(ScheduleStoreTest, ResumeRestartsFromNowAndListShowsTheLastOutcome) {
  const int64_t id = Create(Spec("hourly"));
  const int64_t job = *FireOne(id, Utc(2026, 1, 1, 1)).job_id;
  ClaimedJob claimed = ClaimOne();
  ASSERT_EQ(claimed.id, job);
  Complete(claimed, CompletionKind::kSucceeded);

  ASSERT_OK(schedules().ScheduleSetPaused("hourly", true));
  ASSERT_OK_AND_ASSIGN(ScheduleRow resumed, schedules().ScheduleSetPaused("hourly", false));
  ASSERT_TRUE(resumed.last_fired_for.has_value());
  EXPECT_GT(*resumed.last_fired_for, Utc(2026, 1, 1, 1));

  ASSERT_OK_AND_ASSIGN(auto list, schedules().SchedulesList());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].last_fire_for, Utc(2026, 1, 1, 1));
  EXPECT_EQ(list[0].last_fire_outcome, FireOutcome::kEnqueued);
  EXPECT_EQ(list[0].last_job_id, job);
  EXPECT_EQ(list[0].last_job_state, JobState::kSucceeded);
  EXPECT_EQ(list[0].last_run_outcome, JobOutcome::kSucceeded);
}

}  // namespace
}  // namespace chime::db::testing
