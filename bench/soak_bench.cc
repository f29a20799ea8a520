#include "bench/soak_bench.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "bench/cluster.h"
#include "bench/interrupt.h"
#include "bench/pq.h"

namespace chime::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The tables sampled: the hot table, the ledger, and the counters every
// completion batch updates in place (where dead tuples would pile up too).
constexpr const char* kTables[] = {"chime.jobs", "chime.runs", "chime.job_counts", "chime.run_stats"};

// A table summed over its leaves (part "all") or its DEFAULT partition on
// its own (part "default: <name>"), at one moment.
struct TableStats {
  std::string table;
  std::string part;
  int64_t live = 0;
  int64_t dead = 0;
  int64_t heap_bytes = 0;   // pg_table_size: heap, TOAST, free space and visibility maps.
  int64_t index_bytes = 0;  // Every index.
  int64_t ready_bytes = -1;  // The ready index's leaves on these leaves; -1: not this table's.
  int64_t autovacuums = 0;
  int64_t autoanalyzes = 0;
};

struct Sample {
  std::string at;  // "before", seconds since the workers started, or "after".
  double elapsed_s = 0;
  int64_t succeeded = 0;
  int64_t queued = 0;  // Enqueued and not yet succeeded.
  double jobs_per_s = NAN;  // Drained since the previous sample.
  std::vector<TableStats> tables;
  // The claim's read of the queue head (its candidate scan, without the
  // locks): buffers it touched and its time. Dead index entries at the
  // head of the ready index, which only a vacuum removes, show here.
  int64_t claim_pages = 0;
  double claim_ms = NAN;
};

double Mb(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Per leaf of one table: whether it is the DEFAULT partition, its name, its
// statistics and sizes, and the size of the ready index's leaves on it ($2:
// the ready index, or NULL to skip). pg_partition_tree lists the leaves of
// a partitioned table or index and nothing for a plain one (PostgreSQL 15),
// so a plain relation stands for its own only leaf.
constexpr const char* kLeavesSql = R"sql(
WITH leaves AS (
  SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf
  UNION ALL SELECT $1::regclass WHERE NOT EXISTS (SELECT FROM pg_partition_tree($1::regclass))),
ready AS (
  SELECT relid FROM pg_partition_tree($2::regclass) WHERE isleaf
  UNION ALL SELECT $2::regclass WHERE $2 IS NOT NULL AND NOT EXISTS (SELECT FROM pg_partition_tree($2::regclass)))
SELECT pg_get_expr(c.relpartbound, c.oid) IS NOT DISTINCT FROM 'DEFAULT',
       c.oid::regclass::text,
       coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0),
       pg_table_size(c.oid), pg_indexes_size(c.oid),
       coalesce(s.autovacuum_count, 0), coalesce(s.autoanalyze_count, 0),
       coalesce((SELECT sum(pg_relation_size(r.relid)) FROM ready r
                 JOIN pg_index i ON i.indexrelid = r.relid WHERE i.indrelid = c.oid), 0)::bigint
FROM leaves l
JOIN pg_class c ON c.oid = l.relid
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid)sql";

