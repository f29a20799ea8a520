// Cron firing. Every scheduler runs a CronRunner; its LeaderElector
// (scheduler/leader_elector.h) competes for the leader term. The leader keeps
// every schedule in memory, reloads when the schedules' version changes, and
// fires due ticks in batches through ScheduleStore::FireTicks, which
// re-checks the term in the same transaction: a leader that froze past its
// term and wakes up fires nothing, and the (schedule, tick) key makes a
// replayed tick a no-op. Standbys only ask for the term. Owns one database
// connection used by its own thread (the elector's renewals use it too).
// Start()/Stop() are thread-safe; Stop() resigns the term so a standby takes
// over without waiting for expiry.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "common/base/clock.h"
#include "common/base/loop_thread.h"
#include "common/db/connection.h"
#include "common/db/schedule_store.h"
#include "scheduler/fire_planner.h"
#include "scheduler/leader_elector.h"

namespace chime::scheduler {

struct CronRunnerConfig {
  LeaderElectorConfig leader;  // The term this runner fires under.
  // The longest the loop sleeps with nothing due (it wakes for ticks sooner).
  std::chrono::milliseconds max_sleep{std::chrono::seconds(1)};
  PlannerConfig planner;
  size_t fire_batch = 5000;  // Ticks per FireTicks transaction.
  cron::ParseOptions cron_options;  // seconds_field only for test clocks.

  [[nodiscard]] Result<void> Validate() const;
};

// What a scheduler knows about its own role, for logs, jobctl and metrics.
struct CronRunnerStatus {
  // Who leads (LeaderElector::status()).
  bool leader = false;
  int64_t epoch = 0;
  std::string holder;  // Who holds the leader term, as last read.
  size_t schedules = 0;     // In memory (leader only).
  int64_t fired = 0;        // Ticks this process recorded, any outcome.
  int64_t enqueued = 0;     // Jobs it enqueued for them.
  int64_t term_lost = 0;    // Fires refused because the leader term had moved on.
};

// Ticks this scheduler recorded as leader, by schedule, fire outcome
// (enqueued, skipped_overlap, skipped_misfire, buffered) and origin (cron,
// misfire). A tick another replica recorded first is not counted, so the sum
// over replicas counts each tick once.
struct FireCountKey {
  std::string schedule;
  std::string outcome;
  std::string origin;
  auto operator<=>(const FireCountKey&) const = default;
};
using FireCounts = std::map<FireCountKey, int64_t>;

class CronRunner {
 public:
  CronRunner(db::ConnectionConfig db, CronRunnerConfig config, Clock& clock, Rng& rng);
  ~CronRunner();

  void Start();
  void Stop();

  CronRunnerStatus status() const;
  // The name this runner holds the leader term under.
  const std::string& holder() const { return config_.leader.holder; }
  // Thread-safe: who leads, as this replica last read it.
  LeaderStatus leader() const { return elector_.status(); }
  // Thread-safe; counts since this process started.
  FireCounts fire_counts() const;

 private:
  void Loop(std::stop_token stop);
  // Renews the term when due and acts on what changed.
  void Renew();
  // Reloads schedules when their version changed (or `force`).
  void Reload(bool force);
  // Fires every due tick; returns the earliest next tick of any schedule.
  std::optional<cron::Instant> FireDue();
  void ReleaseBuffered();
  // Database time as the elector estimates it, to the second.
  cron::Instant DbNow() const;

  db::Connection conn_;
  db::ScheduleStore store_;
  CronRunnerConfig config_;
  Clock& clock_;
  Rng& rng_;
  ScheduleStoreTerms terms_{store_};
  LeaderElector elector_;  // Driven by the loop thread; status() from any.

  // Loop thread only.
  int64_t version_ = -1;
  std::map<int64_t, PlannedSchedule> schedules_;

  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  CronRunnerStatus status_;  // Guarded by mu_.
  FireCounts fire_counts_;   // Guarded by mu_.
  LoopThread loop_;  // Last: stopped before the state it uses goes away.
};

}  // namespace chime::scheduler
