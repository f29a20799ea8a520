// A real chime-worker is killed (SIGKILL) while it delivers a capacity
// webhook, after the correction committed: another worker's deliver_webhooks
// job delivers the webhook, with the webhook id of the lost attempt.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/db/connection.h"
#include "common/db/migrations.h"
#include "common/http/webhook.h"
#include "tests/integration/cluster.h"
#include "tests/support/http_test_server.h"
#include "common/app/app_schema.h"

namespace chime::worker::kinds {
namespace {

using chime::testing::Cluster;
using chime::testing::kClusterWaitBound;
using chime::testing::WaitUntil;

constexpr char kSecretEnv[] = "CHIME_TEST_CRASH_WEBHOOK_SECRET";
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

TEST(WebhookOutboxCrashTest, AWorkerKilledMidDeliveryLosesNoWebhook) {
  Cluster cluster;
  {
    db::Connection conn(db::ConnectionConfig{.url = cluster.db().url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
    ASSERT_TRUE(app::ApplyAppSchema(conn).has_value());
  }
  // Exam 1 stores 8 bookings and has 7.
  cluster.db().Exec("INSERT INTO chime_app.exams (id, exam_date, mock_type, booking_count) "
                    "VALUES (1, date '2026-03-01', 'Mock Discussion', 8)");
  cluster.db().Exec("INSERT INTO chime_app.bookings (id, exam_id) SELECT g, 1 FROM generate_series(1, 7) g");

  chime::testing::HttpTestServer server;
  server.Enqueue({.status = 200, .headers = {}, .body = "", .hold = true});  // Never answered.
  const std::filesystem::path kinds =
      std::filesystem::temp_directory_path() / ("chime-outbox-crash-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(kinds);
    out << "capacity_webhook:\n  url: " << server.Url("/hooks/capacity") << "\n  secret: env:" << kSecretEnv
        << "\n  auth: standard-webhooks\n  timeout: 30s\nhttp:\n  allow:\n    - 127.0.0.1/32\n";
  }
  const std::map<std::string, std::string> env{{kSecretEnv, kSecret}};
  auto& first = cluster.StartWorker("outbox-crash-1", {"--kinds-config", kinds.string()}, env);
  cluster.db().Exec("INSERT INTO chime.jobs (kind, payload) VALUES ('reconcile_exam_capacity', '{}')");

  // The webhook is on the wire, so the correction has committed.
  ASSERT_TRUE(server.WaitForRequests(1)) << first.log();
  EXPECT_EQ(cluster.Int("SELECT booking_count FROM chime_app.exams WHERE id = 1"), 7);
  EXPECT_EQ(cluster.Int("SELECT count(*) FROM chime.webhook_outbox WHERE delivered_at IS NULL"), 1);
  EXPECT_EQ(cluster.Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'deliver_webhooks' AND state = 'scheduled'"), 1);
  first.Signal(SIGKILL);
  ASSERT_TRUE(first.Wait(std::chrono::seconds(30)).has_value());
  server.Release();

  // Time passes: the delivery job's first run and the dead attempt's lease
  // on the row come due (the test moves them instead of waiting).
  cluster.db().Exec("UPDATE chime.jobs SET run_at = now() WHERE kind = 'deliver_webhooks'");
  cluster.db().Exec("UPDATE chime.webhook_outbox SET not_before = now()");
  auto& second = cluster.StartWorker("outbox-crash-2", {"--kinds-config", kinds.string()}, env);
  EXPECT_TRUE(WaitUntil([&] {
    return cluster.Text("SELECT state FROM chime.jobs_all WHERE kind = 'deliver_webhooks'") == "succeeded";
  }, kClusterWaitBound)) << second.log();
  std::filesystem::remove(kinds);

  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("webhook-id"), requests[1].Header("webhook-id"));
  EXPECT_EQ(requests[0].body, requests[1].body);
  auto key = http::WebhookKey::FromSecret(http::Secret(kSecret));
  ASSERT_TRUE(key.has_value());
  const auto& r = requests[1];
  EXPECT_TRUE(chime::testing::VerifyWebhook(*key, r, std::chrono::system_clock::now()).has_value());
  EXPECT_EQ(nlohmann::json::parse(r.body)["examId"], "1");
  EXPECT_EQ(cluster.Text("SELECT attempts || ' ' || (delivered_at IS NOT NULL) FROM chime.webhook_outbox"),
            "2 true");
}

}  // namespace
}  // namespace chime::worker::kinds
