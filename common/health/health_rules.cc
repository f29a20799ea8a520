#include "common/health/health_rules.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "common/base/text_format.h"

namespace chime::health {
namespace {

using schedule::HealthRule;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using json = nlohmann::ordered_json;

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
  return buf;
}

std::string Duration(double ms) {
  return FormatDuration(milliseconds(static_cast<int64_t>(std::llround(ms))));
}

std::string Hours(std::chrono::hours h) { return std::to_string(h.count()) + "h"; }

// The override if set, else the default; nullopt when the rule is off.
template <typename T>
std::optional<T> Effective(const schedule::Threshold<T>& t, T fallback) {
  if (t.off) return std::nullopt;
  return t.value.value_or(fallback);
}

void Add(std::vector<Finding>& out, HealthRule rule, const std::string& name, std::string message,
         json values) {
  out.push_back(Finding{rule, name + ": " + std::move(message), values.dump()});
}

}  // namespace

Result<void> HealthDefaults::Validate() const {
  schedule::HealthSpec as_spec;
  as_spec.min_runs = min_runs;
  as_spec.failure_rate.value = failure_rate;
  as_spec.consecutive_failures.value = consecutive_failures;
  as_spec.average_duration.value = average_duration;
  as_spec.run_duration.value = run_duration;
  as_spec.no_success_within.value = no_success_within;
  as_spec.success_rate.value = success_rate;
  auto ok = schedule::ValidateHealth(as_spec);
  if (!ok) {
    // "health: failure_rate: ..." -> "alert-failure-rate: ...", the flag.
    std::string message = ok.error().message.substr(std::string_view("health: ").size());
    const size_t colon = message.find(':');
    std::string field = message.substr(0, colon);
    for (char& c : field) c = c == '_' ? '-' : c;
    return Fail(ErrorCode::kInvalidArgument, "alert-" + field + message.substr(colon));
  }
  return {};
}

std::vector<Finding> Evaluate(const ScheduleSnapshot& s, const HealthDefaults& d, db::TimePoint now,
                              std::chrono::hours window) {
  std::vector<Finding> out;
  const schedule::HealthSpec& h = s.health;
  if (s.paused || !h.enabled) return out;
  const db::StatsRow& st = s.stats;
  const int min_runs = h.min_runs.value_or(d.min_runs);
  const int64_t decided = st.total - st.cancelled;

  if (auto limit = Effective(h.failure_rate, d.failure_rate);
      limit && decided >= min_runs && st.failure_rate && *st.failure_rate > *limit) {
    Add(out, HealthRule::kFailureRate, s.name,
        "failure rate " + Percent(*st.failure_rate) + " over the last " + Hours(window) + " (" +
            std::to_string(st.failed) + " of " + std::to_string(decided) +
            " executions failed; threshold " + Percent(*limit) + ")",
        json{{"failure_rate", *st.failure_rate}, {"failed", st.failed}, {"executions", decided},
             {"threshold", *limit}, {"min_runs", min_runs}});
  }
  if (auto limit = Effective(h.consecutive_failures, d.consecutive_failures);
      limit && st.consecutive_failures >= *limit) {
    std::string message = std::to_string(st.consecutive_failures) + " consecutive failures (threshold " +
                          std::to_string(*limit) + ")";
    if (!st.recent_failures.empty() && !st.recent_failures.front().error.empty()) {
      message += "; newest: " + OneLine(st.recent_failures.front().error, 200);
    }
    Add(out, HealthRule::kConsecutiveFailures, s.name, std::move(message),
        json{{"consecutive_failures", st.consecutive_failures}, {"threshold", *limit}});
  }
  if (auto limit = Effective(h.average_duration, d.average_duration);
      limit && st.avg_duration_ms && *st.avg_duration_ms > static_cast<double>(limit->count())) {
    Add(out, HealthRule::kAverageDuration, s.name,
        "average duration " + Duration(*st.avg_duration_ms) + " over the last " + Hours(window) +
            " (threshold " + FormatDuration(*limit) + ")",
        json{{"average_duration_ms", *st.avg_duration_ms}, {"threshold_ms", limit->count()}});
  }
  if (auto limit = Effective(h.run_duration, s.timeout.value_or(d.run_duration));
      limit && s.oldest_running_since && now - *s.oldest_running_since > *limit) {
    const auto running = duration_cast<milliseconds>(now - *s.oldest_running_since);
    Add(out, HealthRule::kRunDuration, s.name,
        "job " + std::to_string(s.oldest_running_job.value_or(0)) + " has been running for " +
            FormatDuration(running) + " (expected at most " + FormatDuration(*limit) + ")",
        json{{"job_id", s.oldest_running_job.value_or(0)}, {"running_ms", running.count()},
             {"threshold_ms", limit->count()}});
  }
  milliseconds dead_window = d.no_success_within;
  if (s.period) dead_window = std::max(dead_window, 2 * *s.period);
  if (auto limit = Effective(h.no_success_within, dead_window); limit) {
    const db::TimePoint since = st.last_success.value_or(s.created_at);
    if (now - since > *limit) {
      const auto quiet = duration_cast<milliseconds>(now - since);
      std::string message = "no successful run for " + FormatDuration(quiet) + " (window " +
                            FormatDuration(*limit) + ")";
      message += st.last_success ? "; last success " + FormatRfc3339(*st.last_success)
                                 : "; never succeeded since it was created";
      Add(out, HealthRule::kNoSuccessWithin, s.name, std::move(message),
          json{{"since_last_success_ms", quiet.count()}, {"threshold_ms", limit->count()},
               {"last_success", st.last_success ? json(FormatRfc3339(*st.last_success)) : json(nullptr)}});
    }
  }
  if (auto limit = Effective(h.success_rate, d.success_rate);
      limit && decided >= min_runs && st.success_rate && *st.success_rate < *limit) {
    Add(out, HealthRule::kSuccessRate, s.name,
        "success rate " + Percent(*st.success_rate) + " over the last " + Hours(window) +
            " (threshold " + Percent(*limit) + ", " + std::to_string(decided) + " executions)",
        json{{"success_rate", *st.success_rate}, {"executions", decided}, {"threshold", *limit},
             {"min_runs", min_runs}});
  }
  return out;
}

}  // namespace chime::health
