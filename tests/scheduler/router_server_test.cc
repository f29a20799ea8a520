// The scheduler's ROUTER endpoint with real ZeroMQ sockets and a real
// PostgreSQL: hello/ack, dispatch on enqueue from any route, signed admin
// requests, and hostile peers that are answered or dropped while everyone
// else keeps being served.
#include "scheduler/router_server.h"

#include <gtest/gtest.h>

#include <optional>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "common/db/migrations.h"
#include "common/db/worker_directory.h"
#include "common/wire/envelope.h"
#include "scheduler/admin_service.h"
#include "scheduler/ready_feed.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"
#include "tests/support/zmq_peer.h"

namespace chime::scheduler {
namespace {

using std::chrono::milliseconds;

constexpr const char* kSecret = "router-test-secret-of-enough-length";

wire::AdminSecret Secret(const std::string& s = kSecret) {
  return wire::AdminSecret::FromString(s).value();
}

using testing::AdminEnvelope;
using testing::HelloEnvelope;
using testing::Peer;

class RouterServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // spdlog creates its default logger on first use; the binaries do that in
    // InitLogging before any thread starts, and so does this test (else TSan,
    // which cannot see libspdlog's static-init guard, reports the logger).
    spdlog::default_logger();
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
    RouterConfig config;
    config.bind = "tcp://127.0.0.1:0";
    config.heartbeat_interval = milliseconds(50);
    config.forget_after = milliseconds(60'000);
    config.scheduler_id = "test-scheduler";
    if (curve_) {
      config.curve = curve_->server;
      zap_ = std::make_unique<net::ZapAuthenticator>(context_, curve_->allowed_client_keys);
      ASSERT_TRUE(zap_->Start().has_value());
    }
    admin_ = std::make_unique<AdminService>(db::ConnectionConfig{.url = db_.url()},
                                            db::JobStoreConfig{}, counters_);
    server_ = std::make_unique<RouterServer>(context_, config, SystemClock::Instance(), counters_,
                                             *admin_, verifier_);
    auto endpoint = server_->Start();
    ASSERT_TRUE(endpoint.has_value()) << endpoint.error().ToString();
    endpoint_ = *endpoint;
    feed_ = std::make_unique<ReadyFeed>(context_, db::ConnectionConfig{.url = db_.url()});
    feed_->Start();
    // A job inserted before the LISTEN is up would only be announced by the
    // feed's "look everywhere" notice (max_jobs = all free slots): wait.
    for (int i = 0; i < 10'000 && !feed_->listening(); ++i) {
      db_.Scalar("SELECT 1");  // A round trip to the server between looks.
    }
    ASSERT_TRUE(feed_->listening());
  }

  void TearDown() override {
    feed_->Stop();
    server_->Stop();
    if (zap_) zap_->Stop();
  }

  // Registers a worker and consumes its ack and the welcome dispatch.
  std::unique_ptr<Peer> Worker(const std::string& id, int free_slots) {
    auto peer = std::make_unique<Peer>(context_, endpoint_);
    peer->Send(HelloEnvelope(id, free_slots));
    auto ack = peer->ReceiveBody(v1::Envelope::kHelloAck);
    EXPECT_TRUE(ack.has_value());
    if (ack) {
      EXPECT_TRUE(ack->hello_ack().result_batches());  // It takes JobResults.
    }
    if (free_slots > 0) {
      EXPECT_TRUE(peer->ReceiveBody(v1::Envelope::kDispatch).has_value());
    }
    return peer;
  }

  // One statement per job, all in one transaction, as an application might.
  void InsertAsApplication(const std::string& queue, int n) {
    pqxx::connection c(db_.url());
    pqxx::work tx(c);
    for (int i = 0; i < n; ++i) {
      tx.exec_params("INSERT INTO chime.jobs (kind, queue) VALUES ('noop', $1)", queue);
    }
    tx.commit();
  }

  void InsertInOneStatement(const std::string& queue, int n) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    tx.exec_params("INSERT INTO chime.jobs (kind, queue) SELECT 'noop', $1 FROM generate_series(1, $2)",
                   queue, n);
  }

  chime::testing::TestDatabase db_;
  zmq::context_t context_;
  std::optional<net::CurveServerConfig> curve_;  // Set before SetUp to turn CURVE on.
  std::unique_ptr<net::ZapAuthenticator> zap_;
  LiveCounters counters_;
  wire::RequestVerifier verifier_{Secret(), SystemClock::Instance()};
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<RouterServer> server_;
  std::unique_ptr<ReadyFeed> feed_;
  std::string endpoint_;
};

