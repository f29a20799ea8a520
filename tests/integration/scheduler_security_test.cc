// The running chime-scheduler against hostile peers: garbage, truncated
// and oversized frames are dropped while jobctl keeps being served; a
// replayed signed request is refused; with CURVE on, a jobctl or worker
// whose key is not on the allowlist cannot talk to it at all, while listed
// ones work as usual.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/net/curve.h"
#include "common/wire/envelope.h"
#include "tests/integration/cluster.h"
#include "tests/support/zmq_peer.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

wire::AdminSecret ClusterSecret() { return wire::AdminSecret::FromString(kClusterSecret).value(); }

TEST(SchedulerSecurityTest, HostileFramesAreDroppedAndEveryoneElseIsServed) {
  Cluster cluster;
  cluster.StartScheduler();
  zmq::context_t context;
  Peer hostile(context, cluster.endpoint());
  hostile.SendRaw("GET / HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(hostile.ReceiveBody(v1::Envelope::kError).has_value());

  // A valid envelope cut short, one over the size limit (the scheduler's
  // socket disconnects that peer), and a 10,000-part message.
  v1::AdminRequest stats;
  stats.mutable_stats();
  const std::string whole = wire::EncodeEnvelope(AdminEnvelope(stats, ClusterSecret(), 1));
  hostile.SendRaw(whole.substr(0, whole.size() / 2));
  EXPECT_TRUE(hostile.ReceiveBody(v1::Envelope::kError).has_value());
  for (int i = 0; i < 9'999; ++i) hostile.socket().send(zmq::str_buffer("x"), zmq::send_flags::sndmore);
  hostile.socket().send(zmq::str_buffer("x"));
  Peer oversized(context, cluster.endpoint());
  oversized.SendRaw(std::string(wire::kMaxFrameBytes + 1, 'x'));

  auto served = cluster.Jobctl({"enqueue", "noop", "--json"});
  EXPECT_EQ(served.exit_code, 0) << served.output;
  EXPECT_TRUE(cluster.scheduler().running()) << cluster.scheduler().log();
  EXPECT_EQ(cluster.Int("SELECT count(*) FROM chime.jobs_all"), 1);
}

TEST(SchedulerSecurityTest, AReplayedRequestIsRefusedAndChangesNothing) {
  Cluster cluster;
  cluster.StartScheduler();
  zmq::context_t context;
  Peer jobctl(context, cluster.endpoint());
  v1::AdminRequest enqueue;
  enqueue.mutable_enqueue()->set_kind("noop");
  const v1::Envelope once = AdminEnvelope(enqueue, ClusterSecret(), 7);
  jobctl.Send(once);
  auto first = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->admin_reply().has_enqueue()) << first->DebugString();
  jobctl.Send(once);
  auto replay = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
  ASSERT_TRUE(replay.has_value());
  EXPECT_EQ(replay->admin_reply().error().code(), v1::UNAUTHENTICATED);
  EXPECT_EQ(cluster.Int("SELECT count(*) FROM chime.jobs_all"), 1);
}

class CurveClusterTest : public ::testing::Test {
 protected:
  CurveClusterTest() : dir_(std::filesystem::temp_directory_path() / ("chime-curve-" + std::to_string(getpid()))) {
    std::filesystem::create_directories(dir_);
    server_ = net::CurveGenerateKeyPair().value();
    listed_ = net::CurveGenerateKeyPair().value();
    unlisted_ = net::CurveGenerateKeyPair().value();
    Write("server.keys", server_.public_key + "\n" + server_.secret_key + "\n");
    Write("listed.keys", listed_.public_key + "\n" + listed_.secret_key + "\n");
    Write("unlisted.keys", unlisted_.public_key + "\n" + unlisted_.secret_key + "\n");
    Write("allowed", "# jobctl and workers\n" + listed_.public_key + "\n");
  }
  ~CurveClusterTest() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    std::filesystem::permissions(dir_ / name, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }

  std::map<std::string, std::string> ClientEnv(const std::string& keys) {
    return {{"CHIME_CURVE_SERVER_PUBLIC_KEY", server_.public_key},
            {"CHIME_CURVE_CLIENT_KEYPAIR_FILE", (dir_ / keys).string()}};
  }

  std::filesystem::path dir_;
  net::CurveKeyPair server_, listed_, unlisted_;
};

TEST_F(CurveClusterTest, OnlyListedKeysReachTheScheduler) {
  Cluster cluster;
  cluster.StartScheduler({}, {{"CHIME_CURVE_SERVER_KEYPAIR_FILE", (dir_ / "server.keys").string()},
                              {"CHIME_CURVE_ALLOWED_KEYS_FILE", (dir_ / "allowed").string()}});

  // A listed worker says hello (StartWorker waits for it) and runs the
  // job that a listed jobctl enqueues.
  cluster.StartWorker("listed", {}, ClientEnv("listed.keys"));
  auto listed = cluster.Jobctl({"enqueue", "noop", "--wait", "--wait-timeout", "60s"}, ClientEnv("listed.keys"));
  EXPECT_EQ(listed.exit_code, 0) << listed.output;

  auto unlisted = cluster.Jobctl({"enqueue", "noop"}, ClientEnv("unlisted.keys"));
  EXPECT_EQ(unlisted.exit_code, 5) << unlisted.output;
  auto plain = cluster.Jobctl({"enqueue", "noop"});
  EXPECT_EQ(plain.exit_code, 5) << plain.output;
  EXPECT_EQ(unlisted.output.find(unlisted_.secret_key), std::string::npos) << "secret key printed";
  EXPECT_EQ(cluster.Int("SELECT count(*) FROM chime.jobs_all"), 1);
  const std::string log = cluster.scheduler().log();
  EXPECT_EQ(log.find(server_.secret_key), std::string::npos) << "secret key logged";
  EXPECT_EQ(log.find(unlisted_.secret_key), std::string::npos);
}

}  // namespace
}  // namespace chime::testing
