#include "scheduler/fire_planner.h"

#include <algorithm>
#include <deque>

namespace chime::scheduler {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::seconds;

// Every tick in (from, to], oldest first, keeping only the newest `want`.
std::deque<cron::Instant> TicksIn(const cron::Expression& e, const cron::Zone& zone,
                                  cron::Instant from, cron::Instant to, size_t want) {
  std::deque<cron::Instant> ticks;
  auto t = cron::NextFire(e, zone, from);
  while (t && *t <= to) {
    ticks.push_back(*t);
    if (ticks.size() > want) ticks.pop_front();
    t = cron::NextFire(e, zone, *t);
  }
  return ticks;
}

db::Tick MakeTick(const PlannedSchedule& s, cron::Instant at, db::FireOrigin origin, Rng& rng) {
  auto jitter = std::chrono::milliseconds(
      static_cast<int64_t>(rng.Uniform01() * static_cast<double>(s.jitter.count())));
  return db::Tick{.schedule_id = s.id,
                  .scheduled_for = at,
                  .run_at = at + jitter,
                  .origin = origin};
}

}  // namespace

void PlannedSchedule::SetAfter(cron::Instant t) {
  after = t;
  next = cron::NextFire(expression, zone, t);
}

std::vector<cron::Instant> LatestTicks(const cron::Expression& e, const cron::Zone& zone,
                                       cron::Instant from, cron::Instant to, size_t want) {
  if (want == 0 || to <= from) return {};
  // 11 years covers any satisfiable expression (29 February recurs within 8).
  static constexpr seconds kWindows[] = {hours(1), days(1), days(32), days(400), days(4018)};
  std::deque<cron::Instant> ticks;
  for (seconds window : kWindows) {
    const cron::Instant start = to - window > from ? to - window : from;
    ticks = TicksIn(e, zone, start, to, want);
    if (ticks.size() >= want || start == from) break;
  }
  return {ticks.begin(), ticks.end()};
}

PlanResult PlanDue(const PlannedSchedule& s, cron::Instant now, const PlannerConfig& config,
                   Rng& rng, std::vector<db::Tick>& out) {
  PlanResult result;
  if (s.paused || !s.next || *s.next > now) return result;
  const auto grace = std::chrono::ceil<seconds>(config.misfire_grace);
  // Ticks in (late_edge, now] are on time; ticks in (after, late_edge] missed.
  const cron::Instant late_edge = std::max(s.after, now - grace);
  const auto on_time = TicksIn(s.expression, s.zone, late_edge, now, SIZE_MAX);

  if (late_edge > s.after) {
    size_t want = 1;
    if (s.misfire == schedule::MisfirePolicy::kRunAll) want = static_cast<size_t>(config.run_all_cap);
    const auto missed = LatestTicks(s.expression, s.zone, s.after, late_edge, want);
    if (!missed.empty()) {
      result.newest = result.newest_missed = missed.back();
      switch (s.misfire) {
        case schedule::MisfirePolicy::kSkip: {
          db::Tick tick = MakeTick(s, missed.back(), db::FireOrigin::kMisfire, rng);
          tick.skip = true;
          out.push_back(tick);
          break;
        }
        case schedule::MisfirePolicy::kRunOnce:
          // A tick on time runs anyway; that is the one run.
          if (on_time.empty()) out.push_back(MakeTick(s, missed.back(), db::FireOrigin::kMisfire, rng));
          break;
        case schedule::MisfirePolicy::kRunAll:
          for (cron::Instant t : missed) out.push_back(MakeTick(s, t, db::FireOrigin::kMisfire, rng));
          break;
      }
    }
  }
  for (cron::Instant t : on_time) out.push_back(MakeTick(s, t, db::FireOrigin::kCron, rng));
  if (!on_time.empty()) result.newest = on_time.back();
  return result;
}

}  // namespace chime::scheduler
