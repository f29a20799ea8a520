// Issue 17 point 3 at the entry points a person or a program reaches without
// jobctl's own checks: the scheduler's signed admin API (enqueue, schedule
// create and update, as any ZeroMQ client may send them), the schedule file
// a scheduler loads at start, and the job store under an application's
// enqueue. A payload carrying a credential is refused at each, naming the
// field, never quoting the secret, and nothing is stored.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "common/db/migrations.h"
#include "common/wire/schedule_convert.h"
#include "tests/integration/cluster.h"
#include "tests/support/zmq_peer.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

constexpr char kSentinel[] = "s3cr3t-sentinel-4411";

// Payloads each carrying the sentinel where a secret would sit.
std::vector<std::string> LeakyPayloads() {
  const std::string s = kSentinel;
  return {
      R"({"url": "https://app.example.com/api/integrations/cron", "headers": {"x-cron-key": ")" + s + R"("}})",
      R"({"url": "https://app.example.com/api/cron", "headers": {"Authorization": "Bearer )" + s + R"("}})",
      R"({"url": "https://app.example.com/api/cron", "auth": {"type": "bearer", "secret": ")" + s + R"("}})",
      R"({"url": "https://cron:)" + s + R"(@app.example.com/api/cron"})",
      R"({"url": "https://app.example.com/api/cron?token=)" + s + R"("})",
      R"({"url": "https://app.example.com/api/cron", "body": {"clientSecret": ")" + s + R"("}})",
  };
}

wire::AdminSecret ClusterSecret() { return wire::AdminSecret::FromString(kClusterSecret).value(); }

class PayloadSecretEntryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = cluster_.db().url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
  }

  // No table holds the sentinel.
  void ExpectNothingStored() {
    for (const char* table : {"chime.jobs", "chime.schedules", "chime.runs", "chime.fires"}) {
      EXPECT_EQ(cluster_.Int(std::string("SELECT count(*) FROM ") + table + " t WHERE t::text LIKE '%" + kSentinel +
                             "%'"),
                0)
          << table;
    }
    EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'http_request'"), 0);
    EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.schedules WHERE kind = 'http_request'"), 0);
  }

  v1::AdminReply Ask(Peer& peer, const v1::AdminRequest& request) {
    peer.Send(AdminEnvelope(request, ClusterSecret(), ++correlation_));
    auto reply = peer.ReceiveBody(v1::Envelope::kAdminReply);
    EXPECT_TRUE(reply.has_value());
    return reply ? reply->admin_reply() : v1::AdminReply{};
  }

  void ExpectRefused(const v1::AdminReply& reply, const std::string& what) {
    ASSERT_TRUE(reply.has_error()) << what << ": " << reply.DebugString();
    EXPECT_EQ(reply.error().code(), v1::INVALID_ARGUMENT) << what;
    EXPECT_NE(reply.error().message().find("payload: "), std::string::npos) << reply.error().message();
    EXPECT_EQ(reply.error().message().find(kSentinel), std::string::npos) << reply.error().message();
  }

  Cluster cluster_;
  uint64_t correlation_ = 0;
};

TEST_F(PayloadSecretEntryTest, TheAdminApiRefusesEnqueueCreateAndUpdate) {
  cluster_.StartScheduler();
  zmq::context_t context;
  Peer peer(context, cluster_.endpoint());
  // A schedule to update, created with a clean payload.
  schedule::ScheduleSpec clean{.name = "nightly-sync", .cron = "0 2 * * *", .kind = "http_request",
                               .payload = R"({"url": "https://app.example.com/api/integrations/cron"})"};
  v1::AdminRequest create_clean;
  *create_clean.mutable_schedule_create() = wire::ToProto(clean);
  ASSERT_TRUE(Ask(peer, create_clean).has_schedule());

  for (const std::string& payload : LeakyPayloads()) {
    v1::AdminRequest enqueue;
    enqueue.mutable_enqueue()->set_kind("http_request");
    enqueue.mutable_enqueue()->set_payload_json(payload);
    ExpectRefused(Ask(peer, enqueue), "enqueue " + payload);

    schedule::ScheduleSpec spec{.name = "leaky", .cron = "0 2 * * *", .kind = "http_request", .payload = payload};
    v1::AdminRequest create;
    *create.mutable_schedule_create() = wire::ToProto(spec);
    ExpectRefused(Ask(peer, create), "create " + payload);

    spec.name = clean.name;
    v1::AdminRequest update;
    *update.mutable_schedule_update() = wire::ToProto(spec);
    ExpectRefused(Ask(peer, update), "update " + payload);
  }
  EXPECT_EQ(cluster_.Text("SELECT payload::text FROM chime.schedules WHERE name = 'nightly-sync'"),
            R"({"url": "https://app.example.com/api/integrations/cron"})");
  cluster_.db().Exec("DELETE FROM chime.schedules");
  ExpectNothingStored();
}

TEST_F(PayloadSecretEntryTest, ASchedulerRefusesAScheduleFileCarryingASecret) {
  const std::string path = ::testing::TempDir() + "chime-leaky-schedules-" + RandomHex(8) + ".yaml";
  std::ofstream(path) << "schedules:\n"
                         "  - name: nightly-sync\n"
                         "    cron: \"0 2 * * *\"\n"
                         "    kind: http_request\n"
                         "    payload:\n"
                         "      url: https://app.example.com/api/integrations/cron\n"
                         "      method: POST\n"
                         "      headers: {x-cron-key: " << kSentinel << "}\n";
  ChildProcess scheduler({BinaryPath("scheduler/chime-scheduler"), "--schedules", path},
                         {{"CHIME_DATABASE_URL", cluster_.db().url()}, {"CHIME_ADMIN_SECRET", kClusterSecret}});
  ASSERT_TRUE(scheduler.Start());
  auto status = scheduler.Wait(seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  EXPECT_NE(scheduler.log().find("nightly-sync"), std::string::npos) << scheduler.log();
  EXPECT_NE(scheduler.log().find("headers.x-cron-key"), std::string::npos) << scheduler.log();
  EXPECT_EQ(scheduler.log().find(kSentinel), std::string::npos) << scheduler.log();
  std::filesystem::remove(path);
  ExpectNothingStored();
}

// An application's own enqueue through the job store (or jobctl straight to
// the database) meets the same check.
TEST_F(PayloadSecretEntryTest, TheJobStoreRefusesThem) {
  db::Connection conn(db::ConnectionConfig{.url = cluster_.db().url()});
  db::JobStore store(conn);
  for (const std::string& payload : LeakyPayloads()) {
    auto one = store.JobInsert(db::EnqueueParams{.kind = "http_request", .payload = payload});
    ASSERT_FALSE(one.has_value()) << payload;
    EXPECT_EQ(one.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(one.error().message.find(kSentinel), std::string::npos) << one.error().message;
    std::vector<db::EnqueueParams> many(600, db::EnqueueParams{.kind = "noop"});
    many[599] = db::EnqueueParams{.kind = "http_request", .payload = payload};
    EXPECT_FALSE(store.JobsInsertMany(many).has_value()) << payload;
  }
  auto direct = cluster_.Jobctl({"enqueue", "http_request", "--payload", LeakyPayloads()[0], "--database-url",
                                 cluster_.db().url()});
  EXPECT_EQ(direct.exit_code, 2) << direct.output;
  EXPECT_EQ(direct.output.find(kSentinel), std::string::npos) << direct.output;
  ExpectNothingStored();
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.jobs_all"), 0);
}

}  // namespace
}  // namespace chime::testing
