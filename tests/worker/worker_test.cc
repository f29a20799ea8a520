// A whole worker in-process against a real PostgreSQL: jobs run once,
// slots bound concurrency, timeouts, cancellation, lost leases, unknown
// kinds, exceptions, child jobs and the SIGTERM drain. Tests wait for
// database states with a generous deadline and never assert on durations.
#include "worker/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "common/db/job_store.h"
#include "common/db/migrations.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"
#include "worker/builtin_kinds.h"

namespace chime::worker {
namespace {

using chime::testing::WaitUntil;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Counts how many run at once and blocks until released (or stopped).
class Gate final : public Handler {
 public:
  std::string_view Kind() const override { return "gate"; }
  HandlerResult Run(JobContext& ctx) override {
    const int now = ++running_;
    int seen = max_running_.load();
    while (now > seen && !max_running_.compare_exchange_weak(seen, now)) {
    }
    ++started_;
    std::unique_lock lock(mu_);
    cv_.wait(lock, ctx.stop_token(), [&] { return open_; });
    --running_;
    if (ctx.stop_requested() && !open_) return HandlerResult::Fail({}, {"gate: stopped"}, true);
    return HandlerResult::Success({{"gate", "passed"}});
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  std::atomic<int> running_{0}, max_running_{0}, started_{0};

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool open_ = false;
};

// Ignores its stop token until the test lets it go.
class Stubborn final : public Handler {
 public:
  std::string_view Kind() const override { return "stubborn"; }
  HandlerResult Run(JobContext&) override {
    running_.fetch_add(1);
    released_.wait();
    running_.fetch_sub(1);  // Its slot's thread never touches this object again.
    return HandlerResult::Success();
  }
  std::latch released_{1};
  std::atomic<int> running_{0};
};

class Thrower final : public Handler {
 public:
  std::string_view Kind() const override { return "thrower"; }
  HandlerResult Run(JobContext&) override { throw std::runtime_error("boom at line 42"); }
};

// Declines every run, the way an endpoint answers {"skipped": true,
// "reason": "locked"} when another run holds its lock.
class Decliner final : public Handler {
 public:
  std::string_view Kind() const override { return "decliner"; }
  HandlerResult Run(JobContext&) override {
    return HandlerResult::Skipped({{"total", 0}}, "locked");
  }
};

// A long call, like an http_request with a timeoutMs of minutes: waits
// {"ms"} for its stop token, and asks for {"needs"} ms through Timeout().
class LongCall final : public Handler {
 public:
  std::string_view Kind() const override { return "long_call"; }
  HandlerResult Run(JobContext& ctx) override {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    const bool stopped = cv.wait_for(lock, ctx.stop_token(), milliseconds(ctx.payload().value("ms", 0)),
                                     [] { return false; }) ||
                         ctx.stop_requested();
    if (stopped) return HandlerResult::Fail({}, {"stopped before the call ended"}, true);
    return HandlerResult::Success({{"waitedMs", ctx.payload().value("ms", 0)}});
  }
  std::optional<milliseconds> Timeout(const nlohmann::json& payload) const override {
    if (!payload.contains("needs")) return std::nullopt;
    return milliseconds(payload["needs"].get<int64_t>());
  }
};

class Parent final : public Handler {
 public:
  std::string_view Kind() const override { return "parent"; }
  HandlerResult Run(JobContext& ctx) override {
    std::vector<db::EnqueueParams> children(3);
    for (size_t i = 0; i < children.size(); ++i) {
      children[i].kind = "noop";
      children[i].unique_key = "child-" + std::to_string(i);
    }
    auto ids = ctx.EnqueueChildren(children);
    if (!ids) return HandlerResult::Fail({}, {ids.error().ToString()}, true);
    if (auto ok = ctx.ReportProgress({{"queued", ids->size()}}); !ok) {
      return HandlerResult::Fail({}, {ok.error().ToString()}, true);
    }
    return HandlerResult::Partial({{"queued", ids->size()}}, {"one warning"});
  }
};

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
    RegisterBuiltinKinds(handlers_);
    handlers_.Register(std::make_unique<Thrower>());
    handlers_.Register(std::make_unique<Parent>());
    handlers_.Register(std::make_unique<Decliner>());
    handlers_.Register(std::make_unique<LongCall>());
    auto gate = std::make_unique<Gate>();
    gate_ = gate.get();
    handlers_.Register(std::move(gate));
    auto stubborn = std::make_unique<Stubborn>();
    stubborn_ = stubborn.get();
    handlers_.Register(std::move(stubborn));
    config_.database_url = db_.url();
    config_.worker_id = "test-worker";
    config_.slots = 4;
    config_.poll_interval = milliseconds(20);
    config_.lease = seconds(30);
    config_.shutdown_grace = seconds(30);
  }