// Samples every table of kTables that exists. `ready_index` may name no
// index (then no ready figures).
Result<std::vector<TableStats>> SampleTables(PqConnection& pq, const std::string& ready_index) {
  // This session's own counts out, and no snapshot of an earlier read kept.
  if (auto ok = pq.Exec("SELECT pg_stat_force_next_flush(); SELECT pg_stat_clear_snapshot()"); !ok) {
    return std::unexpected(ok.error());
  }
  auto ready = pq.ExecParams(
      "SELECT i.indexrelid::regclass::text, "
      "       coalesce(pg_partition_root(i.indrelid), i.indrelid)::regclass::text "
      "FROM pg_index i WHERE i.indexrelid = to_regclass($1)",
      {ready_index});
  if (!ready) return std::unexpected(ready.error());
  const std::optional<std::string> ready_name =
      ready->rows() > 0 ? std::optional<std::string>(ready->text(0, 0)) : std::nullopt;
  const std::string ready_table = ready->rows() > 0 ? ready->text(0, 1) : "";
  std::vector<TableStats> out;
  for (const char* table : kTables) {
    auto exists = pq.ExecParams("SELECT to_regclass($1)::text", {std::string(table)});
    if (!exists) return std::unexpected(exists.error());
    if (exists->is_null(0, 0)) continue;
    const std::string name = exists->text(0, 0);
    const bool has_ready = ready_name && name == ready_table;
    auto leaves = pq.ExecParams(kLeavesSql, {name, has_ready ? ready_name : std::nullopt});
    if (!leaves) return std::unexpected(leaves.error());
    TableStats all{.table = table, .part = "all", .ready_bytes = has_ready ? 0 : -1};
    std::optional<TableStats> live;
    for (int row = 0; row < leaves->rows(); ++row) {
      TableStats leaf{.table = table,
                      .part = std::string("default: ") + leaves->text(row, 1),
                      .live = leaves->int64(row, 2),
                      .dead = leaves->int64(row, 3),
                      .heap_bytes = leaves->int64(row, 4),
                      .index_bytes = leaves->int64(row, 5),
                      .ready_bytes = has_ready ? leaves->int64(row, 8) : -1,
                      .autovacuums = leaves->int64(row, 6),
                      .autoanalyzes = leaves->int64(row, 7)};
      all.live += leaf.live;
      all.dead += leaf.dead;
      all.heap_bytes += leaf.heap_bytes;
      all.index_bytes += leaf.index_bytes;
      if (has_ready) all.ready_bytes += leaf.ready_bytes;
      all.autovacuums += leaf.autovacuums;
      all.autoanalyzes += leaf.autoanalyzes;
      if (std::string_view(leaves->text(row, 0)) == "t") live = leaf;
    }
    out.push_back(all);
    if (live) out.push_back(*live);
  }
  return out;
}

// The claim's candidate read (chime.jobs_claim_open's, migration 0026) of
// 100 jobs, without FOR UPDATE so that it takes nothing from the workers.
constexpr const char* kClaimProbeSql =
    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT j.id FROM chime.jobs j "
    "WHERE j.queue = 'default' AND j.state IN ('scheduled', 'available', 'retryable') AND j.run_at <= now() "
    "ORDER BY j.priority, j.run_at, j.id LIMIT 100";

Result<void> ProbeClaim(PqConnection& pq, Sample& s) {
  auto plan = pq.Exec(kClaimProbeSql);
  if (!plan) return std::unexpected(plan.error());
  const auto json = nlohmann::json::parse(plan->text(0, 0), nullptr, /*allow_exceptions=*/false);
  if (!json.is_array() || json.empty() || !json[0].contains("Plan")) {
    return Fail(ErrorCode::kInternal, "soak: the claim probe's plan is not EXPLAIN's JSON");
  }
  const auto& top = json[0]["Plan"];
  s.claim_pages = top.value("Shared Hit Blocks", int64_t{0}) + top.value("Shared Read Blocks", int64_t{0});
  s.claim_ms = json[0].value("Execution Time", NAN);
  return {};
}

void LogSample(const Sample& s) {
  spdlog::info("soak: {} ({:.0f} s): {:.0f} jobs/s drained since the last sample, {} succeeded, {} queued; "
               "the claim's read of 100 touched {} pages in {:.2f} ms",
               s.at, s.elapsed_s, s.jobs_per_s, s.succeeded, s.queued, s.claim_pages, s.claim_ms);
  for (const auto& t : s.tables) {
    spdlog::info("soak: {} {} [{}]: live {} dead {} heap {:.1f} MB indexes {:.1f} MB ready index {} "
                 "autovacuum {} autoanalyze {}",
                 s.at, t.table, t.part, t.live, t.dead, Mb(t.heap_bytes), Mb(t.index_bytes),
                 t.ready_bytes < 0 ? std::string("-") : FormatValue(Mb(t.ready_bytes)) + " MB", t.autovacuums,
                 t.autoanalyzes);
  }
}

