#include "scheduler/health_monitor.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>

#include "common/cron/cron.h"

namespace chime::scheduler {
namespace {

using std::chrono::milliseconds;

// The longest gap between the schedule's next few fires: how long silence
// is normal for it. Unset when the expression or zone does not load.
std::optional<milliseconds> CronPeriod(const schedule::ScheduleSpec& spec, db::TimePoint now,
                                       cron::ParseOptions options) {
  auto expression = cron::Expression::Parse(spec.cron, options);
  auto zone = cron::Zone::Load(spec.time_zone);
  if (!expression || !zone) return std::nullopt;
  auto at = std::chrono::floor<std::chrono::seconds>(now);
  std::optional<milliseconds> longest;
  auto previous = cron::NextFire(*expression, *zone, at);
  for (int i = 0; i < 4 && previous; ++i) {
    auto next = cron::NextFire(*expression, *zone, *previous);
    if (!next) break;
    const milliseconds gap = *next - *previous;
    if (!longest || gap > *longest) longest = gap;
    previous = next;
  }
  return longest;
}

}  // namespace

Result<void> HealthMonitorConfig::ReadEnvironment() {
  const char* url = std::getenv("CHIME_ALERT_WEBHOOK_URL");
  notifier.webhook_url = url != nullptr ? url : "";
  const char* public_url = std::getenv("CHIME_PUBLIC_URL");
  notifier.public_url = public_url != nullptr ? public_url : "";
  while (notifier.public_url.ends_with('/')) notifier.public_url.pop_back();
  notifier.allow.clear();
  if (const char* allow = std::getenv("CHIME_ALERT_WEBHOOK_ALLOW"); allow != nullptr) {
    std::string list = allow;
    size_t start = 0;
    while (start <= list.size()) {
      const size_t comma = std::min(list.find(',', start), list.size());
      std::string one = list.substr(start, comma - start);
      std::erase(one, ' ');
      if (!one.empty()) notifier.allow.push_back(one);
      start = comma + 1;
    }
  }
  return notifier.Validate();
}

Result<void> HealthMonitorConfig::Validate() const {
  if (interval < milliseconds(10) || interval > std::chrono::hours(1)) {
    return Fail(ErrorCode::kInvalidArgument, "health-interval: must be 10ms-1h");
  }
  if (window < db::kMinStatsRange || window > db::kMaxStatsRange) {
    return Fail(ErrorCode::kInvalidArgument, "health-window-hours: must be 1-168");
  }
  if (auto ok = defaults.Validate(); !ok) return ok;
  return notifier.Validate();
}

Result<std::unique_ptr<HealthMonitor>> HealthMonitor::Create(db::ConnectionConfig db,
                                                             HealthMonitorConfig config,
                                                             std::function<bool()> is_leader, Rng& rng) {
  if (auto ok = config.Validate(); !ok) return std::unexpected(ok.error());
  auto notifier = AlertNotifier::Create(config.notifier);
  if (!notifier) return std::unexpected(notifier.error());
  return std::unique_ptr<HealthMonitor>(new HealthMonitor(std::move(db), std::move(config),
                                                          std::move(is_leader), rng, std::move(*notifier)));
}

HealthMonitor::HealthMonitor(db::ConnectionConfig db, HealthMonitorConfig config,
                             std::function<bool()> is_leader, Rng& rng, AlertNotifier notifier)
    : conn_(std::move(db)),
      schedules_(conn_, db::ScheduleStoreConfig{.cron_options = config.cron_options}),
      stats_(conn_),
      alerts_(conn_),
      config_(std::move(config)),
      is_leader_(std::move(is_leader)),
      rng_(rng),
      notifier_(std::move(notifier)) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start() {
  if (!notifier_.enabled()) {
    spdlog::info("health: no CHIME_ALERT_WEBHOOK_URL; alerts are recorded, not sent");
  }
  loop_.Start([this](std::stop_token stop) { Loop(stop); });
}

void HealthMonitor::Stop() { loop_.Stop(); }

HealthMonitorStatus HealthMonitor::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

bool HealthMonitor::WaitForPasses(int64_t passes, std::chrono::milliseconds guard) const {
  std::unique_lock lock(mu_);
  return passed_.wait_for(lock, guard, [&] { return status_.passes >= passes; });
}

Result<db::AlertsApplyParams> HealthMonitor::Evaluate() {
  auto rows = schedules_.SchedulesLoadAll();
  if (!rows) return std::unexpected(rows.error());
  auto report = stats_.StatsQuery(db::StatsParams{.scope = db::StatsScope::kSchedule,
                                                  .range = config_.window, .recent_failures = 1});
  if (!report) return std::unexpected(report.error());
  auto running = stats_.OldestRunningPerSchedule();
  if (!running) return std::unexpected(running.error());

  std::map<int64_t, const db::StatsRow*> stats_by_id;
  for (const auto& row : report->rows) {
    if (row.schedule_id) stats_by_id[*row.schedule_id] = &row;
  }
  std::map<int64_t, const db::OldestRunning*> running_by_id;
  for (const auto& r : *running) running_by_id[r.schedule_id] = &r;

  db::AlertsApplyParams params;
  params.deliver = notifier_.enabled();
  const db::TimePoint now = report->until;  // Database time.
  for (const auto& row : *rows) {
    health::ScheduleSnapshot s;
    s.schedule_id = row.id;
    s.name = row.spec.name;
    s.paused = row.spec.paused;
    s.created_at = row.created_at;
    s.timeout = row.spec.timeout;
    s.health = row.spec.health;
    if (auto it = stats_by_id.find(row.id); it != stats_by_id.end()) s.stats = *it->second;
    if (auto it = running_by_id.find(row.id); it != running_by_id.end()) {
      s.oldest_running_since = it->second->since;
      s.oldest_running_job = it->second->job_id;
    }
    if (!row.spec.paused && row.spec.health.enabled) {
      s.period = CronPeriod(row.spec, now, config_.cron_options);
    }
    params.evaluated.push_back(row.id);
    health::Recovery recovery = health::DescribeRecovery(s.stats);
    params.resolutions.push_back(db::Resolution{.schedule_id = row.id,
                                                .message = std::move(recovery.message),
                                                .job_id = recovery.job_id});
    for (auto& finding : health::Evaluate(s, config_.defaults, now, config_.window)) {
      params.holding.push_back(db::HoldingRule{.schedule_id = row.id,
                                               .schedule_name = row.spec.name,
                                               .rule = std::string(schedule::HealthRuleName(finding.rule)),
                                               .message = std::move(finding.message),
                                               .values_json = std::move(finding.values_json)});
    }
  }
  return params;
}

Result<PassResult> HealthMonitor::RunOnce(std::stop_token stop) {
  PassResult result;
  if (is_leader_ && !is_leader_()) return result;
  auto params = Evaluate();
  if (!params) return std::unexpected(params.error());
  auto applied = alerts_.AlertsApply(*params);
  if (!applied) return std::unexpected(applied.error());
  result.evaluated = true;
  result.transitions = std::move(*applied);
  for (const auto& a : result.transitions.fired) spdlog::warn("alert firing: {}", a.message);
  for (const auto& a : result.transitions.resolved) {
    spdlog::info("alert resolved: {} {} (alert {}): {}", a.schedule_name, a.rule, a.id,
                 a.resolution.value_or(""));
  }
  // Delivery failures are recorded on the alerts; a database error here
  // fails the pass like any other.
  auto delivered = notifier_.DeliverDue(alerts_, rng_, stop);
  if (!delivered) return std::unexpected(delivered.error());
  result.delivery = *delivered;
  auto firing = alerts_.AlertsList(db::AlertListParams{.all = false, .limit = 1000});
  std::lock_guard lock(mu_);
  ++status_.passes;
  status_.fired += static_cast<int64_t>(result.transitions.fired.size());
  status_.resolved += static_cast<int64_t>(result.transitions.resolved.size());
  status_.delivered += result.delivery.sent;
  status_.delivery_failures += result.delivery.failed;
  if (firing) status_.firing = static_cast<int64_t>(firing->size());
  passed_.notify_all();
  return result;
}

void HealthMonitor::Loop(std::stop_token stop) {
  bool failing = false;
  while (!stop.stop_requested()) {
    auto ok = RunOnce(stop);
    if (!ok && !failing) {
      spdlog::error("health pass failed: {}", ok.error().ToString());
    } else if (ok && failing) {
      spdlog::info("health passes recovered");
    }
    failing = !ok;
    std::unique_lock lock(mu_);
    if (!ok) ++status_.failed_passes;
    wake_.wait_for(lock, stop, config_.interval, [] { return false; });
  }
}

}  // namespace chime::scheduler