TEST_F(RouterServerTest, AcknowledgesAHelloWithTheLinkTiming) {
  Peer peer(context_, endpoint_);
  peer.Send(HelloEnvelope("w1", 4));
  auto ack = peer.ReceiveBody(v1::Envelope::kHelloAck);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->hello_ack().heartbeat_interval_ms(), 50);
  EXPECT_EQ(ack->hello_ack().scheduler_id(), "test-scheduler");
  // A new worker is invited to look for an existing backlog.
  auto welcome = peer.ReceiveBody(v1::Envelope::kDispatch);
  ASSERT_TRUE(welcome.has_value());
  EXPECT_EQ(welcome->dispatch().max_jobs(), 4);
}

TEST_F(RouterServerTest, AnApplicationsInsertIsDispatchedToAWorkerWithFreeSlots) {
  auto worker = Worker("w1", 2);
  InsertAsApplication("default", 1);
  auto d = worker->ReceiveQueueDispatch();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->dispatch().max_jobs(), 1);
  ASSERT_EQ(d->dispatch().queues_size(), 1);
  EXPECT_EQ(d->dispatch().queues(0), "default");
}

TEST_F(RouterServerTest, ABacklogIsSpreadOverWorkersByFreeCapacity) {
  auto a = Worker("a", 3);
  auto b = Worker("b", 2);
  InsertInOneStatement("default", 10);
  auto da = a->ReceiveQueueDispatch();
  auto db = b->ReceiveQueueDispatch();
  ASSERT_TRUE(da.has_value());
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(da->dispatch().max_jobs(), 3);
  EXPECT_EQ(db->dispatch().max_jobs(), 2);
}

TEST_F(RouterServerTest, EveryStatementOfOneTransactionIsDispatched) {
  // PostgreSQL folds identical notifications within a transaction; three
  // one-row INSERTs must still yield three jobs' worth of dispatch.
  auto worker = Worker("w1", 4);
  InsertAsApplication("default", 3);
  int dispatched = 0;
  while (dispatched < 3) {
    auto d = worker->ReceiveQueueDispatch();
    ASSERT_TRUE(d.has_value()) << "dispatched " << dispatched << " of 3";
    dispatched += d->dispatch().max_jobs();
  }
  EXPECT_EQ(dispatched, 3);
}

TEST_F(RouterServerTest, SignedAdminRequestsEnqueueShowAndCountResults) {
  Peer jobctl(context_, endpoint_);
  v1::AdminRequest enqueue;
  enqueue.mutable_enqueue()->set_kind("noop");
  enqueue.mutable_enqueue()->set_payload_json(R"({"n":1})");
  jobctl.Send(AdminEnvelope(enqueue, Secret(), 41));
  auto reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->correlation_id(), 41u);
  ASSERT_TRUE(reply->admin_reply().has_enqueue()) << reply->admin_reply().DebugString();
  const int64_t id = reply->admin_reply().enqueue().job().id();
  EXPECT_GT(id, 0);
  EXPECT_EQ(reply->admin_reply().enqueue().job().state(), "available");

  v1::AdminRequest show;
  show.mutable_show()->set_job_id(id);
  jobctl.Send(AdminEnvelope(show, Secret(), 42));
  reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->admin_reply().show().job().payload_json(), R"({"n": 1})");

  // A worker's result lands in the live counters that stats returns.
  auto worker = Worker("w1", 0);
  v1::Envelope result;
  auto* r = result.mutable_result();
  r->set_worker_id("w1");
  r->set_job_id(id);
  r->set_attempt(1);
  r->set_kind("noop");
  r->set_queue("default");
  r->set_outcome(v1::SUCCEEDED);
  r->set_accepted(true);
  worker->Send(result);
  v1::AdminRequest stats;
  stats.mutable_stats();
  // Requests from one peer are handled in order, but the result came from
  // another; ask until it is counted (bounded).
  bool counted = false;
  for (int i = 0; i < 100 && !counted; ++i) {
    jobctl.Send(AdminEnvelope(stats, Secret(), 43));
    reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
    ASSERT_TRUE(reply.has_value());
    for (const auto& c : reply->admin_reply().stats().live()) {
      counted |= c.kind() == "noop" && c.outcome() == v1::SUCCEEDED && c.count() == 1;
    }
  }
  EXPECT_TRUE(counted);

  // A batch (JobResults) counts each of its results.
  v1::Envelope batch;
  for (int i = 0; i < 2; ++i) *batch.mutable_results()->add_results() = result.result();
  worker->Send(batch);
  counted = false;
  for (int i = 0; i < 100 && !counted; ++i) {
    jobctl.Send(AdminEnvelope(stats, Secret(), 43));
    reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
    ASSERT_TRUE(reply.has_value());
    for (const auto& c : reply->admin_reply().stats().live()) {
      counted |= c.kind() == "noop" && c.outcome() == v1::SUCCEEDED && c.count() == 3;
    }
  }
  EXPECT_TRUE(counted);

  v1::AdminRequest workers;
  workers.mutable_workers();
  jobctl.Send(AdminEnvelope(workers, Secret(), 44));
  reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->admin_reply().workers().workers_size(), 1);
  EXPECT_EQ(reply->admin_reply().workers().workers(0).worker_id(), "w1");
}

