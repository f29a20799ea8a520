// The heartbeater's lease watchdog against a real PostgreSQL: a job whose
// lease no heartbeat extended for a whole lease (here: the heartbeater's
// database is unreachable) is stopped once, and its outcome is never
// written; a job whose heartbeats succeed runs on past many leases. Jobs are
// claimed through the real store and handed to a real executor and
// completer. Waits poll with a deadline only a broken build reaches; no
// assertion depends on how long anything took.
#include "worker/heartbeater.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "common/db/migrations.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"
#include "worker/completer.h"
#include "worker/executor.h"

namespace chime::worker {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kLease(500);
// Nothing listens on port 1: every heartbeat fails at once, as on a link
// whose far end is gone.
constexpr const char* kUnreachable = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2";

// Runs until released or stopped (then still reports success: a success
// after the lease was given up must not be written either).
class Waiter final : public Handler {
 public:
  std::string_view Kind() const override { return "wait"; }
  HandlerResult Run(JobContext& ctx) override {
    ++started_;
    std::unique_lock lock(mu_);
    cv_.wait(lock, ctx.stop_token(), [&] { return released_; });
    if (!released_) ++stopped_;
    return HandlerResult::Success();
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::atomic<int> started_{0}, stopped_{0};

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool released_ = false;  // Guarded by mu_.
};

// Sees its stop but keeps running until released.
class Stubborn final : public Handler {
 public:
  std::string_view Kind() const override { return "stubborn"; }
  HandlerResult Run(JobContext& ctx) override {
    while (!released_.load()) {
      if (ctx.stop_requested()) saw_stop_ = true;
      // Busy-waits on purpose: this handler models one that ignores its stop.
      std::this_thread::sleep_for(milliseconds(5));
    }
    returned_ = true;
    return HandlerResult::Success();
  }
  std::atomic<bool> released_{false}, saw_stop_{false}, returned_{false};
};

using chime::testing::WaitUntil;

class HeartbeaterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
    auto waiter = std::make_unique<Waiter>();
    waiter_ = waiter.get();
    handlers_.Register(std::move(waiter));
    auto stubborn = std::make_unique<Stubborn>();
    stubborn_ = stubborn.get();
    handlers_.Register(std::move(stubborn));
    // Every line the services log, for the "said once" checks.
    previous_logger_ = spdlog::default_logger();
    log_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10'000);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", log_));
  }

  void TearDown() override {
    if (waiter_ == nullptr) return;  // SetUp failed.
    waiter_->Release();
    stubborn_->released_ = true;
    heartbeater_.reset();
    executor_.reset();
    // An abandoned slot thread may still be in the handler: let it leave.
    EXPECT_TRUE(WaitUntil([&] { return stubborn_->returned_.load() || !stubborn_started_; }));
    completer_.reset();
    spdlog::set_default_logger(previous_logger_);
  }

  // Starts completer, executor and heartbeater; the heartbeater reaches the
  // database at `heartbeat_url`.
  void Start(const std::string& heartbeat_url, milliseconds hard_stop_grace = seconds(30)) {
    const db::ConnectionConfig db{.url = db_.url()};
    completer_ = std::make_unique<Completer>(db, db::JobStoreConfig{}, nullptr);
    executor_ = std::make_unique<Executor>(
        ExecutorConfig{.slots = 4, .worker_id = "hb-test", .hard_stop_grace = hard_stop_grace, .db = db},
        handlers_, *completer_);
    heartbeater_ = std::make_unique<Heartbeater>(db::ConnectionConfig{.url = heartbeat_url}, *executor_,
                                                 kLease, kLease / 5);
    completer_->Start();
    executor_->Start();
    heartbeater_->Start();
  }

  // Enqueues `count` jobs of `kind`, claims them under a kLease lease and
  // hands them to the executor.
  std::vector<db::ClaimedJob> ClaimAndRun(const std::string& kind, int count) {
    db_.Exec("INSERT INTO chime.jobs (kind) SELECT '" + kind + "' FROM generate_series(1, " +
             std::to_string(count) + ")");
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    db::JobStore store(conn);
    auto claimed = store.JobsClaim({.worker_id = "hb-test", .limit = count, .lease = kLease});
    EXPECT_TRUE(claimed.has_value()) << claimed.error().ToString();
    if (!claimed) return {};
    EXPECT_EQ(claimed->size(), static_cast<size_t>(count));
    executor_->Run(*claimed);
    return *claimed;
  }

  // How many logged lines contain `needle`.
  size_t Logged(const std::string& needle) {
    size_t n = 0;
    for (const auto& line : log_->last_formatted()) n += line.find(needle) != std::string::npos;
    return n;
  }

  std::string Sql(const std::string& sql) { return db_.Scalar(sql); }

