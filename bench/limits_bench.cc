#include "bench/limits_bench.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <thread>

#include "bench/chime_driver.h"
#include "bench/claim_harness.h"
#include "bench/cluster.h"
#include "bench/interrupt.h"
#include "bench/limit_pacer.h"
#include "bench/store_fixture.h"
#include "common/db/connection.h"
#include "common/db/limit_store.h"

namespace chime::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
using schedule::LimitRate;
using schedule::LimitSpec;

Result<void> Check(Result<void> r, const char* what) {
  if (!r) return Fail(r.error().code, std::string(what) + ": " + r.error().message);
  return {};
}

Result<void> Exec(PqConnection& pq, const std::string& sql) {
  auto r = pq.Exec(sql);
  if (!r) return std::unexpected(r.error());
  return {};
}

// A throughput configuration: a limit on kind "bench", or none.
struct LimitCase {
  std::string label;
  std::optional<LimitSpec> spec;
};

// Empties the job tables and every limit (their partitions and starts go
// with them), then loads `jobs` ready jobs of kind "bench" whose payload
// field userId takes `users` values round-robin, and ANALYZEs.
Result<void> LoadJobs(StoreFixture& fixture, int64_t jobs, int users) {
  if (auto ok = Check(fixture.Reset(), "reset"); !ok) return ok;
  PqConnection& pq = fixture.connection();
  if (auto ok = Exec(pq, "DELETE FROM chime.limits"); !ok) return ok;
  auto r = pq.ExecParams(R"sql(
INSERT INTO chime.jobs (kind, queue, payload)
SELECT 'bench', 'default', jsonb_build_object('n', g, 'userId', 'user-' || (g % $2::integer))
FROM generate_series(1, $1::bigint) g)sql",
                         {std::to_string(jobs), std::to_string(users)});
  if (!r) return std::unexpected(r.error());
  return Exec(pq, "ANALYZE chime.jobs");
}

Result<void> SetLimit(const std::string& conninfo, const LimitSpec& spec) {
  db::Connection conn(db::ConnectionConfig{.url = conninfo});
  if (auto ok = conn.Connect(); !ok) return ok;
  db::LimitStore limits(conn);
  auto row = limits.LimitSet(spec);
  if (!row) return std::unexpected(row.error());
  return {};
}

// One throughput cell: a fresh backlog under `limit`, drained by the store
// bench's claimers.
Result<CellOutcome> RunCell(const std::string& conninfo, StoreFixture& fixture, const LimitCase& limit,
                            int64_t jobs, int users, int batch, int claimers) {
  if (auto ok = LoadJobs(fixture, jobs, users); !ok) return std::unexpected(ok.error());
  if (limit.spec) {
    if (auto ok = SetLimit(conninfo, *limit.spec); !ok) return std::unexpected(ok.error());
  }
  std::vector<std::unique_ptr<Claimer>> threads;
  for (int i = 0; i < claimers; ++i) {
    threads.push_back(MakeChimeClaimer(conninfo, batch, "bench-" + std::to_string(i)));
  }
  auto outcome = RunClaimers(std::move(threads), jobs);
  if (!outcome) return outcome;
  auto left = fixture.CountPending();
  if (!left) return std::unexpected(left.error());
  if (outcome->completed != jobs || *left != 0) {
    return Fail(ErrorCode::kInternal, limit.label + ": claimers completed " +
                                          std::to_string(outcome->completed) + " of " +
                                          std::to_string(jobs) + " jobs; " + std::to_string(*left) +
                                          " still pending");
  }
  return outcome;
}

double Median(std::vector<double> v) { return NearestRankPercentile(std::move(v), 0.5); }

}  // namespace

