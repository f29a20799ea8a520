// chime-scheduler: applies migrations, then keeps the job table healthy
// (lease rescue, retention cleanup). Cron firing, dispatch over ZeroMQ and
// the HTTP endpoints arrive with the runtime, cron and observability issues.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "common/db/migrations.h"
#include "common/log/log.h"
#include "scheduler/maintainer.h"

namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

int Fatal(const std::string& line) {
  std::cerr << "chime-scheduler: " << line << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chime-scheduler: fires schedules, dispatches jobs, rescues and cleans up"};
  std::string database_url = EnvOr("CHIME_DATABASE_URL", "");
  std::string log_level = EnvOr("CHIME_LOG_LEVEL", "info");
  int rescue_interval_ms = 5000;
  int retention_hours = 24 * 7;
  int max_rescues = 3;
  bool once = false;
  app.add_option("--database-url", database_url, "libpq URI (default: $CHIME_DATABASE_URL)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error (default: $CHIME_LOG_LEVEL or info)");
  app.add_option("--rescue-interval-ms", rescue_interval_ms, "how often expired leases are rescued")
      ->capture_default_str();
  app.add_option("--retention-hours", retention_hours, "finished jobs and runs older than this are deleted")
      ->capture_default_str();
  app.add_option("--max-rescues", max_rescues, "a job rescued more often is discarded as a poison pill")
      ->capture_default_str();
  app.add_flag("--once", once, "run one maintenance pass (rescue + cleanup) and exit");
  CLI11_PARSE(app, argc, argv);

  if (!chime::InitLogging("scheduler", log_level)) return Fatal("log-level: unknown level '" + log_level + "'");
  chime::db::ConnectionConfig db{.url = database_url};
  if (auto ok = db.Validate(); !ok) return Fatal(ok.error().message);
  chime::scheduler::MaintainerConfig config;
  config.rescue_interval = std::chrono::milliseconds(rescue_interval_ms);
  config.cleanup.retention = std::chrono::hours(retention_hours);
  config.rescue.max_rescues = max_rescues;
  if (auto ok = config.Validate(); !ok) return Fatal(ok.error().message);

  {
    chime::db::Connection conn(db);
    auto migrated = chime::db::MigrationsApply(conn);
    if (!migrated) return Fatal("migrations: " + migrated.error().ToString());
    spdlog::info("database {} at schema version {}", chime::db::RedactUrl(db.url),
                 migrated->current_version);
  }

  chime::scheduler::Maintainer maintainer(db, config);
  if (once) {
    auto ok = maintainer.RunOnce(/*force_cleanup=*/true);
    if (!ok) return Fatal(ok.error().ToString());
    auto c = maintainer.counters();
    std::cout << "rescued " << c.rescued << ", discarded " << c.discarded << ", deleted "
              << c.jobs_deleted << " jobs and " << c.runs_deleted << " runs\n";
    return 0;
  }

  // Block the stop signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  maintainer.Start();
  spdlog::info("scheduler running");
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received; stopping", sig);
  maintainer.Stop();
  return 0;
}
