#include "bench/http_request_bench.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/cluster.h"
#include "bench/http_endpoint.h"
#include "bench/pq.h"

namespace chime::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kHttpQueue = "bench-http";

}  // namespace

Result<HttpRequestFigures> RunHttpRequestCalls(const std::string& conninfo, int calls, int workers, int slots,
                                               int prefetch) {
  auto endpoint = HttpEndpoint::Start();
  if (!endpoint) return std::unexpected(endpoint.error());
  const std::string origin = (*endpoint)->Origin();
  const std::filesystem::path kinds =
      std::filesystem::temp_directory_path() / ("chime-bench-kinds-" + std::to_string(getpid()) + ".yaml");
  std::ofstream(kinds) << "http:\n  allow: [127.0.0.1/32]\nhttp_request:\n  secrets:\n"
                          "    - {ref: env:CRON_SECRET, origins: [\"" << origin << "\"]}\n";
  struct Remove {
    std::filesystem::path path;
    ~Remove() { std::filesystem::remove(path); }
  } remove{kinds};

  Cluster cluster(conninfo, slots, kHttpQueue);
  cluster.set_prefetch(prefetch);
  cluster.set_worker_args({"--kinds-config", kinds.string()});
  cluster.set_worker_env({{"CRON_SECRET", "chime-bench-cron-secret"}});
  if (auto ok = cluster.StartScheduler(); !ok) return std::unexpected(ok.error());
  for (int i = 0; i < workers; ++i) {
    if (auto ok = cluster.StartWorker(); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = cluster.WaitForIdleWorkers(); !ok) return std::unexpected(ok.error());

  auto pq = PqConnection::Open(conninfo);
  if (!pq) return std::unexpected(pq.error());
  const nlohmann::json payload = {{"url", origin + "/api/cron/sync-integrations?interval=15min"},
                                  {"method", "POST"},
                                  {"auth", {{"type", "bearer"}, {"secret", "env:CRON_SECRET"}}}};
  spdlog::info("kinds: {} http_request calls on {} workers x {} slots", calls, workers, slots);
  const auto t0 = Clock::now();
  auto inserted = pq->ExecParams(
      "INSERT INTO chime.jobs (kind, queue, payload, max_attempts) "
      "SELECT 'http_request', $1, $2::jsonb, 1 FROM generate_series(1, $3::int)",
      {kHttpQueue, payload.dump(), std::to_string(calls)});
  if (!inserted) return std::unexpected(inserted.error());
  const std::string done_sql = "SELECT count(*) FROM chime.jobs_all WHERE queue = '" + std::string(kHttpQueue) +
                               "' AND state IN ('succeeded', 'discarded')";
  const auto deadline = t0 + std::chrono::minutes(10);
  HttpRequestFigures f{.calls = calls};
  while (true) {
    auto done = Count(*pq, done_sql);
    if (!done) return std::unexpected(done.error());
    if (*done >= calls) break;
    if (Clock::now() > deadline) return Fail(ErrorCode::kInternal, "http_request calls did not finish in 10 min");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  f.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  cluster.Stop();
  auto ok = Count(*pq, "SELECT count(*) FROM chime.jobs_all WHERE queue = '" + std::string(kHttpQueue) +
                           "' AND outcome = 'succeeded'");
  if (!ok) return std::unexpected(ok.error());
  f.succeeded = *ok;
  f.connections = (*endpoint)->connections();
  f.requests = (*endpoint)->requests();
  if (f.succeeded != calls) {
    auto why = pq->Exec("SELECT array_to_string(errors, ' | ') FROM chime.runs WHERE outcome <> 'succeeded' LIMIT 1");
    return Fail(ErrorCode::kInternal, std::to_string(calls - f.succeeded) + " of " + std::to_string(calls) +
                                          " http_request calls did not succeed" +
                                          (why && why->rows() > 0 ? std::string(": ") + why->text(0, 0) : std::string()));
  }
  return f;
}

}  // namespace chime::bench