// Whether `end` grew well past `reference`: more than twice it and by more
// than `slack` (dead rows or bytes), so that the level autovacuum keeps
// between its passes does not read as build-up.
bool BuiltUp(int64_t reference, int64_t end, int64_t slack) {
  return end > 2 * reference && end - reference > slack;
}

}  // namespace

Result<void> SoakBenchConfig::Validate() const {
  if (!(minutes >= 0 && minutes <= 24 * 60)) return Fail(ErrorCode::kInvalidArgument, "--minutes: 0.05-1440 (0: 30)");
  if (minutes > 0 && minutes < 0.05) return Fail(ErrorCode::kInvalidArgument, "--minutes: 0.05-1440 (0: 30)");
  if (interval_s < 0 || interval_s > 3600) return Fail(ErrorCode::kInvalidArgument, "--interval: 1-3600 s (0: 60)");
  if (workers < 1 || workers > 64) return Fail(ErrorCode::kInvalidArgument, "--workers: 1-64");
  if (slots < 1 || slots > 1000) return Fail(ErrorCode::kInvalidArgument, "--slots: 1-1000");
  if (prefetch < -1 || prefetch > 1000) return Fail(ErrorCode::kInvalidArgument, "--prefetch: 0-1000 (-1: auto)");
  if (claim_batch < 0 || claim_batch > 1000) return Fail(ErrorCode::kInvalidArgument, "--claim-batch: 0-1000");
  if (backlog < 1 || backlog > 1'000'000) return Fail(ErrorCode::kInvalidArgument, "--backlog: 1-1000000");
  if (ready_index.empty()) return Fail(ErrorCode::kInvalidArgument, "--ready-index: an index name");
  if (logs.empty()) return Fail(ErrorCode::kInvalidArgument, "--logs: a directory");
  return {};
}

std::string SoakBench::description() const {
  return "The cluster at full rate for --minutes with a fed queue: dead tuples, table and ready-index sizes, "
         "autovacuum and jobs/s every interval";
}

void SoakBench::AddOptions(CLI::App& command) {
  command.add_option("--minutes", config_.minutes, "Run length, fractions allowed (default 30; --quick 0.25)");
  command.add_option("--interval", config_.interval_s, "Seconds between samples (default 60; --quick 5)");
  command.add_option("--workers", config_.workers, "Worker processes")->capture_default_str();
  command.add_option("--slots", config_.slots, "Slots per worker")->capture_default_str();
  command.add_option("--prefetch", config_.prefetch,
                     "Jobs each worker claims beyond its slots (-1: the worker's default, auto)")
      ->capture_default_str();
  command.add_option("--claim-batch", config_.claim_batch,
                     "Most jobs a worker claims per round trip (0: the worker's default)")
      ->capture_default_str();
  command.add_option("--backlog", config_.backlog, "Jobs the producer keeps queued and not yet succeeded")
      ->capture_default_str();
  command.add_option("--ready-index", config_.ready_index, "The claim's partial index on chime.jobs")
      ->capture_default_str();
  command.add_option("--logs", config_.logs, "Where the cluster's logs are kept if the run fails")
      ->capture_default_str();
}

