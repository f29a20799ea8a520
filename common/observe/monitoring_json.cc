#include "common/observe/monitoring_json.h"

#include "common/base/text_format.h"

namespace chime::observe {
namespace {

using json = nlohmann::ordered_json;

json Time(const std::optional<db::TimePoint>& t) {
  return t ? json(FormatRfc3339(*t, TimePrecision::kMillis)) : json(nullptr);
}

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// Stored JSON text as a value; text that does not parse stays a string.
json Embedded(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? json(text) : parsed;
}

}  // namespace

std::string_view SeedStatus(std::string_view outcome) {
  if (outcome == "succeeded") return "success";
  if (outcome == "partial") return "partial";
  if (outcome == "skipped") return "skipped";
  if (outcome == "cancelled") return "cancelled";
  return "failed";
}

json StatsRowJson(const db::StatsRow& row, db::StatsScope scope) {
  json failures = json::array();
  for (const auto& f : row.recent_failures) {
    failures.push_back(json{{"jobId", f.job_id},
                            {"attempt", f.attempt},
                            {"attempts", f.attempt},
                            {"time", FormatRfc3339(f.finished_at, TimePrecision::kMillis)},
                            {"outcome", f.outcome},
                            {"error", f.error},
                            {"response", f.response.empty() ? json(nullptr) : json(f.response)}});
  }
  const db::AttemptCounts& a = row.attempts;
  return json{
      {"jobName", row.name},
      {"scheduleId", OrNull(row.schedule_id)},
      {"kind", scope == db::StatsScope::kKind ? json(row.name) : json(nullptr)},
      {"totalExecutions", row.total},
      {"successCount", row.succeeded},
      {"failureCount", row.failed},
      {"partialCount", row.partial},
      {"skippedCount", row.skipped},
      {"cancelledCount", row.cancelled},
      {"attempts", json{{"total", a.total},
                        {"succeeded", a.succeeded},
                        {"partial", a.partial},
                        {"skipped", a.skipped},
                        {"failed", a.failed},
                        {"cancelled", a.cancelled}}},
      {"successRate", OrNull(row.success_rate)},
      {"failureRate", OrNull(row.failure_rate)},
      {"averageDuration", OrNull(row.avg_duration_ms)},
      {"p95Duration", OrNull(row.p95_duration_ms)},
      {"lastExecution", Time(row.last_execution)},
      {"lastStatus", row.last_status ? json(std::string(SeedStatus(*row.last_status))) : json(nullptr)},
      {"lastOutcome", OrNull(row.last_status)},
      {"lastSuccess", Time(row.last_success)},
      {"lastSuccessJobId", OrNull(row.last_success_job_id)},
      {"consecutiveFailures", row.consecutive_failures},
      {"recentFailures", std::move(failures)},
  };
}

json AlertJson(const db::AlertRow& a) {
  return json{
      {"id", a.id},
      {"jobName", a.schedule_name},
      {"scheduleId", a.schedule_id},
      {"type", a.rule},
      {"state", a.state},
      {"message", a.message},
      {"values", Embedded(a.values_json)},
      {"firedAt", FormatRfc3339(a.fired_at, TimePrecision::kMillis)},
      {"resolvedAt", Time(a.resolved_at)},
      {"delivery", a.delivery},
      {"deliveredState", OrNull(a.delivered_state)},
      {"deliveryAttempts", a.delivery_attempts},
      {"nextDeliveryAt", a.delivery == "pending"
                             ? json(FormatRfc3339(a.next_delivery_at, TimePrecision::kMillis))
                             : json(nullptr)},
      {"deliveryError", OrNull(a.delivery_error)},
      {"resolution", OrNull(a.resolution)},
  };
}

json AlertsJson(const std::vector<db::AlertRow>& alerts) {
  json list = json::array();
  for (const auto& a : alerts) list.push_back(AlertJson(a));
  return json{{"alerts", std::move(list)}};
}

json MonitoringJson(const db::StatsReport& report, const std::vector<db::AlertRow>& alerts) {
  json stats = json::array();
  for (const auto& row : report.rows) stats.push_back(StatsRowJson(row, report.scope));
  json out = json{{"stats", std::move(stats)}};
  out["alerts"] = AlertsJson(alerts)["alerts"];
  out["timeRange"] = json{{"hours", report.range.count()},
                          {"since", FormatRfc3339(report.since, TimePrecision::kMillis)},
                          {"until", FormatRfc3339(report.until, TimePrecision::kMillis)}};
  out["scope"] = std::string(db::StatsScopeName(report.scope));
  return out;
}

}  // namespace chime::observe
