#include "bench/store_bench.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "bench/bare_driver.h"
#include "bench/chime_driver.h"
#include "bench/claim_harness.h"
#include "bench/interrupt.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"

namespace chime::bench {
namespace {

Result<void> Check(Result<void> r, const char* what) {
  if (!r) return Fail(r.error().code, std::string(what) + ": " + r.error().message);
  return {};
}

double SecondsBetween(std::chrono::steady_clock::time_point a,
                      std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

enum class Impl { kChime, kBare };

// One grid cell for one implementation, on a freshly loaded table.
Result<CellOutcome> RunCell(Impl impl, const std::string& conninfo, StoreFixture& fixture,
                            int64_t jobs, int batch, int claimers) {
  const auto t0 = std::chrono::steady_clock::now();
  if (auto ok = Check(fixture.Reset(), "reset"); !ok) return std::unexpected(ok.error());
  const auto t1 = std::chrono::steady_clock::now();
  if (auto ok = Check(fixture.AddPending(jobs), "load"); !ok) return std::unexpected(ok.error());
  const auto t2 = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Claimer>> threads;
  for (int i = 0; i < claimers; ++i) {
    std::string worker = "bench-" + std::to_string(i);
    threads.push_back(impl == Impl::kChime ? MakeChimeClaimer(conninfo, batch, worker)
                                           : MakeBareClaimer(conninfo, batch, worker));
  }
  auto outcome = RunClaimers(std::move(threads));
  if (!outcome) return outcome;
  const auto t3 = std::chrono::steady_clock::now();
  spdlog::debug("cell: reset {:.3f}s, load {:.3f}s, connect+run {:.3f}s (timed run {:.3f}s)",
                SecondsBetween(t0, t1), SecondsBetween(t1, t2), SecondsBetween(t2, t3),
                outcome->seconds);
  auto left = fixture.CountPending();
  if (!left) return std::unexpected(left.error());
  if (outcome->completed != jobs || *left != 0) {
    return Fail(ErrorCode::kInternal,
                "claimers completed " + std::to_string(outcome->completed) + " of " +
                    std::to_string(jobs) + " jobs; " + std::to_string(*left) + " still pending");
  }
  return outcome;
}

}  // namespace

Result<void> StoreBenchConfig::Validate() const {
  static const std::vector<std::string> kParts{"enqueue", "claim", "latency", "retention"};
  for (const auto& p : parts) {
    if (std::find(kParts.begin(), kParts.end(), p) == kParts.end()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--parts: unknown part '" + p + "' (enqueue, claim, latency, retention)");
    }
  }
  auto all_in = [](const std::vector<int>& v, int lo, int hi) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [&](int x) { return x >= lo && x <= hi; });
  };
  if (!all_in(enqueue_batches, 1, 100'000)) {
    return Fail(ErrorCode::kInvalidArgument, "--enqueue-batches: each must be 1-100000");
  }
  if (!all_in(enqueue_sessions, 1, 64)) {
    return Fail(ErrorCode::kInvalidArgument, "--enqueue-sessions: each must be 1-64");
  }
  if (!all_in(claim_batches, 1, 1000)) {
    return Fail(ErrorCode::kInvalidArgument, "--claim-batches: each must be 1-1000 (JobsClaim's limit)");
  }
  if (!all_in(claimers, 1, 64)) {
    return Fail(ErrorCode::kInvalidArgument, "--claimers: each must be 1-64");
  }
  return {};
}

std::string StoreBench::description() const {
  return "Job store throughput and latency: bulk enqueue, claim + complete (Chime vs bare SQL), "
         "claim latency with a large finished history, retention on a large run ledger";
}

void StoreBench::AddOptions(CLI::App& command) {
  command.add_option("--parts", config_.parts, "Parts to run: enqueue, claim, latency, retention")
      ->delimiter(',')
      ->capture_default_str();
  command.add_option("--enqueue-batches", config_.enqueue_batches, "Bulk enqueue batch sizes")
      ->delimiter(',')
      ->capture_default_str();
  command.add_option("--enqueue-sessions", config_.enqueue_sessions,
                     "Bulk enqueue: concurrent sessions sharing the jobs")
      ->delimiter(',')
      ->capture_default_str();
  command.add_option("--claim-batches", config_.claim_batches, "Claim grid: batch sizes")
      ->delimiter(',')
      ->capture_default_str();
  command.add_option("--claimers", config_.claimers, "Claim grid: concurrent claimers")
      ->delimiter(',')
      ->capture_default_str();
  command.add_option("--bulk-jobs", config_.bulk_jobs,
                     "Jobs per bulk enqueue run (default 100000; --quick 10000)");
  command.add_option("--cell-seconds", config_.cell_seconds,
                     "Target run time of one claim grid cell (default 2; --quick 0.2)");
  command.add_option("--cell-jobs", config_.cell_jobs,
                     "Fixed jobs per claim grid cell (default: sized by --cell-seconds)");
  command.add_option("--finished-rows", config_.finished_rows,
                     "Finished jobs loaded for the second latency run (default 1000000; --quick 50000)");
  command.add_option("--latency-samples", config_.latency_samples,
                     "Timed claims per latency run (default 2000; --quick 100)");
  command.add_option("--retention-runs", config_.retention_runs,
                     "Runs in the ledger for the retention part, over 10 past days "
                     "(default 10000000; --quick 100000)");
}

StoreBench::Sizes StoreBench::Resolve(bool quick) const {
  Sizes s = quick ? Sizes{10'000, 0.2, 100, 4'000, 10'000, 50'000, 100, 10, 100'000, 10'000}
                  : Sizes{100'000, 2.0, 500, 100'000, 10'000, 1'000'000, 2'000, 100, 10'000'000, 200'000};
  if (config_.bulk_jobs > 0) s.bulk_jobs = config_.bulk_jobs;
  if (config_.cell_seconds > 0) s.cell_seconds = config_.cell_seconds;
  if (config_.finished_rows > 0) s.finished_rows = config_.finished_rows;
  if (config_.latency_samples > 0) s.latency_samples = config_.latency_samples;
  if (config_.retention_runs > 0) s.retention_runs = config_.retention_runs;
  s.retention_sample = std::min(s.retention_sample, s.retention_runs / 10);
  s.pending = std::max<int64_t>(s.pending, s.latency_samples + s.latency_warmup);
  return s;
}

bool StoreBench::Wants(const std::string& part) const {
  return std::find(config_.parts.begin(), config_.parts.end(), part) != config_.parts.end();
}

Result<void> StoreBench::Run(const BenchEnv& env) {
  const Sizes sizes = Resolve(env.quick);
  auto fixture = StoreFixture::Open(env.conninfo);
  if (!fixture) return std::unexpected(fixture.error());
  if (Wants("enqueue")) {
    if (auto ok = RunEnqueue(env, sizes, *fixture); !ok) return ok;
  }
  if (Wants("claim")) {
    if (auto ok = RunClaimGrid(env, sizes, *fixture); !ok) return ok;
  }
  if (Wants("latency")) {
    if (auto ok = RunLatency(env, sizes, *fixture); !ok) return ok;
  }
  if (Wants("retention")) {
    if (auto ok = RunRetention(env, sizes, *fixture); !ok) return ok;
  }
  return Check(fixture->Reset(), "reset");
}

Result<void> StoreBench::RunEnqueue(const BenchEnv& env, const Sizes& sizes,
                                    StoreFixture& fixture) {
  Report& report = *env.report;
  report.BeginSection("store", "bulk enqueue through JobsInsertMany");
  for (int sessions : config_.enqueue_sessions) {
    double best_rate = 0;
    int best_batch = 0;
    for (int batch : config_.enqueue_batches) {
      if (auto ok = Check(fixture.Reset(), "reset"); !ok) return ok;
      spdlog::info("bulk enqueue: {} jobs in batches of {} over {} sessions", sizes.bulk_jobs, batch,
                   sessions);
      auto seconds = TimeBulkEnqueue(env.conninfo, sizes.bulk_jobs, batch, sessions);
      if (!seconds) return std::unexpected(seconds.error());
      const double rate = static_cast<double>(sizes.bulk_jobs) / *seconds;
      report.Add({"bulk_enqueue_rate", rate, "jobs/s",
                  {{"batch", batch}, {"sessions", sessions}, {"jobs", sizes.bulk_jobs}}});
      if (rate > best_rate) {
        best_rate = rate;
        best_batch = batch;
      }
    }
    report.Add({"bulk_enqueue_rate_best", best_rate, "jobs/s", {{"batch", best_batch}, {"sessions", sessions}}});
  }
  report.EndSection();
  return {};
}

Result<void> StoreBench::RunClaimGrid(const BenchEnv& env, const Sizes& sizes,
                                      StoreFixture& fixture) {
  Report& report = *env.report;
  report.BeginSection("store", "claim + complete until empty, Chime (JobStore) vs bare SQL (libpq)");
  // Each cell is sized from the rate of the cell before it, so that it runs
  // about cell_seconds: the same row's previous cell, else the previous row's
  // first cell (bigger batches go faster), else a guess.
  double prev_row_rate = 0;
  for (int batch : config_.claim_batches) {
    double row_rate = 0;
    double predicted = prev_row_rate > 0 ? prev_row_rate * 2 : 200;
    for (int claimers : config_.claimers) {
      if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
      const auto jobs =
          config_.cell_jobs > 0
              ? config_.cell_jobs
              : std::clamp<int64_t>(static_cast<int64_t>(predicted * sizes.cell_seconds),
                                    sizes.min_cell_jobs, sizes.max_cell_jobs);
      spdlog::info("claim + complete: batch {}, {} claimers, {} jobs", batch, claimers, jobs);
      auto chime = RunCell(Impl::kChime, env.conninfo, fixture, jobs, batch, claimers);
      if (!chime) return std::unexpected(chime.error());
      auto bare = RunCell(Impl::kBare, env.conninfo, fixture, jobs, batch, claimers);
      if (!bare) return std::unexpected(bare.error());
      const std::vector<Param> params{{"batch", batch}, {"claimers", claimers}, {"jobs", jobs}};
      report.Add({"claim_complete_rate", chime->rate(), "jobs/s", params});
      report.Add({"claim_complete_rate_bare", bare->rate(), "jobs/s", params});
      report.Add({"claim_complete_ratio", chime->rate() / bare->rate(), "chime/bare", params});
      predicted = chime->rate();
      if (row_rate == 0) row_rate = chime->rate();
    }
    prev_row_rate = row_rate;
  }
  report.EndSection();
  return {};
}

Result<void> StoreBench::RunLatency(const BenchEnv& env, const Sizes& sizes,
                                    StoreFixture& fixture) {
  Report& report = *env.report;
  report.BeginSection("store", "claim latency, one claimer, batch 1 (JobsClaim only)");
  double p50[2] = {0, 0}, p99[2] = {0, 0};
  for (int run = 0; run < 2; ++run) {
    const int64_t finished = run == 0 ? 0 : sizes.finished_rows;
    if (auto ok = Check(fixture.Reset(), "reset"); !ok) return ok;
    if (finished > 0) {
      spdlog::info("latency: loading {} finished jobs", finished);
      if (auto ok = Check(fixture.AddFinished(finished), "load finished"); !ok) return ok;
    }
    if (auto ok = Check(fixture.AddPending(sizes.pending), "load pending"); !ok) return ok;
    if (auto ok = Check(fixture.VacuumAnalyze(), "vacuum"); !ok) return ok;
    spdlog::info("latency: {} claims with {} pending and {} finished jobs", sizes.latency_samples,
                 sizes.pending, finished);
    auto ms = TimeClaims(env.conninfo, sizes.latency_samples, sizes.latency_warmup);
    if (!ms) return std::unexpected(ms.error());
    p50[run] = NearestRankPercentile(*ms, 0.50);
    p99[run] = NearestRankPercentile(*ms, 0.99);
    const std::vector<Param> params{
        {"pending", sizes.pending}, {"finished", finished}, {"samples", sizes.latency_samples}};
    report.Add({"claim_latency_p50", p50[run], "ms", params});
    report.Add({"claim_latency_p99", p99[run], "ms", params});
  }
  const std::vector<Param> ratio{{"finished", sizes.finished_rows}};
  report.Add({"claim_latency_p50_ratio", p50[1] / p50[0], "x", ratio});
  report.Add({"claim_latency_p99_ratio", p99[1] / p99[0], "x", ratio});
  report.EndSection();
  return {};
}

Result<void> StoreBench::RunRetention(const BenchEnv& env, const Sizes& sizes,
                                      StoreFixture& fixture) {
  Report& report = *env.report;
  report.BeginSection("store",
                      "retention on the run ledger (partitioned by day, migration 0025), each run holding "
                      "its finished job (migration 0029)");
  constexpr int kDays = 10;
  constexpr int kKeptDays = 5;
  if (auto ok = Check(fixture.Reset(), "reset"); !ok) return ok;
  spdlog::info("retention: loading {} finished jobs (held runs) over the {} days before today",
               sizes.retention_runs, kDays);
  const auto t0 = std::chrono::steady_clock::now();
  if (auto ok = Check(fixture.AddPastRuns(sizes.retention_runs, kDays), "load runs"); !ok) return ok;
  if (auto ok = Check(fixture.VacuumAnalyze(), "vacuum"); !ok) return ok;
  const auto t1 = std::chrono::steady_clock::now();
  auto before = fixture.CountRuns();
  if (!before) return std::unexpected(before.error());
  auto jobs_before = fixture.CountFinishedJobs();
  if (!jobs_before) return std::unexpected(jobs_before.error());
  spdlog::info("retention: {} runs loaded in {:.1f} s; cleaning up past {} days", *before,
               SecondsBetween(t0, t1), kKeptDays);

  // What the maintainer and cleanup_old_jobs run: JobsCleanup, until done.
  db::Connection store_conn(db::ConnectionConfig{.url = env.conninfo});
  if (auto ok = store_conn.Connect(); !ok) return ok;
  db::JobStore store(store_conn);
  int64_t dropped = 0;
  int64_t jobs_dropped = 0;
  const auto t2 = std::chrono::steady_clock::now();
  for (bool more = true; more;) {
    auto cleaned = store.JobsCleanup(db::CleanupParams{
        .retention = std::chrono::hours(24 * kKeptDays), .batch_size = 100'000});
    if (!cleaned) return std::unexpected(cleaned.error());
    dropped += cleaned->runs_deleted;
    jobs_dropped += cleaned->jobs_deleted;
    more = cleaned->more;
  }
  const double drop_s = SecondsBetween(t2, std::chrono::steady_clock::now());
  auto after = fixture.CountRuns();
  if (!after) return std::unexpected(after.error());
  if (*before - *after != dropped) {
    return Fail(ErrorCode::kInternal, "delete_old_runs reported " + std::to_string(dropped) +
                                          " runs but the ledger lost " + std::to_string(*before - *after));
  }
  // Every run here holds its job: the jobs go with their days, and the
  // finished-job counters follow them.
  auto jobs_after = fixture.CountFinishedJobs();
  if (!jobs_after) return std::unexpected(jobs_after.error());
  if (jobs_dropped != dropped || *jobs_before - *jobs_after != jobs_dropped) {
    return Fail(ErrorCode::kInternal,
                "retention dropped " + std::to_string(dropped) + " runs and reported " +
                    std::to_string(jobs_dropped) + " jobs; the finished-job counters lost " +
                    std::to_string(*jobs_before - *jobs_after));
  }

  // The same work done as before 0025: the oldest rows deleted in batches
  // through the parent (the rollup's delete trigger included), a sample of it.
  PqConnection& conn = fixture.connection();
  int64_t deleted = 0;
  const auto t3 = std::chrono::steady_clock::now();
  while (deleted < sizes.retention_sample) {
    auto r = conn.Exec(R"sql(
WITH doomed AS (SELECT id, finished_at FROM chime.runs ORDER BY finished_at LIMIT 10000)
DELETE FROM chime.runs r USING doomed WHERE r.id = doomed.id AND r.finished_at = doomed.finished_at)sql");
    if (!r) return std::unexpected(r.error());
    const int64_t n = r->affected_rows();
    if (n == 0) break;
    deleted += n;
  }
  const double delete_s = SecondsBetween(t3, std::chrono::steady_clock::now());
  const double delete_rate = deleted / std::max(delete_s, 1e-9);
  const std::vector<Param> params{{"runs", *before}, {"days", kDays}, {"kept_days", kKeptDays}};
  report.Add({"retention_drop_seconds", drop_s, "s", params});
  report.Add({"retention_drop_runs", static_cast<double>(dropped), "runs", params});
  report.Add({"retention_drop_jobs", static_cast<double>(jobs_dropped), "jobs", params});
  report.Add({"retention_row_delete_rate", delete_rate, "runs/s", {{"sample", deleted}}});
  report.Add({"retention_row_delete_estimate", dropped / delete_rate, "s", params});
  report.Add({"retention_speedup", dropped / delete_rate / std::max(drop_s, 1e-9), "x", params});
  report.EndSection();
  return {};
}

}  // namespace chime::bench
