// The worker when a write's answer is lost: the statement committed on the
// server, the connection dropped before the answer arrived. Only the part
// under test talks to the database through a TcpProxy that swallows that
// answer and then cuts the connection; everything else connects directly.
// A lost claim's job must run once, on its first attempt, without waiting
// for its lease to run out; a lost completion must be reported accepted.
#include "worker/producer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "common/db/job_store.h"
#include "common/db/migrations.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"
#include "worker/builtin_kinds.h"
#include "worker/completer.h"
#include "worker/executor.h"

namespace chime::worker {
namespace {

using chime::testing::WaitUntil;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Holds its slot until the test opens it.
class Gate final : public Handler {
 public:
  std::string_view Kind() const override { return "gate"; }
  HandlerResult Run(JobContext& ctx) override {
    std::unique_lock lock(mu_);
    started_ = true;
    cv_.notify_all();
    cv_.wait(lock, ctx.stop_token(), [&] { return open_; });
    return HandlerResult::Success();
  }
  void WaitStarted() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, seconds(30), [&] { return started_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool started_ = false;
  bool open_ = false;
};

class LostReplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
    RegisterBuiltinKinds(handlers_);
    auto gate = std::make_unique<Gate>();
    gate_ = gate.get();
    handlers_.Register(std::move(gate));
  }
  void TearDown() override { gate_->Open(); }

  int64_t Enqueue(const std::string& kind) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec_params("INSERT INTO chime.jobs (kind) VALUES ($1) RETURNING id", kind)[0][0].as<int64_t>();
  }
  std::string Sql(const std::string& sql) { return db_.Scalar(sql); }
  // Waits until `sql` returns `want`; the failure names the query and its last answer.
  ::testing::AssertionResult Eventually(const std::string& sql, const std::string& want) {
    return chime::testing::WaitForEq(sql, [&] { return Sql(sql); }, want);
  }

  chime::testing::TestDatabase db_;
  HandlerRegistry handlers_;
  Gate* gate_ = nullptr;
};

TEST_F(LostReplyTest, AClaimWhoseReplyWasLostIsRecoveredAndRunOnce) {
  chime::testing::TcpProxy proxy(db_.port());
  const db::ConnectionConfig direct{.url = db_.url()};
  db::ConnectionConfig proxied = direct;
  proxied.url = db_.UrlWithPort(proxy.port());
  proxied.reconnect = BackoffPolicy{milliseconds(10), milliseconds(50), 0};

  Completer completer(direct, db::JobStoreConfig{}, [](std::span<v1::JobResult>) {});
  Executor executor({.slots = 1, .worker_id = "w", .db = direct}, handlers_, completer);
  // Leases far longer than the test: only recovery can run the job in time.
  Producer producer({.worker_id = "w", .poll_interval = milliseconds(20), .lease = minutes(10)}, proxied,
                    executor);
  executor.set_on_slot_freed([&] { producer.SlotFreed(); });
  completer.Start();
  executor.Start();
  producer.Start();

  // The only slot is busy, so the producer sends nothing until it frees.
  const int64_t gate = Enqueue("gate");
  gate_->WaitStarted();
  const int64_t job = Enqueue("noop");
  proxy.Arm(true);
  gate_->Open();
  // The producer claimed the job; it never heard so.
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(job), "running"));
  EXPECT_EQ(proxy.swallowed(), 1);
  EXPECT_EQ(producer.claimed(), 1);  // The gate only.
  proxy.Arm(false);
  proxy.CutAll();

  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(job), "succeeded"));
  EXPECT_EQ(Sql("SELECT attempt FROM chime.jobs_all WHERE id = " + std::to_string(job)), "1");
  EXPECT_EQ(Sql("SELECT string_agg(outcome, ',') FROM chime.runs WHERE job_id = " + std::to_string(job)),
            "succeeded");
  EXPECT_EQ(producer.claimed(), 2);
  EXPECT_EQ(Sql("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(gate)), "succeeded");
  producer.Stop();
  executor.Stop();
  completer.Stop();
}

TEST_F(LostReplyTest, ACompletionWhoseReplyWasLostIsReportedAccepted) {
  chime::testing::TcpProxy proxy(db_.port());
  db::ConnectionConfig proxied{.url = db_.UrlWithPort(proxy.port())};
  proxied.reconnect = BackoffPolicy{milliseconds(10), milliseconds(50), 0};
  std::mutex mu;
  std::vector<v1::JobResult> results;
  Completer completer(proxied, db::JobStoreConfig{}, [&](std::span<v1::JobResult> batch) {
    std::lock_guard lock(mu);
    results.insert(results.end(), batch.begin(), batch.end());
  });
  completer.Start();

  const int64_t first = Enqueue("noop");
  const int64_t second = Enqueue("noop");
  db::Connection direct(db::ConnectionConfig{.url = db_.url()});
  db::JobStore store(direct);
  auto claimed = store.JobsClaim({.worker_id = "w", .limit = 2});
  ASSERT_TRUE(claimed.has_value()) << claimed.error().ToString();
  ASSERT_EQ(claimed->size(), 2u);
  auto outcome = [&](const db::ClaimedJob& job) {
    Outcome o;
    o.completion = {.lease = job.lease, .attempt = job.attempt, .worker_id = "w"};
    o.kind = job.kind;
    o.queue = job.queue;
    return o;
  };
  // The first outcome opens the completer's session; the second's answer is lost.
  completer.Add(outcome((*claimed)[0]));
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(first), "succeeded"));
  ASSERT_TRUE(WaitUntil([&] { return completer.written() == 1; }));
  proxy.Arm(true);
  completer.Add(outcome((*claimed)[1]));
  ASSERT_TRUE(Eventually("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(second), "succeeded"));
  EXPECT_EQ(proxy.swallowed(), 1);
  proxy.Arm(false);
  proxy.CutAll();
  completer.Stop();  // Flushes: the retry has answered.

  EXPECT_EQ(completer.written(), 2);
  EXPECT_EQ(completer.refused(), 0);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].job_id(), second);
  EXPECT_TRUE(results[1].accepted());
  EXPECT_EQ(results[1].outcome(), v1::SUCCEEDED);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs WHERE job_id = " + std::to_string(second)), "1");
}

}  // namespace
}  // namespace chime::worker
