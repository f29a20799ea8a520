// ZmqBackend against a scripted ROUTER standing in for the scheduler: one
// connection serves every call, and a request that went unanswered is not
// delivered late once a scheduler appears at that address.
#include "jobctl/zmq_backend.h"

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <vector>

#include <zmq_addon.hpp>

#include "common/wire/envelope.h"

namespace chime::jobctl {
namespace {

using std::chrono::milliseconds;

constexpr const char* kSecret = "zmq-backend-test-secret-0123456789";

struct Received {
  std::string routing_id;
  v1::AdminRequest request;
};

// A ROUTER that answers each enqueue with a job whose id counts up, and a
// show with the job asked for.
class FakeScheduler {
 public:
  FakeScheduler(zmq::context_t& context, const std::string& endpoint)
      : router_(context, zmq::socket_type::router) {
    router_.set(zmq::sockopt::linger, 0);
    router_.bind(endpoint);
  }

  std::string endpoint() { return router_.get(zmq::sockopt::last_endpoint); }

  // Receives one request (waits up to `wait`) and answers it.
  std::optional<Received> ServeOne(milliseconds wait = milliseconds(10'000)) {
    zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, wait) == 0) return std::nullopt;
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(router_, std::back_inserter(parts)) || parts.size() != 2) return std::nullopt;
    auto envelope = wire::DecodeEnvelope(parts[1].to_string_view());
    if (!envelope) return std::nullopt;
    Received got{parts[0].to_string(), {}};
    if (!got.request.ParseFromString(envelope->admin_request().body())) return std::nullopt;
    v1::Envelope reply;
    reply.set_correlation_id(envelope->correlation_id());
    if (got.request.has_show()) {
      reply.mutable_admin_reply()->mutable_show()->mutable_job()->set_id(got.request.show().job_id());
    } else {
      auto* job = reply.mutable_admin_reply()->mutable_enqueue()->mutable_job();
      job->set_id(++next_id_);
      job->set_kind(got.request.enqueue().kind());
      job->set_state("available");
    }
    const std::string body = wire::EncodeEnvelope(std::move(reply));
    router_.send(zmq::buffer(got.routing_id), zmq::send_flags::sndmore);
    router_.send(zmq::buffer(body), zmq::send_flags::none);
    return got;
  }

 private:
  zmq::socket_t router_;
  int64_t next_id_ = 0;
};

ZmqBackend Backend(const std::string& endpoint, milliseconds timeout) {
  ZmqBackendConfig config;
  config.endpoints = {endpoint};
  config.timeout = timeout;
  return ZmqBackend(config, wire::AdminSecret::FromString(kSecret).value());
}

db::EnqueueParams Job(const std::string& kind) {
  db::EnqueueParams p;
  p.kind = kind;
  return p;
}

TEST(ZmqBackendTest, EveryCallTravelsOverTheSameConnection) {
  zmq::context_t context;
  FakeScheduler scheduler(context, "tcp://127.0.0.1:0");
  ZmqBackend backend = Backend(scheduler.endpoint(), milliseconds(10'000));
  std::vector<std::string> peers;
  for (int i = 1; i <= 3; ++i) {
    std::optional<Received> served;
    std::jthread serve([&] { served = scheduler.ServeOne(); });
    auto r = backend.Enqueue(Job("noop"));
    serve.join();
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(r->id, i);
    ASSERT_TRUE(served.has_value());
    peers.push_back(served->routing_id);
  }
  EXPECT_EQ(peers[1], peers[0]);
  EXPECT_EQ(peers[2], peers[0]);
}

TEST(ZmqBackendTest, AnUnansweredRequestIsNotDeliveredLate) {
  zmq::context_t context;
  std::string endpoint;
  {
    // A free port with no one on it yet.
    FakeScheduler probe(context, "tcp://127.0.0.1:0");
    endpoint = probe.endpoint();
  }
  ZmqBackend backend = Backend(endpoint, milliseconds(1'000));
  auto lost = backend.Enqueue(Job("first"));
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);

  // The scheduler comes up: the next call is answered, and the first one,
  // whose caller was told it failed, never reaches it (a socket that kept
  // it queued would deliver it ahead of the second).
  FakeScheduler scheduler(context, endpoint);
  std::vector<std::string> kinds;
  std::jthread serve([&] {
    while (kinds.empty() || kinds.back() != "second") {
      auto got = scheduler.ServeOne();
      if (!got) return;
      kinds.push_back(got->request.enqueue().kind());
    }
  });
  auto second = backend.Enqueue(Job("second"));
  serve.join();
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(kinds, std::vector<std::string>{"second"});
}

// A replica that took the request and did not answer in time may have
// acted on it: an enqueue (admin::Enqueue::kSendOnce) is not sent to the
// next replica, where it could make a second job; a read is.
TEST(ZmqBackendTest, AnEnqueueThatMayHaveArrivedIsNotSentToTheNextReplica) {
  zmq::context_t context;
  FakeScheduler silent(context, "tcp://127.0.0.1:0");  // Takes requests, never answers.
  FakeScheduler next(context, "tcp://127.0.0.1:0");
  ZmqBackendConfig config;
  config.endpoints = {silent.endpoint(), next.endpoint()};
  config.timeout = milliseconds(1'000);
  ZmqBackend backend(config, wire::AdminSecret::FromString(kSecret).value());

  std::vector<v1::AdminRequest::CommandCase> reached;
  std::jthread serve([&] {
    while (reached.empty() || reached.back() != v1::AdminRequest::kShow) {
      auto got = next.ServeOne();
      if (!got) return;
      reached.push_back(got->request.command_case());
    }
  });
  auto enqueued = backend.Enqueue(Job("once"));
  ASSERT_FALSE(enqueued.has_value());
  EXPECT_EQ(enqueued.error().code, ErrorCode::kUnavailable);
  auto shown = backend.Show(17);
  serve.join();
  ASSERT_TRUE(shown.has_value()) << shown.error().ToString();
  EXPECT_EQ(shown->job.id, 17);
  // The next replica's one connection saw the show and nothing before it.
  EXPECT_EQ(reached, std::vector<v1::AdminRequest::CommandCase>{v1::AdminRequest::kShow});
}

}  // namespace
}  // namespace chime::jobctl
