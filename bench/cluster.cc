#include "bench/cluster.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "common/wire/signing.h"
#include "jobctl/zmq_backend.h"

namespace chime::bench {

using std::chrono::seconds;

void EnsureBinDir() {
  if (const char* dir = std::getenv("CHIME_BIN_DIR"); dir != nullptr && *dir != '\0') return;
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  setenv("CHIME_BIN_DIR", self.parent_path().parent_path().c_str(), 1);
}

Cluster::Cluster(std::string conninfo, int slots, std::string queues)
    : conninfo_(std::move(conninfo)), slots_(slots), queues_(std::move(queues)) {}

Result<void> Cluster::StartScheduler(std::vector<std::string> args) {
  std::vector<std::string> argv{BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0",
                                "--http-listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  scheduler_ = std::make_unique<ChildProcess>(
      argv, std::map<std::string, std::string>{{"CHIME_DATABASE_URL", conninfo_},
                                               {"CHIME_ADMIN_SECRET", kBenchAdminSecret}});
  if (!scheduler_->Start()) return Fail(ErrorCode::kInternal, scheduler_->log());
  auto line = scheduler_->WaitForLog("listening on tcp", seconds(30));
  if (!line) return Fail(ErrorCode::kInternal, "scheduler did not start: " + scheduler_->log());
  endpoint_ = line->substr(line->find("listening on ") + 13);
  auto http = scheduler_->WaitForLog("http listening on ", seconds(30));
  if (!http) return Fail(ErrorCode::kInternal, "scheduler serves no HTTP: " + scheduler_->log());
  http_ = http->substr(http->find("http listening on ") + 18);
  return {};
}

Result<void> Cluster::StartWorker() {
  std::vector<std::string> argv{BinaryPath("worker/chime-worker")};
  if (claim_batch_ > 0) argv.insert(argv.end(), {"--claim-batch", std::to_string(claim_batch_)});
  argv.insert(argv.end(), worker_args_.begin(), worker_args_.end());
  std::map<std::string, std::string> env{{"CHIME_DATABASE_URL", conninfo_},
                                         {"CHIME_SCHEDULER", endpoint_},
                                         {"CHIME_WORKER_SLOTS", std::to_string(slots_)},
                                         {"CHIME_QUEUES", queues_},
                                         {"CHIME_LOG_LEVEL", "warn"}};
  if (prefetch_ >= 0) env["CHIME_WORKER_PREFETCH"] = std::to_string(prefetch_);
  env.insert(worker_env_.begin(), worker_env_.end());
  auto w = std::make_unique<ChildProcess>(argv, env);
  if (!w->Start()) return Fail(ErrorCode::kInternal, w->log());
  workers_.push_back(std::move(w));
  return {};
}

Result<void> Cluster::WaitForIdleWorkers() {
  auto secret = wire::AdminSecret::FromString(kBenchAdminSecret);
  if (!secret) return std::unexpected(secret.error());
  auto config = jobctl::ZmqBackendConfig::FromList(endpoint_);
  if (!config) return std::unexpected(config.error());
  jobctl::ZmqBackend admin(*config, *secret);
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < deadline) {
    auto workers = admin.Workers();
    if (workers) {
      // Ours by pid: the directory may still list workers of an earlier run.
      size_t idle = 0;
      for (const auto& started : workers_) {
        idle += std::ranges::any_of(*workers, [&](const auto& w) {
                  return w.pid == started->pid() && w.free_slots == slots_;
                }) ? 1 : 0;
      }
      if (idle >= workers_.size()) return {};
      last = std::to_string(idle) + " of " + std::to_string(workers_.size()) + " idle";
    } else {
      last = workers.error().message;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Fail(ErrorCode::kInternal, "workers did not connect within 30 s (" + last + ")");
}

void Cluster::Stop() {
  for (auto& w : workers_) w->Signal(SIGTERM);
  for (auto& w : workers_) w->Wait(seconds(40));
  if (scheduler_) {
    scheduler_->Signal(SIGTERM);
    scheduler_->Wait(seconds(10));
  }
}

Result<void> Cluster::SaveLogs(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(ErrorCode::kInternal, "cannot make " + dir + ": " + ec.message());
  auto write = [&](const std::string& name, const std::string& text) -> Result<void> {
    std::ofstream out(std::filesystem::path(dir) / name);
    out << text;
    if (!out) return Fail(ErrorCode::kInternal, "cannot write " + dir + "/" + name);
    return {};
  };
  if (scheduler_) {
    if (auto ok = write("scheduler.log", scheduler_->log()); !ok) return ok;
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (auto ok = write("worker-" + std::to_string(i) + ".log", workers_[i]->log()); !ok) return ok;
  }
  return {};
}

Result<int64_t> Count(PqConnection& pq, const std::string& sql) {
  auto r = pq.Exec(sql);
  if (!r) return std::unexpected(r.error());
  return r->int64(0, 0);
}

Result<void> EnqueueNoops(PqConnection& pq, int64_t n) {
  auto r = pq.Exec("INSERT INTO chime.jobs (kind) SELECT 'noop' FROM generate_series(1, " + std::to_string(n) + ")");
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<int64_t> SucceededJobs(PqConnection& pq) {
  return Count(pq, "SELECT coalesce(sum(n), 0) FROM chime.finished_job_counts WHERE state = 'succeeded'");
}

}  // namespace chime::bench
