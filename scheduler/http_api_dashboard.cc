// The API's reads that only the dashboard's pages need: a schedule's page
// (next fires in its zone, health rules, recent runs), its fires, and the
// series behind the charts. See http_api.h for the shapes.
#include <algorithm>

#include "common/base/text_format.h"
#include "common/cron/zoned_time.h"
#include "common/db/alert_store.h"
#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"
#include "common/db/series_store.h"
#include "common/health/rule_settings.h"
#include "common/observe/monitoring_json.h"
#include "common/view/json_view.h"
#include "scheduler/http_api_util.h"

namespace chime::scheduler::api {
namespace {

constexpr int kScheduleNextFires = 10;
constexpr int kScheduleRecentRuns = 10;
// The health monitor's dead-man's window looks at the longest gap between
// the next few fires; so does the page.
constexpr int kPeriodFires = 5;

std::string Time(TimePoint t) { return FormatRfc3339(t, TimePrecision::kMillis); }

json ZonedJson(const cron::ZonedTime& z) {
  return json{{"local", z.local}, {"offset", z.offset}, {"abbrev", z.abbrev}, {"dst", z.dst}};
}

// The next fires as the schedule's zone reads them; "change" marks a fire
// whose UTC offset differs from the one before it (from now's, for the
// first): a daylight-saving change falls between them.
json NextFiresLocal(const cron::Zone& zone, const std::vector<TimePoint>& fires, const cron::ZonedTime& now) {
  json out = json::array();
  std::string offset = now.offset;
  for (TimePoint t : fires) {
    const auto z = cron::InZone(zone, std::chrono::floor<std::chrono::seconds>(t));
    json item = ZonedJson(z);
    item["at"] = FormatRfc3339(t);
    item["change"] = z.offset != offset;
    offset = z.offset;
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<std::chrono::milliseconds> Period(const std::vector<TimePoint>& fires) {
  std::optional<std::chrono::milliseconds> longest;
  for (size_t i = 1; i < fires.size() && i < kPeriodFires; ++i) {
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(fires[i] - fires[i - 1]);
    if (!longest || gap > *longest) longest = gap;
  }
  return longest;
}

// Each rule's condition and state: firing (with its alert), ok, paused
// (a paused schedule holds no rule) or off.
json HealthJson(const db::ScheduleRow& row, const std::vector<TimePoint>& fires,
                const std::vector<db::AlertRow>& firing) {
  json rules = json::array();
  for (const auto& setting : health::RuleSettings(row.spec.health, health::HealthDefaults{}, row.spec.timeout,
                                                  Period(fires))) {
    const std::string name(schedule::HealthRuleName(setting.rule));
    auto alert = std::find_if(firing.begin(), firing.end(), [&](const db::AlertRow& a) {
      return a.schedule_id == row.id && a.rule == name;
    });
    std::string state = !setting.enabled ? "off" : row.spec.paused ? "paused" : "ok";
    if (alert != firing.end()) state = "firing";
    rules.push_back(json{{"rule", name},
                         {"condition", setting.condition},
                         {"overridden", setting.overridden},
                         {"state", state},
                         {"alert", alert == firing.end() ? json(nullptr) : observe::AlertsJson({*alert})["alerts"][0]}});
  }
  return json{{"enabled", row.spec.health.enabled}, {"rules", std::move(rules)}};
}

}  // namespace

web::Response ScheduleDetail(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {}); !ok) return web::ErrorResponse(ok.error());
  const std::string& name = req.path_params.at(0);
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto row = admin::Execute<admin::ScheduleShow>(ctx, name);
    if (!row) return std::unexpected(row.error());
    const auto now = std::chrono::system_clock::now();
    const auto next = NextFires(row->spec.cron, row->spec.time_zone, row->spec.paused, d.cron_options, now,
                                kScheduleNextFires);
    json out = view::ScheduleJson(*row, next);
    out["zone_now"] = nullptr;
    out["next_fires_local"] = json::array();
    if (auto zone = cron::Zone::Load(row->spec.time_zone)) {
      const auto here = cron::InZone(*zone, std::chrono::floor<std::chrono::seconds>(now));
      out["zone_now"] = ZonedJson(here);
      out["next_fires_local"] = NextFiresLocal(*zone, next, here);
    }
    // The dead-man's window follows the schedule's period even while
    // paused; a paused schedule has no next fires, so look past the pause.
    const auto period_fires =
        row->spec.paused ? NextFires(row->spec.cron, row->spec.time_zone, false, d.cron_options, now, kPeriodFires)
                         : next;
    auto firing = admin::Execute<admin::Alerts>(ctx, {.all = false, .limit = 1000});
    if (!firing) return std::unexpected(firing.error());
    out["health"] = HealthJson(*row, period_fires, *firing);
    auto runs = admin::Execute<admin::Runs>(ctx, {.schedule = name, .limit = kScheduleRecentRuns});
    if (!runs) return std::unexpected(runs.error());
    out["recent_runs"] = view::RunPageJson(*runs)["runs"];
    return out;
  });
}