Result<void> SoakBench::Run(const BenchEnv& env) {
  EnsureBinDir();
  const double minutes = config_.minutes > 0 ? config_.minutes : (env.quick ? 0.25 : 30);
  const int interval_s = config_.interval_s > 0 ? config_.interval_s : (env.quick ? 5 : 60);
  const auto run_length = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(minutes * 60));
  const auto interval = std::chrono::seconds(interval_s);
  auto pq = PqConnection::Open(env.conninfo);
  if (!pq) return std::unexpected(pq.error());
  if (auto ok = pq->Exec("TRUNCATE chime.jobs, chime.runs, chime.job_counts"); !ok) return std::unexpected(ok.error());

  std::vector<Sample> samples;
  auto sample = [&](std::string at, double elapsed_s, int64_t succeeded, int64_t queued) -> Result<void> {
    auto tables = SampleTables(*pq, config_.ready_index);
    if (!tables) return std::unexpected(tables.error());
    Sample s{.at = std::move(at), .elapsed_s = elapsed_s, .succeeded = succeeded, .queued = queued,
             .tables = std::move(*tables)};
    if (auto ok = ProbeClaim(*pq, s); !ok) return ok;
    if (!samples.empty() && elapsed_s > samples.back().elapsed_s) {
      s.jobs_per_s = static_cast<double>(succeeded - samples.back().succeeded) / (elapsed_s - samples.back().elapsed_s);
    }
    LogSample(s);
    samples.push_back(std::move(s));
    return {};
  };

  spdlog::info("soak: {} minutes, {} workers x {} slots, backlog {}, a sample every {} s", minutes, config_.workers,
               config_.slots, config_.backlog, interval_s);
  if (auto ok = EnqueueNoops(*pq, config_.backlog); !ok) return ok;
  int64_t enqueued = config_.backlog;
  if (auto ok = sample("before", 0, 0, enqueued); !ok) return ok;
  if (std::none_of(samples.back().tables.begin(), samples.back().tables.end(),
                   [](const TableStats& t) { return t.ready_bytes >= 0; })) {
    spdlog::warn("soak: no index {} on chime.jobs: no ready-index figures", config_.ready_index);
  }

  Cluster cluster(env.conninfo, config_.slots);
  cluster.set_prefetch(config_.prefetch);
  cluster.set_claim_batch(config_.claim_batch);
  auto fail = [&](Error error) -> Result<void> {
    cluster.Stop();
    if (auto saved = cluster.SaveLogs(config_.logs); !saved) spdlog::warn("soak: {}", saved.error().ToString());
    error.message += " (logs in " + config_.logs + ")";
    return std::unexpected(std::move(error));
  };
  if (auto ok = cluster.StartScheduler(); !ok) return ok;
  const auto start = Clock::now();
  for (int i = 0; i < config_.workers; ++i) {
    if (auto ok = cluster.StartWorker(); !ok) return fail(ok.error());
  }
  const auto end = start + run_length;
  auto next_sample = start + interval;
  int64_t succeeded = 0;
  while (!Interrupt::StopRequested()) {
    auto done = SucceededJobs(*pq);
    if (!done) return fail(done.error());
    succeeded = *done;
    const auto now = Clock::now();
    if (now >= next_sample || now >= end) {
      const double elapsed = std::chrono::duration<double>(now - start).count();
      if (auto ok = sample(std::to_string(static_cast<int64_t>(std::lround(elapsed))), elapsed, succeeded,
                           enqueued - succeeded);
          !ok) {
        return fail(ok.error());
      }
      // A stalled cluster fails the run instead of sampling an idle table
      // (a deadline just after an interval sample is no interval of its own).
      if (const Sample& prev = samples[samples.size() - 2];
          samples.back().succeeded == prev.succeeded && elapsed - prev.elapsed_s >= interval_s / 2.0) {
        return fail(Error{ErrorCode::kInternal, "no job succeeded for " + FormatValue(elapsed - prev.elapsed_s) + " s"});
      }
      if (now >= end) break;
      next_sample += interval;
      continue;
    }
    // Top the queue up to the backlog: the workers never starve and the
    // queue never grows past it.
    if (const int64_t missing = config_.backlog - (enqueued - succeeded); missing > 0) {
      if (auto ok = EnqueueNoops(*pq, missing); !ok) return fail(ok.error());
      enqueued += missing;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  cluster.Stop();  // The workers finish what they hold; their sessions' statistics go out as they end.
  auto done = SucceededJobs(*pq);
  if (!done) return std::unexpected(done.error());
  if (auto ok = sample("after", std::chrono::duration<double>(Clock::now() - start).count(), *done, enqueued - *done);
      !ok) {
    return ok;
  }
  samples.back().jobs_per_s = NAN;  // The workers' drain after the deadline is no rate.

  Report& report = *env.report;
  report.BeginSection("soak", "tables: before the workers start, every interval (s since), after they stopped");
  for (const auto& s : samples) {
    for (const auto& t : s.tables) {
      const std::vector<Param> params{{"at_s", s.at}, {"table", t.table}, {"part", t.part}};
      report.Add({"n_live_tup", static_cast<double>(t.live), "rows", params});
      report.Add({"n_dead_tup", static_cast<double>(t.dead), "rows", params});
      report.Add({"heap", Mb(t.heap_bytes), "MB", params});
      report.Add({"indexes", Mb(t.index_bytes), "MB", params});
      if (t.ready_bytes >= 0) report.Add({"ready_index", Mb(t.ready_bytes), "MB", params});
      report.Add({"autovacuums", static_cast<double>(t.autovacuums), "count", params});
      report.Add({"autoanalyzes", static_cast<double>(t.autoanalyzes), "count", params});
    }
  }
  report.BeginSection("soak", "the claim's read of the queue head (100 jobs, no locks)");
  for (const auto& s : samples) {
    const std::vector<Param> params{{"at_s", s.at}};
    report.Add({"claim_read_pages", static_cast<double>(s.claim_pages), "pages", params});
    report.Add({"claim_read", s.claim_ms, "ms", params});
  }
  report.BeginSection("soak", "drained per interval");
  for (const auto& s : samples) {
    if (std::isnan(s.jobs_per_s)) continue;
    const std::vector<Param> params{{"at_s", s.at}};
    report.Add({"drained", s.jobs_per_s, "jobs/s", params});
    report.Add({"succeeded", static_cast<double>(s.succeeded), "jobs", params});
    report.Add({"queued", static_cast<double>(s.queued), "jobs", params});
  }
  // Up to the deadline: the last interval sample's count over its time.
  const Sample& last = samples[samples.size() - 2];
  report.BeginSection("soak", "overall, workers started to the deadline");
  const std::vector<Param> params{
      {"minutes", minutes}, {"workers", config_.workers}, {"slots", config_.slots},
      {"prefetch", config_.prefetch < 0 ? nlohmann::ordered_json("auto") : nlohmann::ordered_json(config_.prefetch)},
      {"claim_batch", config_.claim_batch}, {"backlog", config_.backlog}};
  report.Add({"throughput", last.elapsed_s > 0 ? static_cast<double>(last.succeeded) / last.elapsed_s : NAN,
              "jobs/s", params});
  report.Add({"succeeded", static_cast<double>(samples.back().succeeded), "jobs", params});

  // Verdicts: dead tuples at the end against the start (and the first
  // interval, the level a steady state keeps), the ready index at the end
  // against the first interval.
  report.BeginSection("soak", "verdict: the end against the start and the first interval");
  const Sample& first = samples[std::min<size_t>(1, samples.size() - 1)];
  std::vector<std::string> verdicts;
  for (const auto& t_end : samples.back().tables) {
    auto find = [&](const Sample& s) -> const TableStats* {
      auto it = std::ranges::find_if(s.tables, [&](const TableStats& t) {
        return t.table == t_end.table && t.part == t_end.part;
      });
      return it == s.tables.end() ? nullptr : &*it;
    };
    const TableStats* t_start = find(samples.front());
    const TableStats* t_first = find(first);
    int64_t dead_peak = 0;
    for (const auto& s : samples) {
      if (const TableStats* t = find(s)) dead_peak = std::max(dead_peak, t->dead);
    }
    const int64_t dead_start = t_start ? t_start->dead : 0;
    const int64_t dead_first = t_first ? t_first->dead : 0;
    const bool dead_built_up = BuiltUp(std::max(dead_start, dead_first), t_end.dead, 10'000);
    const std::vector<Param> vparams{{"table", t_end.table}, {"part", t_end.part}};
    report.Add({"dead_start", static_cast<double>(dead_start), "rows", vparams});
    report.Add({"dead_first_interval", static_cast<double>(dead_first), "rows", vparams});
    report.Add({"dead_peak", static_cast<double>(dead_peak), "rows", vparams});
    report.Add({"dead_end", static_cast<double>(t_end.dead), "rows", vparams});
    report.Add({"dead_built_up", dead_built_up ? 1.0 : 0.0, "1=yes", vparams});
    std::string line = "soak verdict: " + t_end.table + " [" + t_end.part + "]: n_dead_tup " +
                       std::to_string(dead_start) + " at the start, " + std::to_string(dead_first) +
                       " after the first interval, " + std::to_string(t_end.dead) + " at the end (peak " +
                       std::to_string(dead_peak) + "): " + (dead_built_up ? "BUILT UP" : "no build-up");
    if (t_end.ready_bytes >= 0 && t_first && t_first->ready_bytes >= 0) {
      const bool ready_built_up = BuiltUp(t_first->ready_bytes, t_end.ready_bytes, 1 << 20);
      const double ratio = t_first->ready_bytes > 0
                               ? static_cast<double>(t_end.ready_bytes) / static_cast<double>(t_first->ready_bytes)
                               : NAN;
      report.Add({"ready_first_interval", Mb(t_first->ready_bytes), "MB", vparams});
      report.Add({"ready_end", Mb(t_end.ready_bytes), "MB", vparams});
      report.Add({"ready_end_vs_first", ratio, "x", vparams});
      report.Add({"ready_grew", ready_built_up ? 1.0 : 0.0, "1=yes", vparams});
      line += "; ready index " + FormatValue(Mb(t_first->ready_bytes)) + " MB after the first interval, " +
              FormatValue(Mb(t_end.ready_bytes)) + " MB at the end (" + FormatValue(ratio) + "x): " +
              (ready_built_up ? "GREW" : "no growth");
    }
    spdlog::info("{}", line);
    verdicts.push_back(std::move(line));
  }
  {
    int64_t peak = 0;
    for (const auto& s : samples) peak = std::max(peak, s.claim_pages);
    const bool grew = BuiltUp(std::max<int64_t>(first.claim_pages, 1), samples.back().claim_pages, 100);
    report.BeginSection("soak", "verdict: the claim's read at the end against the first interval");
    report.Add({"claim_read_pages_first_interval", static_cast<double>(first.claim_pages), "pages", {}});
    report.Add({"claim_read_pages_peak", static_cast<double>(peak), "pages", {}});
    report.Add({"claim_read_pages_end", static_cast<double>(samples.back().claim_pages), "pages", {}});
    report.Add({"claim_read_grew", grew ? 1.0 : 0.0, "1=yes", {}});
    std::string line = "soak verdict: the claim's read of 100 jobs touched " + std::to_string(first.claim_pages) +
                       " pages after the first interval, " + std::to_string(samples.back().claim_pages) +
                       " at the end (peak " + std::to_string(peak) + "): " + (grew ? "GREW" : "no growth");
    spdlog::info("{}", line);
    verdicts.push_back(std::move(line));
  }
  report.EndSection();  // The verdict lines go under their table.
  for (const auto& line : verdicts) report.Note(line);
  if (Interrupt::StopRequested()) return Fail(ErrorCode::kUnavailable, "interrupted");
  return {};
}

}  // namespace chime::bench
