// ImportVercel with the vercel.json snippets of the seeds, and the inputs it
// must refuse: bad base URLs, credentials, secret values, bad entries.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>

#include "common/schedule/schedule_spec.h"

namespace chime::schedule {
namespace {

const VercelImportOptions kOptions{.base_url = "https://app.example.com"};

std::vector<ScheduleSpec> ImportOk(const std::string& json, const VercelImportOptions& options = kOptions) {
  auto specs = ImportVercel(json, options);
  EXPECT_TRUE(specs) << specs.error().message;
  return specs ? *specs : std::vector<ScheduleSpec>{};
}

std::string ImportError(const std::string& json, const VercelImportOptions& options = kOptions) {
  auto specs = ImportVercel(json, options);
  if (specs) return "imported";
  EXPECT_EQ(specs.error().code, ErrorCode::kInvalidArgument) << specs.error().message;
  EXPECT_EQ(specs.error().message.find('\n'), std::string::npos) << specs.error().message;
  return specs.error().message;
}

std::string BaseUrlError(const std::string& base_url) {
  return ImportError(R"({"crons": []})", {.base_url = base_url});
}

std::string SecretRefError(const std::string& secret_ref) {
  return ImportError(R"({"crons": []})", {.base_url = "https://app.example.com", .secret_ref = secret_ref});
}

std::string OneCron(const std::string& path) {
  return R"({"crons": [{"path": ")" + path + R"(", "schedule": "0 0 * * *"}]})";
}

std::string UrlOf(const ScheduleSpec& spec) { return nlohmann::json::parse(spec.payload)["url"]; }

// seeds/001: integration syncs every 15 and 30 minutes.
constexpr char kSeedIntegrations[] = R"({
  "crons": [
    {
      "path": "/api/cron/sync-integrations?interval=15min",
      "schedule": "*/15 * * * *"
    },
    {
      "path": "/api/cron/sync-integrations?interval=30min",
      "schedule": "*/30 * * * *"
    }
  ]
})";

TEST(ImportVercelTest, ImportsTheIntegrationSyncSeed) {
  std::vector<ScheduleSpec> specs = ImportOk(kSeedIntegrations);
  ASSERT_EQ(specs.size(), 2u);
  const ScheduleSpec& s = specs[0];
  EXPECT_EQ(s.name, "vercel-api-cron-sync-integrations-interval-15min");
  EXPECT_EQ(s.cron, "*/15 * * * *");
  EXPECT_EQ(s.kind, "http_request");
  EXPECT_EQ(s.time_zone, "UTC");
  EXPECT_EQ(s.queue, "default");
  EXPECT_EQ(s.priority, 0);
  EXPECT_EQ(s.max_attempts, 3);
  EXPECT_EQ(s.timeout, std::nullopt);
  EXPECT_EQ(s.overlap, OverlapPolicy::kSkip);
  EXPECT_EQ(s.misfire, MisfirePolicy::kRunOnce);
  EXPECT_FALSE(s.paused);
  EXPECT_EQ(s.payload,
            R"({"method":"GET","url":"https://app.example.com/api/cron/sync-integrations?interval=15min",)"
            R"("auth":{"type":"bearer","secret":"env:CRON_SECRET"}})");
  EXPECT_EQ(specs[1].name, "vercel-api-cron-sync-integrations-interval-30min");
  EXPECT_EQ(specs[1].cron, "*/30 * * * *");
  EXPECT_EQ(UrlOf(specs[1]), "https://app.example.com/api/cron/sync-integrations?interval=30min");
  for (const ScheduleSpec& spec : specs) EXPECT_TRUE(Validate(spec)) << spec.name;
}

TEST(ImportVercelTest, ImportsTheOtherSeeds) {
  struct Seed {
    const char* json;
    std::vector<std::pair<std::string, std::string>> name_and_cron;
  };
  const Seed seeds[] = {
      // seeds/000: exam capacity every two hours.
      {R"({"crons": [{"path": "/api/mock-exams/sync-capacity", "schedule": "0 */2 * * *"}]})",
       {{"vercel-api-mock-exams-sync-capacity", "0 */2 * * *"}}},
      // seeds/002.
      {R"({"crons": [{"path": "/api/cron/sync", "schedule": "*/5 * * * *"}]})",
       {{"vercel-api-cron-sync", "*/5 * * * *"}}},
      // seeds/003.
      {R"({"crons": [{"path": "/api/ticketing/cron/sync-qcontact", "schedule": "0 */6 * * *"}]})",
       {{"vercel-api-ticketing-cron-sync-qcontact", "0 */6 * * *"}}},
      // seeds/004.
      {R"({"crons": [{"path": "/api/jobs/resolve-outcomes", "schedule": "0 0 * * *"},
                     {"path": "/api/jobs/expire-offers", "schedule": "*/5 * * * *"}]})",
       {{"vercel-api-jobs-resolve-outcomes", "0 0 * * *"}, {"vercel-api-jobs-expire-offers", "*/5 * * * *"}}},
  };
  for (const Seed& seed : seeds) {
    std::vector<ScheduleSpec> specs = ImportOk(seed.json);
    ASSERT_EQ(specs.size(), seed.name_and_cron.size()) << seed.json;
    for (size_t i = 0; i < specs.size(); ++i) {
      EXPECT_EQ(specs[i].name, seed.name_and_cron[i].first);
      EXPECT_EQ(specs[i].cron, seed.name_and_cron[i].second);
      EXPECT_TRUE(Validate(specs[i])) << specs[i].name;
    }
  }
}

