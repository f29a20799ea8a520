// Cloud Scheduler exports and the seeds' configurations as http_request
// schedules: what each field becomes, secrets turned into references (never
// copied), and what cannot be imported, refused naming the job.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/payload/http_request_payload.h"
#include "common/schedule/schedule_spec.h"

namespace chime::schedule {
namespace {

using nlohmann::json;

std::string Seed(const std::string& name) {
  std::ifstream in(std::string(CHIME_SOURCE_DIR) + "/tests/seeds/" + name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

json Payload(const ScheduleSpec& spec) { return json::parse(spec.payload); }

std::string CloudError(const json& jobs, const CloudSchedulerImportOptions& options = {}) {
  auto specs = ImportCloudScheduler(jobs.dump(), options);
  if (specs) return "(imported)";
  EXPECT_EQ(specs.error().code, ErrorCode::kInvalidArgument);
  return specs.error().message;
}

json Job(json overrides = json::object()) {
  json job = {{"name", "projects/p/locations/l/jobs/nightly"},
              {"schedule", "0 2 * * *"},
              {"timeZone", "Europe/Berlin"},
              {"httpTarget", {{"uri", "https://app.example.com/api/cron"}, {"httpMethod", "POST"}}}};
  job.merge_patch(overrides);
  return job;
}

TEST(CloudSchedulerImportTest, Seed002sFourJobsImportWithTheCronKeyAsAReference) {
  auto specs = ImportCloudScheduler(Seed("002-gcloud-jobs.json"),
                                    {.secret_ref = "env:INTEGRATIONS_CRON_SECRET"});
  ASSERT_TRUE(specs.has_value()) << specs.error().message;
  ASSERT_EQ(specs->size(), 4u);
  const std::vector<std::string> names{"nightly-sync", "sync-worker", "cleanup-jobs", "reset-stale"};
  const std::vector<std::string> crons{"0 2 * * *", "*/5 * * * *", "0 3 * * 0", "0 * * * *"};
  const std::vector<json> bodies{json{{"operation", "process_all_users"}, {"timeframeDays", 1}},
                                 json{{"maxJobs", 10}}, json{{"operation", "cleanup_old_jobs"}},
                                 json{{"operation", "reset_stale_jobs"}}};
  for (size_t i = 0; i < 4; ++i) {
    const ScheduleSpec& spec = (*specs)[i];
    EXPECT_EQ(spec.name, names[i]);
    EXPECT_EQ(spec.cron, crons[i]);
    EXPECT_EQ(spec.time_zone, "Etc/UTC");
    EXPECT_EQ(spec.kind, "http_request");
    EXPECT_EQ(spec.max_attempts, 1);  // No retryCount: Cloud Scheduler does not retry.
    EXPECT_EQ(spec.overlap, OverlapPolicy::kSkip);
    EXPECT_FALSE(spec.paused);
    const json p = Payload(spec);
    EXPECT_EQ(p["method"], "POST");
    EXPECT_EQ(p["auth"], json({{"type", "header"}, {"name", "x-cron-key"}, {"secret", "env:INTEGRATIONS_CRON_SECRET"}}));
    EXPECT_EQ(p["headers"], json({{"Content-Type", "application/json"}}));  // User-Agent is Chime's own.
    EXPECT_EQ(p["body"], bodies[i]);
    EXPECT_EQ(p["timeoutMs"], 180000);
    EXPECT_EQ(spec.payload.find("YOUR_CRON_SECRET"), std::string::npos);
    EXPECT_TRUE(payload::ParseHttpRequestPayload(p).has_value());
  }
  EXPECT_EQ(Payload((*specs)[1])["url"], "https://yourdomain.com/api/integrations/worker");
}

TEST(CloudSchedulerImportTest, FieldsBecomeTheScheduleAndOptionsOverrideThem) {
  json job = Job({{"attemptDeadline", "1800s"},
                  {"retryConfig", {{"retryCount", 4}}},
                  {"state", "PAUSED"},
                  {"httpTarget", {{"headers", {{"Authorization", "Bearer abc123"}, {"X-Team", "ads"}}},
                                  {"body", "cGluZw=="}}}});
  auto specs = ImportCloudScheduler(json::array({job}).dump(), {});
  ASSERT_TRUE(specs.has_value()) << specs.error().message;
  const ScheduleSpec& spec = specs->front();
  EXPECT_EQ(spec.name, "nightly");
  EXPECT_EQ(spec.time_zone, "Europe/Berlin");
  EXPECT_EQ(spec.max_attempts, 5);
  EXPECT_TRUE(spec.paused);
  json p = Payload(spec);
  EXPECT_EQ(p["auth"], json({{"type", "bearer"}, {"secret", "env:CRON_SECRET"}}));
  EXPECT_EQ(p["headers"], json({{"X-Team", "ads"}}));
  EXPECT_EQ(p["body"], "ping");
  EXPECT_EQ(p["timeoutMs"], 1800000);
  EXPECT_EQ(spec.payload.find("abc123"), std::string::npos);

  auto overridden = ImportCloudScheduler(json::array({job}).dump(),
                                         {.secret_ref = "file:/run/secrets/chime/cron",
                                          .auth = "x-cron-secret",
                                          .timeout = std::chrono::minutes(50),
                                          .max_attempts = 2,
                                          .overlap = OverlapPolicy::kBufferOne,
                                          .time_zone = "UTC"});
  ASSERT_TRUE(overridden.has_value()) << overridden.error().message;
  p = Payload(overridden->front());
  EXPECT_EQ(p["auth"], json({{"type", "x-cron-secret"}, {"secret", "file:/run/secrets/chime/cron"}}));
  EXPECT_EQ(p["timeoutMs"], 3000000);
  EXPECT_EQ(overridden->front().max_attempts, 2);
  EXPECT_EQ(overridden->front().overlap, OverlapPolicy::kBufferOne);
  EXPECT_EQ(overridden->front().time_zone, "UTC");
}

TEST(CloudSchedulerImportTest, OneJobObjectAndDefaultsAsCloudSchedulerHasThem) {
  auto specs = ImportCloudScheduler(json{{"name", "projects/p/locations/l/jobs/bare"},
                                         {"schedule", "*/5 * * * *"},
                                         {"httpTarget", {{"uri", "https://a.example/x"}}}}
                                        .dump(),
                                    {});
  ASSERT_TRUE(specs.has_value()) << specs.error().message;
  const json p = Payload(specs->front());
  EXPECT_EQ(p["method"], "POST");
  EXPECT_FALSE(p.contains("auth"));
  EXPECT_EQ(specs->front().time_zone, "UTC");
}

TEST(CloudSchedulerImportTest, WhatCannotRunIsRefusedNamingTheJob) {
  EXPECT_EQ(CloudError(json::array({Job({{"schedule", "every 5 minutes"}})})).find("jobs[0] (nightly): schedule: "), 0u);
  EXPECT_NE(CloudError(json::array({Job({{"httpTarget", {{"oidcToken", {{"serviceAccountEmail", "a@b"}}}}}})}))
                .find("httpTarget.oidcToken"),
            std::string::npos);
  EXPECT_NE(CloudError(json::array({Job({{"pubsubTarget", {{"topicName", "t"}}}, {"httpTarget", nullptr}})}))
                .find("pubsubTarget"),
            std::string::npos);
  const std::string two = CloudError(json::array(
      {Job({{"httpTarget", {{"headers", {{"x-cron-key", "a"}, {"Authorization", "Bearer b"}}}}}})}));
  EXPECT_NE(two.find("more than one credential header"), std::string::npos) << two;
  EXPECT_EQ(two.find("Bearer b"), std::string::npos);
  EXPECT_NE(CloudError(json::array({Job({{"httpTarget", {{"body", "//79"}}}})})).find("not UTF-8"),
            std::string::npos);
  EXPECT_NE(CloudError(json::array({Job({{"httpTarget", {{"uri", "https://u:pw@a.example/"}}}})})).find("url"),
            std::string::npos);
  EXPECT_EQ(CloudError(json::array({Job()}), {.secret_ref = "hunter2"}).find("secret_ref:"), 0u);
  EXPECT_EQ(CloudError(json::array({Job()}), {.auth = "basic"}).find("auth:"), 0u);
  EXPECT_EQ(CloudError(json::array({Job()}), {.timeout = std::chrono::hours(2)}).find("timeout:"), 0u);
  EXPECT_EQ(CloudError(json{{"jobs", 1}}).find("jobs[0]"), 0u);
  EXPECT_EQ(CloudError(json("x")).find("gcloud JSON:"), 0u);
}

// --- The seeds' vercel.json files with the import-vercel options --------

TEST(VercelSeedImportTest, TheSeedsImportAsTheirEndpointsExpect) {
  // 000: the capacity sync takes POST (its manual invocations) and Bearer.
  auto s000 = ImportVercel(Seed("000-vercel.json"), {.base_url = "https://app.example.com", .method = "POST",
                                                     .timeout = std::chrono::seconds(60)});
  ASSERT_TRUE(s000.has_value()) << s000.error().message;
  json p = Payload(s000->front());
  EXPECT_EQ(p["method"], "POST");
  EXPECT_EQ(p["url"], "https://app.example.com/api/mock-exams/sync-capacity");
  EXPECT_EQ(p["auth"], json({{"type", "bearer"}, {"secret", "env:CRON_SECRET"}}));
  EXPECT_EQ(p["timeoutMs"], 60000);

  // 001: POST routes with their query strings kept.
  auto s001 = ImportVercel(Seed("001-vercel.json"), {.base_url = "https://app.example.com", .method = "post"});
  ASSERT_TRUE(s001.has_value()) << s001.error().message;
  ASSERT_EQ(s001->size(), 2u);
  EXPECT_EQ(Payload((*s001)[0])["url"], "https://app.example.com/api/cron/sync-integrations?interval=15min");
  EXPECT_EQ(Payload((*s001)[1])["url"], "https://app.example.com/api/cron/sync-integrations?interval=30min");
  EXPECT_EQ(Payload((*s001)[0])["method"], "POST");

  // 004: x-cron-secret, POST, overlap skip (its own lock answers skipped).
  auto s004 = ImportVercel(Seed("004-vercel.json"), {.base_url = "https://shop.example.com", .auth = "x-cron-secret",
                                                     .method = "POST", .max_attempts = 5,
                                                     .overlap = OverlapPolicy::kSkip, .time_zone = "America/New_York"});
  ASSERT_TRUE(s004.has_value()) << s004.error().message;
  ASSERT_EQ(s004->size(), 3u);
  EXPECT_EQ(Payload((*s004)[0])["auth"], json({{"type", "x-cron-secret"}, {"secret", "env:CRON_SECRET"}}));
  EXPECT_EQ((*s004)[0].max_attempts, 5);
  EXPECT_EQ((*s004)[0].time_zone, "America/New_York");
  EXPECT_EQ((*s004)[1].name, "vercel-api-jobs-expire-offers");

  // header:NAME for 002's x-cron-key, if its crons came from Vercel.
  auto header = ImportVercel(Seed("000-vercel.json"), {.base_url = "https://a.example", .secret_ref = "env:K",
                                                       .auth = "header:x-cron-key"});
  ASSERT_TRUE(header.has_value()) << header.error().message;
  EXPECT_EQ(Payload(header->front())["auth"], json({{"type", "header"}, {"name", "x-cron-key"}, {"secret", "env:K"}}));
  auto none = ImportVercel(Seed("000-vercel.json"), {.base_url = "https://a.example", .auth = "none"});
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(Payload(none->front()).contains("auth"));
}

TEST(VercelSeedImportTest, BadOptionsAreRefusedNamingTheOption) {
  const std::string file = Seed("000-vercel.json");
  auto error = [&](const VercelImportOptions& o) {
    auto r = ImportVercel(file, o);
    return r ? std::string("(imported)") : r.error().message;
  };
  EXPECT_EQ(error({.base_url = "https://a.example", .auth = "header:"}).find("auth:"), 0u);
  EXPECT_EQ(error({.base_url = "https://a.example", .method = "P0ST"}).find("method:"), 0u);
  EXPECT_EQ(error({.base_url = "https://a.example", .timeout = std::chrono::hours(2)}).find("timeout:"), 0u);
  EXPECT_EQ(error({.base_url = "https://a.example", .max_attempts = 0}).find("max_attempts:"), 0u);
  EXPECT_EQ(error({.base_url = "https://a.example", .time_zone = "Mars/Base"}).find("time_zone:"), 0u);
  // A path whose query carries a credential would put it in the payload.
  auto leaky = ImportVercel(R"({"crons": [{"path": "/api/cron?token=abc", "schedule": "* * * * *"}]})",
                            {.base_url = "https://a.example"});
  ASSERT_FALSE(leaky.has_value());
  EXPECT_NE(leaky.error().message.find("crons[0]: payload: url: "), std::string::npos) << leaky.error().message;
}

}  // namespace
}  // namespace chime::schedule
