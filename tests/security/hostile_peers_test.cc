// Issue 18, finding 6: unauthenticated ZeroMQ peers against a real
// chime-scheduler (CURVE off, as in the tests' own clusters). Before the
// fix a peer could register any number of made-up workers (400 hellos: 401
// rows in chime.workers, dispatch steered to the fakes), forge log lines
// through newlines in worker ids and goodbye reasons, and grow the log by
// 38 MiB with ten 4 MiB goodbyes. Now ids and reasons must be printable and
// short, registration is capped (per scheduler, per peer address), and the
// lines peers cause are rate-limited.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <ranges>
#include <string>
#include <vector>

#include "tests/integration/cluster.h"
#include "tests/support/zmq_peer.h"

namespace chime::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

v1::Envelope Goodbye(const std::string& worker_id, const std::string& reason) {
  v1::Envelope e;
  e.mutable_goodbye()->set_worker_id(worker_id);
  e.mutable_goodbye()->set_reason(reason);
  return e;
}

// Lines of `log` that contain `needle`.
size_t LinesWith(const std::string& log, const std::string& needle) {
  size_t n = 0;
  for (const auto& line : std::views::split(log, '\n')) {
    if (std::string_view(line.begin(), line.end()).find(needle) != std::string_view::npos) ++n;
  }
  return n;
}

class HostilePeersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Hundreds of sockets in this process.
    rlimit lim{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
    lim.rlim_cur = lim.rlim_max;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  }

  // The real worker runs a job jobctl enqueues and waits for. (Fakes with
  // more free slots may take the dispatch hint: then the worker's polling
  // finds the job. Only CURVE keeps fakes out; docs/THREAT_MODEL.md.)
  void ExpectRealWorkerServed(const std::string& worker_id) {
    auto run = cluster_.Jobctl({"enqueue", "noop", "--wait", "--wait-timeout", "60s"});
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.runs WHERE worker_id = '" + worker_id +
                           "' AND outcome = 'succeeded' AND job_id = (SELECT max(id) FROM chime.jobs_all)"),
              1);
  }

  Cluster cluster_;
  zmq::context_t context_;
};

TEST_F(HostilePeersTest, IdsAndReasonsThatWouldForgeOrFloodTheLogAreRefusedWithAClearError) {
  ChildProcess& scheduler = cluster_.StartScheduler();
  const std::string forged = "2026-11-25T00:00:00.000Z info [chime-scheduler] job 1 (noop) finished: succeeded";
  Peer peer(context_, cluster_.endpoint());

  // A newline (or any control character) in an id: refused, and said why.
  peer.Send(HelloEnvelope("w1\n" + forged, 4));
  auto reply = peer.ReceiveBody(v1::Envelope::kError);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error().code(), v1::INVALID_ARGUMENT);
  EXPECT_TRUE(reply->error().message().starts_with("hello.worker_id: must be printable")) << reply->error().message();
  for (const std::string& bad : {std::string("tab\there"), std::string("esc\x1b[2J"), std::string("nel\xC2\x85")}) {
    Peer other(context_, cluster_.endpoint());
    other.Send(HelloEnvelope(bad, 4));
    auto r = other.ReceiveBody(v1::Envelope::kError);
    ASSERT_TRUE(r.has_value()) << bad;
    EXPECT_TRUE(r->error().message().starts_with("hello.worker_id:")) << r->error().message();
  }

  // A registered peer's goodbye: a forged line in the reason, then ten
  // reasons of 4 MiB each. Each is refused.
  Peer worker(context_, cluster_.endpoint());
  worker.Send(HelloEnvelope("w-real", 0));
  ASSERT_TRUE(worker.ReceiveBody(v1::Envelope::kHelloAck).has_value());
  worker.Send(Goodbye("w-real", "SIGTERM\n" + forged));
  reply = worker.ReceiveBody(v1::Envelope::kError);
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->error().message().starts_with("goodbye.reason: must be printable")) << reply->error().message();
  const size_t log_before = scheduler.log().size();
  for (int i = 0; i < 10; ++i) {
    Peer p(context_, cluster_.endpoint());
    p.Send(Goodbye("w-real", std::string(4 * 1024 * 1024 - 4096, 'x')));
    auto r = p.ReceiveBody(v1::Envelope::kError);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->error().message(), "goodbye.reason: longer than 256 bytes");
  }
  // A well-formed goodbye after all that is still taken.
  worker.Send(Goodbye("w-real", "SIGTERM"));
  ASSERT_TRUE(WaitUntil([&] { return scheduler.log().find("worker w-real is draining (SIGTERM)") != std::string::npos; }, kClusterWaitBound))
      << scheduler.log();

  const std::string log = scheduler.log();
  EXPECT_LT(log.size() - log_before, 64u * 1024) << "ten 4 MiB goodbyes grew the log by " << log.size() - log_before;
  for (const auto& line : std::views::split(log, '\n')) {
    EXPECT_FALSE(std::string_view(line.begin(), line.end()).starts_with("2026-11-25T00:00:00.000Z"))
        << "a peer forged a log line:\n" << log;
  }
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.workers WHERE id LIKE '%' || chr(10) || '%'"), 0);
  EXPECT_TRUE(scheduler.running());
}

