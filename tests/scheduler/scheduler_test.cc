// A whole scheduler replica in process against the test PostgreSQL: Start()
// wires the router, the ready feed, the dispatcher, the cron runner with its
// leader elector and HTTP together (a worker hears of a job enqueued in
// SQL; /healthz answers; the replica leads); Stop() stops them all (the
// leader term is resigned, the ports close) and is idempotent; a Start that
// fails stops what it had started. Each service has its own tests; these
// check the wiring.
#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include "common/db/migrations.h"
#include "tests/support/raw_http.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"
#include "tests/support/zmq_peer.h"

namespace chime::scheduler {
namespace {

using chime::testing::HelloEnvelope;
using chime::testing::HttpGet;
using chime::testing::Peer;
using chime::testing::WaitUntil;

constexpr char kSecret[] = "scheduler-test-secret-0123456789";

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    auto migrated = db::MigrationsApply(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
  }

  SchedulerConfig Config(const std::string& id, const std::string& http_listen = "127.0.0.1:0") {
    SchedulerConfig config;
    config.db = db::ConnectionConfig{.url = db_.url()};
    config.router.bind = "tcp://127.0.0.1:0";
    config.router.scheduler_id = id;
    config.http.emplace();
    config.http->server.listen = http_listen;
    config.admin_secret = wire::AdminSecret::FromString(kSecret).value();
    return config;
  }

  std::string LeaderRow() {
    return db_.Scalar("SELECT holder || ':' || epoch || ':' || CASE WHEN expires_at > now() THEN 'live' ELSE 'over' END FROM chime.leader");
  }

  chime::testing::TestDatabase db_;
};

TEST_F(SchedulerTest, StartsEveryServiceAndStopsThemCleanly) {
  Scheduler scheduler(Config("replica-a"));
  auto started = scheduler.Start();
  ASSERT_TRUE(started.has_value()) << started.error().ToString();
  ASSERT_FALSE(scheduler.router_endpoint().empty());
  ASSERT_FALSE(scheduler.http_address().empty());

  // The elector took the free term under the replica's id.
  ASSERT_TRUE(WaitUntil("the replica to lead", [&] { return scheduler.leading(); }));
  EXPECT_EQ(LeaderRow(), "replica-a:1:live");
  EXPECT_EQ(scheduler.cron().holder(), "replica-a");

  // Router, ready feed and dispatcher: a worker that said hello hears of a
  // job enqueued in SQL.
  zmq::context_t context;
  Peer worker(context, scheduler.router_endpoint());
  worker.Send(HelloEnvelope("w1", 4));
  ASSERT_TRUE(worker.ReceiveBody(v1::Envelope::kHelloAck).has_value());
  ASSERT_TRUE(WaitUntil("the ready feed to listen", [&] { return scheduler.following_ready_jobs(); }));
  db_.Exec("INSERT INTO chime.jobs (kind) VALUES ('noop')");
  auto dispatch = worker.ReceiveQueueDispatch();
  ASSERT_TRUE(dispatch.has_value());
  EXPECT_EQ(dispatch->dispatch().queues(0), "default");
  EXPECT_EQ(dispatch->dispatch().max_jobs(), 1);

  // HTTP, with the leader's view.
  const auto health = HttpGet(scheduler.http_address(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  const auto ready = HttpGet(scheduler.http_address(), "/readyz?leader=required");
  EXPECT_EQ(ready.status, 200) << ready.body;

  scheduler.Stop();
  EXPECT_EQ(LeaderRow(), "replica-a:1:over") << "the term is resigned, not left to expire";
  EXPECT_EQ(HttpGet(scheduler.http_address(), "/healthz").status, 0) << "the HTTP port is closed";
  scheduler.Stop();  // Idempotent.
}

TEST_F(SchedulerTest, AStandbyTakesTheTermTheLeaderResignedOnStop) {
  auto a = std::make_unique<Scheduler>(Config("replica-a"));
  ASSERT_TRUE(a->Start().has_value());
  ASSERT_TRUE(WaitUntil("a to lead", [&] { return a->leading(); }));
  Scheduler b(Config("replica-b"));
  ASSERT_TRUE(b.Start().has_value());
  ASSERT_TRUE(WaitUntil("b to read who leads", [&] { return b.cron().status().holder == "replica-a"; }));
  EXPECT_FALSE(b.leading());
  a->Stop();
  a.reset();
  // b renews every 5 s (the default): it leads at its next renewal, well
  // before the 15 s term would have run out.
  ASSERT_TRUE(WaitUntil("b to lead", [&] { return b.leading(); }));
  EXPECT_EQ(LeaderRow(), "replica-b:2:live");
}

TEST_F(SchedulerTest, AStartThatFailsStopsWhatItStartedAndNamesTheProblem) {
  Scheduler first(Config("replica-a"));
  ASSERT_TRUE(first.Start().has_value());
  ASSERT_TRUE(WaitUntil("the first to lead", [&] { return first.leading(); }));

  // The second's HTTP port is taken: it fails after its router and cron
  // runner started, and stops them.
  Scheduler second(Config("replica-b", first.http_address()));
  auto started = second.Start();
  ASSERT_FALSE(started.has_value());
  EXPECT_NE(started.error().message.find("http-listen"), std::string::npos) << started.error().message;
  EXPECT_FALSE(second.leading());
  // Its router lets go of its port (ZeroMQ closes a socket's listener in
  // the background): another socket can bind it.
  zmq::context_t context;
  zmq::socket_t rebind(context, zmq::socket_type::router);
  rebind.set(zmq::sockopt::linger, 0);
  EXPECT_TRUE(WaitUntil("the failed replica's router port to be free", [&] {
    try {
      rebind.bind(second.router_endpoint());
      return true;
    } catch (const zmq::error_t&) {
      return false;
    }
  }));
  EXPECT_EQ(LeaderRow(), "replica-a:1:live");
  EXPECT_FALSE(second.Start().has_value()) << "Start is once only";
}

TEST(SchedulerConfigTest, EveryPartIsValidated) {
  SchedulerConfig config;
  config.router.scheduler_id = "a";
  config.cron.leader.holder = "a";
  EXPECT_TRUE(config.Validate().has_value());
  config.cron.leader.renew_interval = std::chrono::seconds(10);
  EXPECT_EQ(config.Validate().error().message, "leader-renew: must be positive and at most half of leader-ttl");
  config = {};
  config.cron.leader.holder = "a";
  config.maintainer.rescue_interval = std::chrono::milliseconds(0);
  EXPECT_EQ(config.Validate().error().message, "rescue_interval: must be > 0");
}

}  // namespace
}  // namespace chime::scheduler