Result<void> LimitsBenchConfig::Validate() const {
  static const std::vector<std::string> kParts{"overhead", "partitions", "rate", "slot"};
  for (const auto& p : parts) {
    if (std::find(kParts.begin(), kParts.end(), p) == kParts.end()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--parts: unknown part '" + p + "' (overhead, partitions, rate, slot)");
    }
  }
  if (claim_batches.empty() ||
      std::any_of(claim_batches.begin(), claim_batches.end(), [](int b) { return b < 1 || b > 1000; })) {
    return Fail(ErrorCode::kInvalidArgument, "--claim-batches: each must be 1-1000 (JobsClaim's limit)");
  }
  if (claimers < 1 || claimers > 64) return Fail(ErrorCode::kInvalidArgument, "--claimers: 1-64");
  if (jobs < 0 || jobs > 10'000'000) return Fail(ErrorCode::kInvalidArgument, "--jobs: 1-10000000");
  if (rounds < 1 || rounds > 50) return Fail(ErrorCode::kInvalidArgument, "--rounds: 1-50");
  if (partitions < 1 || partitions > 1'000'000) {
    return Fail(ErrorCode::kInvalidArgument, "--partitions: 1-1000000");
  }
  if (rate < 1 || rate > 1'000'000) return Fail(ErrorCode::kInvalidArgument, "--rate: 1-1000000");
  if (rate_seconds < 0 || rate_seconds > 3600) {
    return Fail(ErrorCode::kInvalidArgument, "--rate-seconds: 1-3600");
  }
  if (rate_claimers < 1 || rate_claimers > 64) {
    return Fail(ErrorCode::kInvalidArgument, "--rate-claimers: 1-64");
  }
  if (rate_batch < 1 || rate_batch > 1000) return Fail(ErrorCode::kInvalidArgument, "--rate-batch: 1-1000");
  if (slot_jobs < 0 || slot_jobs > 100'000) return Fail(ErrorCode::kInvalidArgument, "--slot-jobs: 2-100000");
  if (slot_sleep_ms < 0 || slot_sleep_ms > 10'000) {
    return Fail(ErrorCode::kInvalidArgument, "--slot-sleep-ms: 0-10000");
  }
  if (slot_workers < 1 || slot_workers > 16) return Fail(ErrorCode::kInvalidArgument, "--slot-workers: 1-16");
  if (slot_slots < 1 || slot_slots > 1000) return Fail(ErrorCode::kInvalidArgument, "--slot-slots: 1-1000");
  return {};
}

std::string LimitsBench::description() const {
  return "Cluster-wide limits: claim overhead of a limit that never binds, 1,000 partitions, how "
         "closely a rate is held, delay from a freed slot to the next start";
}

void LimitsBench::AddOptions(CLI::App& command) {
  command.add_option("--parts", config_.parts, "Parts to run: overhead, partitions, rate, slot")
      ->delimiter(',')
      ->capture_default_str();
  command.add_option("--claim-batches", config_.claim_batches, "Throughput: claim batch sizes")
      ->delimiter(',')
      ->capture_default_str();
  command.add_option("--claimers", config_.claimers, "Throughput: concurrent claimers")
      ->capture_default_str();
  command.add_option("--jobs", config_.jobs, "Throughput: jobs per cell (default 40000; --quick 4000)");
  command.add_option("--rounds", config_.rounds,
                     "Throughput: cells per configuration, interleaved; the median is shown")
      ->capture_default_str();
  command.add_option("--partitions", config_.partitions,
                     "Partitions part: distinct userId values (concurrency 1 each)")
      ->capture_default_str();
  command.add_option("--rate", config_.rate, "Rate part: starts allowed per second")->capture_default_str();
  command.add_option("--rate-seconds", config_.rate_seconds,
                     "Rate part: how long the rate is measured (default 60; --quick 5)");
  command.add_option("--rate-claimers", config_.rate_claimers, "Rate part: concurrent claimers")
      ->capture_default_str();
  command.add_option("--rate-batch", config_.rate_batch, "Rate part: jobs a claim asks for")
      ->capture_default_str();
  command.add_option("--slot-jobs", config_.slot_jobs,
                     "Slot part: jobs run one at a time (default 300; --quick 40)");
  command.add_option("--slot-sleep-ms", config_.slot_sleep_ms, "Slot part: each sleep job's length")
      ->capture_default_str();
  command.add_option("--slot-workers", config_.slot_workers, "Slot part: chime-worker processes")
      ->capture_default_str();
  command.add_option("--slot-slots", config_.slot_slots, "Slot part: slots per worker")
      ->capture_default_str();
}

bool LimitsBench::Wants(const std::string& part) const {
  return std::find(config_.parts.begin(), config_.parts.end(), part) != config_.parts.end();
}

Result<void> LimitsBench::Run(const BenchEnv& env) {
  if (Wants("overhead") || Wants("partitions")) {
    if (auto ok = RunThroughput(env); !ok) return ok;
  }
  if (Wants("rate")) {
    if (auto ok = RunRate(env); !ok) return ok;
  }
  if (Wants("slot")) {
    if (auto ok = RunSlot(env); !ok) return ok;
  }
  return {};
}

Result<void> LimitsBench::RunThroughput(const BenchEnv& env) {
  const int64_t jobs = config_.jobs > 0 ? config_.jobs : (env.quick ? 4'000 : 40'000);
  const int rounds = env.quick ? 1 : config_.rounds;
  auto fixture = StoreFixture::Open(env.conninfo);
  if (!fixture) return std::unexpected(fixture.error());

  std::vector<LimitCase> cases{{"none", std::nullopt}};
  if (Wants("overhead")) {
    cases.push_back({"concurrency 1000000 on the kind",
                     LimitSpec{.name = "never-binds", .kind = "bench", .concurrency = 1'000'000}});
    cases.push_back({"rate 1000000/1s on the kind",
                     LimitSpec{.name = "never-binds", .kind = "bench", .rate = LimitRate{1'000'000, seconds(1)}}});
  }
  if (Wants("partitions")) {
    cases.push_back({std::to_string(config_.partitions) + " partitions (userId) x concurrency 1",
                     LimitSpec{.name = "per-user", .kind = "bench", .partition_by = "userId", .concurrency = 1}});
  }
  // rates[batch][case] over the rounds; the cases interleave within a round
  // so that a busy spell on a shared machine spreads over all of them.
  std::map<int, std::vector<std::vector<double>>> rates;
  for (int round = 1; round <= rounds; ++round) {
    for (int batch : config_.claim_batches) {
      auto& row = rates[batch];
      row.resize(cases.size());
      for (size_t c = 0; c < cases.size(); ++c) {
        if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
        spdlog::info("limits: round {}/{}, batch {}, {} claimers, {} jobs, limit: {}", round, rounds, batch,
                     config_.claimers, jobs, cases[c].label);
        auto cell = RunCell(env.conninfo, *fixture, cases[c], jobs, config_.partitions, batch, config_.claimers);
        if (!cell) return std::unexpected(cell.error());
        spdlog::info("limits:   {:.0f} jobs/s", cell->rate());
        row[c].push_back(cell->rate());
      }
    }
  }

  Report& report = *env.report;
  report.BeginSection("limits", "claim + complete until empty (JobStore), no limit vs limits; median of " +
                                    std::to_string(rounds) + " interleaved rounds");
  for (int batch : config_.claim_batches) {
    const double base = Median(rates[batch][0]);
    for (size_t c = 0; c < cases.size(); ++c) {
      const double rate = Median(rates[batch][c]);
      const std::vector<Param> params{{"batch", batch},
                                      {"claimers", config_.claimers},
                                      {"jobs", jobs},
                                      {"limit", cases[c].label}};
      report.Add({"claim_complete_rate", rate, "jobs/s", params});
      report.Add({"min_round", *std::min_element(rates[batch][c].begin(), rates[batch][c].end()), "jobs/s",
                  params});
      report.Add({"max_round", *std::max_element(rates[batch][c].begin(), rates[batch][c].end()), "jobs/s",
                  params});
      if (c > 0) report.Add({"vs_none", rate / base, "x", params});
    }
  }
  report.EndSection();
  return Check(fixture->Reset(), "reset");
}

Result<void> LimitsBench::RunRate(const BenchEnv& env) {
  const double run_seconds = config_.rate_seconds > 0 ? config_.rate_seconds : (env.quick ? 5 : 60);
  auto fixture = StoreFixture::Open(env.conninfo);
  if (!fixture) return std::unexpected(fixture.error());
  // Enough that the backlog outlasts the run, with room to spare.
  const auto backlog = static_cast<int64_t>(config_.rate * (run_seconds + 10)) +
                       int64_t{2} * config_.rate_claimers * config_.rate_batch;
  if (auto ok = LoadJobs(*fixture, backlog, 1); !ok) return ok;
  const LimitSpec spec{.name = "rate", .kind = "bench", .rate = LimitRate{config_.rate, seconds(1)}};
  if (auto ok = SetLimit(env.conninfo, spec); !ok) return ok;

  // The claimers run a little longer than the measured span, which starts
  // at the first start, so that its end is not cut short.
  const auto run_ms = milliseconds(static_cast<int64_t>(run_seconds * 1000));
  spdlog::info("limits: rate {}/s for {:.0f} s, {} claimers, batch {}, backlog {}", config_.rate, run_seconds,
               config_.rate_claimers, config_.rate_batch, backlog);
  auto paced = RunPacedClaimers(env.conninfo, config_.rate_claimers, config_.rate_batch, run_ms + milliseconds(1500));
  if (!paced) return std::unexpected(paced.error());

  auto r = fixture->connection().Exec(
      "SELECT (extract(epoch FROM attempted_at) * 1000000)::bigint FROM chime.jobs_all "
      "WHERE attempted_at IS NOT NULL ORDER BY 1");
  if (!r) return std::unexpected(r.error());
  std::vector<int64_t> starts;
  for (int i = 0; i < r->rows(); ++i) starts.push_back(r->int64(i, 0));
  if (starts.empty()) return Fail(ErrorCode::kInternal, "no job started under the rate limit");
  if (static_cast<int64_t>(starts.size()) != paced->claimed) {
    return Fail(ErrorCode::kInternal, std::to_string(starts.size()) + " jobs started but the claimers claimed " +
                                          std::to_string(paced->claimed));
  }
  const int64_t span_us = run_ms.count() * 1000;
  const auto in_span = static_cast<int64_t>(
      std::lower_bound(starts.begin(), starts.end(), starts.front() + span_us) - starts.begin());
  const double achieved = static_cast<double>(in_span) / run_seconds;

  Report& report = *env.report;
  report.BeginSection("limits", "rate limit held: starts (chime.jobs.attempted_at) from the first start on");
  const std::vector<Param> params{{"limit", std::to_string(config_.rate) + "/1s"},
                                  {"seconds", run_seconds},
                                  {"claimers", config_.rate_claimers},
                                  {"batch", config_.rate_batch}};
  report.Add({"starts", static_cast<double>(in_span), "jobs", params});
  report.Add({"achieved_rate", achieved, "jobs/s", params});
  report.Add({"max_in_1s_window", static_cast<double>(MostInWindow(starts, 1'000'000)), "jobs", params});
  report.Add({"error", (achieved - config_.rate) / config_.rate * 100.0, "%", params});
  // How the claimers waited: short claims each slept until the next slot;
  // a busy poll would show claims far above starts / batch.
  report.Add({"claims", static_cast<double>(paced->claims), "calls", params});
  report.Add({"short_claims", static_cast<double>(paced->short_claims), "calls", params});
  report.EndSection();
  return Check(fixture->Reset(), "reset");
}

Result<void> LimitsBench::RunSlot(const BenchEnv& env) {
  EnsureBinDir();
  const int jobs = config_.slot_jobs > 0 ? config_.slot_jobs : (env.quick ? 40 : 300);
  auto pq = PqConnection::Open(env.conninfo);
  if (!pq) return std::unexpected(pq.error());
  if (auto ok = Exec(*pq, "TRUNCATE chime.jobs, chime.runs, chime.job_counts"); !ok) return ok;
  if (auto ok = Exec(*pq, "DELETE FROM chime.limits"); !ok) return ok;
  const LimitSpec spec{.name = "one-at-a-time", .kind = "sleep", .partition_by = "userId", .concurrency = 1};
  if (auto ok = SetLimit(env.conninfo, spec); !ok) return ok;

  Cluster cluster(env.conninfo, config_.slot_slots);
  if (auto ok = cluster.StartScheduler(); !ok) return ok;
  for (int i = 0; i < config_.slot_workers; ++i) {
    if (auto ok = cluster.StartWorker(); !ok) return ok;
  }
  if (auto ok = cluster.WaitForIdleWorkers(); !ok) return ok;
  spdlog::info("limits: {} sleep jobs of {} ms in one concurrency-1 partition, {} workers x {} slots", jobs,
               config_.slot_sleep_ms, config_.slot_workers, config_.slot_slots);
  if (auto ok = Exec(*pq, "INSERT INTO chime.jobs (kind, payload) SELECT 'sleep', jsonb_build_object('ms', " +
                              std::to_string(config_.slot_sleep_ms) +
                              ", 'userId', 'user-1', 'n', g) FROM generate_series(1, " + std::to_string(jobs) +
                              ") g");
      !ok) {
    return ok;
  }
  const auto deadline = Clock::now() + milliseconds(int64_t{jobs} * (config_.slot_sleep_ms + 500)) + seconds(30);
  int64_t done = 0;
  while (!Interrupt::StopRequested() && Clock::now() < deadline) {
    auto n = Count(*pq, "SELECT count(*) FROM chime.runs WHERE kind = 'sleep' AND final");
    if (!n) return std::unexpected(n.error());
    done = *n;
    if (done >= jobs) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  cluster.Stop();
  if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
  if (done < jobs) {
    return Fail(ErrorCode::kInternal,
                std::to_string(done) + " of " + std::to_string(jobs) + " sleep jobs finished before the deadline");
  }
  auto r = pq->Exec(
      "SELECT (extract(epoch FROM started_at) * 1000000)::bigint, (extract(epoch FROM finished_at) * 1000000)::bigint, "
      "worker_id, outcome FROM chime.runs WHERE kind = 'sleep' ORDER BY started_at, id");
  if (!r) return std::unexpected(r.error());
  std::vector<double> all, same, other, run_ms;
  int64_t overlaps = 0, not_succeeded = 0;
  for (int i = 0; i < r->rows(); ++i) {
    run_ms.push_back(static_cast<double>(r->int64(i, 1) - r->int64(i, 0)) / 1000.0);
    if (std::string_view(r->text(i, 3)) != "succeeded") ++not_succeeded;
    if (i == 0) continue;
    const double gap = static_cast<double>(r->int64(i, 0) - r->int64(i - 1, 1)) / 1000.0;
    if (gap < 0) ++overlaps;  // Two attempts of the partition ran at once.
    all.push_back(gap);
    (std::string_view(r->text(i, 2)) == r->text(i - 1, 2) ? same : other).push_back(gap);
  }

  Report& report = *env.report;
  report.BeginSection("limits",
                      "slot freed (run finished_at) to the next start (started_at), real chime-worker processes, "
                      "one partition of concurrency 1 (ms)");
  auto add = [&](const std::string& next_on, const std::vector<double>& gaps) {
    const std::vector<Param> params{{"next_start_on", next_on},
                                    {"workers", config_.slot_workers},
                                    {"slots", config_.slot_slots},
                                    {"sleep_ms", config_.slot_sleep_ms},
                                    {"gaps", static_cast<int64_t>(gaps.size())}};
    report.Add({"gap_p50", NearestRankPercentile(gaps, 0.50), "ms", params});
    report.Add({"gap_p99", NearestRankPercentile(gaps, 0.99), "ms", params});
    report.Add({"gap_max", gaps.empty() ? NAN : *std::max_element(gaps.begin(), gaps.end()), "ms", params});
  };
  add("any worker", all);
  // The completing worker wakes its own claimer; another worker hears of
  // the freed slot through the completion's NOTIFY and the scheduler.
  add("same worker", same);
  add("other worker", other);
  report.BeginSection("limits", "slot part: the runs themselves");
  const std::vector<Param> params{{"runs", static_cast<int64_t>(r->rows())}};
  report.Add({"run_p50", NearestRankPercentile(run_ms, 0.50), "ms", params});
  report.Add({"overlapping_runs", static_cast<double>(overlaps), "runs", params});
  report.Add({"not_succeeded", static_cast<double>(not_succeeded), "runs", params});
  report.EndSection();
  return {};
}

}  // namespace chime::bench
