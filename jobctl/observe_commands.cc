#include "jobctl/observe_commands.h"

#include <cmath>
#include <cstdio>
#include <ostream>

#include "common/base/text_format.h"
#include "common/http/client.h"
#include "common/observe/monitoring_json.h"
#include "jobctl/json_view.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

std::string Percent(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", *v * 100.0);
  return buf;
}

std::string Millis(const std::optional<double>& v) {
  if (!v) return "-";
  if (*v < 1000.0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0fms", *v);
    return buf;
  }
  return FormatDuration(std::chrono::milliseconds(std::llround(*v)));
}

std::string Time(const std::optional<db::TimePoint>& t) { return t ? FormatRfc3339(*t) : "-"; }

}  // namespace

Result<db::StatsParams> BuildStatsParams(const RunStatsOptions& o) {
  db::StatsParams p;
  if (!o.by) {
    const char* flag = o.name ? "--name" : "--hours";
    return Fail(ErrorCode::kInvalidArgument, std::string(flag) + ": needs --by schedule or --by kind");
  }
  auto scope = db::ParseStatsScope(*o.by);
  if (!scope) {
    return Fail(ErrorCode::kInvalidArgument,
                "--by: \"" + OneLine(*o.by, 64) + "\" is not one of schedule, kind");
  }
  p.scope = *scope;
  if (o.name) {
    if (o.name->empty()) return Fail(ErrorCode::kInvalidArgument, "--name: must not be empty");
    p.name = o.name;
  }
  if (o.hours) {
    if (*o.hours < 1 || *o.hours > 168) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--hours: " + std::to_string(*o.hours) + " is out of range 1-168");
    }
    p.range = std::chrono::hours(*o.hours);
  }
  if (auto ok = p.Validate(); !ok) return Fail(ErrorCode::kInvalidArgument, "--" + ok.error().message);
  return p;
}

std::string RenderRunStats(const db::StatsReport& report) {
  const bool by_schedule = report.scope == db::StatsScope::kSchedule;
  std::string out = std::string("runs by ") + (by_schedule ? "schedule" : "kind") + " over the last " +
                    std::to_string(report.range.count()) + "h (since " + FormatRfc3339(report.since) +
                    ")\n";
  if (report.rows.empty()) return out + (by_schedule ? "no schedules\n" : "no runs\n");
  Table table({by_schedule ? "SCHEDULE" : "KIND", "RUNS", "OK", "PARTIAL", "FAILED", "SKIPPED", "CANCELLED",
               "SUCCESS", "ATTEMPTS", "ATT_FAILED", "AVG", "P95", "LAST RUN", "LAST STATUS", "STREAK"},
              {false, true, true, true, true, true, true, true, true, true, true, true, false, false, true});
  for (const auto& r : report.rows) {
    table.AddRow({OneLine(r.name, 128), std::to_string(r.total), std::to_string(r.succeeded),
                  std::to_string(r.partial), std::to_string(r.failed), std::to_string(r.skipped),
                  std::to_string(r.cancelled), Percent(r.success_rate), std::to_string(r.attempts.total),
                  std::to_string(r.attempts.failed), Millis(r.avg_duration_ms), Millis(r.p95_duration_ms),
                  Time(r.last_execution), r.last_status.value_or("-"),
                  std::to_string(r.consecutive_failures)});
  }
  out += table.Render();
  bool header = false;
  for (const auto& r : report.rows) {
    for (const auto& f : r.recent_failures) {
      if (!header) out += "\nrecent failed runs (newest first):\n";
      header = true;
      out += "  " + OneLine(r.name, 128) + "  job " + std::to_string(f.job_id) + " after " +
             std::to_string(f.attempt) + (f.attempt == 1 ? " attempt  " : " attempts  ") +
             FormatRfc3339(f.finished_at) + (f.error.empty() ? "" : ": " + OneLine(f.error, 200)) +
             (f.response.empty() ? "" : "; response: " + OneLine(f.response, 120)) + "\n";
    }
  }
  out += "(a run is one job through all its attempts, counted by its final outcome; SUCCESS is\n"
         "(OK + PARTIAL) of the runs neither skipped nor cancelled; ATTEMPTS and durations count\n"
         "attempts; STREAK: failed runs since the last successful one; p95 is estimated within 9%)\n";
  return out;
}