TEST_F(RouterServerTest, AJobctlEnqueueIsDispatchedWithoutTheReadyFeed) {
  // Without the feed only the admin path can dispatch. A worker serving two
  // queues learns which one got a ready job; the delayed job enqueued first
  // in the other queue must not be dispatched.
  feed_->Stop();
  Peer worker(context_, endpoint_);
  v1::Envelope hello = HelloEnvelope("w1", 4);
  hello.mutable_hello()->add_queues("later");
  worker.Send(hello);
  ASSERT_TRUE(worker.ReceiveBody(v1::Envelope::kHelloAck).has_value());
  ASSERT_TRUE(worker.ReceiveBody(v1::Envelope::kDispatch).has_value());  // The welcome.

  Peer jobctl(context_, endpoint_);
  v1::AdminRequest delayed;
  delayed.mutable_enqueue()->set_kind("noop");
  delayed.mutable_enqueue()->set_queue("later");
  delayed.mutable_enqueue()->set_delay_ms(3'600'000);
  jobctl.Send(AdminEnvelope(delayed, Secret(), 1));
  auto reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->admin_reply().enqueue().job().state(), "scheduled") << reply->DebugString();
  const int64_t delayed_id = reply->admin_reply().enqueue().job().id();

  v1::AdminRequest now;
  now.mutable_enqueue()->set_kind("noop");
  jobctl.Send(AdminEnvelope(now, Secret(), 2));
  reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->admin_reply().enqueue().job().state(), "available") << reply->DebugString();
  auto d = worker.ReceiveQueueDispatch();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->dispatch().max_jobs(), 1);
  ASSERT_EQ(d->dispatch().queues_size(), 1);
  EXPECT_EQ(d->dispatch().queues(0), "default");

  // Retrying the delayed job makes it available now: dispatched too.
  v1::AdminRequest retry;
  retry.mutable_retry()->set_job_id(delayed_id);
  jobctl.Send(AdminEnvelope(retry, Secret(), 3));
  reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->admin_reply().retry().state(), "available") << reply->DebugString();
  d = worker.ReceiveQueueDispatch();
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->dispatch().queues_size(), 1);
  EXPECT_EQ(d->dispatch().queues(0), "later");
}

TEST_F(RouterServerTest, AnEmptyWorkerListIsStillAWorkersReply) {
  Peer jobctl(context_, endpoint_);
  v1::AdminRequest workers;
  workers.mutable_workers();
  jobctl.Send(AdminEnvelope(workers, Secret(), 7));
  auto reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->admin_reply().has_workers());
  EXPECT_EQ(reply->admin_reply().workers().workers_size(), 0);
}

TEST_F(RouterServerTest, WorkersOfOtherReplicasComeFromTheDirectory) {
  // "far" said hello to another replica, which published it; "near" is ours.
  db::Connection conn(db::ConnectionConfig{.url = db_.url()});
  db::WorkerDirectory directory(conn);
  db::WorkerRow far;
  far.worker_id = "far";
  far.host = "elsewhere";
  far.pid = 7;
  far.queues = {"default"};
  far.slots = 8;
  far.free_slots = 5;
  far.last_seen = std::chrono::system_clock::now();
  ASSERT_TRUE(directory.Publish(std::vector<db::WorkerRow>{far}, "other-replica", far.last_seen).has_value());
  auto near = Worker("near", 2);

  Peer jobctl(context_, endpoint_);
  v1::AdminRequest workers;
  workers.mutable_workers();
  jobctl.Send(AdminEnvelope(workers, Secret(), 45));
  auto reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  const auto& listed = reply->admin_reply().workers().workers();
  ASSERT_EQ(listed.size(), 2) << reply->DebugString();
  EXPECT_EQ(listed[0].worker_id(), "far");
  EXPECT_EQ(listed[0].host(), "elsewhere");
  EXPECT_EQ(listed[0].slots(), 8);
  EXPECT_EQ(listed[0].free_slots(), 5);
  EXPECT_EQ(listed[1].worker_id(), "near");
}