TEST_F(HostilePeersTest, AHelloFloodIsCappedAndTheRealWorkerKeepsItsPlace) {
  // The fakes never heartbeat: keep them registered for the whole test.
  ChildProcess& scheduler = cluster_.StartScheduler({"--forget-after-ms", "600000"});
  cluster_.StartWorker("w-real");
  // 400 made-up workers from this one address, each with 1,000 free slots
  // to steer dispatch to itself. The defaults allow 64 from one address.
  std::vector<std::unique_ptr<Peer>> fakes;
  int acked = 0, refused = 0;
  std::string refusal;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 400; ++i) {
    auto& p = fakes.emplace_back(std::make_unique<Peer>(context_, cluster_.endpoint()));
    v1::Envelope hello = HelloEnvelope("fake-" + std::to_string(i), 4);
    hello.mutable_hello()->set_slots(1000);
    hello.mutable_hello()->set_free_slots(1000);
    p->Send(std::move(hello));
    auto reply = p->Receive();
    ASSERT_TRUE(reply.has_value()) << "no answer to hello " << i;
    if (reply->has_hello_ack()) ++acked;
    if (reply->has_error()) {
      ++refused;
      refusal = reply->error().message();
      EXPECT_EQ(reply->error().code(), v1::UNAVAILABLE);
    }
  }
  const auto elapsed = std::chrono::duration_cast<seconds>(std::chrono::steady_clock::now() - start).count();
  std::printf("400 hellos in %lld s: %d registered, %d refused\n", static_cast<long long>(elapsed), acked, refused);
  EXPECT_EQ(acked, 63);  // 64 from 127.0.0.1, the real worker included.
  EXPECT_EQ(refused, 400 - 63);
  EXPECT_EQ(refusal, "worker limit reached: at most 64 workers from one address (--max-workers-per-address)");
  // The directory shows no more than the cap.
  ASSERT_TRUE(WaitUntil([&] { return cluster_.Int("SELECT count(*) FROM chime.workers") == 64; }, kClusterWaitBound))
      << cluster_.Int("SELECT count(*) FROM chime.workers");

  // The refusals were logged at the peer-error rate, with the count of
  // those left out.
  EXPECT_LE(LinesWith(scheduler.log(), "refusing worker fake-"), 10u + static_cast<size_t>(elapsed) + 1);
  ASSERT_TRUE(WaitUntil([&] {
    return scheduler.log().find("similar messages suppressed") != std::string::npos;
  }, kClusterWaitBound)) << scheduler.log();

  // The real worker keeps its place in the registry and runs jobs.
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.workers WHERE id = 'w-real'"), 1);
  ExpectRealWorkerServed("w-real");
  EXPECT_TRUE(scheduler.running());
}

TEST_F(HostilePeersTest, GarbageFromManyConnectionsIsLoggedAtABoundedRate) {
  ChildProcess& scheduler = cluster_.StartScheduler();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Peer>> peers;
  for (int i = 0; i < 300; ++i) {
    auto& p = peers.emplace_back(std::make_unique<Peer>(context_, cluster_.endpoint()));
    p->SendRaw("not an envelope " + std::to_string(i));
    ASSERT_TRUE(p->ReceiveBody(v1::Envelope::kError).has_value());
  }
  const auto elapsed = std::chrono::duration_cast<seconds>(std::chrono::steady_clock::now() - start).count();
  // Each connection is a new peer (logged once per peer before): a burst of
  // 10, then one a second, whatever the pace of the flood.
  const size_t lines = LinesWith(scheduler.log(), "dropping a message from peer");
  std::printf("300 garbage frames in %lld s: %zu lines\n", static_cast<long long>(elapsed), lines);
  EXPECT_LE(lines, 10u + static_cast<size_t>(elapsed) + 1) << scheduler.log();
  EXPECT_GE(lines, 10u);
  ASSERT_TRUE(WaitUntil([&] {
    return scheduler.log().find("frame: ") != std::string::npos &&
           scheduler.log().find("similar messages suppressed") != std::string::npos;
  }, kClusterWaitBound)) << scheduler.log();
}

}  // namespace
}  // namespace chime::testing