  void TearDown() override {
    gate_->Open();
    stubborn_->released_.count_down();
    if (worker_) worker_->Drain();
    // An abandoned handler's thread outlives the worker: it must have left
    // Run before the registry (this fixture's member) deletes the handler.
    while (stubborn_->running_.load() > 0) std::this_thread::yield();
  }

  void StartWorker() {
    worker_ = std::make_unique<Worker>(config_, handlers_);
    auto ok = worker_->Start();
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  }

  int64_t Enqueue(const std::string& kind, const std::string& payload = "{}",
                  std::optional<milliseconds> timeout = std::nullopt) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    std::optional<int64_t> t;
    if (timeout) t = timeout->count();
    return tx.exec_params("INSERT INTO chime.jobs (kind, payload, timeout_ms) VALUES ($1, $2::jsonb, $3) RETURNING id",
                          kind, payload, t)[0][0]
        .as<int64_t>();
  }

  std::string Sql(const std::string& sql) { return db_.Scalar(sql); }

  // Waits until `sql` returns `want`; the failure names the query and its last answer.
  ::testing::AssertionResult Eventually(const std::string& sql, const std::string& want) {
    return chime::testing::WaitForEq(sql, [&] { return Sql(sql); }, want);
  }

  std::string JobState(int64_t id) { return Sql("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id)); }

  chime::testing::TestDatabase db_;
  HandlerRegistry handlers_;
  Gate* gate_ = nullptr;
  Stubborn* stubborn_ = nullptr;
  WorkerConfig config_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerTest, RunsEveryJobOnceWithOneSucceededRun) {
  db_.Exec("INSERT INTO chime.jobs (kind) SELECT 'noop' FROM generate_series(1, 500)");
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'", "500"));
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs"), "500");
  EXPECT_EQ(Sql("SELECT count(DISTINCT job_id) FROM chime.runs WHERE outcome = 'succeeded'"), "500");
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs WHERE worker_id <> 'test-worker'"), "0");
}

TEST_F(WorkerTest, NeverRunsMoreJobsThanItHasSlots) {
  for (int i = 0; i < 10; ++i) Enqueue("gate");
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'", "4"));
  // Claimed is not started: wait for the four handlers themselves.
  ASSERT_TRUE(WaitUntil([&] { return gate_->started_.load() == 4; }));
  EXPECT_EQ(gate_->max_running_.load(), 4);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'"), "4");
  gate_->Open();
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'", "10"));
  EXPECT_EQ(gate_->max_running_.load(), 4);
}

TEST_F(WorkerTest, PrefetchClaimsAheadOfTheSlotsButRunsNoMoreThanThem) {
  config_.prefetch = 3;
  for (int i = 0; i < 10; ++i) Enqueue("gate");
  StartWorker();
  // Four run, three more wait in the worker under their leases.
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'", "7"));
  ASSERT_TRUE(WaitUntil([&] { return gate_->started_.load() == 4; }));
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'"), "7");
  EXPECT_EQ(gate_->max_running_.load(), 4);
  gate_->Open();
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'", "10"));
  EXPECT_EQ(gate_->max_running_.load(), 4);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs WHERE outcome = 'succeeded'"), "10");
}

// The default prefetch follows the work: a backlog of no-ops is claimed
// far ahead of the four slots, and jobs that do not finish are not hoarded
// (the rate falls to nothing, so no more than the slots are claimed).
TEST_F(WorkerTest, TheDefaultPrefetchClaimsAheadForShortJobsAndHoardsNoLongOnes) {
  ASSERT_EQ(config_.prefetch, WorkerConfig::kPrefetchAuto);
  db_.Exec("INSERT INTO chime.jobs (kind) SELECT 'noop' FROM generate_series(1, 20000)");
  StartWorker();
  int peak = 0;
  ASSERT_TRUE(WaitUntil([&] {
    peak = std::max(peak, worker_->producer().prefetch());
    return peak > 4;
  })) << "a stream of no-ops never raised the prefetch";
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'", "20000"));
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs WHERE outcome = 'succeeded'"), "20000");
  // Idle: the rate, and with it the prefetch, falls to nothing.
  ASSERT_TRUE(WaitUntil([&] { return worker_->producer().prefetch() == 0; }));
  for (int i = 0; i < 10; ++i) Enqueue("gate");
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'", "4"));
  ASSERT_TRUE(WaitUntil([&] { return gate_->started_.load() == 4; }));
  EXPECT_EQ(worker_->producer().prefetch(), 0);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'"), "4") << "six wait for any worker";
  gate_->Open();
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE kind = 'gate' AND state = 'succeeded'", "10"));
}

TEST_F(WorkerTest, ATimeoutStopsTheHandlerAndTheAttemptFailsRetryably) {
  const int64_t id = Enqueue("sleep", R"({"ms": 600000})", milliseconds(100));
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "retryable"));
  EXPECT_EQ(Sql("SELECT outcome FROM chime.runs WHERE job_id = " + std::to_string(id)), "failed");
  EXPECT_NE(Sql("SELECT errors::text FROM chime.runs WHERE job_id = " + std::to_string(id)).find("timed out after 100 ms"),
            std::string::npos);
}

