// Replay protection of signed admin requests is cluster-wide and durable:
// a recorded `jobctl enqueue` frame is accepted once, then refused by
// another replica and by the first one after a restart (each used to keep
// the nonces it had seen in its own memory only, so every replica and every
// restart accepted the recording again).
#include <gtest/gtest.h>

#include <csignal>

#include "common/wire/envelope.h"
#include "tests/integration/cluster.h"
#include "tests/support/zmq_peer.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

// Sends the recorded frame to `endpoint` and returns the admin reply.
std::optional<v1::AdminReply> Replay(zmq::context_t& context, const std::string& endpoint,
                                     const std::string& frame) {
  Peer peer(context, endpoint);
  peer.SendRaw(frame);
  auto reply = peer.ReceiveBody(v1::Envelope::kAdminReply);
  if (!reply) return std::nullopt;
  return reply->admin_reply();
}

TEST(AdminReplayTest, ARecordedRequestIsRefusedByOtherReplicasAndAfterARestart) {
  Cluster cluster;
  cluster.StartScheduler();
  std::string endpoint_b;
  ChildProcess& replica_b = cluster.StartReplica(endpoint_b);

  v1::AdminRequest enqueue;
  enqueue.mutable_enqueue()->set_kind("noop");
  const std::string recorded = wire::EncodeEnvelope(
      AdminEnvelope(enqueue, wire::AdminSecret::FromString(kClusterSecret).value(), 7));
  zmq::context_t context;

  auto first = Replay(context, cluster.endpoint(), recorded);
  ASSERT_TRUE(first.has_value()) << cluster.scheduler().log();
  ASSERT_TRUE(first->has_enqueue()) << first->DebugString();

  auto on_b = Replay(context, endpoint_b, recorded);
  ASSERT_TRUE(on_b.has_value()) << replica_b.log();
  EXPECT_EQ(on_b->error().code(), v1::UNAUTHENTICATED) << on_b->DebugString();
  EXPECT_NE(on_b->error().message().find("replay"), std::string::npos) << on_b->DebugString();

  cluster.scheduler().Signal(SIGTERM);
  ASSERT_TRUE(cluster.scheduler().Wait(seconds(30)).has_value());
  cluster.StartScheduler();  // Same endpoint, fresh memory.
  auto after_restart = Replay(context, cluster.endpoint(), recorded);
  ASSERT_TRUE(after_restart.has_value()) << cluster.scheduler().log();
  EXPECT_EQ(after_restart->error().code(), v1::UNAUTHENTICATED) << after_restart->DebugString();

  EXPECT_EQ(cluster.Int("SELECT count(*) FROM chime.jobs_all"), 1);
}

}  // namespace
}  // namespace chime::testing
