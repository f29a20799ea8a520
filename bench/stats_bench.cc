#include "bench/stats_bench.h"

#include <algorithm>
#include <functional>

#include "bench/interrupt.h"
#include "bench/pq.h"
#include "bench/stats_api.h"
#include "common/db/alert_store.h"
#include "common/db/connection.h"
#include "common/db/stats_store.h"

namespace chime::bench {
namespace {

using std::chrono::hours;

constexpr int kSchedules = 50;
constexpr int kKinds = 10;
constexpr int kLoadChunk = 100'000;
constexpr double kTargetMs = 50.0;

double WallMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

// Runs [first, first + count) of the synthetic ledger: run g ends g/total of
// 7 days ago; 10% have no schedule; outcomes ~85% succeeded, 5% partial, 6%
// failed, 1% discarded, 1% lease_expired, 1% cancelled, 1% released;
// durations 50 ms - ~80 s, skewed short. Attempts that end their job are
// final rows with its outcome (succeeded, partial, discarded -> failed,
// cancelled); failed, lease_expired and released ones are retried.
std::string LoadSql(int64_t first, int64_t count, int64_t total) {
  return "INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, scheduled_for, worker_id, "
         "started_at, finished_at, outcome, errors, final, job_outcome) "
         "SELECT g, 'kind_' || (g % " + std::to_string(kSchedules) + ") % " + std::to_string(kKinds) +
         ", 'default', 1 + (g % 3)::int, "
         "CASE WHEN g % 10 = 0 THEN NULL ELSE (SELECT min(id) FROM chime.schedules) + g % " +
         std::to_string(kSchedules) + " END, NULL, 'bench-worker', "
         "f - (50 + 80000 * pow(((g * 7919) % 1000) / 1000.0, 4)) * interval '1 millisecond', f, "
         "CASE WHEN o < 85 THEN 'succeeded' WHEN o < 90 THEN 'partial' WHEN o < 96 THEN 'failed' "
         "WHEN o < 97 THEN 'discarded' WHEN o < 98 THEN 'lease_expired' WHEN o < 99 THEN 'cancelled' "
         "ELSE 'released' END, "
         "CASE WHEN o BETWEEN 90 AND 97 THEN ARRAY['upstream answered 503 (bench)'] ELSE '{}' END, "
         "o < 90 OR o = 96 OR o = 98, "
         "CASE WHEN o < 85 THEN 'succeeded' WHEN o < 90 THEN 'partial' WHEN o = 96 THEN 'failed' "
         "WHEN o = 98 THEN 'cancelled' END "
         "FROM (SELECT g, (g * 31337) % 100 AS o, now() - (g::float8 / " + std::to_string(total) +
         ") * interval '7 days' AS f FROM generate_series(" + std::to_string(first) + "::bigint, " +
         std::to_string(first + count - 1) + "::bigint) g) s";
}

}  // namespace

Result<void> StatsBenchConfig::Validate() const {
  if (runs < 0 || runs > 50'000'000) return Fail(ErrorCode::kInvalidArgument, "--runs: must be 1..50000000");
  if (repeats < 1 || repeats > 10'000) return Fail(ErrorCode::kInvalidArgument, "--repeats: must be 1..10000");
  return {};
}

std::string StatsBench::description() const {
  return "run statistics, alert and dashboard API latency with 1,000,000 runs in the ledger (target < 50 ms)";
}

void StatsBench::AddOptions(CLI::App& command) {
  command.add_option("--runs", config_.runs, "runs to load (default 1000000, --quick 50000)");
  command.add_option("--repeats", config_.repeats, "timed executions per query")->capture_default_str();
  command.add_flag("--skip-api", config_.skip_api,
                   "time the store queries only, not the dashboard's API over HTTP (which loads jobs, "
                   "fires and queue samples too and starts a chime-scheduler)");
}

Result<void> StatsBench::Run(const BenchEnv& env) {
  const int64_t total = config_.runs > 0 ? config_.runs : (env.quick ? 50'000 : 1'000'000);
  const int repeats = env.quick ? std::min(config_.repeats, 5) : config_.repeats;
  auto pq = PqConnection::Open(env.conninfo);
  if (!pq) return std::unexpected(pq.error());
  auto made = pq->Exec(
      "TRUNCATE chime.runs; DELETE FROM chime.schedules; "
      "INSERT INTO chime.schedules (name, cron, kind) SELECT 'bench-schedule-' || lpad(g::text, 2, '0'), "
      "'*/5 * * * *', 'kind_' || (g % " + std::to_string(kKinds) + ") FROM generate_series(0, " +
      std::to_string(kSchedules - 1) + ") g");
  if (!made) return std::unexpected(made.error());

  // The week's day partitions of the ledger, as the maintainer keeps them.
  auto parted = pq->Exec("SELECT chime.runs_partitions_ensure(1, 8)");
  if (!parted) return std::unexpected(parted.error());

  Report& report = *env.report;
  report.BeginSection("stats", "bulk load through the rollup triggers");
  const auto load_started = std::chrono::steady_clock::now();
  for (int64_t first = 1; first <= total; first += kLoadChunk) {
    if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
    auto loaded = pq->Exec(LoadSql(first, std::min<int64_t>(kLoadChunk, total - first + 1), total));
    if (!loaded) return std::unexpected(loaded.error());
  }
  const double load_ms = WallMs(load_started);
  // 500 alerts, 50 of them firing (one per schedule), as months of operation would leave.
  auto alerts = pq->Exec(
      "INSERT INTO chime.alerts (schedule_id, schedule_name, rule, state, message, fired_at, resolved_at, "
      "delivery) SELECT s.id, s.name, (ARRAY['failure_rate','consecutive_failures','average_duration',"
      "'run_duration','no_success_within','success_rate'])[1 + g % 6], "
      "CASE WHEN g < 50 THEN 'firing' ELSE 'resolved' END, 'bench alert ' || g, "
      "now() - g * interval '10 minutes', CASE WHEN g < 50 THEN NULL ELSE now() - g * interval '5 minutes' END, "
      "'sent' FROM generate_series(0, 499) g JOIN chime.schedules s ON s.name = 'bench-schedule-' || "
      "lpad((g % 50)::text, 2, '0')");
  if (!alerts) return std::unexpected(alerts.error());
  // What autovacuum would have done by now: the load upserted each rollup
  // row once per chunk.
  for (const char* sql : {"VACUUM ANALYZE chime.run_stats", "ANALYZE chime.runs", "ANALYZE chime.alerts"}) {
    if (auto ok = pq->Exec(sql); !ok) return std::unexpected(ok.error());
  }
  auto sizes = pq->Exec("SELECT (SELECT count(*) FROM chime.runs), (SELECT count(*) FROM chime.run_stats)");
  if (!sizes) return std::unexpected(sizes.error());
  const std::vector<Param> load_params{{"runs", sizes->int64(0, 0)}};
  report.Add({"load_wall", load_ms, "ms", load_params});
  report.Add({"load_rate", static_cast<double>(total) / (load_ms / 1e3), "runs/s", load_params});
  report.Add({"rollup_rows", static_cast<double>(sizes->int64(0, 1)), "rows", load_params});
  report.EndSection();

  db::Connection conn(db::ConnectionConfig{.url = env.conninfo});
  db::StatsStore stats(conn);
  db::AlertStore alert_store(conn);
  struct Query {
    std::string name;
    std::function<Result<size_t>()> run;  // Rows returned.
  };
  auto stats_query = [&](db::StatsParams params) {
    return [&stats, params]() -> Result<size_t> {
      auto r = stats.StatsQuery(params);
      if (!r) return std::unexpected(r.error());
      return r->rows.size();
    };
  };
  const std::string one = "bench-schedule-07";
  std::vector<Query> queries{
      {"by_schedule_all_24h", stats_query({.scope = db::StatsScope::kSchedule, .range = hours(24)})},
      {"by_schedule_all_168h", stats_query({.scope = db::StatsScope::kSchedule, .range = hours(168)})},
      {"by_kind_all_24h", stats_query({.scope = db::StatsScope::kKind, .range = hours(24)})},
      {"by_kind_all_168h", stats_query({.scope = db::StatsScope::kKind, .range = hours(168)})},
      {"one_schedule_24h", stats_query({.scope = db::StatsScope::kSchedule, .name = one, .range = hours(24)})},
      {"one_schedule_168h", stats_query({.scope = db::StatsScope::kSchedule, .name = one, .range = hours(168)})},
      {"one_kind_168h", stats_query({.scope = db::StatsScope::kKind, .name = "kind_3", .range = hours(168)})},
      {"alerts_firing", [&]() -> Result<size_t> {
         auto r = alert_store.AlertsList({.all = false, .limit = 100});
         if (!r) return std::unexpected(r.error());
         return r->size();
       }},
      {"alerts_all_100", [&]() -> Result<size_t> {
         auto r = alert_store.AlertsList({.all = true, .limit = 100});
         if (!r) return std::unexpected(r.error());
         return r->size();
       }},
  };
  report.BeginSection("stats", "query latency (ms), " + std::to_string(repeats) + " runs each");
  double worst_p95 = 0;
  for (const auto& q : queries) {
    if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
    auto warm = q.run();  // Connects, fills caches.
    if (!warm) return std::unexpected(warm.error());
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
      const auto started = std::chrono::steady_clock::now();
      auto rows = q.run();
      ms.push_back(WallMs(started));
      if (!rows) return std::unexpected(rows.error());
    }
    const double p95 = RoundedPercentile(ms, 0.95);
    worst_p95 = std::max(worst_p95, p95);
    const std::vector<Param> params{{"query", q.name}, {"rows", static_cast<int64_t>(*warm)}};
    report.Add({"p50", RoundedPercentile(ms, 0.50), "ms", params});
    report.Add({"p95", p95, "ms", params});
    report.Add({"target_met", p95 < kTargetMs ? 1.0 : 0.0, "bool", params});
  }
  report.EndSection();
  report.BeginSection("stats", "summary");
  report.Add({"worst_p95", worst_p95, "ms", load_params});
  report.Add({"target_met_all_under_50ms", worst_p95 < kTargetMs ? 1.0 : 0.0, "bool", load_params});
  report.EndSection();
  if (config_.skip_api) return {};
  return TimeDashboardApi(env, *pq, total, repeats);
}

}  // namespace chime::bench
