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

// "; newest: job 812 failed after 3 attempts: HTTP 500; response: {...}",
// naming the newest failed run in the window (or "" when there is none).
std::string NewestFailure(const db::StatsRow& st) {
  if (st.recent_failures.empty()) return "";
  const db::RecentFailure& f = st.recent_failures.front();
  std::string out = "; newest: job " + std::to_string(f.job_id) + " failed after " +
                    std::to_string(f.attempt) + (f.attempt == 1 ? " attempt" : " attempts");
  if (!f.error.empty()) out += ": " + OneLine(f.error, 200);
  if (!f.response.empty()) out += "; response: " + OneLine(f.response, 200);
  return out;
}

void Add(std::vector<Finding>& out, HealthRule rule, const db::StatsRow& st, const std::string& name,
         std::string message, json values) {
  if (!st.recent_failures.empty()) {
    const db::RecentFailure& f = st.recent_failures.front();
    values["job_id"] = f.job_id;
    values["attempts"] = f.attempt;
  }
  out.push_back(Finding{rule, name + ": " + std::move(message), values.dump(-1, ' ', false,
                                                                           json::error_handler_t::replace)});
}

std::string Runs(int64_t n) { return std::to_string(n) + (n == 1 ? " run" : " runs"); }

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
  const int64_t decided = st.decided();
  const std::string newest = NewestFailure(st);

  if (auto limit = Effective(h.failure_rate, d.failure_rate);
      limit && decided >= min_runs && st.failure_rate && *st.failure_rate > *limit) {
    Add(out, HealthRule::kFailureRate, st, s.name,
        "failure rate " + Percent(*st.failure_rate) + " over the last " + Hours(window) + " (" +
            std::to_string(st.failed) + " of " + Runs(decided) + " failed; threshold " + Percent(*limit) +
            ")" + newest,
        json{{"failure_rate", *st.failure_rate}, {"failed", st.failed}, {"runs", decided},
             {"threshold", *limit}, {"min_runs", min_runs}});
  }
  if (auto limit = Effective(h.consecutive_failures, d.consecutive_failures);
      limit && st.consecutive_failures >= *limit) {
    Add(out, HealthRule::kConsecutiveFailures, st, s.name,
        std::to_string(st.consecutive_failures) + " consecutive failed runs (threshold " +
            std::to_string(*limit) + ")" + newest,
        json{{"consecutive_failures", st.consecutive_failures}, {"threshold", *limit}});
  }
  if (auto limit = Effective(h.average_duration, d.average_duration);
      limit && st.avg_duration_ms && *st.avg_duration_ms > static_cast<double>(limit->count())) {
    Add(out, HealthRule::kAverageDuration, st, s.name,
        "average attempt duration " + Duration(*st.avg_duration_ms) + " over the last " + Hours(window) +
            " (threshold " + FormatDuration(*limit) + ")",
        json{{"average_duration_ms", *st.avg_duration_ms}, {"threshold_ms", limit->count()}});
  }
  if (auto limit = Effective(h.run_duration, s.timeout.value_or(d.run_duration));
      limit && s.oldest_running_since && now - *s.oldest_running_since > *limit) {
    const auto running = duration_cast<milliseconds>(now - *s.oldest_running_since);
    out.push_back(Finding{
        HealthRule::kRunDuration,
        s.name + ": job " + std::to_string(s.oldest_running_job.value_or(0)) + " has been running for " +
            FormatDuration(running) + " (expected at most " + FormatDuration(*limit) + ")",
        json{{"job_id", s.oldest_running_job.value_or(0)}, {"running_ms", running.count()},
             {"threshold_ms", limit->count()}}
            .dump()});
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
      message += newest;
      Add(out, HealthRule::kNoSuccessWithin, st, s.name, std::move(message),
          json{{"since_last_success_ms", quiet.count()}, {"threshold_ms", limit->count()},
               {"last_success", st.last_success ? json(FormatRfc3339(*st.last_success)) : json(nullptr)}});
    }
  }
  if (auto limit = Effective(h.success_rate, d.success_rate);
      limit && decided >= min_runs && st.success_rate && *st.success_rate < *limit) {
    Add(out, HealthRule::kSuccessRate, st, s.name,
        "success rate " + Percent(*st.success_rate) + " over the last " + Hours(window) +
            " (threshold " + Percent(*limit) + ", " + Runs(decided) + ")" + newest,
        json{{"success_rate", *st.success_rate}, {"runs", decided}, {"threshold", *limit},
             {"min_runs", min_runs}});
  }
  return out;
}

Recovery DescribeRecovery(const db::StatsRow& st) {
  Recovery r;
  if (st.last_success && st.consecutive_failures == 0 && st.failures_before_last_success > 0) {
    r.job_id = st.last_success_job_id;
    r.message = "recovered by job " + std::to_string(st.last_success_job_id.value_or(0)) +
                " (succeeded on attempt " + std::to_string(st.last_success_attempts) + ", " +
                FormatRfc3339(*st.last_success) + ") after " +
                std::to_string(st.failures_before_last_success) + " failed " +
                (st.failures_before_last_success == 1 ? "run" : "runs");
    return r;
  }
  r.message = "now " + Runs(st.decided()) + " decided in the window, " + std::to_string(st.failed) +
              " failed";
  if (st.consecutive_failures > 0) {
    r.message += ", " + std::to_string(st.consecutive_failures) + " in a row";
  }
  if (st.last_success) {
    r.job_id = st.last_success_job_id;
    r.message += "; newest successful run: job " + std::to_string(st.last_success_job_id.value_or(0)) +
                 " at " + FormatRfc3339(*st.last_success);
  }
  return r;
}

}  // namespace chime::health
