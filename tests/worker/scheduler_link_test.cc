// The worker's ZeroMQ link against a fake scheduler (a real ROUTER socket):
// hello, heartbeats and results arrive; a dispatch wakes the producer at
// once (the poll interval is an hour); garbage from the scheduler is
// dropped and the link keeps working.
#include <gtest/gtest.h>

#include <set>

#include <pqxx/pqxx>
#include <zmq.hpp>

#include "common/db/migrations.h"
#include "common/wire/envelope.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"
#include "worker/builtin_kinds.h"
#include "worker/worker.h"

namespace chime::worker {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class FakeScheduler {
 public:
  FakeScheduler() : socket_(context_, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:0");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }

  // The next message of the given kind (others skipped), with its sender.
  std::optional<std::pair<std::string, v1::Envelope>> Next(v1::Envelope::BodyCase body) {
    std::optional<std::pair<std::string, v1::Envelope>> got;
    EXPECT_TRUE(chime::testing::WaitUntil("a message of body case " + std::to_string(body), [&] {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, milliseconds(100)) == 0) return false;
      zmq::message_t id, frame;
      (void)socket_.recv(id);
      (void)socket_.recv(frame);
      auto e = wire::DecodeEnvelope(frame.to_string_view());
      EXPECT_TRUE(e.has_value()) << e.error().ToString();
      if (e && e->body_case() == body) got.emplace(id.to_string(), *e);
      return got.has_value();
    }));
    return got;
  }

  void Send(const std::string& to, const std::string& frame) {
    socket_.send(zmq::buffer(to), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(frame));
  }
  void Send(const std::string& to, v1::Envelope e) { Send(to, wire::EncodeEnvelope(std::move(e))); }

  const std::string& endpoint() const { return endpoint_; }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::string endpoint_;
};

class SchedulerLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
    RegisterBuiltinKinds(handlers_);
    config_.database_url = db_.url();
    config_.worker_id = "linked";
    config_.slots = 3;
    config_.schedulers = {scheduler_.endpoint()};
    config_.poll_interval = std::chrono::hours(1);  // Only a dispatch can start work.
    worker_ = std::make_unique<Worker>(config_, handlers_);
    auto ok = worker_->Start();
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  }

  void TearDown() override { worker_->Drain(); }

  chime::testing::TestDatabase db_;
  FakeScheduler scheduler_;
  HandlerRegistry handlers_;
  WorkerConfig config_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(SchedulerLinkTest, SaysHelloHeartbeatsRunsDispatchedJobsAndReportsResults) {
  auto hello = scheduler_.Next(v1::Envelope::kHello);
  ASSERT_TRUE(hello.has_value());
  const auto& [peer, h] = *hello;
  EXPECT_EQ(h.hello().worker_id(), "linked");
  EXPECT_EQ(h.hello().slots(), 3);
  EXPECT_EQ(h.hello().free_slots(), 3);
  EXPECT_EQ(h.hello().queues(0), "default");
  EXPECT_NE(std::find(h.hello().kinds().begin(), h.hello().kinds().end(), "noop"), h.hello().kinds().end());

  v1::Envelope ack;
  ack.mutable_hello_ack()->set_heartbeat_interval_ms(50);
  ack.mutable_hello_ack()->set_forget_after_ms(1000);
  ack.mutable_hello_ack()->set_scheduler_id("fake");
  scheduler_.Send(peer, ack);
  ASSERT_TRUE(scheduler_.Next(v1::Envelope::kHeartbeat).has_value());

  // Garbage from the "scheduler" is dropped; the link goes on.
  scheduler_.Send(peer, std::string("\xff\x00garbage", 9));

  // Polling is an hour away: only the dispatch can make this job run now.
  db_.Exec("INSERT INTO chime.jobs (kind) VALUES ('noop')");
  v1::Envelope dispatch;
  dispatch.mutable_dispatch()->set_max_jobs(1);
  scheduler_.Send(peer, dispatch);
  auto result = scheduler_.Next(v1::Envelope::kResult);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->second.result().outcome(), v1::SUCCEEDED);
  EXPECT_TRUE(result->second.result().accepted());
  EXPECT_EQ(result->second.result().kind(), "noop");
  EXPECT_EQ(db_.Scalar("SELECT state FROM chime.jobs_all"), "succeeded");
  EXPECT_GE(worker_->link().dispatches(), 1);
}

// The existing test's scheduler acks without result_batches (an older
// one): it gets one JobResult per attempt. One that sets it gets a batch.
TEST_F(SchedulerLinkTest, ASchedulerThatTakesBatchesGetsJobResults) {
  auto hello = scheduler_.Next(v1::Envelope::kHello);
  ASSERT_TRUE(hello.has_value());
  v1::Envelope ack;
  ack.mutable_hello_ack()->set_heartbeat_interval_ms(50);
  ack.mutable_hello_ack()->set_forget_after_ms(1000);
  ack.mutable_hello_ack()->set_scheduler_id("fake");
  ack.mutable_hello_ack()->set_result_batches(true);
  scheduler_.Send(hello->first, ack);
  ASSERT_TRUE(scheduler_.Next(v1::Envelope::kHeartbeat).has_value());

  db_.Exec("INSERT INTO chime.jobs (kind) SELECT 'noop' FROM generate_series(1, 5)");
  v1::Envelope dispatch;
  dispatch.mutable_dispatch()->set_max_jobs(5);
  scheduler_.Send(hello->first, dispatch);
  std::set<int64_t> reported;
  while (reported.size() < 5) {
    auto batch = scheduler_.Next(v1::Envelope::kResults);
    ASSERT_TRUE(batch.has_value());
    for (const v1::JobResult& r : batch->second.results().results()) {
      EXPECT_EQ(r.outcome(), v1::SUCCEEDED);
      EXPECT_TRUE(r.accepted());
      EXPECT_TRUE(reported.insert(r.job_id()).second) << "job " << r.job_id() << " reported twice";
    }
  }
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'"), "5");
}

TEST_F(SchedulerLinkTest, AReconnectRequestGetsAFreshHello) {
  auto hello = scheduler_.Next(v1::Envelope::kHello);
  ASSERT_TRUE(hello.has_value());
  v1::Envelope ack;
  ack.mutable_hello_ack()->set_heartbeat_interval_ms(50);
  ack.mutable_hello_ack()->set_forget_after_ms(1000);
  scheduler_.Send(hello->first, ack);
  ASSERT_TRUE(scheduler_.Next(v1::Envelope::kHeartbeat).has_value());
  v1::Envelope reconnect;
  reconnect.mutable_reconnect();
  scheduler_.Send(hello->first, reconnect);
  EXPECT_TRUE(scheduler_.Next(v1::Envelope::kHello).has_value());
}

TEST_F(SchedulerLinkTest, DrainingSaysGoodbye) {
  ASSERT_TRUE(scheduler_.Next(v1::Envelope::kHello).has_value());
  worker_->Drain();
  auto bye = scheduler_.Next(v1::Envelope::kGoodbye);
  ASSERT_TRUE(bye.has_value());
  EXPECT_EQ(bye->second.goodbye().worker_id(), "linked");
}

}  // namespace
}  // namespace chime::worker
