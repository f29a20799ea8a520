// The http_request payload: what is accepted and parsed, and every way a
// payload could carry a secret, refused without quoting it.
#include "common/payload/http_request_payload.h"

#include <gtest/gtest.h>

#include "common/payload/credentials.h"
#include "common/payload/job_payload.h"

namespace chime::payload {
namespace {

using nlohmann::json;

constexpr char kSecret[] = "s3cr3t-value-never-shown";

// The payload is refused; the message names `field` and never the secret.
void ExpectRefused(const json& payload, const std::string& field) {
  auto parsed = ParseHttpRequestPayload(payload);
  ASSERT_FALSE(parsed.has_value()) << payload.dump();
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(parsed.error().message.starts_with(field)) << parsed.error().message;
  EXPECT_EQ(parsed.error().message.find(kSecret), std::string::npos) << parsed.error().message;
  auto validated = ValidateJobPayload("http_request", payload.dump());
  ASSERT_FALSE(validated.has_value());
  EXPECT_TRUE(validated.error().message.starts_with("payload: " + field)) << validated.error().message;
}

TEST(HttpRequestPayloadTest, TheSeedsPayloadsParse) {
  // 002's nightly sync as import-cloud-scheduler writes it.
  auto p = ParseHttpRequestPayload(json::parse(R"({
    "url": "https://app.example.com/api/integrations/cron", "method": "post",
    "headers": {"Content-Type": "application/json"},
    "body": "{\"operation\":\"process_all_users\",\"timeframeDays\":1}",
    "timeoutMs": 600000,
    "auth": {"type": "header", "name": "x-cron-key", "secret": "env:INTEGRATIONS_CRON_SECRET"},
    "retryOn": ["5xx", 429, "timeout", "failureBody"],
    "response": {"errors": "/data/results/failed", "counts": "/data/summary"}})"));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->method, "POST");
  EXPECT_EQ(p->timeout, std::chrono::minutes(10));
  EXPECT_EQ(p->auth.type, HttpAuthType::kHeader);
  EXPECT_EQ(p->auth.header, "x-cron-key");
  EXPECT_EQ(p->auth.secret_ref, "env:INTEGRATIONS_CRON_SECRET");
  EXPECT_EQ(*p->body, R"({"operation":"process_all_users","timeframeDays":1})");
  EXPECT_FALSE(p->body_is_json);
  EXPECT_TRUE(p->retry_on.failure_body);
  EXPECT_TRUE(p->retry_on.RetriesStatus(503));
  EXPECT_TRUE(p->retry_on.RetriesStatus(429));
  EXPECT_FALSE(p->retry_on.RetriesStatus(408));
  EXPECT_FALSE(p->retry_on.network);
  EXPECT_EQ(*p->response.errors, "/data/results/failed");
  EXPECT_EQ(*p->response.counts, "/data/summary");
}

TEST(HttpRequestPayloadTest, DefaultsAreStatedAndAJsonBodyGetsItsContentType) {
  auto p = ParseHttpRequestPayload({{"url", "https://app.example.com/api/jobs/resolve-outcomes?lockId=7"},
                                    {"body", {{"maxJobs", 10}}}});
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->method, "GET");
  EXPECT_EQ(p->timeout, kHttpDefaultTimeout);
  EXPECT_EQ(kHttpDefaultTimeout, std::chrono::minutes(5));
  EXPECT_EQ(p->auth.type, HttpAuthType::kNone);
  EXPECT_TRUE(p->body_is_json);
  ASSERT_EQ(p->headers.size(), 1u);
  EXPECT_EQ(p->headers[0], (std::pair<std::string, std::string>{"Content-Type", "application/json"}));
  // The default retry rule: 5xx, 408, 429, timeouts and network errors; not
  // other 4xx, not a failure body.
  for (int status : {500, 503, 599, 408, 429}) EXPECT_TRUE(p->retry_on.RetriesStatus(status)) << status;
  for (int status : {400, 401, 404, 409}) EXPECT_FALSE(p->retry_on.RetriesStatus(status)) << status;
  EXPECT_TRUE(p->retry_on.timeout);
  EXPECT_TRUE(p->retry_on.network);
  EXPECT_FALSE(p->retry_on.failure_body);
}

TEST(HttpRequestPayloadTest, TimeoutsUpToAnHour) {
  EXPECT_TRUE(ParseHttpRequestPayload({{"url", "https://a.example/"}, {"timeoutMs", 3'600'000}}));
  ExpectRefused({{"url", "https://a.example/"}, {"timeoutMs", 3'600'001}}, "timeoutMs");
  ExpectRefused({{"url", "https://a.example/"}, {"timeoutMs", 0}}, "timeoutMs");
  ExpectRefused({{"url", "https://a.example/"}, {"timeoutMs", "10m"}}, "timeoutMs");
}

TEST(HttpRequestPayloadTest, CredentialHeadersAreRefusedWithTheAuthToUseInstead) {
  for (const char* name : {"Authorization", "x-cron-secret", "X-Cron-Key", "Cookie", "webhook-signature",
                           "x-internal-secret", "X-Api-Key", "x-functions-key", "X-Auth-Token",
                           "Proxy-Authorization", "x-vercel-cron-signature"}) {
    ExpectRefused({{"url", "https://a.example/"}, {"headers", {{name, kSecret}}}}, std::string("headers.") + name);
  }
  auto r = ParseHttpRequestPayload({{"url", "https://a.example/"}, {"headers", {{"x-cron-key", kSecret}}}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(R"("type": "header", "name": "x-cron-key")"), std::string::npos)
      << r.error().message;
}

TEST(HttpRequestPayloadTest, ChimesOwnAndFramingHeadersAreRefused) {
  for (const char* name : {"Idempotency-Key", "Chime-Attempt", "chime-job-id", "User-Agent", "Host",
                           "Content-Length", "Transfer-Encoding", "Connection"}) {
    ExpectRefused({{"url", "https://a.example/"}, {"headers", {{name, "x"}}}}, std::string("headers.") + name);
  }
}

TEST(HttpRequestPayloadTest, ALiteralSecretIsRefusedWhereverItSits) {
  // auth.secret must be a reference.
  ExpectRefused({{"url", "https://a.example/"}, {"auth", {{"type", "bearer"}, {"secret", kSecret}}}},
                "auth.secret");
  ExpectRefused({{"url", "https://a.example/"},
                 {"auth", {{"type", "header"}, {"name", "x-cron-key"}, {"secret", kSecret}}}},
                "auth.secret");
  // A value shaped like a credential under an innocent name.
  ExpectRefused({{"url", "https://a.example/"}, {"headers", {{"X-Team", std::string("Bearer ") + kSecret}}}},
                "headers.X-Team");
  // In the URL.
  ExpectRefused({{"url", std::string("https://cron:") + kSecret + "@a.example/"}}, "url");
  for (const char* name : {"token", "api_key", "key", "secret", "access_token", "sig", "%74oken"}) {
    ExpectRefused({{"url", std::string("https://a.example/x?a=1&") + name + "=" + kSecret}}, "url");
  }
  // In a JSON body, at any depth; a string body shaped like a key.
  ExpectRefused({{"url", "https://a.example/"}, {"body", {{"config", {{"clientSecret", kSecret}}}}}},
                "body.config.clientSecret");
  ExpectRefused({{"url", "https://a.example/"}, {"body", {{"items", {{{"password", kSecret}}}}}}},
                "body.items[0].password");
  ExpectRefused({{"url", "https://a.example/"}, {"body", std::string("whsec_") + kSecret}}, "body");
}

TEST(HttpRequestPayloadTest, TheSeedsBodiesAndQueriesAreNotMistakenForSecrets) {
  for (const char* body : {R"({"operation":"process_all_users","timeframeDays":1,"maxUsers":50})",
                           R"({"maxJobs":10})", R"({"operation":"cleanup_old_jobs"})", R"({"dry_run":true})",
                           R"({"mock_exam_ids":["40577087837"],"pageToken":"abc","authorName":"x"})"}) {
    EXPECT_TRUE(ParseHttpRequestPayload({{"url", "https://a.example/api/cron/sync-integrations?interval=15min"},
                                         {"method", "POST"},
                                         {"body", json::parse(body)}}))
        << body;
  }
  EXPECT_TRUE(ParseHttpRequestPayload({{"url", "https://a.example/api/jobs/resolve-outcomes?lockId=999999"}}));
}

TEST(HttpRequestPayloadTest, SecretReferencesAreEnvOrAbsoluteFilesWithoutDotDot) {
  for (const char* ref : {"env:CRON_SECRET", "env:_A1", "file:/run/secrets/chime/integrations_cron"}) {
    EXPECT_TRUE(ParseHttpRequestPayload({{"url", "https://a.example/"}, {"auth", {{"type", "bearer"}, {"secret", ref}}}}))
        << ref;
  }
  for (const char* ref : {"env:", "env:1A", "env:A-B", "file:relative", "file:/run/secrets/chime/../database_url",
                          "vault:x", ""}) {
    ExpectRefused({{"url", "https://a.example/"}, {"auth", {{"type", "bearer"}, {"secret", ref}}}}, "auth.secret");
  }
}

TEST(HttpRequestPayloadTest, AuthShapesAreChecked) {
  ExpectRefused({{"url", "https://a.example/"}, {"auth", {{"type", "basic"}, {"secret", "env:X"}}}}, "auth.type");
  ExpectRefused({{"url", "https://a.example/"}, {"auth", {{"type", "header"}, {"secret", "env:X"}}}}, "auth.name");
  ExpectRefused({{"url", "https://a.example/"}, {"auth", {{"type", "header"}, {"name", "Idempotency-Key"},
                                                          {"secret", "env:X"}}}},
                "auth.name");
  ExpectRefused({{"url", "https://a.example/"}, {"auth", {{"type", "bearer"}, {"name", "x"}, {"secret", "env:X"}}}},
                "auth.name");
  ExpectRefused({{"url", "https://a.example/"}, {"auth", {{"type", "bearer"}}}}, "auth.secret");
  ExpectRefused({{"url", "https://a.example/"}, {"auth", {{"type", "none"}, {"secret", "env:X"}}}}, "auth.secret");
}

TEST(HttpRequestPayloadTest, RetryOnAndResponsePointersAreChecked) {
  ExpectRefused({{"url", "https://a.example/"}, {"retryOn", {"sometimes"}}}, "retryOn");
  ExpectRefused({{"url", "https://a.example/"}, {"retryOn", {200}}}, "retryOn");
  ExpectRefused({{"url", "https://a.example/"}, {"retryOn", "5xx"}}, "retryOn");
  ExpectRefused({{"url", "https://a.example/"}, {"response", {{"errors", "data/errors"}}}}, "response.errors");
  ExpectRefused({{"url", "https://a.example/"}, {"response", {{"failures", "/x"}}}}, "response.failures");
  auto p = ParseHttpRequestPayload({{"url", "https://a.example/"}, {"retryOn", json::array()}});
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->retry_on.RetriesStatus(503));
  EXPECT_FALSE(p->retry_on.timeout);
}

TEST(HttpRequestPayloadTest, UnknownKeysAndBadUrlsAreRefused) {
  ExpectRefused({{"url", "https://a.example/"}, {"timeout", 5}}, "unknown parameter \"timeout\"");
  ExpectRefused({{"url", "ftp://a.example/"}}, "url");
  ExpectRefused({{"url", "https:///path"}}, "url");
  ExpectRefused({{"url", "https://a.example/a b"}}, "url");
  ExpectRefused(json::object(), "url");
  EXPECT_FALSE(ParseHttpRequestPayload(json::array()));
}

TEST(HttpRequestPayloadTest, OnlyHttpRequestPayloadsAreCheckedByKind) {
  EXPECT_TRUE(ValidateJobPayload("noop", R"({"headers": {"Authorization": "Bearer x"}})"));
  EXPECT_TRUE(ValidateJobPayload("http_request", R"({"url": "https://a.example/"})"));
  auto bad = ValidateJobPayload("http_request", "{not json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "payload: not valid JSON");
}

TEST(HttpRequestPayloadTest, DryRunInThePayloadIsRead) {
  EXPECT_TRUE(ParseHttpRequestPayload({{"url", "https://a.example/"}, {"dryRun", true}})->dry_run);
  EXPECT_TRUE(ParseHttpRequestPayload({{"url", "https://a.example/"}, {"dry_run", true}})->dry_run);
  EXPECT_FALSE(ParseHttpRequestPayload({{"url", "https://a.example/"}, {"dryRun", false}})->dry_run);
  ExpectRefused({{"url", "https://a.example/"}, {"dryRun", "yes"}}, "dryRun");
}

}  // namespace
}  // namespace chime::payload