web::Response Fires(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"schedule", "before", "limit"}); !ok) return web::ErrorResponse(ok.error());
  db::FireListParams p;
  auto schedule = req.Query("schedule");
  if (!schedule) return web::ErrorResponse(400, "invalid_argument", "schedule: required");
  p.schedule = *schedule;
  if (auto text = req.Query("before")) {
    auto t = ParseRfc3339(*text);
    if (!t) return web::ErrorResponse(400, "invalid_argument", "before: " + t.error().message);
    p.before = *t;
  }
  auto limit = IntParam(req, "limit", 1, 1000);
  if (!limit) return web::ErrorResponse(limit.error());
  p.limit = static_cast<int>(limit->value_or(50));
  return WithAdmin(d.pool, [&](admin::Context& ctx) -> Result<json> {
    auto page = admin::Execute<admin::ScheduleFires>(ctx, p);
    if (!page) return std::unexpected(page.error());
    return view::FirePageJson(*page);
  });
}

namespace {

Result<db::SeriesRange> RangeParam(const web::Request& req, db::SeriesRange fallback) {
  auto text = req.Query("range");
  if (!text) return fallback;
  auto range = db::ParseSeriesRange(*text);
  if (!range) return Fail(ErrorCode::kInvalidArgument, "range: '" + OneLine(*text, 16) + "' is not one of 1h, 24h, 7d");
  return *range;
}

json OrNull(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

web::Response RunSeries(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"range", "schedule"}); !ok) return web::ErrorResponse(ok.error());
  auto range = RangeParam(req, db::SeriesRange::kDay);
  if (!range) return web::ErrorResponse(range.error());
  const db::RunSeriesParams p{.range = *range, .schedule = req.Query("schedule")};
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    auto series = db::SeriesStore(conn).RunsSeries(p);
    if (!series) return std::unexpected(series.error());
    json buckets = json::array();
    for (const auto& b : series->buckets) {
      buckets.push_back(json{{"start", Time(b.start)},
                             {"succeeded", b.succeeded},
                             {"partial", b.partial},
                             {"failed", b.failed},
                             {"skipped", b.skipped},
                             {"cancelled", b.cancelled},
                             {"p50_ms", OrNull(b.p50_ms)},
                             {"p95_ms", OrNull(b.p95_ms)}});
    }
    // "counts": what a bucket counts: runs (a retried job once, by its
    // final outcome).
    return json{{"range", std::string(db::SeriesRangeName(series->range))},
                {"bucket_seconds", series->bucket.count()},
                {"since", Time(series->since)},
                {"until", Time(series->until)},
                {"schedule", p.schedule ? json(*p.schedule) : json(nullptr)},
                {"counts", "runs"},
                {"buckets", std::move(buckets)}};
  });
}

web::Response QueueSeries(const ApiDeps& d, const web::Request& req) {
  if (auto ok = OnlyParams(req, {"range", "queue"}); !ok) return web::ErrorResponse(ok.error());
  auto range = RangeParam(req, db::SeriesRange::kHour);
  if (!range) return web::ErrorResponse(range.error());
  const db::QueueSeriesParams p{.range = *range, .queue = req.Query("queue")};
  return WithDb(d.pool, [&](db::Connection& conn) -> Result<json> {
    auto series = db::SeriesStore(conn).QueueSamplesSeries(p);
    if (!series) return std::unexpected(series.error());
    json queues = json::array();
    for (const auto& line : series->queues) {
      json points = json::array();
      for (const auto& pt : line.points) {
        points.push_back(json{{"at", Time(pt.at)},
                              {"ready", pt.ready},
                              {"running", pt.running},
                              {"oldest_ready_ms", pt.oldest_ready_ms}});
      }
      queues.push_back(json{{"queue", line.queue}, {"points", std::move(points)}});
    }
    return json{{"range", std::string(db::SeriesRangeName(series->range))},
                {"step_seconds", series->step.count()},
                {"since", Time(series->since)},
                {"until", Time(series->until)},
                {"queues", std::move(queues)}};
  });
}

}  // namespace chime::scheduler::api
