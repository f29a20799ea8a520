// http_request against a recording HTTP server on loopback (the address
// policy opened for 127.0.0.1 only, as a deployment's kinds file would):
// the request as sent, each auth style with a secret reference, expected
// statuses, retryable versus permanent failures, dry runs, payloads refused
// before any byte is sent, and SSRF refused with the default policy.
#include "worker/kinds/http_request.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/base/text_format.h"
#include "common/base/version.h"
#include "common/http/webhook.h"
#include "common/payload/http_request_payload.h"
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

// Issue 17 point 2: an endpoint can tell a retry of a tick (same
// Idempotency-Key and webhook-id, a higher Chime-Attempt) from a new tick.
TEST_F(HttpRequestTest, EveryCallCarriesTheHeadersThatLetTheEndpointBeIdempotent) {
  const auto tick = ParseRfc3339("2026-12-06T02:00:00Z").value();
  HandlerResult r = Run({{"url", server_.Url("/api/integrations/cron")},
                         {"method", "POST"},
                         {"body", {{"operation", "process_all_users"}}},
                         {"auth", {{"type", "standard-webhooks"}, {"secret", std::string("env:") + kSecretEnv}}}},
                        JobOptions{.invocation = db::Invocation::kCron, .schedule = "nightly-sync",
                                   .scheduled_for = tick});
  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << (r.errors.empty() ? "" : r.errors[0]);
  const std::string id = std::to_string(harness_.last_job_id());
  ASSERT_EQ(server_.Requests().size(), 1u);
  const auto req = server_.Requests()[0];
  EXPECT_EQ(req.Header("idempotency-key"), "chime-job-" + id);
  EXPECT_EQ(req.Header("chime-job-id"), id);
  EXPECT_EQ(req.Header("chime-attempt"), "1");
  EXPECT_EQ(req.Header("chime-schedule"), "nightly-sync");
  EXPECT_EQ(req.Header("chime-scheduled-for"), "2026-12-06T02:00:00Z");
  EXPECT_EQ(req.Header("user-agent"), chime::UserAgent());
  EXPECT_EQ(req.Header("webhook-id"), "chime-job-" + id);
  auto key = http::WebhookKey::FromSecret(http::Secret(kSecret));
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(chime::testing::VerifyWebhook(*key, req, std::chrono::system_clock::now()).has_value());
  EXPECT_EQ(r.summary["idempotencyKey"], "chime-job-" + id);

  // A job no schedule fired says so by leaving the schedule headers out.
  (void)Run({{"url", server_.Url("/api/manual")}});
  const auto manual = server_.Requests()[1];
  EXPECT_FALSE(manual.Header("chime-schedule").has_value());
  EXPECT_FALSE(manual.Header("chime-scheduled-for").has_value());
  EXPECT_EQ(manual.Header("idempotency-key"), "chime-job-" + std::to_string(harness_.last_job_id()));
}

// Issue 17 point 3: 002's x-cron-key, or any header an endpoint reads.
TEST_F(HttpRequestTest, HeaderAuthSendsTheSecretUnderTheNamedHeader) {
  server_.Enqueue({.status = 200, .body = std::string("echo: ") + kSecret});
  HandlerResult r = Run({{"url", server_.Url("/api/integrations/worker")},
                         {"method", "POST"},
                         {"auth", {{"type", "header"}, {"name", "x-cron-key"}, {"secret", std::string("env:") + kSecretEnv}}}});
  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_EQ(server_.Requests()[0].Header("x-cron-key"), kSecret);
  EXPECT_FALSE(server_.Requests()[0].Header("authorization").has_value());
  EXPECT_EQ(r.summary.dump().find(kSecret), std::string::npos) << r.summary.dump();
  EXPECT_EQ(r.summary["bodyExcerpt"], "echo: ***");
}

