#include "scheduler/cron_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/base/text_format.h"
#include "common/history/history.h"

namespace chime::scheduler {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Time(cron::Instant t) { return FormatRfc3339(t); }

int64_t Micros(db::TimePoint t) {
  return duration_cast<microseconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<void> CronRunnerConfig::Validate() const {
  if (holder.empty()) return Fail(ErrorCode::kInvalidArgument, "cron: holder must not be empty");
  if (lease_ttl < milliseconds(500)) {
    return Fail(ErrorCode::kInvalidArgument, "leader-ttl: must be at least 500ms");
  }
  if (renew_interval <= milliseconds(0) || renew_interval * 2 > lease_ttl) {
    return Fail(ErrorCode::kInvalidArgument,
                "leader-renew: must be positive and at most half of leader-ttl");
  }
  if (planner.misfire_grace < milliseconds(0)) {
    return Fail(ErrorCode::kInvalidArgument, "misfire-grace: must not be negative");
  }
  if (planner.run_all_cap < 1 || planner.run_all_cap > 100000) {
    return Fail(ErrorCode::kInvalidArgument, "misfire-run-all-cap: must be 1..100000");
  }
  if (fire_batch == 0) return Fail(ErrorCode::kInvalidArgument, "cron: fire_batch must be positive");
  return {};
}

namespace {

// A leader frozen inside a fire transaction holds the lease row's lock; the
// server ends that transaction well within the lease so a standby can take over.
db::ConnectionConfig WithIdleLimit(db::ConnectionConfig db, milliseconds lease_ttl) {
  db.idle_in_transaction_timeout = std::max(milliseconds(100), lease_ttl / 4);
  return db;
}

}  // namespace

CronRunner::CronRunner(db::ConnectionConfig db, CronRunnerConfig config, Clock& clock, Rng& rng)
    : conn_(WithIdleLimit(std::move(db), config.lease_ttl), clock),
      store_(conn_, db::ScheduleStoreConfig{.cron_options = config.cron_options}),
      config_(std::move(config)),
      clock_(clock),
      rng_(rng),
      db_anchor_(clock.WallNow()),  // Until the first renewal reads the database's.
      steady_anchor_(clock.SteadyNow()) {}

CronRunner::~CronRunner() { Stop(); }

void CronRunner::Start() {
  loop_.Start([this](std::stop_token stop) { Loop(stop); });
}

void CronRunner::Stop() { loop_.Stop(); }

CronRunnerStatus CronRunner::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

FireCounts CronRunner::fire_counts() const {
  std::lock_guard lock(mu_);
  return fire_counts_;
}

std::chrono::system_clock::time_point CronRunner::DbNowPrecise() const {
  return db_anchor_ + duration_cast<microseconds>(clock_.SteadyNow() - steady_anchor_);
}

cron::Instant CronRunner::DbNow() const { return std::chrono::floor<seconds>(DbNowPrecise()); }

void CronRunner::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    const auto steady = clock_.SteadyNow();
    if (steady >= next_renew_) Renew();
    std::optional<cron::Instant> next_tick;
    if (leader_ && clock_.SteadyNow() < lease_valid_until_) {
      Reload(/*force=*/false);
      next_tick = FireDue();
      if (leader_) ReleaseBuffered();
    }
    auto wake_at = std::min(next_renew_, clock_.SteadyNow() + config_.max_sleep);
    if (next_tick) {
      // Wake just after the tick in database time.
      const auto until = *next_tick - DbNowPrecise() + milliseconds(1);
      wake_at = std::min(wake_at, clock_.SteadyNow() + duration_cast<microseconds>(until));
    }
    std::unique_lock lock(mu_);
    wake_.wait_until(lock, stop, wake_at, [] { return false; });
  }
  if (leader_) {
    if (auto ok = store_.LeaderResign(db::LeaderGuard{config_.holder, epoch_}); ok) {
      spdlog::info("cron: resigned leadership (epoch {})", epoch_);
    } else {
      spdlog::warn("cron: could not resign leadership: {}", ok.error().message);
    }
  }
}