TEST(ImportVercelTest, IgnoresOtherKeysOfVercelJson) {
  std::vector<ScheduleSpec> specs = ImportOk(
      R"({"functions": {"api/*.ts": {"maxDuration": 60}}, "crons": [{"path": "/x", "schedule": "@daily"}]})");
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].name, "vercel-x");
  EXPECT_TRUE(ImportOk(R"({"crons": []})").empty());
}

TEST(ImportVercelTest, JoinsBaseAndPathWithOneSlash) {
  const std::string json = OneCron("/api/cron/sync");
  EXPECT_EQ(UrlOf(ImportOk(json, {.base_url = "https://app.example.com"})[0]),
            "https://app.example.com/api/cron/sync");
  EXPECT_EQ(UrlOf(ImportOk(json, {.base_url = "https://app.example.com/"})[0]),
            "https://app.example.com/api/cron/sync");
  EXPECT_EQ(UrlOf(ImportOk(json, {.base_url = "http://localhost:3000/app/"})[0]),
            "http://localhost:3000/app/api/cron/sync");
  EXPECT_EQ(UrlOf(ImportOk(json, {.base_url = "http://10.0.0.7:8080/a/b"})[0]),
            "http://10.0.0.7:8080/a/b/api/cron/sync");
  EXPECT_EQ(UrlOf(ImportOk(json, {.base_url = "http://[::1]:8080"})[0]), "http://[::1]:8080/api/cron/sync");
  EXPECT_EQ(UrlOf(ImportOk(json, {.base_url = "http://web_app"})[0]), "http://web_app/api/cron/sync");
  EXPECT_EQ(UrlOf(ImportOk(OneCron("/"), {.base_url = "https://app.example.com/"})[0]),
            "https://app.example.com/");
}

TEST(ImportVercelTest, RejectsBadBaseUrls) {
  const std::string no_scheme = "base_url: must start with http:// or https://";
  const std::string no_host =
      "base_url: needs a host name or address after the scheme (letters, digits, '-', '_', '.')";
  const std::string bad_port = "base_url: the port must be a number 1-65535";
  EXPECT_EQ(BaseUrlError(""), "base_url: must not be empty");
  EXPECT_EQ(BaseUrlError("app.example.com"), no_scheme);
  EXPECT_EQ(BaseUrlError("ftp://app.example.com"), no_scheme);
  EXPECT_EQ(BaseUrlError("HTTPS://app.example.com"), no_scheme);
  EXPECT_EQ(BaseUrlError("https//app.example.com"), no_scheme);
  EXPECT_EQ(BaseUrlError("https://"), no_host);
  EXPECT_EQ(BaseUrlError("https:///api"), no_host);
  EXPECT_EQ(BaseUrlError("https://app..example.com"), no_host);
  EXPECT_EQ(BaseUrlError("https://app.example.com."), no_host);
  EXPECT_EQ(BaseUrlError("https://app!.com"), no_host);
  EXPECT_EQ(BaseUrlError("https://:80"), no_host);
  EXPECT_EQ(BaseUrlError("https://[zz]"), no_host);
  EXPECT_EQ(BaseUrlError("https://app.example.com:0"), bad_port);
  EXPECT_EQ(BaseUrlError("https://app.example.com:65536"), bad_port);
  EXPECT_EQ(BaseUrlError("https://app.example.com:"), bad_port);
  EXPECT_EQ(BaseUrlError("https://app.example.com:http"), bad_port);
  EXPECT_EQ(BaseUrlError("https://app.example.com:123456/"), bad_port);
  EXPECT_EQ(BaseUrlError("https://app.example.com/?token=abc"),
            "base_url: must not have a query or fragment");
  EXPECT_EQ(BaseUrlError("https://app.example.com/#top"), "base_url: must not have a query or fragment");
  EXPECT_EQ(BaseUrlError("https://app.example.com/a b"),
            "base_url: has a space, control, non-ASCII or '\\' character");
  EXPECT_EQ(BaseUrlError("https://app.example.com\n"),
            "base_url: has a space, control, non-ASCII or '\\' character");
  EXPECT_EQ(BaseUrlError("https://b\xc3\xbc"
                         "cher.de"),
            "base_url: has a space, control, non-ASCII or '\\' character");
  EXPECT_EQ(BaseUrlError("https://" + std::string(3000, 'a')), "base_url: is longer than 2048 bytes");
}

TEST(ImportVercelTest, RefusesCredentialsInTheBaseUrlWithoutEchoingThem) {
  for (const char* url : {"https://admin:hunter2@app.example.com", "https://hunter2@app.example.com/",
                          "https://app.example.com/@hunter2", "http://admin:hunter2@[::1]:80"}) {
    const std::string message = BaseUrlError(url);
    EXPECT_EQ(message, "base_url: must not hold credentials (user:password@); the secret goes in secret_ref")
        << url;
    EXPECT_EQ(message.find("hunter2"), std::string::npos);
  }
}

TEST(ImportVercelTest, AcceptsEnvAndFileSecretRefs) {
  for (const char* ref : {"env:CRON_SECRET", "env:_X1", "env:A", "file:/run/secrets/cron_secret"}) {
    std::vector<ScheduleSpec> specs =
        ImportOk(OneCron("/x"), {.base_url = "https://a.example", .secret_ref = ref});
    ASSERT_EQ(specs.size(), 1u) << ref;
    EXPECT_EQ(nlohmann::json::parse(specs[0].payload)["auth"],
              (nlohmann::json{{"type", "bearer"}, {"secret", ref}}));
  }
}

TEST(ImportVercelTest, RefusesSecretRefsThatAreNotReferencesWithoutEchoingThem) {
  const std::string hint = "secret_ref: must be env:NAME (NAME of A-Z 0-9 _) or file:/absolute/path";
  for (const char* ref : {"", "Bearer s3cr3tvalue", "s3cr3tvalue", "env:", "env:cron_secret", "env:1S3CR3T",
                          "env:CRON-SECRET", "env:CRON SECRET", "ENV:CRON_SECRET", "file:", "file:s3cr3t.txt",
                          "file:/run/s3cr3t file", "file:/run/s3cr3t\n", "vault:s3cr3t"}) {
    const std::string message = SecretRefError(ref);
    EXPECT_EQ(message, hint) << '"' << ref << '"';
  }
  EXPECT_EQ(SecretRefError("env:" + std::string(200, 'A')), hint);
}

TEST(ImportVercelTest, NamesTheEntryWithABadSchedule) {
  EXPECT_EQ(ImportError(R"({"crons": [{"path": "/a", "schedule": "0 0 * * *"},
                                     {"path": "/b", "schedule": "61 * * * *"}]})"),
            "crons[1]: schedule: minute: 61 is out of range 0-59");
  EXPECT_TRUE(ImportError(R"({"crons": [{"path": "/a", "schedule": "@reboot"}]})")
                  .starts_with("crons[0]: schedule: "));
  EXPECT_TRUE(ImportError(R"({"crons": [{"path": "/a", "schedule": "*/5 * * * * *"}]})")
                  .starts_with("crons[0]: schedule: "));
}

