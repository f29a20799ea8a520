#include "common/health/rule_settings.h"

#include <cstdio>
#include <functional>

#include "common/base/text_format.h"

namespace chime::health {
namespace {

using schedule::HealthRule;
using std::chrono::milliseconds;

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
  return buf;
}

template <typename T>
RuleSetting Setting(HealthRule rule, bool all_enabled, const schedule::Threshold<T>& t, T fallback,
                    const std::function<std::string(T)>& words) {
  RuleSetting s{.rule = rule};
  s.overridden = t.off || t.value.has_value();
  s.enabled = all_enabled && !t.off;
  s.condition = t.off ? "off for this schedule" : words(t.value.value_or(fallback));
  return s;
}

}  // namespace

std::vector<RuleSetting> RuleSettings(const schedule::HealthSpec& h, const HealthDefaults& d,
                                      std::optional<milliseconds> timeout, std::optional<milliseconds> period) {
  const int min_runs = h.min_runs.value_or(d.min_runs);
  const std::string at_least = " (at least " + std::to_string(min_runs) + " executions)";
  milliseconds dead_window = d.no_success_within;
  if (period) dead_window = std::max(dead_window, 2 * *period);
  std::vector<RuleSetting> out;
  for (HealthRule rule : schedule::kAllHealthRules) {
    switch (rule) {
      case HealthRule::kFailureRate:
        out.push_back(Setting<double>(rule, h.enabled, h.failure_rate, d.failure_rate, [&](double v) {
          return "failure rate above " + Percent(v) + at_least;
        }));
        break;
      case HealthRule::kConsecutiveFailures:
        out.push_back(Setting<int>(rule, h.enabled, h.consecutive_failures, d.consecutive_failures,
                                   [](int v) { return std::to_string(v) + " failures in a row"; }));
        break;
      case HealthRule::kAverageDuration:
        out.push_back(Setting<milliseconds>(rule, h.enabled, h.average_duration, d.average_duration,
                                            [](milliseconds v) {
                                              return "average duration above " + FormatDuration(v);
                                            }));
        break;
      case HealthRule::kRunDuration:
        out.push_back(Setting<milliseconds>(rule, h.enabled, h.run_duration, timeout.value_or(d.run_duration),
                                            [](milliseconds v) {
                                              return "a run still going after " + FormatDuration(v);
                                            }));
        break;
      case HealthRule::kNoSuccessWithin:
        out.push_back(Setting<milliseconds>(rule, h.enabled, h.no_success_within, dead_window,
                                            [](milliseconds v) {
                                              return "no successful run for " + FormatDuration(v);
                                            }));
        break;
      case HealthRule::kSuccessRate:
        out.push_back(Setting<double>(rule, h.enabled, h.success_rate, d.success_rate, [&](double v) {
          return "success rate below " + Percent(v) + at_least;
        }));
        break;
    }
  }
  return out;
}

}  // namespace chime::health
