// Evaluates every schedule's health rules and keeps chime.alerts in step,
// then delivers pending notifications. Only the leader evaluates and
// delivers (is_leader, the cron runner's view); standbys wait. One pass:
// StatsStore report over the window + oldest running jobs + each schedule's
// settings -> health::Evaluate -> AlertStore::AlertsApply (one transaction:
// fire, refresh, resolve) -> AlertNotifier::DeliverDue. Two schedulers that
// both believe they lead still fire a rule once (a partial unique index).
// Owns one database connection, used by its own thread (or RunOnce's
// caller). Start()/Stop() are thread-safe; Stop() is idempotent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/base/loop_thread.h"
#include "common/db/alert_store.h"
#include "common/db/connection.h"
#include "common/db/schedule_store.h"
#include "common/db/stats_store.h"
#include "common/health/health_rules.h"
#include "scheduler/alert_notifier.h"

namespace chime::scheduler {

struct HealthMonitorConfig {
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  std::chrono::hours window{24};  // The statistics the rate and duration rules look at.
  health::HealthDefaults defaults;
  AlertNotifierConfig notifier;
  cron::ParseOptions cron_options;  // seconds_field only for test clocks.

  // Reads CHIME_ALERT_WEBHOOK_URL (the secret webhook; unset: alerts are
  // recorded, not sent), CHIME_ALERT_WEBHOOK_ALLOW (comma-separated CIDRs)
  // and CHIME_PUBLIC_URL (where the dashboard is reached, for links in the
  // notices) into `notifier`. The error never shows the webhook URL.
  [[nodiscard]] Result<void> ReadEnvironment();
  [[nodiscard]] Result<void> Validate() const;
};

struct HealthMonitorStatus {
  int64_t passes = 0;            // Evaluations applied (as leader).
  int64_t failed_passes = 0;
  int64_t firing = 0;            // Firing alerts after the last pass.
  int64_t fired = 0;             // Totals since start.
  int64_t resolved = 0;
  int64_t delivered = 0;
  int64_t delivery_failures = 0;
};

struct PassResult {
  bool evaluated = false;  // False when not leading.
  db::AlertTransitions transitions;
  DeliveryCounts delivery;
};

class HealthMonitor {
 public:
  // Fails (InvalidArgument naming the setting) on a bad config.
  [[nodiscard]] static Result<std::unique_ptr<HealthMonitor>> Create(db::ConnectionConfig db,
                                                                     HealthMonitorConfig config,
                                                                     std::function<bool()> is_leader,
                                                                     Rng& rng);
  ~HealthMonitor();

  void Start();
  void Stop();

  // One pass on the caller's thread. Exposed for tests; not with Start().
  [[nodiscard]] Result<PassResult> RunOnce(std::stop_token stop = {});

  HealthMonitorStatus status() const;
  // Waits until `passes` evaluations have been applied; false after `guard`
  // (a guard against hanging, not a timing assumption). For tests.
  bool WaitForPasses(int64_t passes, std::chrono::milliseconds guard) const;

 private:
  HealthMonitor(db::ConnectionConfig db, HealthMonitorConfig config, std::function<bool()> is_leader,
                Rng& rng, AlertNotifier notifier);
  void Loop(std::stop_token stop);
  // Evaluates every schedule; the rules that hold and the schedules seen.
  [[nodiscard]] Result<db::AlertsApplyParams> Evaluate();

  db::Connection conn_;  // Owned by the monitor thread (or RunOnce's caller).
  db::ScheduleStore schedules_;
  db::StatsStore stats_;
  db::AlertStore alerts_;
  HealthMonitorConfig config_;
  std::function<bool()> is_leader_;
  Rng& rng_;
  AlertNotifier notifier_;

  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  mutable std::condition_variable_any passed_;  // Notified after each pass.
  HealthMonitorStatus status_;  // Guarded by mu_.
  LoopThread loop_;  // Last: stopped before the state it uses goes away.
};

}  // namespace chime::scheduler
