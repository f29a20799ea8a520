// What each health rule holds a schedule to, in words (the schedule page):
// defaults, a schedule's own thresholds, rules turned off one by one or all
// at once, the job timeout for long runs and the cron period for silence.
#include "common/health/rule_settings.h"

#include <gtest/gtest.h>

namespace chime::health {
namespace {

using schedule::HealthRule;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

const RuleSetting& Of(const std::vector<RuleSetting>& all, HealthRule rule) {
  for (const auto& s : all) {
    if (s.rule == rule) return s;
  }
  ADD_FAILURE() << "no setting for " << schedule::HealthRuleName(rule);
  static const RuleSetting none{};
  return none;
}

TEST(RuleSettingsTest, TheDefaultsInWords) {
  const auto all = RuleSettings({}, HealthDefaults{}, std::nullopt, std::nullopt);
  ASSERT_EQ(all.size(), std::size(schedule::kAllHealthRules));
  for (const auto& s : all) {
    EXPECT_TRUE(s.enabled);
    EXPECT_FALSE(s.overridden);
  }
  EXPECT_EQ(Of(all, HealthRule::kFailureRate).condition, "failure rate above 50.0% (at least 5 executions)");
  EXPECT_EQ(Of(all, HealthRule::kConsecutiveFailures).condition, "3 failures in a row");
  EXPECT_EQ(Of(all, HealthRule::kAverageDuration).condition, "average duration above 5m");
  EXPECT_EQ(Of(all, HealthRule::kRunDuration).condition, "a run still going after 1h");
  EXPECT_EQ(Of(all, HealthRule::kNoSuccessWithin).condition, "no successful run for 12h");
  EXPECT_EQ(Of(all, HealthRule::kSuccessRate).condition, "success rate below 80.0% (at least 5 executions)");
}

TEST(RuleSettingsTest, AScheduleOwnThresholdsTimeoutAndPeriod) {
  schedule::HealthSpec h;
  h.min_runs = 10;
  h.failure_rate.value = 0.25;
  h.consecutive_failures.off = true;
  const auto all = RuleSettings(h, HealthDefaults{}, milliseconds(minutes(10)), milliseconds(hours(24)));
  EXPECT_EQ(Of(all, HealthRule::kFailureRate).condition, "failure rate above 25.0% (at least 10 executions)");
  EXPECT_TRUE(Of(all, HealthRule::kFailureRate).overridden);
  EXPECT_FALSE(Of(all, HealthRule::kConsecutiveFailures).enabled);
  EXPECT_TRUE(Of(all, HealthRule::kConsecutiveFailures).overridden);
  EXPECT_EQ(Of(all, HealthRule::kConsecutiveFailures).condition, "off for this schedule");
  EXPECT_EQ(Of(all, HealthRule::kRunDuration).condition, "a run still going after 10m") << "its job timeout";
  EXPECT_EQ(Of(all, HealthRule::kNoSuccessWithin).condition, "no successful run for 2d")
      << "two periods of a daily schedule";
  EXPECT_EQ(Of(all, HealthRule::kSuccessRate).condition, "success rate below 80.0% (at least 10 executions)");
}

TEST(RuleSettingsTest, HealthOffTurnsEveryRuleOff) {
  schedule::HealthSpec h;
  h.enabled = false;
  for (const auto& s : RuleSettings(h, HealthDefaults{}, std::nullopt, std::nullopt)) EXPECT_FALSE(s.enabled);
}

}  // namespace
}  // namespace chime::health
