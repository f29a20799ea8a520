// Decides which ticks of a schedule are due at a moment, applying the
// misfire policy to ticks that passed while no scheduler fired them. Pure: no
// clock and no database; the cron runner feeds it database time and hands
// its ticks to ScheduleStore::FireTicks. Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/base/clock.h"
#include "common/cron/cron.h"
#include "common/db/schedule_store.h"
#include "common/schedule/schedule_spec.h"

namespace chime::scheduler {

struct PlannerConfig {
  // A tick older than this when the leader gets to it counts as missed and
  // goes by the misfire policy; younger ticks fire normally.
  std::chrono::milliseconds misfire_grace{std::chrono::seconds(60)};
  // run_all fires at most this many missed ticks (the newest) per schedule.
  int run_all_cap = 100;
};

// A schedule as the leader keeps it in memory.
struct PlannedSchedule {
  int64_t id = 0;
  std::string name;
  cron::Expression expression;
  cron::Zone zone;
  schedule::MisfirePolicy misfire = schedule::MisfirePolicy::kRunOnce;
  std::chrono::milliseconds jitter{0};
  bool paused = false;
  // Ticks strictly after this are due: the last tick handled, or the
  // schedule's creation.
  cron::Instant after;
  // NextFire(after), cached; unset when the expression never fires again.
  std::optional<cron::Instant> next;

  void SetAfter(cron::Instant t);
};

struct PlanResult {
  // The newest tick planned, fired or skipped: the caller advances `after` to
  // it once the fire is stored.
  std::optional<cron::Instant> newest;
  // The newest missed tick, when ticks were missed (for the log line).
  std::optional<cron::Instant> newest_missed;
};

// Appends the ticks of `s` due at `now` to `out`, oldest first. Ticks within
// the grace fire as origin cron; missed ones by policy: skip records the
// newest as skipped; run_once fires the newest unless a tick on time fires
// anyway; run_all fires the newest run_all_cap. Each job's run_at is its tick
// plus a uniform share of the jitter.
PlanResult PlanDue(const PlannedSchedule& s, cron::Instant now, const PlannerConfig& config,
                   Rng& rng, std::vector<db::Tick>& out);

// The newest `want` ticks in (from, to], oldest first, searching windows of
// growing size back from `to` so that a long outage costs about `want` steps
// rather than one step per missed tick.
std::vector<cron::Instant> LatestTicks(const cron::Expression& e, const cron::Zone& zone,
                                       cron::Instant from, cron::Instant to, size_t want);

}  // namespace chime::scheduler