TEST_F(RouterServerTest, AdminErrorsComeBackAsCodes) {
  Peer jobctl(context_, endpoint_);
  v1::AdminRequest show;
  show.mutable_show()->set_job_id(999'999);
  jobctl.Send(AdminEnvelope(show, Secret(), 1));
  auto reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->admin_reply().error().code(), v1::NOT_FOUND);

  v1::AdminRequest bad;
  bad.mutable_enqueue()->set_kind("'); DROP TABLE jobs;--");
  jobctl.Send(AdminEnvelope(bad, Secret(), 2));
  reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->admin_reply().error().code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(reply->admin_reply().error().message().find("kind"), std::string::npos);
}

TEST_F(RouterServerTest, RefusesAWrongSecretAndAReplay) {
  Peer jobctl(context_, endpoint_);
  v1::AdminRequest enqueue;
  enqueue.mutable_enqueue()->set_kind("noop");
  jobctl.Send(AdminEnvelope(enqueue, Secret("not-the-secret-but-long-enough"), 1));
  auto reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->admin_reply().error().code(), v1::UNAUTHENTICATED);

  const v1::Envelope once = AdminEnvelope(enqueue, Secret(), 2);
  jobctl.Send(once);
  reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(reply->admin_reply().has_enqueue());
  jobctl.Send(once);
  reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->admin_reply().error().code(), v1::UNAUTHENTICATED);
  EXPECT_NE(reply->admin_reply().error().message().find("replay"), std::string::npos);

  // Exactly one job came of it.
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM chime.jobs_all")[0][0].as<int>(), 1);
}

TEST_F(RouterServerTest, GarbageIsAnsweredWithAnErrorAndOthersKeepBeingServed) {
  Peer hostile(context_, endpoint_);
  hostile.SendRaw("GET / HTTP/1.1\r\n\r\n");
  auto error = hostile.ReceiveBody(v1::Envelope::kError);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error().code(), v1::INVALID_ARGUMENT);

  // A 10,000-part message is dropped whole.
  for (int i = 0; i < 9'999; ++i) hostile.socket().send(zmq::str_buffer("x"), zmq::send_flags::sndmore);
  hostile.socket().send(zmq::str_buffer("x"));
  // An out-of-range hello is refused with the field named.
  hostile.Send(HelloEnvelope("bad", 99));
  error = hostile.ReceiveBody(v1::Envelope::kError);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->error().message().find("hello.free_slots"), std::string::npos);

  auto good = Worker("good", 1);
  InsertAsApplication("default", 1);
  EXPECT_TRUE(good->ReceiveQueueDispatch().has_value());
}

TEST_F(RouterServerTest, AnUnknownSenderIsAskedToSayHelloAgain) {
  Peer stranger(context_, endpoint_);
  v1::Envelope capacity;
  capacity.mutable_capacity()->set_worker_id("w9");
  capacity.mutable_capacity()->set_free_slots(1);
  stranger.Send(capacity);
  EXPECT_TRUE(stranger.ReceiveBody(v1::Envelope::kReconnect).has_value());
}

class RouterServerCurveTest : public RouterServerTest {
 protected:
  RouterServerCurveTest() {
    allowed_ = net::CurveGenerateKeyPair().value();
    curve_ = net::CurveServerConfig{net::CurveGenerateKeyPair().value(), {allowed_.public_key}};
  }

  std::unique_ptr<Peer> CurvePeer(const net::CurveKeyPair& keys) {
    auto peer = std::make_unique<Peer>(context_);
    net::CurveApplyClient(peer->socket(), net::CurveClientConfig{curve_->server.public_key, keys});
    peer->socket().connect(endpoint_);
    return peer;
  }

  net::CurveKeyPair allowed_;
};

TEST_F(RouterServerCurveTest, OnlyAListedKeyCanTalkToTheScheduler) {
  auto stranger = CurvePeer(net::CurveGenerateKeyPair().value());
  stranger->Send(HelloEnvelope("stranger", 1));
  v1::AdminRequest enqueue;
  enqueue.mutable_enqueue()->set_kind("noop");
  stranger->Send(AdminEnvelope(enqueue, Secret(), 1));  // Even with the right admin secret.
  ASSERT_TRUE(chime::testing::WaitUntil("the ZAP handler to refuse the stranger",
                                        [&] { return zap_->refused() >= 1; }, std::chrono::seconds(10)));

  auto friendly = CurvePeer(allowed_);
  friendly->Send(HelloEnvelope("friend", 1));
  ASSERT_TRUE(friendly->ReceiveBody(v1::Envelope::kHelloAck).has_value());
  v1::AdminRequest workers;
  workers.mutable_workers();
  friendly->Send(AdminEnvelope(workers, Secret(), 2));
  auto reply = friendly->ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->admin_reply().workers().workers_size(), 1);
  EXPECT_EQ(reply->admin_reply().workers().workers(0).worker_id(), "friend");
  pqxx::connection c(db_.url());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM chime.jobs_all")[0][0].as<int>(), 0);
}

}  // namespace
}  // namespace chime::scheduler
