// Health alerts (chime.alerts, migrations/0006_alerts.sql): the transitions
// the health monitor decides, the listing for jobctl and the API, and the
// webhook delivery queue kept on the rows. An alert is one episode of a rule
// holding for a schedule: it fires once, may have its message refreshed while
// it keeps holding (no notification), and resolves once. Each method is one
// transaction. Thread-compatible: one AlertStore per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"

namespace chime::db {

struct AlertRow {
  int64_t id = 0;
  int64_t schedule_id = 0;
  std::string schedule_name;
  std::string rule;     // schedule::HealthRuleName.
  std::string state;    // firing | resolved.
  std::string message;  // One line for people.
  std::string values_json;  // The figures the rule saw, a JSON object.
  TimePoint fired_at;
  std::optional<TimePoint> resolved_at;
  std::string delivery;  // pending | sent | failed | skipped.
  std::optional<std::string> delivered_state;  // The state last notified, if any.
  int delivery_attempts = 0;  // Failed attempts at the current state.
  TimePoint next_delivery_at;
  std::optional<std::string> delivery_error;  // The last failure, already redacted.
  // Once resolved: which run recovered and after how many failed runs (or
  // the figures that stopped the rule), and that run's job.
  std::optional<std::string> resolution;
  std::optional<int64_t> resolved_by_job;
};

// How a schedule stands when its alerts stop holding (health::Recovery).
struct Resolution {
  int64_t schedule_id = 0;
  std::string message;
  std::optional<int64_t> job_id;
};

// A rule that holds now for a schedule.
struct HoldingRule {
  int64_t schedule_id = 0;
  std::string schedule_name;
  std::string rule;
  std::string message;
  std::string values_json = "{}";
};

struct AlertsApplyParams {
  // Schedules whose rules were evaluated: their firing alerts that are not
  // in `holding` resolve. Alerts of other schedules are left alone.
  std::vector<int64_t> evaluated;
  std::vector<HoldingRule> holding;
  // Per evaluated schedule: what its resolving alerts say.
  std::vector<Resolution> resolutions;
  // False: nothing is configured to deliver to, so new transitions are
  // 'skipped' instead of queued.
  bool deliver = true;
};

struct AlertTransitions {
  std::vector<AlertRow> fired;     // Newly firing.
  std::vector<AlertRow> resolved;  // Stopped holding now.
  int64_t refreshed = 0;           // Still firing, message or values updated.
};

struct AlertListParams {
  bool all = false;  // false: firing only.
  int limit = 100;   // 1..1000, newest first.

  [[nodiscard]] Result<void> Validate() const;
};

// How one delivery attempt went.
struct DeliveryResult {
  int64_t alert_id = 0;
  std::string state;  // The state the attempt announced.
  bool ok = false;
  std::string error;                       // When !ok; stored as is (redact before).
  std::chrono::milliseconds retry_in{0};   // When !ok: the next attempt's delay.
  bool give_up = false;                    // When !ok: mark the delivery failed.
};

class AlertStore {
 public:
  explicit AlertStore(Connection& conn);

  // Applies one evaluation: fires, refreshes and resolves in one
  // transaction. A rule already firing (also one a second evaluator fired a
  // moment ago) is refreshed, never fired twice; a schedule deleted
  // meanwhile is skipped.
  [[nodiscard]] Result<AlertTransitions> AlertsApply(const AlertsApplyParams& params);

  [[nodiscard]] Result<std::vector<AlertRow>> AlertsList(const AlertListParams& params);

  // Alerts whose current state is still to be notified and whose next
  // attempt is due (database time), oldest first.
  [[nodiscard]] Result<std::vector<AlertRow>> AlertsDueForDelivery(int limit);

  // Records an attempt. A success marks the alert sent unless its state
  // changed since (then that state is queued next); a failure counts an
  // attempt and reschedules, unless the state changed since (the new state
  // has a fresh queue entry already).
  [[nodiscard]] Result<void> AlertDeliveryRecord(const DeliveryResult& result);

 private:
  Connection& conn_;
};

}  // namespace chime::db
