// sync_integration against a real PostgreSQL and a recording HTTP server on
// loopback (opened in the address policy for 127.0.0.1 only): what each
// answer writes, which failures are retried, the request's body and
// signature, dry runs and skips.
#include "worker/kinds/sync_integration.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/http/webhook.h"
#include "tests/support/http_test_server.h"
#include "tests/support/test_database.h"
#include "tests/worker/kinds/job_harness.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {
namespace {

using chime::testing::HttpTestServer;
using chime::testing::ScriptedResponse;
using testing::JobHarness;

constexpr const char* kSecretEnv = "CHIME_TEST_SYNC_SECRET";
// A Standard Webhooks secret is base64 (the reference library decodes it).
constexpr const char* kSecret = "c3luYy1zZWNyZXQtZm9yLXRlc3Rz";

class SyncIntegrationTest : public ::testing::Test {
 protected:
  SyncIntegrationTest() {
    ::setenv(kSecretEnv, kSecret, 1);
    db_.Exec(R"sql(
      INSERT INTO chime_app.users (id, email, active) VALUES (42, 'u@example.com', true), (43, 'v@example.com', false);
      INSERT INTO chime_app.integrations (user_id, provider, last_synced_at, needs_reauth, items_synced) VALUES
        (42, 'github', NULL, true, 3), (42, 'notion', NULL, false, 0), (43, 'github', NULL, false, 0))sql");
  }

  // github's endpoint on the test server; notion without an endpoint.
  AppConfig Config(AuthStyle auth = AuthStyle::kStandardWebhooks,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    AppConfig config = DefaultAppConfig();
    config.providers[0].endpoint = {.url = server_.Url("/sync/github"), .secret_ref = std::string("env:") + kSecretEnv,
                                    .auth = auth, .timeout = timeout};
    config.http_allow = {"127.0.0.1/32"};
    return config;
  }

  HandlerResult RunSync(SyncIntegration& handler, const std::string& provider = "github", int64_t user = 42,
                        testing::JobOptions options = {}) {
    return harness_.Run(handler, {{"userId", user}, {"provider", provider}, {"jobType", "scheduled-sync"},
                                  {"timeframeDays", 1}},
                        options);
  }

  // The github integration of user 42 as "last_synced_at set|needs_reauth|items_synced".
  std::string Row() {
    return db_.Scalar(
        "SELECT (last_synced_at IS NOT NULL)::text || '|' || needs_reauth::text || '|' || items_synced "
        "FROM chime_app.integrations WHERE user_id = 42 AND provider = 'github'");
  }

  static bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

  chime::testing::TestDatabase db_;
  JobHarness harness_{db_};
  HttpTestServer server_{"127.0.0.1"};
};

TEST_F(SyncIntegrationTest, ASuccessRecordsTheSyncAndTheItemCount) {
  server_.Enqueue({.status = 200, .body = R"({"items": 17})"});
  SyncIntegration handler(Config());
  const HandlerResult result = RunSync(handler);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.summary.dump();
  EXPECT_EQ(Row(), "true|false|17");
  EXPECT_EQ(result.summary["status"], "synced");
  EXPECT_EQ(result.summary["items"], 17);
  EXPECT_EQ(result.summary["userId"], 42);
  EXPECT_EQ(result.summary["provider"], "github");
  EXPECT_TRUE(result.summary["durationMs"].is_number_integer());
}

TEST_F(SyncIntegrationTest, TheRequestCarriesThePayloadAndAValidStandardWebhooksSignature) {
  SyncIntegration handler(Config());
  ASSERT_EQ(RunSync(handler).kind, HandlerResult::Kind::kSuccess);
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/sync/github");
  EXPECT_EQ(request.Header("content-type"), "application/json");
  const auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["userId"], 42);
  EXPECT_EQ(body["provider"], "github");
  EXPECT_EQ(body["jobType"], "scheduled-sync");
  EXPECT_EQ(body["timeframeDays"], 1);
  EXPECT_TRUE(body["since"].is_string());

  auto key = http::WebhookKey::FromSecret(http::Secret(kSecret));
  ASSERT_TRUE(key.has_value());
  auto verified = chime::testing::VerifyWebhook(*key, request, std::chrono::system_clock::now());
  EXPECT_TRUE(verified.has_value()) << verified.error().ToString();
  EXPECT_FALSE(request.Header("authorization").has_value());
}

TEST_F(SyncIntegrationTest, BearerAuthSendsTheSecretOnlyInTheHeader) {
  SyncIntegration handler(Config(AuthStyle::kBearer));
  const HandlerResult result = RunSync(handler);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  ASSERT_EQ(server_.Requests().size(), 1u);
  EXPECT_EQ(server_.Requests()[0].Header("authorization"), std::string("Bearer ") + kSecret);
  EXPECT_FALSE(Contains(result.summary.dump(), kSecret));
}