TEST_F(WorkerTest, AHandlerIgnoringItsStopIsAbandonedAndItsAttemptFails) {
  config_.hard_stop_grace = milliseconds(100);
  const int64_t id = Enqueue("stubborn", "{}", milliseconds(50));
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "retryable"));
  EXPECT_NE(Sql("SELECT errors::text FROM chime.runs WHERE job_id = " + std::to_string(id)).find("did not stop"),
            std::string::npos);
  EXPECT_EQ(worker_->executor().abandoned(), 1);
  // Its slot was replaced: other work still runs.
  const int64_t next = Enqueue("noop");
  EXPECT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(next), "succeeded"));
}

TEST_F(WorkerTest, ACancelRequestStopsARunningJob) {
  config_.lease = milliseconds(1500);  // Heartbeats (which carry the request) every 0.5 s.
  const int64_t id = Enqueue("gate");
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "running"));
  db::Connection conn(db::ConnectionConfig{.url = db_.url()});
  db::JobStore store(conn);
  auto cancel = store.JobCancel(id);
  ASSERT_TRUE(cancel.has_value());
  EXPECT_EQ(*cancel, db::CancelOutcome::kCancelRequested);
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "cancelled"));
  EXPECT_EQ(Sql("SELECT outcome FROM chime.runs WHERE job_id = " + std::to_string(id)), "cancelled");
}

TEST_F(WorkerTest, ALateCompletionAfterTheLeaseWasLostChangesNothing) {
  const int64_t id = Enqueue("gate");
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "running"));
  // As if the lease expired, the job was rescued and another worker claimed it.
  db_.Exec("UPDATE chime.jobs SET lease_token = gen_random_uuid(), worker_id = 'other' WHERE id = " +
           std::to_string(id));
  const std::string token = Sql("SELECT lease_token FROM chime.jobs_all WHERE id = " + std::to_string(id));
  gate_->Open();
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'", "1"));
  // The old holder's outcome reached the store and was refused.
  ASSERT_TRUE(WaitUntil("the completer to refuse or write the old holder's outcome", [&] {
    return worker_->completer().refused() + worker_->completer().written() > 0;
  }));
  EXPECT_EQ(worker_->completer().refused(), 1);
  EXPECT_EQ(JobState(id), "running");
  EXPECT_EQ(Sql("SELECT lease_token FROM chime.jobs_all WHERE id = " + std::to_string(id)), token);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs"), "0");
}

TEST_F(WorkerTest, AnUnknownKindIsDiscardedWithTheReason) {
  const int64_t id = Enqueue("no_such_kind");
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "discarded"));
  const auto error = Sql("SELECT last_error FROM chime.jobs_all WHERE id = " + std::to_string(id));
  EXPECT_NE(error.find("unknown job kind 'no_such_kind' (this worker knows: "), std::string::npos) << error;
  EXPECT_NE(error.find("noop"), std::string::npos) << error;
  EXPECT_EQ(Sql("SELECT attempt FROM chime.jobs_all WHERE id = " + std::to_string(id)), "1");
}

TEST_F(WorkerTest, AThrowingHandlerIsARetryableFailureWithTheMessage) {
  const int64_t id = Enqueue("thrower");
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "retryable"));
  EXPECT_EQ(Sql("SELECT last_error FROM chime.jobs_all WHERE id = " + std::to_string(id)),
            "handler threw: boom at line 42");
}

