// The monitoring JSON of seed 001's /api/cron/monitoring, built from a
// statistics report and the alerts, for `jobctl stats --by ... --json` and
// the scheduler's /api/stats:
//
//   {"stats": [{"jobName": "sync-github", "scheduleId": 3, "kind": null,
//               "totalExecutions": 96, "successCount": 94, "failureCount": 2,
//               "partialCount": 0, "cancelledCount": 0, "successRate": 0.979,
//               "failureRate": 0.021, "averageDuration": 12500.0,
//               "p95Duration": 20200.5, "lastExecution": "2024-01-15T10:30:00.000Z",
//               "lastStatus": "success", "lastOutcome": "succeeded",
//               "lastSuccess": "...", "consecutiveFailures": 0,
//               "recentFailures": [{"jobId": 7, "attempt": 2, "time": "...",
//                                   "outcome": "failed", "error": "..."}]}],
//    "alerts": [{"id": 1, "jobName": "sync-github", "scheduleId": 3,
//                "type": "consecutive_failures", "state": "firing", "message": "...",
//                "values": {...}, "firedAt": "...", "resolvedAt": null,
//                "delivery": "sent", ...}],
//    "timeRange": {"hours": 24, "since": "...", "until": "..."},
//    "scope": "schedule"}
//
// Durations are milliseconds, rates fractions 0-1, times RFC 3339 UTC with
// milliseconds; a value that does not exist (no runs) is null. lastStatus
// uses the seed's words: success, partial, failed (failed, discarded and
// lease_expired), cancelled; lastOutcome is the run's own outcome.
// recentFailures is a list where the seed had a count (its length is the
// count, up to the report's limit). Thread-safe (pure).
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>
#include <vector>

#include "common/db/alert_store.h"
#include "common/db/stats_store.h"

namespace chime::observe {

nlohmann::ordered_json MonitoringJson(const db::StatsReport& report,
                                      const std::vector<db::AlertRow>& alerts);
nlohmann::ordered_json StatsRowJson(const db::StatsRow& row, db::StatsScope scope);
nlohmann::ordered_json AlertJson(const db::AlertRow& alert);
// {"alerts": [...]} for jobctl alerts --json and /api/alerts.
nlohmann::ordered_json AlertsJson(const std::vector<db::AlertRow>& alerts);

// The seed's word for a run outcome: "success", "partial", "failed", "cancelled".
std::string_view SeedStatus(std::string_view outcome);

}  // namespace chime::observe
