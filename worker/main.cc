// chime-worker, polling form: claims up to --slots ready jobs at a time from
// PostgreSQL, runs the built-in kinds, and writes the outcomes in one batch.
// The runtime issue replaces this loop with the producer / executor /
// heartbeater / completer services and ZeroMQ dispatch.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "common/db/job_store.h"
#include "common/db/migrations.h"
#include "common/log/log.h"
#include "worker/builtin_kinds.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

int Fatal(const std::string& line) {
  std::cerr << "chime-worker: " << line << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chime-worker: claims jobs from PostgreSQL and runs them"};
  std::string database_url = EnvOr("CHIME_DATABASE_URL", "");
  std::string queues = EnvOr("CHIME_QUEUES", "default");
  std::string worker_id = EnvOr("CHIME_WORKER_ID", "");
  std::string log_level = EnvOr("CHIME_LOG_LEVEL", "info");
  int slots = std::atoi(EnvOr("CHIME_WORKER_SLOTS", "4").c_str());
  int poll_ms = 1000;
  int lease_ms = 30000;
  bool drain = false;
  app.add_option("--database-url", database_url, "libpq URI (default: $CHIME_DATABASE_URL)");
  app.add_option("--queues", queues, "comma-separated queues (default: $CHIME_QUEUES or default)");
  app.add_option("--slots", slots, "jobs claimed at a time (default: $CHIME_WORKER_SLOTS or 4)");
  app.add_option("--worker-id", worker_id, "id recorded on runs (default: host-pid)");
  app.add_option("--poll-interval-ms", poll_ms, "wait between polls when idle")->capture_default_str();
  app.add_option("--lease-ms", lease_ms, "lease given to each claimed job")->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  app.add_flag("--drain", drain, "exit 0 once no job is ready");
  CLI11_PARSE(app, argc, argv);

  if (!chime::InitLogging("worker", log_level)) return Fatal("log-level: unknown level '" + log_level + "'");
  if (slots < 1 || slots > 1000) return Fatal("slots: must be 1-1000, got " + std::to_string(slots));
  if (poll_ms < 1) return Fatal("poll-interval-ms: must be > 0");
  if (lease_ms < 1000) return Fatal("lease-ms: must be >= 1000");
  chime::db::ClaimParams claim{.limit = slots, .lease = std::chrono::milliseconds(lease_ms)};
  claim.queues.clear();
  for (size_t start = 0; start <= queues.size();) {
    const auto comma = std::min(queues.find(',', start), queues.size());
    if (comma > start) claim.queues.push_back(queues.substr(start, comma - start));
    start = comma + 1;
  }
  if (claim.queues.empty()) return Fatal("queues: empty");
  if (worker_id.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    worker_id = std::string(host) + "-" + std::to_string(getpid());
  }
  claim.worker_id = worker_id;
  chime::db::ConnectionConfig db{.url = database_url};
  if (auto ok = db.Validate(); !ok) return Fatal(ok.error().message);

  chime::db::Connection conn(db);
  if (auto migrated = chime::db::MigrationsApply(conn); !migrated) {
    return Fatal("migrations: " + migrated.error().ToString());
  }
  chime::db::JobStore store(conn);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  spdlog::info("worker {} polling {} with {} slots", worker_id, queues, slots);

  bool failing = false;
  while (!g_stop.load()) {
    auto claimed = store.JobsClaim(claim);
    if (!claimed) {
      if (!failing) spdlog::error("claim failed: {}", claimed.error().ToString());
      failing = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
      continue;
    }
    failing = false;
    if (claimed->empty()) {
      if (drain) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
      continue;
    }
    std::vector<chime::db::Completion> done;
    std::vector<chime::db::Lease> unfinished;
    for (const auto& job : *claimed) {
      if (g_stop.load()) {
        unfinished.push_back(job.lease);
        continue;
      }
      done.push_back(chime::worker::RunBuiltin(job, worker_id, g_stop));
    }
    if (auto written = store.JobsCompleteIfLeased(done); !written) {
      spdlog::error("writing {} outcomes failed: {}; their leases will expire and be rescued",
                    done.size(), written.error().ToString());
    }
    if (!unfinished.empty()) {
      if (auto released = store.JobsReleaseIfLeased(unfinished, worker_id); !released) {
        spdlog::error("release failed: {}", released.error().ToString());
      }
    }
  }
  spdlog::info("worker {} stopped", worker_id);
  return 0;
}
