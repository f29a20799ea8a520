// What each health rule holds a schedule to, as the health monitor applies
// it (its overrides over the defaults, its timeout for long runs, its cron
// period for the dead-man's window), in words, for the dashboard's schedule
// page. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/health/health_rules.h"
#include "common/schedule/health_spec.h"

namespace chime::health {

struct RuleSetting {
  schedule::HealthRule rule;
  bool enabled = true;      // False: off for this schedule (the rule, or all of them).
  bool overridden = false;  // The schedule sets its own threshold or turned it off.
  std::string condition;    // "failure rate above 50.0% (at least 5 executions)".
};

// Every rule in kAllHealthRules order. `timeout` is the schedule's job
// timeout, `period` the gap between its fires (as the monitor computes it).
std::vector<RuleSetting> RuleSettings(const schedule::HealthSpec& health, const HealthDefaults& defaults,
                                      std::optional<std::chrono::milliseconds> timeout,
                                      std::optional<std::chrono::milliseconds> period);

}  // namespace chime::health