TEST(ImportVercelTest, NamesTheEntryWithABadPathOrSchedule) {
  EXPECT_EQ(ImportError(R"({"crons": [{"schedule": "@daily"}]})"),
            "crons[0]: \"path\" must be a string starting with /");
  EXPECT_EQ(ImportError(R"({"crons": [{"path": 5, "schedule": "@daily"}]})"),
            "crons[0]: \"path\" must be a string starting with /");
  EXPECT_EQ(
      ImportError(
          R"({"crons": [{"path": "/a", "schedule": "@daily"}, {"path": "api/x", "schedule": "@daily"}]})"),
      "crons[1]: path \"api/x\" must start with /");
  EXPECT_EQ(ImportError(R"({"crons": [{"path": "/a b", "schedule": "@daily"}]})"),
            "crons[0]: path \"/a b\" has a space, control, non-ASCII, '#' or '\\' character");
  EXPECT_EQ(ImportError(R"({"crons": [{"path": "/a#b", "schedule": "@daily"}]})"),
            "crons[0]: path \"/a#b\" has a space, control, non-ASCII, '#' or '\\' character");
  EXPECT_EQ(
      ImportError(R"({"crons": [{"path": "/)" + std::string(3000, 'a') + R"(", "schedule": "@daily"}]})"),
      "crons[0]: path is longer than 2048 bytes");
  EXPECT_EQ(ImportError(R"({"crons": [{"path": "/a"}]})"), "crons[0]: \"schedule\" must be a string");
  EXPECT_EQ(ImportError(R"({"crons": [{"path": "/a", "schedule": 5}]})"),
            "crons[0]: \"schedule\" must be a string");
  EXPECT_EQ(ImportError(R"({"crons": ["/a"]})"), "crons[0]: must be an object with path and schedule");
}

TEST(ImportVercelTest, RejectsAFileWithoutACronsList) {
  EXPECT_EQ(ImportError("{}"), "vercel.json: has no \"crons\" list");
  EXPECT_EQ(ImportError("[]"), "vercel.json: has no \"crons\" list");
  EXPECT_EQ(ImportError(R"({"crons": {"path": "/a"}})"), "vercel.json: \"crons\" must be a list");
  EXPECT_EQ(ImportError(R"({"crons": null})"), "vercel.json: \"crons\" must be a list");
  EXPECT_EQ(
      ImportError(R"({"crons": [})"),
      "vercel.json: not valid JSON (parse error at line 1, column 12: syntax error while parsing value - "
      "unexpected '}'; expected '[', '{', or a literal)");
  EXPECT_TRUE(ImportError("").starts_with("vercel.json: not valid JSON (")) << ImportError("");
}

TEST(ImportVercelTest, SurvivesDeeplyNestedJson) {
  const std::string deep =
      R"({"other": )" + std::string(100'000, '[') + std::string(100'000, ']') + R"(, "crons": []})";
  EXPECT_TRUE(ImportOk(deep).empty());
}

// Mutates a seed's vercel.json at random (fixed seed): nothing throws, and
// whatever is imported passes Validate and calls a URL under the base.
TEST(ImportVercelTest, SurvivesRandomMutationsOfASeed) {
  const std::string alphabet = "[]{}:,\"\\/?#@ *0a\n\xff";
  std::mt19937 rng(20240531);
  size_t imported = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = kSeedIntegrations;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      if (rng() % 2) {
        text[at] = c;
      } else {
        text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
      }
    }
    auto specs = ImportVercel(text, kOptions);
    if (!specs) {
      EXPECT_EQ(specs.error().message.find('\n'), std::string::npos) << specs.error().message;
      continue;
    }
    ++imported;
    for (const ScheduleSpec& spec : *specs) {
      EXPECT_TRUE(Validate(spec)) << text;
      EXPECT_TRUE(UrlOf(spec).starts_with("https://app.example.com/")) << text;
    }
  }
  EXPECT_GT(imported, 100u);
}

