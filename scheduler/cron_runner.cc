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
  if (auto ok = leader.Validate(); !ok) return ok;
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

// A leader frozen inside a fire transaction holds the term row's lock; the
// server ends that transaction well within the term so a standby can take over.
db::ConnectionConfig WithIdleLimit(db::ConnectionConfig db, milliseconds term_ttl) {
  db.idle_in_transaction_timeout = std::max(milliseconds(100), term_ttl / 4);
  return db;
}

}  // namespace

CronRunner::CronRunner(db::ConnectionConfig db, CronRunnerConfig config, Clock& clock, Rng& rng)
    : conn_(WithIdleLimit(std::move(db), config.leader.term_ttl), clock),
      store_(conn_, db::ScheduleStoreConfig{.cron_options = config.cron_options}),
      config_(std::move(config)),
      clock_(clock),
      rng_(rng),
      elector_(terms_, config_.leader, clock) {}

CronRunner::~CronRunner() { Stop(); }

void CronRunner::Start() {
  loop_.Start([this](std::stop_token stop) { Loop(stop); });
}

void CronRunner::Stop() { loop_.Stop(); }

CronRunnerStatus CronRunner::status() const {
  const LeaderStatus leader = elector_.status();
  std::lock_guard lock(mu_);
  CronRunnerStatus out = status_;
  out.leader = leader.leader;
  out.epoch = leader.epoch;
  out.holder = leader.holder;
  return out;
}

FireCounts CronRunner::fire_counts() const {
  std::lock_guard lock(mu_);
  return fire_counts_;
}

cron::Instant CronRunner::DbNow() const { return std::chrono::floor<seconds>(elector_.DbNow()); }

void CronRunner::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    Renew();
    std::optional<cron::Instant> next_tick;
    if (elector_.Leading()) {
      Reload(/*force=*/false);
      next_tick = FireDue();
      if (elector_.Leading()) ReleaseBuffered();
    }
    auto wake_at = std::min(elector_.next_renewal(), clock_.SteadyNow() + config_.max_sleep);
    if (next_tick) {
      // Wake just after the tick in database time.
      const auto until = *next_tick - elector_.DbNow() + milliseconds(1);
      wake_at = std::min(wake_at, clock_.SteadyNow() + duration_cast<microseconds>(until));
    }
    std::unique_lock lock(mu_);
    wake_.wait_until(lock, stop, wake_at, [] { return false; });
  }
  elector_.Resign();
}

void CronRunner::Renew() {
  switch (elector_.RenewIfDue()) {
    case TermChange::kElected:
      version_ = -1;  // Reload: the previous leader moved last_fired_for on.
      break;
    case TermChange::kDeposed: {
      schedules_.clear();
      std::lock_guard lock(mu_);
      status_.schedules = 0;
      break;
    }
    case TermChange::kExpired:
    case TermChange::kNone:
      break;
  }
  if (!elector_.status().leader) {
    std::lock_guard lock(mu_);
    status_.schedules = 0;
  }
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
    auto results = store_.FireTicks(elector_.guard(), batch);
    if (!results) {
      if (results.error().code == ErrorCode::kLeaseLost) {
        spdlog::warn("cron: {}; {} ticks left to the new leader", results.error().message,
                     ticks.size() - begin);
        elector_.Lost();
        schedules_.clear();
        std::lock_guard lock(mu_);
        ++status_.term_lost;
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
        h->Fire(r.schedule_id, Micros(r.scheduled_for), r.job_id.value_or(0), elector_.epoch(), sent);
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
  auto released = store_.ReleaseBuffered(elector_.guard());
  if (!released) {
    spdlog::warn("cron: releasing buffered ticks: {}", released.error().message);
    return;
  }
  for (const auto& r : *released) {
    if (auto* h = history::Process()) {
      h->Fire(r.schedule_id, Micros(r.scheduled_for), r.job_id.value_or(0), elector_.epoch(), sent);
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