void CronRunner::Renew() {
  const auto sent = clock_.SteadyNow();
  auto state = store_.LeaderAcquire(config_.holder, config_.lease_ttl);
  const auto back = clock_.SteadyNow();
  if (!state) {
    spdlog::warn("cron: leader lease: {}", state.error().message);
    if (leader_ && clock_.SteadyNow() >= lease_valid_until_) {
      leader_ = false;
      spdlog::warn("cron: stopped firing: the lease (epoch {}) may have expired", epoch_);
    }
    next_renew_ = sent + std::min(config_.renew_interval, milliseconds(1000));
    std::lock_guard lock(mu_);
    status_.leader = leader_;
    return;
  }
  // As if the database read its clock when the reply arrived: the estimate
  // of database time then never runs ahead of it, so no tick fires early
  // (at worst one round trip late).
  db_anchor_ = state->db_now;
  steady_anchor_ = back;
  const bool was_leader = leader_;
  const int64_t old_epoch = epoch_;
  leader_ = state->held_by_caller;
  epoch_ = state->epoch;
  if (leader_) {
    // Counted from before the request: never later than the database's expiry.
    lease_valid_until_ = sent + duration_cast<microseconds>(state->expires_at - state->db_now);
    if (!was_leader || old_epoch != epoch_) {
      spdlog::info("cron: leading (epoch {})", epoch_);
      if (auto* h = history::Process()) h->Leader(epoch_);
      version_ = -1;  // Reload: the previous leader moved last_fired_for on.
    }
  } else if (was_leader) {
    spdlog::warn("cron: no longer leading; {} holds epoch {}", state->holder, state->epoch);
    schedules_.clear();
  } else if (status_.holder != state->holder) {
    spdlog::info("cron: standing by; {} leads (epoch {})", state->holder, state->epoch);
  }
  next_renew_ = sent + config_.renew_interval;
  std::lock_guard lock(mu_);
  status_.leader = leader_;
  status_.epoch = state->epoch;
  status_.holder = state->holder;
  if (!leader_) status_.schedules = 0;
}

void CronRunner::Reload(bool force) {
  auto version = store_.SchedulesVersion();
  if (!version) {
    spdlog::warn("cron: reading the schedules' version: {}", version.error().message);
    return;
  }
  if (!force && *version == version_) return;
  auto rows = store_.SchedulesLoadAll();
  if (!rows) {
    spdlog::warn("cron: loading schedules: {}", rows.error().message);
    return;
  }
  std::map<int64_t, PlannedSchedule> loaded;
  for (const auto& row : *rows) {
    // Rows written with SQL bypass validation; say so every reload, never skip quietly.
    auto expression = cron::Expression::Parse(row.spec.cron, config_.cron_options);
    if (!expression) {
      spdlog::error("cron: schedule {} will not fire: cron: {}", row.spec.name,
                    expression.error().message);
      continue;
    }
    auto zone = cron::Zone::Load(row.spec.time_zone);
    if (!zone) {
      spdlog::error("cron: schedule {} will not fire: {}", row.spec.name, zone.error().message);
      continue;
    }
    PlannedSchedule s{.id = row.id,
                      .name = row.spec.name,
                      .expression = *expression,
                      .zone = *zone,
                      .misfire = row.spec.misfire,
                      .jitter = row.spec.jitter,
                      .paused = row.spec.paused,
                      .after = {},
                      .next = std::nullopt};
    auto after = std::chrono::floor<seconds>(row.last_fired_for.value_or(row.created_at));
    if (auto it = schedules_.find(row.id); it != schedules_.end() &&
                                           it->second.expression.text() == expression->text() &&
                                           it->second.zone.name() == zone->name()) {
      after = std::max(after, it->second.after);
    }
    s.SetAfter(after);
    loaded.emplace(row.id, std::move(s));
  }
  spdlog::info("cron: {} schedules loaded (version {})", loaded.size(), *version);
  version_ = *version;
  schedules_ = std::move(loaded);
  std::lock_guard lock(mu_);
  status_.schedules = schedules_.size();
}