  chime::testing::TestDatabase db_;
  HandlerRegistry handlers_;
  Waiter* waiter_ = nullptr;
  Stubborn* stubborn_ = nullptr;
  bool stubborn_started_ = false;
  std::shared_ptr<spdlog::logger> previous_logger_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_;
  std::unique_ptr<Completer> completer_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Heartbeater> heartbeater_;
};

TEST_F(HeartbeaterTest, GivesUpJobsWhoseLeaseNoHeartbeatExtended) {
  Start(kUnreachable);
  const auto jobs = ClaimAndRun("wait", 3);
  ASSERT_EQ(jobs.size(), 3u);
  ASSERT_TRUE(WaitUntil([&] { return waiter_->stopped_.load() == 3; })) << waiter_->stopped_.load();
  ASSERT_TRUE(executor_->WaitIdle(std::chrono::steady_clock::now() + seconds(30)));
  completer_->Stop();  // Flushes whatever was handed to it.
  // Nothing was written: the handlers' successes were dropped.
  EXPECT_EQ(completer_->written() + completer_->refused(), 0);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs"), "0");
  for (const auto& job : jobs) {
    EXPECT_EQ(Sql("SELECT state || ' ' || lease_token FROM chime.jobs_all WHERE id = " + std::to_string(job.id)),
              "running " + job.lease.token);
    EXPECT_EQ(Logged("job " + std::to_string(job.id) + " (wait): abandoned: no heartbeat has extended its lease"),
              1u);
  }
  EXPECT_EQ(heartbeater_->unextended_abandoned(), 3);
}

TEST_F(HeartbeaterTest, AJobThatIgnoresItsStopIsGivenUpOnceAndItsOutcomeDropped) {
  // Stopped for its lease, then abandoned by the hard-stop grace: several
  // watchdog passes see it meanwhile, and none repeats the stop.
  Start(kUnreachable, milliseconds(400));
  stubborn_started_ = true;
  const auto jobs = ClaimAndRun("stubborn", 1);
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_TRUE(WaitUntil([&] { return executor_->abandoned() == 1; }));
  EXPECT_TRUE(stubborn_->saw_stop_.load());
  stubborn_->released_ = true;
  ASSERT_TRUE(WaitUntil([&] { return stubborn_->returned_.load(); }));
  completer_->Stop();
  EXPECT_EQ(completer_->written() + completer_->refused(), 0);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs"), "0");
  EXPECT_EQ(Logged("job " + std::to_string(jobs[0].id) + " (stubborn): abandoned: no heartbeat"), 1u);
  EXPECT_EQ(heartbeater_->unextended_abandoned(), 1);
}

TEST_F(HeartbeaterTest, KeepsJobsWhoseHeartbeatsSucceed) {
  Start(db_.url());
  const auto jobs = ClaimAndRun("wait", 2);
  ASSERT_EQ(jobs.size(), 2u);
  // Run for four leases' worth of extensions (the database says so).
  const std::string extended_far =
      "SELECT count(*) FROM chime.jobs_all WHERE state = 'running' AND lease_expires_at > attempted_at + "
      "interval '" + std::to_string(4 * kLease.count()) + " ms'";
  ASSERT_TRUE(WaitUntil([&] { return Sql(extended_far) == "2"; })) << Sql(extended_far);
  EXPECT_EQ(waiter_->stopped_.load(), 0);
  waiter_->Release();
  ASSERT_TRUE(WaitUntil([&] { return Sql("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'") == "2"; }));
  EXPECT_EQ(completer_->written(), 2);
  EXPECT_EQ(heartbeater_->unextended_abandoned(), 0);
  EXPECT_EQ(Logged("abandoned"), 0u);
}

TEST_F(HeartbeaterTest, AnAnswerAboutAnOldLeaseDoesNotStopTheJobsNewAttempt) {
  Start(db_.url());
  const auto jobs = ClaimAndRun("wait", 1);
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_TRUE(WaitUntil([&] { return waiter_->started_.load() == 1; }));
  const std::string old_token = "00000000-0000-4000-8000-000000000000";
  EXPECT_FALSE(executor_->RequestStop(jobs[0].id, StopReason::kLeaseLost, old_token));
  EXPECT_EQ(executor_->RunningIds(), std::vector<int64_t>{jobs[0].id});
  EXPECT_TRUE(executor_->RequestStop(jobs[0].id, StopReason::kLeaseLost, jobs[0].lease.token));
  EXPECT_FALSE(executor_->RequestStop(jobs[0].id, StopReason::kLeaseLost, jobs[0].lease.token));
  ASSERT_TRUE(WaitUntil([&] { return waiter_->stopped_.load() == 1; }));
}

}  // namespace
}  // namespace chime::worker
