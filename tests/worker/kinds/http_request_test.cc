// http_request against a recording HTTP server on loopback (the address
// policy opened for 127.0.0.1 only, as a deployment's kinds file would):
// the request as sent, each auth style with a secret reference, expected
// statuses, retryable versus permanent failures, dry runs, payloads refused
// before any byte is sent, and SSRF refused with the default policy.
#include "worker/kinds/http_request.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/http/webhook.h"
#include "tests/support/http_test_server.h"
#include "tests/support/test_database.h"
#include "tests/worker/kinds/job_harness.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;
using testing::JobHarness;
using testing::JobOptions;

constexpr char kSecretEnv[] = "CHIME_TEST_HTTP_REQUEST_SECRET";
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class HttpRequestTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv(kSecretEnv, kSecret, /*overwrite=*/1); }

  std::unique_ptr<HttpRequestKind> Make(std::vector<std::string> allow = {"127.0.0.1/32"}) {
    AppConfig config = DefaultAppConfig();
    config.http_allow = std::move(allow);
    config.http_request_secrets = {SecretGrant{.ref = std::string("env:") + kSecretEnv, .origins = {}}};
    auto kind = HttpRequestKind::Create(config);
    EXPECT_TRUE(kind.has_value()) << kind.error().ToString();
    return kind ? std::move(*kind) : nullptr;
  }

  HandlerResult Run(const json& payload, JobOptions options = {}) {
    auto kind = Make();
    return harness_.Run(*kind, payload, options);
  }

  chime::testing::TestDatabase db_;
  JobHarness harness_{db_};
  chime::testing::HttpTestServer server_;
};

TEST_F(HttpRequestTest, SendsTheRequestAndRecordsTheResponse) {
  server_.Enqueue({.status = 201, .body = std::string(5000, 'x')});
  HandlerResult r = Run({{"url", server_.Url("/api/cron/sync?full=1")},
                         {"method", "post"},
                         {"headers", {{"X-Team", "ads"}}},
                         {"body", {{"maxJobs", 10}}}},
                        JobOptions{.invocation = db::Invocation::kCron});
  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << r.summary << (r.errors.empty() ? "" : r.errors[0]);
  ASSERT_EQ(server_.Requests().size(), 1u);
  const auto req = server_.Requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/api/cron/sync");
  EXPECT_EQ(req.query, "full=1");
  EXPECT_EQ(req.Header("x-team"), "ads");
  EXPECT_EQ(req.Header("content-type"), "application/json");
  EXPECT_EQ(json::parse(req.body), json({{"maxJobs", 10}}));
  EXPECT_EQ(r.summary["httpStatus"], 201);
  EXPECT_EQ(r.summary["responseBytes"], 5000);
  EXPECT_EQ(r.summary["bodyTruncated"], true);
  EXPECT_EQ(r.summary["bodyExcerpt"].get<std::string>().size(), 4096u);
  EXPECT_EQ(r.summary["invocation"], "cron");
  EXPECT_TRUE(r.summary["durationMs"].is_number_integer());
}

TEST_F(HttpRequestTest, EachAuthStyleUsesTheReferencedSecret) {
  const std::string ref = std::string("env:") + kSecretEnv;
  for (const char* type : {"bearer", "x-cron-secret", "standard-webhooks"}) {
    Run({{"url", server_.Url("/hook")}, {"method", "POST"}, {"body", "ping"},
         {"auth", {{"type", type}, {"secret", ref}}}});
  }
  ASSERT_EQ(server_.Requests().size(), 3u);
  const auto requests = server_.Requests();
  EXPECT_EQ(requests[0].Header("authorization"), std::string("Bearer ") + kSecret);
  EXPECT_EQ(requests[1].Header("x-cron-secret"), kSecret);
  auto key = http::WebhookKey::FromSecret(http::Secret(kSecret));
  ASSERT_TRUE(key.has_value());
  const auto& signed_req = requests[2];
  EXPECT_TRUE(chime::testing::VerifyWebhook(*key, signed_req, std::chrono::system_clock::now()).has_value());
  EXPECT_FALSE(signed_req.Header("authorization").has_value());
}

TEST_F(HttpRequestTest, StatusesDecideBetweenRetryAndGivingUp) {
  struct Case {
    int status;
    json expect;
    HandlerResult::Kind kind;
    bool retryable;
  };
  const std::vector<Case> cases = {{503, nullptr, HandlerResult::Kind::kFailure, true},
                                   {429, nullptr, HandlerResult::Kind::kFailure, true},
                                   {404, nullptr, HandlerResult::Kind::kFailure, false},
                                   {404, json{404}, HandlerResult::Kind::kSuccess, true},
                                   {204, json{200}, HandlerResult::Kind::kFailure, false}};
  for (const auto& c : cases) {
    server_.Enqueue({.status = c.status});
    json payload = {{"url", server_.Url("/x")}};
    if (!c.expect.is_null()) payload["expectStatus"] = c.expect;
    HandlerResult r = Run(payload);
    EXPECT_EQ(r.kind, c.kind) << c.status;
    if (c.kind == HandlerResult::Kind::kFailure) {
      EXPECT_EQ(r.retryable, c.retryable) << c.status;
      EXPECT_EQ(r.summary["httpStatus"], c.status);
    }
  }
}