std::optional<cron::Instant> CronRunner::FireDue() {
  const cron::Instant now = DbNow();
  std::vector<db::Tick> ticks;
  for (const auto& [id, s] : schedules_) {
    auto planned = PlanDue(s, now, config_.planner, rng_, ticks);
    if (planned.newest_missed) {
      spdlog::warn("cron: schedule {} missed its ticks up to {} while no scheduler fired it; "
                   "misfire policy {}",
                   s.name, Time(*planned.newest_missed), schedule::MisfirePolicyName(s.misfire));
    }
  }
  for (size_t begin = 0; begin < ticks.size(); begin += config_.fire_batch) {
    const size_t end = std::min(ticks.size(), begin + config_.fire_batch);
    std::span<const db::Tick> batch(ticks.data() + begin, end - begin);
    const int64_t sent = history::NowMicros();
    auto results = store_.FireTicks(db::LeaderGuard{config_.holder, epoch_}, batch);
    if (!results) {
      if (results.error().code == ErrorCode::kLeaseLost) {
        spdlog::warn("cron: {}; {} ticks left to the new leader", results.error().message,
                     ticks.size() - begin);
        leader_ = false;
        next_renew_ = clock_.SteadyNow();
        schedules_.clear();
        std::lock_guard lock(mu_);
        ++status_.lease_lost;
        status_.leader = false;
      } else {
        spdlog::warn("cron: firing {} ticks: {}; retrying", batch.size(), results.error().message);
      }
      return std::nullopt;
    }
    // Each tick at info while that stays readable; a large batch is summed up.
    const auto level = results->size() <= 100 ? spdlog::level::info : spdlog::level::debug;
    int64_t enqueued = 0;
    int64_t recorded = 0;
    FireCounts counted;
    for (size_t i = 0; i < results->size(); ++i) {
      const auto& r = (*results)[i];
      auto it = schedules_.find(r.schedule_id);
      if (it != schedules_.end() && r.scheduled_for > it->second.after) {
        it->second.SetAfter(std::chrono::floor<seconds>(r.scheduled_for));
      }
      if (!r.outcome) continue;  // Recorded before: nothing done.
      if (auto* h = history::Process()) {
        h->Fire(r.schedule_id, Micros(r.scheduled_for), r.job_id.value_or(0), epoch_, sent);
      }
      ++recorded;
      if (r.job_id) ++enqueued;
      if (it != schedules_.end()) {
        ++counted[{it->second.name, std::string(db::FireOutcomeName(*r.outcome)),
                   std::string(db::FireOriginName(batch[i].origin))}];
        spdlog::log(level, "cron: {} tick {}: {}{}", it->second.name,
                    Time(std::chrono::floor<seconds>(r.scheduled_for)),
                    db::FireOutcomeName(*r.outcome),
                    r.job_id ? " job " + std::to_string(*r.job_id) : std::string());
      }
    }
    if (level != spdlog::level::info) {
      spdlog::info("cron: {} ticks recorded, {} jobs enqueued", recorded, enqueued);
    }
    std::lock_guard lock(mu_);
    status_.fired += recorded;
    status_.enqueued += enqueued;
    for (const auto& [key, n] : counted) fire_counts_[key] += n;
  }
  std::optional<cron::Instant> earliest;
  for (const auto& [id, s] : schedules_) {
    if (s.paused || !s.next) continue;
    if (!earliest || *s.next < *earliest) earliest = s.next;
  }
  return earliest;
}

void CronRunner::ReleaseBuffered() {
  const int64_t sent = history::NowMicros();
  auto released = store_.ReleaseBuffered(db::LeaderGuard{config_.holder, epoch_});
  if (!released) {
    spdlog::warn("cron: releasing buffered ticks: {}", released.error().message);
    return;
  }
  for (const auto& r : *released) {
    if (auto* h = history::Process()) {
      h->Fire(r.schedule_id, Micros(r.scheduled_for), r.job_id.value_or(0), epoch_, sent);
    }
    auto it = schedules_.find(r.schedule_id);
    spdlog::info("cron: {} buffered tick {}: enqueued job {}",
                 it != schedules_.end() ? it->second.name : std::to_string(r.schedule_id),
                 Time(std::chrono::floor<seconds>(r.scheduled_for)), r.job_id.value_or(0));
  }
  std::lock_guard lock(mu_);
  status_.enqueued += static_cast<int64_t>(released->size());
}

}  // namespace chime::scheduler