// Issue 17 point 1, through the wire: the seeds' answers decide the outcome.
TEST_F(HttpRequestTest, TheEndpointsJsonAnswerIsTheOutcome) {
  server_.Enqueue({.status = 200, .headers = {{"Content-Type", "application/json"}},
                   .body = R"({"total": 7, "resolved": 4, "skipped": 0, "backfilled": 0,
                              "errors": ["Failed to process appt_102: timeout"]})"});
  HandlerResult partial = Run({{"url", server_.Url("/api/jobs/resolve-outcomes")}});
  EXPECT_EQ(partial.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(partial.errors, std::vector<std::string>{"Failed to process appt_102: timeout"});
  EXPECT_EQ(partial.summary["response"]["resolved"], 4);
  EXPECT_EQ(partial.summary["counts"]["total"], 7);

  server_.Enqueue({.status = 200, .body = R"({"skipped": true, "reason": "locked"})"});
  HandlerResult skipped = Run({{"url", server_.Url("/api/jobs/resolve-outcomes")}});
  EXPECT_EQ(skipped.kind, HandlerResult::Kind::kSkipped);
  EXPECT_EQ(skipped.skip_reason, "locked");

  server_.Enqueue({.status = 200, .body = R"({"success": true, "data": {"status": "failed"}})"});
  HandlerResult failed = Run({{"url", server_.Url("/api/ticketing/cron/sync-qcontact")}});
  EXPECT_EQ(failed.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(failed.retryable);
  server_.Enqueue({.status = 200, .body = R"({"success": false})"});
  EXPECT_TRUE(Run({{"url", server_.Url("/x")}, {"retryOn", {"failureBody"}}}).retryable);
}

// Rule 6: no byte sequence or size takes a worker down or stalls it.
TEST_F(HttpRequestTest, ATenMegabyteBodyIsReadUpToTheCapAndRecordedAsTruncated) {
  server_.Enqueue({.status = 200, .headers = {{"Content-Type", "application/json"}},
                   .body = R"({"rows": [)" + std::string(10 << 20, '1') + "]}"});
  HandlerResult r = Run({{"url", server_.Url("/big")}});
  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_EQ(r.summary["responseComplete"], false);
  EXPECT_EQ(r.summary["response"]["truncated"], true);
  EXPECT_LE(r.summary["responseBytes"].get<int64_t>(), 1 << 20);
  EXPECT_LT(r.summary.dump().size(), 80u * 1024);

  server_.Enqueue({.status = 200, .body = std::string("bad \xff\xfe bytes ") + std::string(5000, '\xC3')});
  HandlerResult bytes = Run({{"url", server_.Url("/bytes")}});
  EXPECT_EQ(bytes.kind, HandlerResult::Kind::kSuccess);
  EXPECT_NO_THROW((void)bytes.summary.dump());
}

TEST_F(HttpRequestTest, ASlotReusesItsConnectionToAKeepAliveEndpoint) {
  chime::testing::HttpTestServer keep_alive("127.0.0.1", {.keep_alive = true});
  auto kind = Make();
  for (int i = 0; i < 20; ++i) {
    HandlerResult r = harness_.Run(*kind, {{"url", keep_alive.Url("/api/cron")}, {"method", "POST"}});
    ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << (r.errors.empty() ? "" : r.errors[0]);
  }
  EXPECT_EQ(keep_alive.Requests().size(), 20u);
  EXPECT_EQ(keep_alive.Connections(), 1);
}

TEST_F(HttpRequestTest, DescribeAndTimeoutReadThePayload) {
  auto kind = Make();
  EXPECT_EQ(kind->Describe({{"url", "https://cron:pw@app.example.com/api/x?a=1"}, {"method", "post"}}),
            "POST https://***@app.example.com/api/x?a=1");
  EXPECT_EQ(kind->Describe({{"url", 42}}), "");
  EXPECT_EQ(kind->Timeout({{"url", "https://a.example/"}}),
            payload::kHttpDefaultTimeout + HttpRequestKind::kTimeoutMargin);
  EXPECT_EQ(kind->Timeout({{"url", "https://a.example/"}, {"timeoutMs", 3'600'000}}),
            std::chrono::hours(1) + HttpRequestKind::kTimeoutMargin);
}

}  // namespace
}  // namespace chime::worker::kinds