TEST_F(HttpRequestTest, ATimeoutIsRetryable) {
  server_.Enqueue({.status = 200, .hold = true});
  HandlerResult r = Run({{"url", server_.Url("/slow")}, {"timeoutMs", 200}});
  server_.Release();
  EXPECT_EQ(r.kind, HandlerResult::Kind::kFailure);
  EXPECT_TRUE(r.retryable);
}

TEST_F(HttpRequestTest, ADryRunSendsNothingButChecksTheSecret) {
  HandlerResult r = Run({{"url", server_.Url("/x")},
                         {"auth", {{"type", "bearer"}, {"secret", std::string("env:") + kSecretEnv}}}},
                        JobOptions{.dry_run = true});
  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(r.summary["dryRun"], true);
  EXPECT_EQ(r.summary["wouldSendHeaders"], json({"Idempotency-Key", "Chime-Job-Id", "Chime-Attempt", "Authorization"}));
  EXPECT_EQ(r.summary.dump().find(kSecret), std::string::npos);
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(HttpRequestTest, BadPayloadsAndUnlistedSecretsFailBeforeAnyByteIsSent) {
  ::setenv("CHIME_DATABASE_URL_TEST_ONLY", "postgresql://u:p@h/db", 1);
  const std::vector<json> payloads = {
      json::object(),
      {{"url", 42}},
      {{"url", server_.Url("/x")}, {"headers", {{"Authorization", "Bearer abc"}}}},
      {{"url", server_.Url("/x")}, {"headers", {{"X-Cron-Secret", "abc"}}}},
      {{"url", server_.Url("/x")}, {"auth", {{"type", "basic"}}}},
      {{"url", server_.Url("/x")}, {"auth", {{"type", "bearer"}, {"secret", "plain-text"}}}},
      {{"url", server_.Url("/x")},
       {"auth", {{"type", "bearer"}, {"secret", "env:CHIME_DATABASE_URL_TEST_ONLY"}}}},
      {{"url", server_.Url("/x")}, {"timeoutMs", 0}},
      {{"url", server_.Url("/x")}, {"expectStatus", {99}}},
      {{"url", server_.Url("/x")}, {"retries", 3}},
      {{"url", "file:///etc/passwd"}},
  };
  for (const auto& p : payloads) {
    // As an application's own INSERT could write it: the job store refuses
    // these at enqueue, the kind must refuse them too.
    HandlerResult r = Run(p, JobOptions{.raw_insert = true});
    EXPECT_EQ(r.kind, HandlerResult::Kind::kFailure) << p;
    EXPECT_FALSE(r.retryable) << p;
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors[0].find("postgresql://u:p"), std::string::npos) << r.errors[0];
  }
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(HttpRequestTest, TheDefaultPolicyRefusesInternalTargetsAtConnect) {
  AppConfig config = DefaultAppConfig();
  auto kind = HttpRequestKind::Create(config);
  ASSERT_TRUE(kind.has_value());
  const std::string port = std::to_string(server_.port());
  for (const std::string& url : {"http://127.0.0.1:" + port + "/", "http://2130706433:" + port + "/",
                                "http://[::ffff:127.0.0.1]:" + port + "/",
                                std::string("http://169.254.169.254/latest/meta-data/")}) {
    HandlerResult r = harness_.Run(**kind, {{"url", url}, {"timeoutMs", 5000}});
    EXPECT_EQ(r.kind, HandlerResult::Kind::kFailure) << url;
    EXPECT_FALSE(r.retryable) << url;
    ASSERT_FALSE(r.errors.empty());
    EXPECT_NE(r.errors[0].find("address policy"), std::string::npos) << r.errors[0];
  }
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(HttpRequestTest, ARedirectToLoopbackIsRefused) {
  chime::testing::HttpTestServer inner("127.0.0.2");
  server_.Enqueue({.status = 302, .headers = {{"Location", inner.Url("/admin")}}});
  HandlerResult r = Run({{"url", server_.Url("/go")}, {"followRedirects", true}});
  EXPECT_EQ(r.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(r.retryable);
  EXPECT_EQ(inner.Connections(), 0);
}

}  // namespace
}  // namespace chime::worker::kinds
