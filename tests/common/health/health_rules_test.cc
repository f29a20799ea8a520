// The health rules as pure functions over runs (DESIGN.md rule 7): each rule
// holds exactly past its threshold, skipped and cancelled runs decide
// nothing, messages name the newest failed run, overrides and "off" apply
// per schedule, and paused or disabled schedules hold nothing.
#include "common/health/health_rules.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace chime::health {
namespace {

using schedule::HealthRule;
using std::chrono::hours;
using std::chrono::minutes;

db::TimePoint Now() {
  using namespace std::chrono;
  return sys_days(year(2026) / 1 / 31) + hours(12);
}

// A schedule created a day ago that last succeeded a minute ago.
ScheduleSnapshot Healthy() {
  ScheduleSnapshot s;
  s.schedule_id = 1;
  s.name = "sync-github";
  s.created_at = Now() - hours(24);
  s.period = minutes(15);
  s.stats.total = 10;
  s.stats.succeeded = 10;
  s.stats.success_rate = 1.0;
  s.stats.failure_rate = 0.0;
  s.stats.avg_duration_ms = 1000;
  s.stats.last_success = Now() - minutes(1);
  return s;
}

void SetCounts(ScheduleSnapshot& s, int64_t succeeded, int64_t failed, int64_t cancelled = 0,
               int64_t skipped = 0) {
  s.stats.succeeded = succeeded;
  s.stats.failed = failed;
  s.stats.cancelled = cancelled;
  s.stats.skipped = skipped;
  s.stats.total = succeeded + failed + cancelled + skipped;
  const double decided = static_cast<double>(succeeded + failed);
  s.stats.success_rate = decided > 0 ? std::optional(succeeded / decided) : std::nullopt;
  s.stats.failure_rate = decided > 0 ? std::optional(failed / decided) : std::nullopt;
}

std::vector<HealthRule> Rules(const ScheduleSnapshot& s, HealthDefaults d = {}) {
  std::vector<HealthRule> out;
  for (const auto& f : Evaluate(s, d, Now(), hours(24))) out.push_back(f.rule);
  return out;
}

bool Holds(const ScheduleSnapshot& s, HealthRule rule, HealthDefaults d = {}) {
  auto rules = Rules(s, d);
  return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

TEST(HealthRulesTest, AHealthyScheduleHoldsNothing) { EXPECT_TRUE(Rules(Healthy()).empty()); }

TEST(HealthRulesTest, FailureRateAboveHalfWithFiveRuns) {
  ScheduleSnapshot s = Healthy();
  SetCounts(s, 2, 3);
  EXPECT_TRUE(Holds(s, HealthRule::kFailureRate));
  SetCounts(s, 1, 3);  // Only 4 runs: too few to judge.
  EXPECT_FALSE(Holds(s, HealthRule::kFailureRate));
  SetCounts(s, 3, 3);  // Exactly 50 %: not above.
  EXPECT_FALSE(Holds(s, HealthRule::kFailureRate));
  SetCounts(s, 2, 3, 10);  // Cancellations do not dilute the rate.
  EXPECT_TRUE(Holds(s, HealthRule::kFailureRate));
  SetCounts(s, 1, 3, 0, 10);  // Neither do skipped runs make up the numbers: 4 decided.
  EXPECT_FALSE(Holds(s, HealthRule::kFailureRate));
  SetCounts(s, 2, 3, 10);
  auto findings = Evaluate(s, {}, Now(), hours(24));
  EXPECT_NE(findings.at(0).message.find("sync-github: failure rate 60.0% over the last 24h (3 of 5 runs failed"),
            std::string::npos)
      << findings.at(0).message;
  EXPECT_NE(findings.at(0).values_json.find("\"threshold\":0.5"), std::string::npos);
}

TEST(HealthRulesTest, SuccessRateBelowEightyPercent) {
  ScheduleSnapshot s = Healthy();
  SetCounts(s, 7, 3);
  EXPECT_TRUE(Holds(s, HealthRule::kSuccessRate));
  EXPECT_FALSE(Holds(s, HealthRule::kFailureRate));
  SetCounts(s, 8, 2);
  EXPECT_FALSE(Holds(s, HealthRule::kSuccessRate));
}

TEST(HealthRulesTest, ThreeConsecutiveFailures) {
  ScheduleSnapshot s = Healthy();
  s.stats.consecutive_failures = 2;
  EXPECT_FALSE(Holds(s, HealthRule::kConsecutiveFailures));
  s.stats.consecutive_failures = 3;
  s.stats.recent_failures.push_back({.job_id = 9, .attempt = 3, .error = "401 from api.github.com",
                                     .response = R"({"error":"bad token"})"});
  auto findings = Evaluate(s, {}, Now(), hours(24));
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule, HealthRule::kConsecutiveFailures);
  // The alert names the job, its newest error and what the endpoint answered.
  EXPECT_EQ(findings[0].message,
            "sync-github: 3 consecutive failed runs (threshold 3); newest: job 9 failed after 3 attempts: "
            "401 from api.github.com; response: {\"error\":\"bad token\"}");
  EXPECT_NE(findings[0].values_json.find("\"job_id\":9"), std::string::npos) << findings[0].values_json;
}

TEST(HealthRulesTest, ARecoverySaysWhichRunRecoveredAfterHowManyFailedRuns) {
  db::StatsRow st;
  st.total = 6;
  st.succeeded = 2;
  st.failed = 4;
  st.last_success = Now() - minutes(2);
  st.last_success_job_id = 815;
  st.last_success_attempts = 3;
  st.failures_before_last_success = 4;
  Recovery r = DescribeRecovery(st);
  EXPECT_EQ(r.message, "recovered by job 815 (succeeded on attempt 3, 2026-01-31T11:58:00Z) after 4 failed runs");
  EXPECT_EQ(r.job_id, 815);
  st.consecutive_failures = 1;  // Failing again: no recovery to speak of.
  EXPECT_EQ(DescribeRecovery(st).message.find("recovered"), std::string::npos);
}

TEST(HealthRulesTest, AverageDurationOverFiveMinutes) {
  ScheduleSnapshot s = Healthy();
  s.stats.avg_duration_ms = 300'000;
  EXPECT_FALSE(Holds(s, HealthRule::kAverageDuration));
  s.stats.avg_duration_ms = 300'001;
  EXPECT_TRUE(Holds(s, HealthRule::kAverageDuration));
}

TEST(HealthRulesTest, ARunLongerThanTheTimeoutOrTheDefault) {
  ScheduleSnapshot s = Healthy();
  s.oldest_running_since = Now() - minutes(50);
  s.oldest_running_job = 77;
  EXPECT_FALSE(Holds(s, HealthRule::kRunDuration));  // Default 1 h.
  s.timeout = minutes(30);
  EXPECT_TRUE(Holds(s, HealthRule::kRunDuration));
  s.health.run_duration.value = hours(2);
  EXPECT_FALSE(Holds(s, HealthRule::kRunDuration));
}

TEST(HealthRulesTest, NoSuccessWithinTwelveHoursOrTwoPeriods) {
  ScheduleSnapshot s = Healthy();
  s.stats.last_success = Now() - hours(13);
  EXPECT_TRUE(Holds(s, HealthRule::kNoSuccessWithin));
  s.period = hours(24);  // A daily job: 48 h of silence is normal.
  EXPECT_FALSE(Holds(s, HealthRule::kNoSuccessWithin));
  s.period = minutes(15);
  s.stats.last_success.reset();
  s.created_at = Now() - hours(2);  // Never succeeded, but new.
  EXPECT_FALSE(Holds(s, HealthRule::kNoSuccessWithin));
  s.created_at = Now() - hours(20);
  EXPECT_TRUE(Holds(s, HealthRule::kNoSuccessWithin));
}

TEST(HealthRulesTest, OverridesAndOffApplyPerSchedule) {
  ScheduleSnapshot s = Healthy();
  SetCounts(s, 2, 3);
  s.health.failure_rate.off = true;
  s.health.success_rate.value = 0.3;
  EXPECT_TRUE(Rules(s).empty());
  s.health = {};
  s.health.min_runs = 10;
  EXPECT_TRUE(Rules(s).empty());
  HealthDefaults d;
  d.min_runs = 2;
  s.health = {};
  EXPECT_TRUE(Holds(s, HealthRule::kFailureRate, d));
}

TEST(HealthRulesTest, PausedOrDisabledSchedulesHoldNothing) {
  ScheduleSnapshot s = Healthy();
  SetCounts(s, 0, 10);
  s.stats.consecutive_failures = 10;
  ASSERT_FALSE(Rules(s).empty());
  s.paused = true;
  EXPECT_TRUE(Rules(s).empty());
  s.paused = false;
  s.health.enabled = false;
  EXPECT_TRUE(Rules(s).empty());
}

TEST(HealthRulesTest, DefaultsAreValidatedNamingTheFlag) {
  HealthDefaults d;
  EXPECT_TRUE(d.Validate().has_value());
  d.failure_rate = 1.5;
  auto bad = d.Validate();
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().message.starts_with("alert-failure-rate: ")) << bad.error().message;
}

}  // namespace
}  // namespace chime::health
