// The kinds file: defaults, the shipped example, merging of providers, and
// errors that name the field.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {
namespace {

using std::chrono::minutes;

bool StartsWith(const std::string& text, const std::string& prefix) { return text.starts_with(prefix); }

const Provider* Find(const AppConfig& config, const std::string& name) {
  for (const auto& p : config.providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// The message of a file that must fail.
std::string ErrorOf(const std::string& yaml) {
  auto config = ParseAppConfig(yaml);
  if (config) return "(parsed)";
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  return config.error().message;
}

TEST(AppConfigFileTest, AnEmptyFileKeepsEveryDefault) {
  auto config = ParseAppConfig("");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->integrations.users, "chime_app.users");
  ASSERT_EQ(config->providers.size(), 4u);
  EXPECT_EQ(Find(*config, "github")->cadence, minutes(15));
  EXPECT_EQ(Find(*config, "google_calendar")->cadence, minutes(30));
  EXPECT_FALSE(config->capacity_webhook.has_value());
  EXPECT_EQ(config->http_request_secrets, (std::vector<SecretGrant>{{.ref = "env:CRON_SECRET", .origins = {}}}));
}

TEST(AppConfigFileTest, TheShippedExampleLoads) {
  auto config = LoadAppConfig(std::string(CHIME_SOURCE_DIR) + "/deploy/kinds.example.yaml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const Provider* slack = Find(*config, "slack");
  ASSERT_NE(slack, nullptr);
  EXPECT_EQ(slack->cadence, minutes(30));
  EXPECT_EQ(slack->endpoint.auth, AuthStyle::kBearer);
  EXPECT_EQ(slack->endpoint.secret_ref, "file:/run/secrets/chime/slack_sync");
  EXPECT_EQ(Find(*config, "github")->endpoint.timeout, std::chrono::seconds(30));
  EXPECT_EQ(Find(*config, "google_calendar")->endpoint.auth, AuthStyle::kCronSecretHeader);
  ASSERT_TRUE(config->capacity_webhook.has_value());
  EXPECT_EQ(config->capacity_webhook->secret_ref, "env:CHIME_SECRET_CAPACITY_WEBHOOK");
  EXPECT_EQ(config->http_allow, std::vector<std::string>{"10.20.0.0/16"});
  EXPECT_EQ(config->http_request_secrets,
            (std::vector<SecretGrant>{
                {.ref = "env:CRON_SECRET", .origins = {"https://app.example.com:443"}},
                {.ref = "file:/run/secrets/chime/integrations_cron",
                 .origins = {"https://app.example.com:443", "https://cron.example.com:8443"}}}));
  ASSERT_EQ(config->webhook_targets.size(), 1u);
  EXPECT_EQ(config->webhook_targets[0].name, "billing_events");
  EXPECT_EQ(config->webhook_targets[0].endpoint.secret_ref, "env:CHIME_SECRET_BILLING_WEBHOOK");
  EXPECT_EQ(FindWebhookTarget(*config, "billing_events"), &config->webhook_targets[0].endpoint);
  EXPECT_EQ(FindWebhookTarget(*config, "capacity_webhook"), &*config->capacity_webhook);
  EXPECT_EQ(FindWebhookTarget(*config, "elsewhere"), nullptr);
}

// Issue 18, finding 3: the shipped kinds files bind every secret a payload
// may name to an origin.
TEST(AppConfigFileTest, TheShippedKindsFilesBindEachPayloadSecretToOrigins) {
  for (const char* file : {"deploy/kinds.example.yaml", "deploy/k8s/kinds.yaml", "deploy/kinds.compose.yaml"}) {
    auto config = LoadAppConfig(std::string(CHIME_SOURCE_DIR) + "/" + file);
    ASSERT_TRUE(config.has_value()) << file << ": " << config.error().message;
    ASSERT_FALSE(config->http_request_secrets.empty()) << file;
    for (const SecretGrant& grant : config->http_request_secrets) {
      EXPECT_FALSE(grant.origins.empty()) << file << ": " << grant.ref << " is not bound to origins";
    }
  }
}

TEST(AppConfigFileTest, SecretOriginsAreOriginsOnly) {
  auto config = ParseAppConfig(R"(
http_request:
  secrets:
    - env:OPEN
    - {ref: "env:BOUND", origins: ["HTTPS://App.Example.com/", "http://10.0.0.5:8080", "http://[::1]"]})");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->http_request_secrets[0], (SecretGrant{.ref = "env:OPEN", .origins = {}}));
  EXPECT_EQ(config->http_request_secrets[1].origins,
            (std::vector<std::string>{"https://app.example.com:443", "http://10.0.0.5:8080", "http://[::1]:80"}));
  for (const char* bad : {"https://app.example.com/api", "https://user:pw@app.example.com", "ftp://x.example",
                          "app.example.com", "https://app.example.com?x=1"}) {
    EXPECT_PRED2(StartsWith, ErrorOf(std::string("http_request: {secrets: [{ref: env:A, origins: [\"") + bad + "\"]}]}"),
                 "http_request.secrets[0].origins[0]: ")
        << bad;
  }
  EXPECT_PRED2(StartsWith, ErrorOf("http_request: {secrets: [{ref: env:A, origins: []}]}"),
               "http_request.secrets[0].origins: ");
  EXPECT_PRED2(StartsWith, ErrorOf("http_request: {secrets: [env:A, {ref: env:A}]}"), "http_request.secrets[1]: ");
  EXPECT_PRED2(StartsWith, ErrorOf("http_request: {secrets: [{ref: env:A, origin: [x]}]}"),
               "http_request.secrets[0].origin: ");
}

TEST(AppConfigFileTest, WebhookTargetsAreNamedEndpoints) {
  EXPECT_PRED2(StartsWith, ErrorOf("webhook_targets: [{name: capacity_webhook, url: \"https://x.example\", "
                                   "secret: env:A}]"),
               "webhook_targets[0].name: ");
  EXPECT_PRED2(StartsWith, ErrorOf("webhook_targets: [{name: a, url: \"https://x.example\", secret: env:A}, "
                                   "{name: a, url: \"https://y.example\", secret: env:B}]"),
               "webhook_targets[1].name: ");
  EXPECT_PRED2(StartsWith, ErrorOf("webhook_targets: [{name: \"a b\", url: \"https://x.example\", secret: env:A}]"),
               "webhook_targets[0].name: ");
  EXPECT_PRED2(StartsWith, ErrorOf("webhook_targets: [{name: a, url: \"https://x.example\"}]"),
               "webhook_targets[0].secret: ");
}

TEST(AppConfigFileTest, AProviderEntryChangesOnlyWhatItGivesAndNewNamesAreAdded) {
  auto config = ParseAppConfig(R"(
providers:
  - name: github
    endpoint: {url: "https://x.example/github", secret: "env:GH"}
  - name: jira
    cadence: 1h
integrations:
  users: app.people
  user_id: person_id
)");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->providers.size(), 5u);
  EXPECT_EQ(Find(*config, "github")->cadence, minutes(15));
  EXPECT_EQ(Find(*config, "github")->endpoint.url, "https://x.example/github");
  EXPECT_EQ(Find(*config, "github")->endpoint.auth, AuthStyle::kStandardWebhooks);
  EXPECT_EQ(Find(*config, "jira")->cadence, minutes(60));
  EXPECT_EQ(config->integrations.users, "app.people");
  EXPECT_EQ(config->integrations.user_id, "person_id");
  EXPECT_EQ(config->integrations.integrations, "chime_app.integrations");
}

TEST(AppConfigFileTest, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf("colour: blue"),
            "colour: unknown key (expected one of: integrations, exams, providers, capacity_webhook, webhook_targets, http, "
            "http_request, limits)");
  EXPECT_PRED2(StartsWith, ErrorOf("integrations: {users: \"users; DROP TABLE x\"}"), "integrations.users: ");
  EXPECT_PRED2(StartsWith, ErrorOf("integrations: {users: a.b.c}"), "integrations.users: ");
  EXPECT_PRED2(StartsWith, ErrorOf("integrations: {user_id: public.id}"), "integrations.user_id: ");
  EXPECT_PRED2(StartsWith, ErrorOf("exams: {booking_cnt: n}"), "exams.booking_cnt: ");
  EXPECT_EQ(ErrorOf("providers: [{name: github}, {name: notion, cadence: 90s}]"),
            "providers[1].cadence: must be a whole number of minutes, at least 1m (e.g. 15m, 2h)");
  EXPECT_PRED2(StartsWith, ErrorOf("providers: [{name: github, cadence: soon}]"), "providers[0].cadence: ");
  EXPECT_EQ(ErrorOf("providers: [{name: github}, {name: github}]"), "providers[1].name: \"github\" is listed twice");
  EXPECT_EQ(ErrorOf("providers: [{cadence: 5m}]"), "providers[0].name: is required");
  EXPECT_EQ(ErrorOf("providers: [{name: a, endpoint: {url: \"https://x\", secret: \"env:S\", auth: basic}}]"),
            "providers[0].endpoint.auth: \"basic\" is not one of standard-webhooks, bearer, x-cron-secret, none");
  EXPECT_EQ(ErrorOf("providers: [{name: a, endpoint: {url: \"https://x\", auth: bearer}}]"),
            "providers[0].endpoint.secret: is required (env:NAME or file:/path) unless auth is none");
  EXPECT_EQ(ErrorOf("providers: [{name: a, endpoint: {url: \"ftp://x\", secret: \"env:S\"}}]"),
            "providers[0].endpoint.url: must start with http:// or https://");
  EXPECT_EQ(ErrorOf("providers: [{name: a, endpoint: {url: \"https://x\", secret: \"env:S\", timeout: 0}}]"),
            "providers[0].endpoint.timeout: must be above 0 and at most 10m");
  EXPECT_PRED2(StartsWith, ErrorOf("providers: [{name: a, endpoint: {url: \"https://x\", secret: \"env:S\", retries: 3}}]"),
            "providers[0].endpoint.retries: u");
  EXPECT_PRED2(StartsWith, ErrorOf("capacity_webhook: {url: \"https://x\", secret: \"file:relative\"}"),
            "capacity_webhook.secret: ");
  EXPECT_PRED2(StartsWith, ErrorOf("http: {allow: [10.0.0.0/8, 10.0.0.1/8]}"), "http.allow[1]: ");
  EXPECT_EQ(ErrorOf("http: {deny: 10.0.0.0/8}"), "http.deny: must be a list of CIDR ranges");
  EXPECT_EQ(ErrorOf("providers: {github: {}}"), "providers: must be a list");
  EXPECT_PRED2(StartsWith, ErrorOf("http_request: {secrets: [\"env:A\", \"env:1B\"]}"),
               "http_request.secrets[1]: ");
  EXPECT_EQ(ErrorOf("- just\n- a list"), "(top level): must be a map");
}

// limits: are the scheduler's (it applies them); the worker loads a file
// that has them and refuses one the scheduler would refuse.
TEST(AppConfigFileTest, LimitsAreTheSchedulersButABadOneStopsTheWorkerToo) {
  auto config = ParseAppConfig("limits:\n  - {name: provider-rate, kind: sync_integration, partition_by: provider, "
                               "rate: 5000/1h}\n");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(ErrorOf("limits:\n  - {name: ok, concurrency: 1}\n  - {name: provider-rate, rate: 5000 an hour}\n"),
            "limits[1] (provider-rate): rate: \"5000 an hour\" has no '/' (write COUNT/WINDOW: 100/1m, 5000/1h, 10/s)");
  EXPECT_EQ(ErrorOf("limits: {name: x}\n"), "limits:1:9: \"limits\" must be a list of limits");
}

TEST(AppConfigFileTest, ASecretPastedInsteadOfAReferenceIsNotEchoed) {
  const std::string message =
      ErrorOf("providers: [{name: a, endpoint: {url: \"https://x\", secret: \"s3cr3t-value\"}}]");
  EXPECT_PRED2(StartsWith, message, "providers[0].endpoint.secret: ");
  EXPECT_EQ(message.find("s3cr3t-value"), std::string::npos) << message;
}

TEST(AppConfigFileTest, InvalidYamlAndMissingFilesAreReported) {
  EXPECT_PRED2(StartsWith, ErrorOf("providers: ["), "not valid YAML: ");
  auto missing = LoadAppConfig("/nonexistent/kinds.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "/nonexistent/kinds.yaml: cannot open the kinds file");
}

}  // namespace
}  // namespace chime::worker::kinds
