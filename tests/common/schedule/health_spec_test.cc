// The `health:` overrides of a schedule: the YAML reader, validation naming
// the field, and the stored JSON form round-tripping.
#include "common/schedule/health_spec.h"

#include <gtest/gtest.h>

#include "common/schedule/schedule_spec.h"

namespace chime::schedule {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

Result<ParsedFile> Parse(const std::string& health_block) {
  return ParseScheduleFile("schedules:\n  - name: sync\n    cron: \"*/15 * * * *\"\n    kind: noop\n" +
                               health_block,
                           "s.yaml");
}

TEST(HealthSpecTest, ReadsOverridesAndOffFromTheScheduleFile) {
  auto parsed = Parse(
      "    health:\n      failure_rate: 0.25\n      min_runs: 10\n      consecutive_failures: 5\n"
      "      average_duration: 10m\n      run_duration: 2h\n      no_success_within: off\n"
      "      success_rate: 0.9\n");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_TRUE(parsed->problems.empty()) << parsed->problems.at(0).message;
  const HealthSpec& h = parsed->schedules.at(0).health;
  EXPECT_EQ(h.failure_rate.value, 0.25);
  EXPECT_EQ(h.min_runs, 10);
  EXPECT_EQ(h.consecutive_failures.value, 5);
  EXPECT_EQ(h.average_duration.value, minutes(10));
  EXPECT_EQ(h.run_duration.value, hours(2));
  EXPECT_TRUE(h.no_success_within.off);
  EXPECT_EQ(h.success_rate.value, 0.9);
  EXPECT_TRUE(parsed->schedules.at(0).health.enabled);
}

TEST(HealthSpecTest, EveryBadEntryNamesTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"    health:\n      failure_ratio: 0.5\n", "health: unknown key \"failure_ratio\""},
      {"    health:\n      failure_rate: 1.5\n", "health: failure_rate: 1.5 is out of range 0-1"},
      {"    health:\n      failure_rate: \"0.5\"\n", "health: failure_rate: \"0.5\" is not a number"},
      {"    health:\n      consecutive_failures: 0\n", "health: consecutive_failures: 0 is out of range"},
      {"    health:\n      average_duration: 5\n", "health: average_duration: \"5\""},
      {"    health:\n      no_success_within: 10s\n", "health: no_success_within: 10s is out of range"},
      {"    health:\n      min_runs: off\n", "health: min_runs: must be a plain integer"},
      {"    health:\n      enabled: yes\n", "health: enabled: must be true or false"},
      {"    health: [1, 2]\n", "health: must be a map"},
  };
  for (const auto& [yaml, expected] : cases) {
    auto parsed = Parse(yaml);
    ASSERT_TRUE(parsed.has_value()) << yaml;
    ASSERT_EQ(parsed->problems.size(), 1u) << yaml;
    EXPECT_NE(parsed->problems[0].message.find(expected), std::string::npos)
        << yaml << " -> " << parsed->problems[0].message;
  }
}

TEST(HealthSpecTest, JsonRoundTripsAndDefaultsAreEmpty) {
  EXPECT_EQ(HealthToJson(HealthSpec{}), "{}");
  HealthSpec h;
  h.enabled = false;
  h.min_runs = 3;
  h.failure_rate.value = 0.75;
  h.average_duration.value = minutes(7);
  h.no_success_within.off = true;
  const std::string json = HealthToJson(h);
  EXPECT_EQ(json, R"({"enabled":false,"min_runs":3,"failure_rate":0.75,"average_duration_ms":420000,)"
                  R"("no_success_within_ms":"off"})");
  auto back = HealthFromJson(json);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, h);
  auto bad = HealthFromJson(R"({"bogus": 1})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "health: bogus: unknown key");
  EXPECT_EQ(HealthValueText(h, HealthRule::kAverageDuration), "7m");
  EXPECT_EQ(HealthValueText(h, HealthRule::kNoSuccessWithin), "off");
  EXPECT_FALSE(HealthValueText(h, HealthRule::kSuccessRate).has_value());
}

// jobctl schedule create|update --health KEY=VALUE: the file's rules, one key at a time.
TEST(HealthSpecTest, SettingsApplyInOrderAndKeepWhatTheyDoNotName) {
  HealthSpec base;
  base.failure_rate.value = 0.3;
  auto h = ApplyHealthSettings(base, {"consecutive_failures=5", "no_success_within=6h", "success_rate=off",
                                      "min_runs=10", "enabled=false"});
  ASSERT_TRUE(h.has_value()) << h.error().message;
  EXPECT_EQ(h->failure_rate.value, 0.3);
  EXPECT_EQ(h->consecutive_failures.value, 5);
  EXPECT_EQ(h->no_success_within.value, std::chrono::hours(6));
  EXPECT_TRUE(h->success_rate.off);
  EXPECT_EQ(h->min_runs, 10);
  EXPECT_FALSE(h->enabled);
  auto reset = ApplyHealthSettings(*h, {"defaults", "average_duration=10m"});
  ASSERT_TRUE(reset.has_value());
  HealthSpec expected;
  expected.average_duration.value = std::chrono::minutes(10);
  EXPECT_EQ(*reset, expected);
  for (const auto& [setting, message] : std::vector<std::pair<std::string, std::string>>{
           {"failure_rate=2", "health: failure_rate: 2 is out of range 0-1"},
           {"consecutive_failures=abc", "health: consecutive_failures: \"abc\" is not an integer or off"},
           {"bogus=1", "health: unknown key \"bogus\""},
           {"no_success_within", "health: \"no_success_within\" is not key=value (or defaults)"},
           {"run_duration=[1]", "health: run_duration: must be a value or off"}}) {
    auto bad = ApplyHealthSettings({}, {setting});
    ASSERT_FALSE(bad.has_value()) << setting;
    EXPECT_EQ(bad.error().message.substr(0, message.size()), message) << bad.error().message;
  }
}

TEST(HealthSpecTest, ValidateCoversHealth) {
  ScheduleSpec spec;
  spec.name = "x";
  spec.cron = "* * * * *";
  spec.kind = "noop";
  spec.health.success_rate.value = -0.1;
  auto ok = Validate(spec);
  ASSERT_FALSE(ok.has_value());
  EXPECT_TRUE(ok.error().message.starts_with("health: success_rate: ")) << ok.error().message;
}

}  // namespace
}  // namespace chime::schedule
