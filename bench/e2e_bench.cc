#include "bench/e2e_bench.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "bench/cluster.h"
#include "bench/interrupt.h"
#include "bench/pq.h"
#include "common/wire/signing.h"
#include "jobctl/zmq_backend.h"

namespace chime::bench {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

int64_t MicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Megabytes(std::optional<int64_t> bytes) {
  return bytes ? static_cast<double>(*bytes) / (1024.0 * 1024.0) : NAN;
}

}  // namespace

Result<void> E2eBenchConfig::Validate() const {
  if (jobs < 0 || jobs > 10'000'000) return Fail(ErrorCode::kInvalidArgument, "--jobs: 1-10000000");
  if (workers < 1 || workers > 64) return Fail(ErrorCode::kInvalidArgument, "--workers: 1-64");
  if (slots < 1 || slots > 1000) return Fail(ErrorCode::kInvalidArgument, "--slots: 1-1000");
  if (prefetch < -1 || prefetch > 1000) return Fail(ErrorCode::kInvalidArgument, "--prefetch: 0-1000 (-1: auto)");
  if (claim_batch < 0 || claim_batch > 1000) return Fail(ErrorCode::kInvalidArgument, "--claim-batch: 0-1000");
  if (latency_samples < 0) return Fail(ErrorCode::kInvalidArgument, "--latency-samples: >= 1");
  if (interval_ms < 1) return Fail(ErrorCode::kInvalidArgument, "--interval-ms: >= 1");
  if (rounds < 1 || rounds > 100) return Fail(ErrorCode::kInvalidArgument, "--rounds: 1-100");
  if (slow_logs.empty()) return Fail(ErrorCode::kInvalidArgument, "--slow-logs: a directory");
  return {};
}

std::string E2eBench::description() const {
  return "The cluster as processes: no-op throughput, pickup latency (jobctl path and plain SQL "
         "INSERT), resident memory";
}

void E2eBench::AddOptions(CLI::App& command) {
  command.add_option("--jobs", config_.jobs, "Throughput jobs (default 100000; --quick 5000)");
  command.add_option("--workers", config_.workers, "Worker processes")->capture_default_str();
  command.add_option("--slots", config_.slots, "Slots per worker")->capture_default_str();
  command.add_option("--prefetch", config_.prefetch,
                     "Jobs each worker claims beyond its slots (throughput run; -1: the worker's default, auto)")
      ->capture_default_str();
  command.add_option("--claim-batch", config_.claim_batch,
                     "Most jobs a worker claims per round trip (throughput run; 0: the worker's default)")
      ->capture_default_str();
  command.add_option("--latency-samples", config_.latency_samples,
                     "Jobs per latency path (default 1000; --quick 50)");
  command.add_option("--interval-ms", config_.interval_ms, "Gap between latency enqueues")
      ->capture_default_str();
  command.add_option("--rounds", config_.rounds,
                     "Throughput drains (each from a fresh cluster); the figure is their median")
      ->capture_default_str();
  command.add_option("--slow-logs", config_.slow_logs,
                     "Where the logs of a round slower than half the median are kept (round-N/)")
      ->capture_default_str();
}

