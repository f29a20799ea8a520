// The monitoring JSON of seed 001's /api/cron/monitoring, built from a
// statistics report and the alerts, for `jobctl stats --by ... --json` and
// the scheduler's /api/stats:
//
//   {"stats": [{"jobName": "sync-github", "scheduleId": 3, "kind": null,
//               "totalExecutions": 96, "successCount": 94, "failureCount": 2,
//               "partialCount": 0, "skippedCount": 0, "cancelledCount": 0,
//               "attempts": {"total": 101, "succeeded": 94, "partial": 0,
//                            "skipped": 0, "failed": 7, "cancelled": 0},
//               "successRate": 0.979, "failureRate": 0.021,
//               "averageDuration": 12500.0, "p95Duration": 20200.5,
//               "lastExecution": "2024-01-15T10:30:00.000Z",
//               "lastStatus": "success", "lastOutcome": "succeeded",
//               "lastSuccess": "...", "lastSuccessJobId": 812, "consecutiveFailures": 0,
//               "recentFailures": [{"jobId": 7, "attempt": 3, "attempts": 3, "time": "...",
//                                   "outcome": "failed", "error": "...",
//                                   "response": "..." | null}]}],
//    "alerts": [{"id": 1, "jobName": "sync-github", "scheduleId": 3,
//                "type": "consecutive_failures", "state": "firing", "message": "...",
//                "values": {...}, "firedAt": "...", "resolvedAt": null,
//                "delivery": "sent", ...}],
//    "timeRange": {"hours": 24, "since": "...", "until": "..."},
//    "scope": "schedule"}
//
// The seed's executions are runs: a job through all its attempts, counted
// by its final outcome (common/db/stats_store.h); "attempts" are the detail
// beneath them. Durations are milliseconds (per attempt), rates fractions
// 0-1, times RFC 3339 UTC with milliseconds; a value that does not exist (no
// runs) is null. lastStatus uses the seed's words: success, partial,
// failed, skipped, cancelled; lastOutcome is the run's final outcome.
// recentFailures lists failed runs where the seed had a count (its length is
// the count, up to the report's limit). Thread-safe (pure).
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

// The seed's word for a run's outcome: "success", "partial", "failed",
// "skipped", "cancelled".
std::string_view SeedStatus(std::string_view outcome);

}  // namespace chime::observe