TEST_F(SyncIntegrationTest, UnauthorizedMarksNeedsReauthAndFailsPermanently) {
  db_.Exec("UPDATE chime_app.integrations SET needs_reauth = false WHERE user_id = 42 AND provider = 'github'");
  server_.Enqueue({.status = 401, .body = "token revoked"});
  SyncIntegration handler(Config());
  const HandlerResult result = RunSync(handler);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(result.retryable);
  EXPECT_EQ(Row(), "false|true|3");
  EXPECT_EQ(result.summary["httpStatus"], 401);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_TRUE(Contains(result.errors[0], "HTTP 401")) << result.errors[0];
  EXPECT_TRUE(Contains(result.errors[0], "needs re-authentication")) << result.errors[0];
}

TEST_F(SyncIntegrationTest, ForbiddenAlsoMarksNeedsReauth) {
  db_.Exec("UPDATE chime_app.integrations SET needs_reauth = false WHERE user_id = 42 AND provider = 'github'");
  server_.Enqueue({.status = 403});
  SyncIntegration handler(Config());
  const HandlerResult result = RunSync(handler);
  EXPECT_FALSE(result.retryable);
  EXPECT_EQ(Row(), "false|true|3");
}

TEST_F(SyncIntegrationTest, AServerErrorFailsRetryablyAndChangesNothing) {
  server_.Enqueue({.status = 503, .body = "busy"});
  SyncIntegration handler(Config());
  const HandlerResult result = RunSync(handler);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_TRUE(result.retryable);
  EXPECT_EQ(Row(), "false|true|3");
  EXPECT_EQ(result.summary["status"], "failed");
  EXPECT_EQ(result.summary["httpStatus"], 503);
}

TEST_F(SyncIntegrationTest, RateLimitingIsRetriedAndOtherClientErrorsAreNot) {
  server_.Enqueue({.status = 429});
  server_.Enqueue({.status = 404});
  SyncIntegration handler(Config());
  EXPECT_TRUE(RunSync(handler).retryable);
  const HandlerResult not_found = RunSync(handler);
  ASSERT_EQ(not_found.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(not_found.retryable);
  EXPECT_EQ(Row(), "false|true|3");
}

TEST_F(SyncIntegrationTest, ATimeoutFailsRetryably) {
  server_.Enqueue({.status = 200, .hold = true});
  SyncIntegration handler(Config(AuthStyle::kStandardWebhooks, std::chrono::milliseconds(200)));
  const HandlerResult result = RunSync(handler);
  server_.Release();
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_TRUE(result.retryable);
  EXPECT_EQ(Row(), "false|true|3");
}

TEST_F(SyncIntegrationTest, TheDefaultAddressPolicyRefusesLoopbackPermanently) {
  AppConfig config = Config();
  config.http_allow.clear();
  SyncIntegration handler(config);
  const HandlerResult result = RunSync(handler);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(result.retryable);
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(SyncIntegrationTest, ADryRunCallsNothingAndWritesNothing) {
  SyncIntegration handler(Config());
  const HandlerResult result = RunSync(handler, "github", 42, {.dry_run = true});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.summary.dump();
  EXPECT_EQ(result.summary["status"], "dry_run");
  EXPECT_EQ(result.summary["wouldCall"], server_.Url("/sync/github"));
  EXPECT_EQ(server_.Connections(), 0);
  EXPECT_EQ(Row(), "false|true|3");
}

TEST_F(SyncIntegrationTest, AnInactiveUserIsSkippedWithoutACall) {
  SyncIntegration handler(Config());
  const HandlerResult result = RunSync(handler, "github", 43);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(result.summary["status"], "skipped");
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(SyncIntegrationTest, AProviderWithoutAnEndpointFailsPermanentlyNamingIt) {
  SyncIntegration handler(Config());
  const HandlerResult result = RunSync(handler, "notion");
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(result.retryable);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_TRUE(Contains(result.errors[0], "provider \"notion\" has no endpoint")) << result.errors[0];
}

TEST_F(SyncIntegrationTest, AnUnsetSecretFailsPermanentlyNamingTheReference) {
  ::unsetenv(kSecretEnv);
  SyncIntegration handler(Config());
  const HandlerResult result = RunSync(handler);
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(result.retryable);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_TRUE(Contains(result.errors[0], std::string("env:") + kSecretEnv)) << result.errors[0];
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(SyncIntegrationTest, ABadPayloadFailsPermanentlyNamingTheKey) {
  SyncIntegration handler(Config());
  const HandlerResult result = harness_.Run(handler, {{"userId", "42"}, {"provider", "github"}});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(result.retryable);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_TRUE(Contains(result.errors[0], "userId: must be an integer")) << result.errors[0];
}

TEST(SyncedItemsTest, ReadsItemsThenItemsSynced) {
  EXPECT_EQ(SyncedItems(R"({"items": 5})"), 5);
  EXPECT_EQ(SyncedItems(R"({"itemsSynced": 8, "message": "Sync completed"})"), 8);
  EXPECT_EQ(SyncedItems(R"({"items": 5, "itemsSynced": 8})"), 5);
  EXPECT_EQ(SyncedItems(R"({"items": -1})"), std::nullopt);
  EXPECT_EQ(SyncedItems(R"({"items": "5"})"), std::nullopt);
  EXPECT_EQ(SyncedItems("ok"), std::nullopt);
  EXPECT_EQ(SyncedItems("[1, 2]"), std::nullopt);
}

}  // namespace
}  // namespace chime::worker::kinds