Result<void> E2eBench::Run(const BenchEnv& env) {
  EnsureBinDir();
  const int64_t jobs = config_.jobs > 0 ? config_.jobs : (env.quick ? 5'000 : 100'000);
  const int samples = config_.latency_samples > 0 ? config_.latency_samples : (env.quick ? 50 : 1'000);
  auto pq = PqConnection::Open(env.conninfo);
  if (!pq) return std::unexpected(pq.error());
  Report& report = *env.report;

  Cluster cluster(env.conninfo, config_.slots);
  if (auto ok = cluster.StartScheduler(); !ok) return ok;
  if (auto ok = cluster.StartWorker(); !ok) return ok;
  // Idle: the worker has registered and nothing is queued.
  if (auto ok = cluster.WaitForIdleWorkers(); !ok) return ok;
  report.BeginSection("e2e", "resident memory (MB)");
  report.Add({"rss_idle_scheduler", Megabytes(ResidentBytes(cluster.scheduler_pid())), "MB", {}});
  report.Add({"rss_idle_worker", Megabytes(ResidentBytes(cluster.worker_pid(0))), "MB", {}});

  // Pickup latency, one job at a time on the idle cluster.
  auto secret = wire::AdminSecret::FromString(kBenchAdminSecret);
  auto zmq_config = jobctl::ZmqBackendConfig::FromList(cluster.endpoint());
  jobctl::ZmqBackend jobctl_path(*zmq_config, *secret);
  std::vector<std::pair<int64_t, int64_t>> via_jobctl, via_sql;  // (job id, t0 us)
  std::vector<double> call_jobctl, call_sql;                      // The enqueue call alone, ms.
  spdlog::info("e2e: pickup latency, {} jobs per path, {} ms apart", samples, config_.interval_ms);
  for (int i = 0; i < samples && !Interrupt::StopRequested(); ++i) {
    db::EnqueueParams p;
    p.kind = "noop";
    const int64_t t0 = MicrosNow();
    auto r = jobctl_path.Enqueue(p);
    if (!r) return std::unexpected(r.error());
    call_jobctl.push_back(static_cast<double>(MicrosNow() - t0) / 1000.0);
    via_jobctl.emplace_back(r->id, t0);
    std::this_thread::sleep_for(milliseconds(config_.interval_ms));
  }
  for (int i = 0; i < samples && !Interrupt::StopRequested(); ++i) {
    const int64_t t0 = MicrosNow();
    auto r = pq->Exec("INSERT INTO chime.jobs (kind) VALUES ('noop') RETURNING id");
    if (!r) return std::unexpected(r.error());
    call_sql.push_back(static_cast<double>(MicrosNow() - t0) / 1000.0);
    via_sql.emplace_back(r->int64(0, 0), t0);
    std::this_thread::sleep_for(milliseconds(config_.interval_ms));
  }
  const auto deadline = Clock::now() + seconds(60);
  while (Clock::now() < deadline) {
    auto left = Count(*pq, "SELECT count(*) FROM chime.jobs WHERE attempted_at IS NULL");
    if (!left) return std::unexpected(left.error());
    if (*left == 0) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  auto latencies = [&](const std::vector<std::pair<int64_t, int64_t>>& sent) -> Result<std::vector<double>> {
    std::vector<double> ms;
    for (const auto& [id, t0] : sent) {
      auto r = pq->Exec("SELECT (extract(epoch FROM attempted_at) * 1000000)::bigint FROM chime.jobs_all "
                        "WHERE id = " + std::to_string(id) + " AND attempted_at IS NOT NULL");
      if (!r) return std::unexpected(r.error());
      if (r->rows() == 0) return Fail(ErrorCode::kInternal, "job " + std::to_string(id) + " never started");
      ms.push_back(static_cast<double>(r->int64(0, 0) - t0) / 1000.0);
    }
    return ms;
  };
  report.BeginSection("e2e", "pickup latency, enqueue call to handler start (ms)");
  struct Path {
    const char* name;
    const std::vector<std::pair<int64_t, int64_t>>* sent;
    const std::vector<double>* calls;
  };
  for (const Path& path : {Path{"jobctl", &via_jobctl, &call_jobctl}, Path{"sql_insert", &via_sql, &call_sql}}) {
    auto ms = latencies(*path.sent);
    if (!ms) return std::unexpected(ms.error());
    const std::vector<Param> params{{"path", path.name}, {"samples", static_cast<int64_t>(ms->size())}};
    report.Add({"pickup_latency_p50", NearestRankPercentile(*ms, 0.50), "ms", params});
    report.Add({"pickup_latency_p95", NearestRankPercentile(*ms, 0.95), "ms", params});
    report.Add({"pickup_latency_p99", NearestRankPercentile(*ms, 0.99), "ms", params});
    // What the enqueue call itself took (its commit included): the part of
    // the pickup latency spent before any worker could know of the job.
    report.Add({"enqueue_call_p50", NearestRankPercentile(*path.calls, 0.50), "ms", params});
  }

  // Throughput: stop the worker, pre-enqueue, then drain with fresh workers,
  // `rounds` times.
  cluster.Stop();
  struct Round {
    double jobs_per_s = 0;
    std::string logs;  // Where this round's logs were saved.
  };
  std::vector<Round> rounds;
  double rss_scheduler = 0, rss_worker = 0;
  int64_t succeeded_runs = 0;
  for (int round = 1; round <= config_.rounds && !Interrupt::StopRequested(); ++round) {
    Cluster loaded(env.conninfo, config_.slots);
    loaded.set_prefetch(config_.prefetch);
    loaded.set_claim_batch(config_.claim_batch);
    if (auto ok = pq->Exec("TRUNCATE chime.jobs, chime.runs, chime.job_counts"); !ok) {
      return std::unexpected(ok.error());
    }
    spdlog::info("e2e: round {} of {}: enqueueing {} jobs", round, config_.rounds, jobs);
    if (auto ok = EnqueueNoops(*pq, jobs); !ok) return ok;
    if (auto ok = loaded.StartScheduler(); !ok) return ok;
    const auto t0 = Clock::now();
    for (int i = 0; i < config_.workers; ++i) {
      if (auto ok = loaded.StartWorker(); !ok) return ok;
    }
    int64_t done = 0;
    const auto drain_deadline = Clock::now() + std::chrono::minutes(30);
    while (!Interrupt::StopRequested() && Clock::now() < drain_deadline) {
      auto n = SucceededJobs(*pq);
      if (!n) return std::unexpected(n.error());
      done = *n;
      rss_scheduler = std::max(rss_scheduler, Megabytes(ResidentBytes(loaded.scheduler_pid())));
      for (size_t i = 0; i < loaded.worker_count(); ++i) {
        rss_worker = std::max(rss_worker, Megabytes(ResidentBytes(loaded.worker_pid(i))));
      }
      if (done >= jobs) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
    const double seconds_taken = std::chrono::duration<double>(Clock::now() - t0).count();
    loaded.Stop();
    // Every round's logs until the median is known; the fast rounds' go.
    const std::string logs = config_.slow_logs + "/round-" + std::to_string(round);
    if (auto ok = loaded.SaveLogs(logs); !ok) return ok;
    if (done < jobs) {
      return Fail(ErrorCode::kInternal, std::to_string(done) + " of " + std::to_string(jobs) +
                                            " jobs succeeded before the deadline (logs in " + logs + ")");
    }
    auto runs = Count(*pq, "SELECT count(*) FROM chime.runs WHERE outcome = 'succeeded'");
    if (!runs) return std::unexpected(runs.error());
    succeeded_runs = *runs;
    rounds.push_back({static_cast<double>(jobs) / seconds_taken, logs});
    spdlog::info("e2e: round {}: {:.0f} jobs/s", round, rounds.back().jobs_per_s);
  }
  if (rounds.empty()) return Fail(ErrorCode::kFailedPrecondition, "interrupted before a drain finished");
  std::vector<double> rates;
  for (const auto& r : rounds) rates.push_back(r.jobs_per_s);
  const double median = NearestRankPercentile(rates, 0.5);
  report.BeginSection("e2e", "no-op throughput, pre-enqueued jobs drained");
  const std::vector<Param> params{
      {"jobs", jobs}, {"workers", config_.workers}, {"slots", config_.slots},
      {"prefetch", config_.prefetch < 0 ? nlohmann::ordered_json("auto") : nlohmann::ordered_json(config_.prefetch)},
      {"claim_batch", config_.claim_batch}, {"rounds", static_cast<int64_t>(rounds.size())}};
  report.Add({"throughput", median, "jobs/s", params});
  for (size_t i = 0; i < rounds.size(); ++i) {
    const bool slow = rounds[i].jobs_per_s < median / 2;
    std::vector<Param> round_params{{"round", static_cast<int64_t>(i + 1)}};
    if (slow) {
      round_params.emplace_back("logs", rounds[i].logs);
      spdlog::warn("e2e: round {} drained at {:.0f} jobs/s, under half the median {:.0f}: logs kept in {}", i + 1,
                   rounds[i].jobs_per_s, median, rounds[i].logs);
    } else {
      std::error_code ec;
      std::filesystem::remove_all(rounds[i].logs, ec);
    }
    if (rounds.size() > 1) report.Add({"round_throughput", rounds[i].jobs_per_s, "jobs/s", round_params});
  }
  report.Add({"succeeded_runs", static_cast<double>(succeeded_runs), "runs", params});
  report.BeginSection("e2e", "resident memory under the throughput load (MB, peak sampled)");
  report.Add({"rss_loaded_scheduler", rss_scheduler, "MB", {}});
  report.Add({"rss_loaded_worker", rss_worker, "MB", {}});
  report.EndSection();
  return {};
}

}  // namespace chime::bench