TEST(ImportVercelTest, MakesNamesSafeAndUnique) {
  std::vector<ScheduleSpec> specs = ImportOk(R"({"crons": [
      {"path": "/api/x", "schedule": "@daily"},
      {"path": "/api/x", "schedule": "@hourly"},
      {"path": "/API//x/", "schedule": "@daily"},
      {"path": "/api/x-2", "schedule": "@daily"},
      {"path": "/", "schedule": "@daily"},
      {"path": "/?", "schedule": "@daily"},
      {"path": "/__Sync__Now__", "schedule": "@daily"}]})");
  std::vector<std::string> names;
  for (const ScheduleSpec& spec : specs) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"vercel-api-x", "vercel-api-x-2", "vercel-api-x-3",
                                             "vercel-api-x-2-2", "vercel", "vercel-2", "vercel-sync-now"}));
}

TEST(ImportVercelTest, CutsLongNamesToAHundredBytes) {
  std::string path = "/";
  for (int i = 0; i < 40; ++i) path += "segment/";
  std::vector<ScheduleSpec> specs = ImportOk(R"({"crons": [{"path": ")" + path + R"(", "schedule": "@daily"},
                                                           {"path": ")" +
                                             path + R"(", "schedule": "@daily"}]})");
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_LE(specs[0].name.size(), 100u);
  std::string expected = "vercel";
  for (int i = 0; i < 40; ++i) expected += "-segment";
  expected.resize(100);
  EXPECT_EQ(specs[0].name, expected);
  EXPECT_EQ(specs[1].name, specs[0].name + "-2");
  // A cut that lands on a separator leaves no trailing '-'.
  std::string dashed = "/" + std::string(92, 'a') + "/b";
  specs = ImportOk(OneCron(dashed));
  EXPECT_EQ(specs[0].name, "vercel-" + std::string(92, 'a'));
  for (const ScheduleSpec& spec : specs) EXPECT_TRUE(Validate(spec));
}

}  // namespace
}  // namespace chime::schedule