std::string RenderAlerts(const std::vector<db::AlertRow>& alerts, bool all) {
  if (alerts.empty()) return all ? "no alerts\n" : "no firing alerts\n";
  Table table({"ID", "STATE", "SCHEDULE", "RULE", "FIRED", "RESOLVED", "NOTIFIED", "MESSAGE"},
              {true, false, false, false, false, false, false, false});
  for (const auto& a : alerts) {
    std::string notified = a.delivery;
    if (a.delivery == "pending" && a.delivery_attempts > 0) {
      notified += " (" + std::to_string(a.delivery_attempts) + " failed)";
    }
    // A resolved alert says what ended it (which run recovered).
    const std::string& what = a.state == "resolved" && a.resolution ? *a.resolution : a.message;
    table.AddRow({std::to_string(a.id), a.state, OneLine(a.schedule_name, 128), a.rule,
                  FormatRfc3339(a.fired_at), a.resolved_at ? FormatRfc3339(*a.resolved_at) : "-",
                  notified, OneLine(what, 200)});
  }
  return table.Render();
}

Result<void> RunRunStats(CommandContext& ctx, const RunStatsOptions& o) {
  auto params = BuildStatsParams(o);
  if (!params) return std::unexpected(params.error());
  auto report = ctx.backend.RunStats(*params);
  if (!report) return std::unexpected(report.error());
  if (!o.json) {
    ctx.out << RenderRunStats(*report);
    return {};
  }
  // The seed's shape carries the alerts next to the stats.
  auto alerts = ctx.backend.Alerts(db::AlertListParams{.all = false, .limit = 1000});
  if (!alerts) return std::unexpected(alerts.error());
  ctx.out << DumpJson(observe::MonitoringJson(*report, *alerts));
  return {};
}

Result<void> RunAlerts(CommandContext& ctx, const AlertsOptions& o) {
  db::AlertListParams params{.all = o.all, .limit = o.limit};
  if (auto ok = params.Validate(); !ok) {
    return Fail(ErrorCode::kInvalidArgument, "--" + ok.error().message);
  }
  auto alerts = ctx.backend.Alerts(params);
  if (!alerts) return std::unexpected(alerts.error());
  ctx.out << (o.json ? DumpJson(observe::AlertsJson(*alerts)) : RenderAlerts(*alerts, o.all));
  return {};
}

Result<void> RunProbe(LocalContext& ctx, const ProbeOptions& o) {
  auto timeout = ParseDuration(o.timeout);
  if (!timeout) return Fail(ErrorCode::kInvalidArgument, "--timeout: " + timeout.error().message);
  // Loopback only: the probe checks the process it runs beside.
  auto policy = http::AddressPolicy::FromLists({"127.0.0.0/8", "::1"}, {});
  if (!policy) return std::unexpected(policy.error());
  http::HttpClient client(std::move(*policy));
  auto response = client.Send({.url = o.url, .timeout = *timeout, .max_body_excerpt = 16384});
  if (!response) {
    const ErrorCode code = response.error().code == ErrorCode::kInvalidArgument ||
                                   response.error().code == ErrorCode::kFailedPrecondition
                               ? ErrorCode::kInvalidArgument
                               : ErrorCode::kUnavailable;
    return Fail(code, "probe " + http::RedactUrl(o.url) + ": " + response.error().message);
  }
  ctx.out << response->body_excerpt;
  if (!response->body_excerpt.ends_with('\n')) ctx.out << "\n";
  if (response->status < 200 || response->status > 299) {
    return Fail(ErrorCode::kUnavailable,
                "probe " + http::RedactUrl(o.url) + ": HTTP " + std::to_string(response->status));
  }
  return {};
}

}  // namespace chime::jobctl