// An http_request may wait an hour for its endpoint (003's syncs take 5-10
// minutes): a job without a timeout of its own gets what its handler says
// the payload needs, not the worker's default; a job's own timeout wins.
TEST_F(WorkerTest, AJobWithoutItsOwnTimeoutGetsWhatItsHandlerSaysItNeeds) {
  config_.default_timeout = milliseconds(200);
  const int64_t asks = Enqueue("long_call", R"({"ms": 1500, "needs": 60000})");
  const int64_t plain = Enqueue("long_call", R"({"ms": 1500})");
  const int64_t own = Enqueue("long_call", R"({"ms": 1500, "needs": 60000})", milliseconds(200));
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(asks), "succeeded"));
  // Their first attempt's run. Not "exactly one run": they retry, and a
  // retry's backoff (about a second, jittered) may end before the 1.5 s call
  // of `asks` does, so a second run may already be there.
  for (int64_t id : {plain, own}) {
    const std::string first = " FROM chime.runs WHERE attempt = 1 AND job_id = " + std::to_string(id);
    ASSERT_TRUE(Eventually("SELECT count(*)" + first, "1"));
    EXPECT_NE(Sql("SELECT array_to_string(errors, ' | ')" + first)
                  .find("timed out after 200 ms"),
              std::string::npos)
        << id;
  }
}

TEST_F(WorkerTest, ASkippedRunEndsTheJobWithOutcomeSkippedAndItsReason) {
  const int64_t id = Enqueue("decliner");
  StartWorker();
  const std::string where = " WHERE job_id = " + std::to_string(id);
  ASSERT_TRUE(Eventually("SELECT outcome FROM chime.jobs_all WHERE id = " + std::to_string(id), "skipped"));
  EXPECT_EQ(JobState(id), "succeeded");
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs" + where), "1");
  EXPECT_EQ(Sql("SELECT outcome FROM chime.runs" + where), "skipped");
  EXPECT_EQ(Sql("SELECT summary->>'skipReason' FROM chime.runs" + where), "locked");
  EXPECT_EQ(Sql("SELECT summary->>'total' FROM chime.runs" + where), "0");
}

TEST_F(WorkerTest, ChildrenAreLinkedToTheirParentAndProgressIsStored) {
  const int64_t id = Enqueue("parent");
  // A scheduled dry run: its children are scheduled dry runs too.
  db_.Exec("UPDATE chime.jobs SET invocation = 'cron', dry_run = true WHERE id = " +
           std::to_string(id));
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT count(*) FROM chime.jobs_all WHERE parent_id = " + std::to_string(id) +
                             " AND state = 'succeeded'",
                         "3"));
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "succeeded"));
  EXPECT_EQ(Sql("SELECT progress->>'queued' FROM chime.jobs_all WHERE id = " + std::to_string(id)), "3");
  EXPECT_EQ(Sql("SELECT outcome FROM chime.runs WHERE job_id = " + std::to_string(id)), "partial");
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE parent_id = " + std::to_string(id) +
                " AND invocation = 'cron' AND dry_run"),
            "3");
}

TEST_F(WorkerTest, DrainLetsShortJobsFinishAndReleasesTheRest) {
  config_.shutdown_grace = milliseconds(300);
  const int64_t short_job = Enqueue("sleep", R"({"ms": 50})");
  const int64_t long_job = Enqueue("gate");
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(long_job), "running"));
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(short_job), "succeeded"));
  worker_->Drain();
  EXPECT_EQ(JobState(long_job), "available");
  EXPECT_EQ(Sql("SELECT attempt FROM chime.jobs_all WHERE id = " + std::to_string(long_job)), "0");
  EXPECT_EQ(Sql("SELECT outcome FROM chime.runs WHERE job_id = " + std::to_string(long_job)), "released");
}

TEST_F(WorkerTest, FailJobsSucceedAfterTheirFailures) {
  const int64_t id = Enqueue("fail", R"({"times": 1})");
  StartWorker();
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "retryable"));
  db_.Exec("UPDATE chime.jobs SET run_at = now() WHERE id = " + std::to_string(id));  // Skip the backoff.
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id), "succeeded"));
  EXPECT_EQ(Sql("SELECT string_agg(outcome, ',' ORDER BY attempt) FROM chime.runs WHERE job_id = " +
                std::to_string(id)),
            "failed,succeeded");
}

}  // namespace
}  // namespace chime::worker
