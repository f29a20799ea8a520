// Leadership and cron firing. Every scheduler runs a CronRunner; they compete
// for the leader lease (ScheduleStore::LeaderAcquire, database time). The
// leader keeps every schedule in memory, reloads when the schedules' version
// changes, and fires due ticks in batches through ScheduleStore::FireTicks,
// which re-checks the lease in the same transaction: a leader that froze past
// its lease and wakes up fires nothing, and the (schedule, tick) key makes a
// replayed tick a no-op. Standbys only renew their claim. Owns one database
// connection used by its own thread. Start()/Stop() are thread-safe; Stop()
// resigns the lease so a standby takes over without waiting for expiry.
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

namespace chime::scheduler {

struct CronRunnerConfig {
  std::string holder;  // This scheduler's id in the lease row.
  std::chrono::milliseconds lease_ttl{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_interval{std::chrono::seconds(5)};
  // The longest the loop sleeps with nothing due (it wakes for ticks sooner).
  std::chrono::milliseconds max_sleep{std::chrono::seconds(1)};
  PlannerConfig planner;
  size_t fire_batch = 5000;  // Ticks per FireTicks transaction.
  cron::ParseOptions cron_options;  // seconds_field only for test clocks.

  [[nodiscard]] Result<void> Validate() const;
};

// What a scheduler knows about its own role, for logs, jobctl and metrics.
struct CronRunnerStatus {
  bool leader = false;
  int64_t epoch = 0;
  std::string holder;  // Who holds the lease, as last read.
  size_t schedules = 0;     // In memory (leader only).
  int64_t fired = 0;        // Ticks this process recorded, any outcome.
  int64_t enqueued = 0;     // Jobs it enqueued for them.
  int64_t lease_lost = 0;   // Fires refused because the lease had moved on.
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
  // The name this runner holds the lease under (CronRunnerConfig::holder).
  const std::string& holder() const { return config_.holder; }
  // Thread-safe; counts since this process started.
  FireCounts fire_counts() const;

 private:
  void Loop(std::stop_token stop);
  // Takes or renews the lease; updates leader_, epoch_ and the database-time anchor.
  void Renew();
  // Reloads schedules when their version changed (or `force`).
  void Reload(bool force);
  // Fires every due tick; returns the earliest next tick of any schedule.
  std::optional<cron::Instant> FireDue();
  void ReleaseBuffered();
  // Database time, estimated from the local clock and the last lease read.
  cron::Instant DbNow() const;
  std::chrono::system_clock::time_point DbNowPrecise() const;

  db::Connection conn_;
  db::ScheduleStore store_;
  CronRunnerConfig config_;
  Clock& clock_;
  Rng& rng_;

  // Loop thread only.
  bool leader_ = false;
  int64_t epoch_ = 0;
  std::chrono::steady_clock::time_point lease_valid_until_{};
  std::chrono::steady_clock::time_point next_renew_{};
  // Database time is the database's now() read at the last renewal, carried
  // forward on the steady clock: the local wall clock is never read for it,
  // so a skewed replica or a wall-clock step (NTP, a resumed VM) neither
  // fires ticks early nor loses them.
  std::chrono::system_clock::time_point db_anchor_{};
  std::chrono::steady_clock::time_point steady_anchor_{};
  int64_t version_ = -1;
  std::map<int64_t, PlannedSchedule> schedules_;

  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  CronRunnerStatus status_;  // Guarded by mu_.
  FireCounts fire_counts_;   // Guarded by mu_.
  LoopThread loop_;  // Last: stopped before the state it uses goes away.
};

}  // namespace chime::scheduler
