// A schedule's health rules: the seeds' alert thresholds with per-schedule
// overrides, as written under `health:` in a schedule file and stored as JSON
// on chime.schedules.health. Only the overrides live here; the defaults and
// the evaluation are common/health's. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace chime::schedule {

// The rules, by the name used in YAML, JSON, chime.alerts.rule and messages.
enum class HealthRule {
  kFailureRate,          // "failure_rate": failed share of executions above a threshold.
  kConsecutiveFailures,  // "consecutive_failures": the newest N executions all failed.
  kAverageDuration,      // "average_duration": average duration above a threshold.
  kRunDuration,          // "run_duration": a run still running longer than its maximum.
  kNoSuccessWithin,      // "no_success_within": no successful run for this long (dead-man's switch).
  kSuccessRate,          // "success_rate": succeeded share of executions below a threshold.
};
inline constexpr HealthRule kAllHealthRules[] = {
    HealthRule::kFailureRate,  HealthRule::kConsecutiveFailures, HealthRule::kAverageDuration,
    HealthRule::kRunDuration,  HealthRule::kNoSuccessWithin,     HealthRule::kSuccessRate,
};
std::string_view HealthRuleName(HealthRule rule);
std::optional<HealthRule> ParseHealthRule(std::string_view name);

// One rule's override: neither set means the default applies.
template <typename T>
struct Threshold {
  bool off = false;          // `failure_rate: off`: the rule never fires for this schedule.
  std::optional<T> value;    // The schedule's own threshold.

  bool operator==(const Threshold&) const = default;
};

struct HealthSpec {
  bool enabled = true;                 // false: no rule is evaluated for the schedule.
  std::optional<int> min_runs;         // Rate rules need this many executions (1-100000).
  Threshold<double> failure_rate;      // 0-1; fires when the failure rate is above it.
  Threshold<int> consecutive_failures; // 1-10000; fires at this many in a row.
  Threshold<std::chrono::milliseconds> average_duration;  // 1 ms - 7 d.
  Threshold<std::chrono::milliseconds> run_duration;      // 1 ms - 7 d.
  Threshold<std::chrono::milliseconds> no_success_within; // 1 min - 30 d.
  Threshold<double> success_rate;      // 0-1; fires when the success rate is below it.

  bool IsDefault() const { return *this == HealthSpec{}; }
  bool operator==(const HealthSpec&) const = default;
};

// InvalidArgument naming the field: "health: failure_rate: 1.5 is out of range 0-1".
[[nodiscard]] Result<void> ValidateHealth(const HealthSpec& health);

// The stored form: a JSON object with only the overrides ("{}" for none).
// Durations are milliseconds under "<rule>_ms"; "off" is the string "off":
//   {"enabled": false, "min_runs": 10, "failure_rate": 0.25,
//    "average_duration_ms": 600000, "no_success_within": "off"}
std::string HealthToJson(const HealthSpec& health);
// Reads HealthToJson's form back; unknown keys and bad values are
// InvalidArgument naming the key. "" reads as the defaults.
[[nodiscard]] Result<HealthSpec> HealthFromJson(std::string_view json);

// One override as a schedule file writes it ("0.25", "10m", "off"), for
// jobctl's views and the schedule-file writer; nullopt when not overridden.
std::optional<std::string> HealthValueText(const HealthSpec& health, HealthRule rule);

// `health` with settings applied in order, each "key=value" as a schedule
// file's `health:` map takes them ("consecutive_failures=5",
// "no_success_within=6h", "failure_rate=off", "enabled=false",
// "min_runs=10"), or "defaults" to drop every override so far. Keys not
// named keep their value. InvalidArgument naming the key, as the file reader
// does ("health: failure_rate: \"2\" ...").
[[nodiscard]] Result<HealthSpec> ApplyHealthSettings(HealthSpec health,
                                                     const std::vector<std::string>& settings);

}  // namespace chime::schedule
