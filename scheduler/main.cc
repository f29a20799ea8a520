// chime-scheduler: a thin main over chime::scheduler::Scheduler
// (scheduler/scheduler.h), which serves workers and jobctl on one ZeroMQ
// ROUTER endpoint, follows ready-job notifications, keeps the job table
// healthy (job lease rescue, retention cleanup), competes for the leader
// term (the leader fires cron schedules) and serves HTTP. This file reads
// the flags and the environment into a SchedulerConfig, applies migrations
// and the schedule and limit files, runs until SIGTERM or SIGINT, then stops.
#include <CLI/CLI.hpp>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <random>

#include <sys/resource.h>
#include <unistd.h>

#include "common/base/env_setting.h"
#include "common/base/text_format.h"
#include "common/base/version.h"
#include "common/db/limit_store.h"
#include "common/db/migrations.h"
#include "common/db/schedule_store.h"
#include "common/history/history.h"
#include "common/log/log.h"
#include "common/schedule/schedule_spec.h"
#include "common/wire/signing.h"
#include "scheduler/scheduler.h"

namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// The format fatal start-up errors are written in: from argv and the
// environment until the flags are parsed, then the parsed --log-format.
chime::LogFormat fatal_format = chime::LogFormat::kText;

// A start-up error: exit code 2, one line naming the problem (a JSON line
// with --log-format json).
int Fatal(const std::string& line) {
  chime::LogStartupError("chime-scheduler", "scheduler", fatal_format, line);
  return 2;
}

// Parses a duration flag into `out`; the error names the flag.
chime::Result<void> DurationFlag(const std::string& flag, const std::string& text,
                                 std::chrono::milliseconds& out) {
  auto d = chime::ParseDuration(text);
  if (!d) return chime::Fail(chime::ErrorCode::kInvalidArgument, flag + ": " + d.error().message);
  out = *d;
  return {};
}

// Every worker and jobctl holds a connection, and so a descriptor, to the
// router: the soft limit many hosts give a service (1,024, systemd's
// default) would turn peers away long before the hard limit is near. Raised
// to the hard limit, as Go's runtime does for every Go program. Nothing in
// this process uses select(), which cannot take descriptors past 1,023
// (libzmq and the HTTP server's Asio epoll; libpq and libcurl poll).
void RaiseDescriptorLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max ||
      lim.rlim_max == RLIM_INFINITY) {
    return;
  }
  const rlimit raised{lim.rlim_max, lim.rlim_max};
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    spdlog::warn("open file limit stays at {}: {}", lim.rlim_cur, std::strerror(errno));
    return;
  }
  spdlog::debug("open file limit raised from {} to {}", lim.rlim_cur, lim.rlim_max);
}

// The schedule file and the limits of both files (the schedule file's and
// the workers' kinds file's), checked before anything starts: a bad entry
// stops the scheduler naming it, and nothing of the files is applied.
struct StartupFiles {
  std::string schedules_file;
  std::optional<chime::schedule::ParsedFile> schedules;
  std::vector<chime::schedule::LimitSpec> limits;  // Each name declared once.
  std::string limit_files;  // Where they come from, for the log; empty: none.
};

chime::Result<StartupFiles> LoadStartupFiles(const std::string& schedules_file, const std::string& kinds_file,
                                             const chime::cron::ParseOptions& cron_options) {
  StartupFiles files{.schedules_file = schedules_file};
  if (!schedules_file.empty()) {
    auto parsed = chime::schedule::LoadScheduleFile(schedules_file, cron_options);
    if (!parsed) return std::unexpected(parsed.error());
    if (!parsed->problems.empty()) {
      return chime::Fail(chime::ErrorCode::kInvalidArgument,
                         "schedule file has bad entries:\n" +
                             chime::schedule::FormatProblems(schedules_file, parsed->problems));
    }
    files.schedules = std::move(*parsed);
  }
  chime::schedule::ParsedLimits kinds;
  if (!kinds_file.empty()) {
    auto parsed = chime::schedule::LoadKindsFileLimits(kinds_file);
    if (!parsed) return std::unexpected(parsed.error());
    if (!parsed->problems.empty()) {
      return chime::Fail(chime::ErrorCode::kInvalidArgument,
                         "kinds file has bad limits:\n" + chime::schedule::FormatProblems(kinds_file, parsed->problems));
    }
    kinds = std::move(*parsed);
  }
  auto combined = chime::schedule::CombineFileLimits(
      schedules_file, files.schedules ? files.schedules->limits : std::vector<chime::schedule::LimitSpec>{},
      kinds_file, kinds.limits);
  if (!combined) return std::unexpected(combined.error());
  files.limits = std::move(*combined);
  files.limit_files = schedules_file.empty() || kinds_file.empty() ? schedules_file + kinds_file
                                                                   : schedules_file + " and " + kinds_file;
  return files;
}

// Applies the migrations, then the files' schedules and limits.
chime::Result<void> PrepareDatabase(const chime::db::ConnectionConfig& db, const StartupFiles& files,
                                    const chime::cron::ParseOptions& cron_options) {
  const auto failed = [](std::string message) { return chime::Fail(chime::ErrorCode::kInternal, std::move(message)); };
  chime::db::Connection conn(db);
  auto migrated = chime::db::MigrationsApply(conn);
  if (!migrated) return failed("migrations: " + migrated.error().ToString());
  spdlog::info("database {} at schema version {}", chime::db::RedactUrl(db.url), migrated->current_version);
  if (files.schedules) {
    const auto& file = files.schedules_file;
    chime::db::ScheduleStore store(conn, {.cron_options = cron_options});
    auto synced = store.SchedulesSyncFile(files.schedules->schedules, files.schedules->remove);
    if (!synced) return failed(file + ": " + synced.error().message);
    spdlog::info("{}: {} schedules ({} created, {} updated, {} removed)", file, files.schedules->schedules.size(),
                 synced->created.size(), synced->updated.size(), synced->deleted.size());
    if (!synced->kept.empty()) {
      // Never deleted by omission: a truncated file or a replica's older
      // copy would otherwise delete schedules (README, Schedules).
      spdlog::warn("{}: {} file schedules are not in the file and were kept (list them under remove: "
                   "to delete them): {}",
                   file, synced->kept.size(), fmt::join(synced->kept, ", "));
    }
  }
  if (!files.limit_files.empty()) {
    chime::db::LimitStore limits(conn);
    auto limited = limits.LimitsSyncFile(files.limits);
    if (!limited) return failed(files.limit_files + ": " + limited.error().message);
    if (limited->applied > 0) spdlog::info("{}: {} limits set", files.limit_files, limited->applied);
    if (!limited->kept.empty()) {
      spdlog::warn("{}: {} file limits are not in the files and were kept (jobctl limit delete NAME "
                   "removes one): {}",
                   files.limit_files, limited->kept.size(), fmt::join(limited->kept, ", "));
    }
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  fatal_format = chime::StartupLogFormat(argc, argv);
  CLI::App app{"chime-scheduler: fires schedules, dispatches jobs, rescues and cleans up", "chime-scheduler"};
  app.set_version_flag("--version", chime::VersionLine("chime-scheduler"));
  // The URL (which may carry a password) or a file holding it, as mounted
  // from a Docker or Kubernetes secret.
  auto url_setting = chime::EnvSetting("CHIME_DATABASE_URL");
  if (!url_setting) return Fatal(url_setting.error().message);
  std::string database_url = url_setting->value_or("");
  std::string log_level = EnvOr("CHIME_LOG_LEVEL", "info");
  std::string log_format = EnvOr("CHIME_LOG_FORMAT", "text");
  int rescue_interval_ms = 5000;
  int retention_hours = 24 * 7;
  int max_rescues = 3;
  bool once = false;
  chime::scheduler::RouterConfig router;
  router.bind = EnvOr("CHIME_SCHEDULER_BIND", router.bind);
  int heartbeat_ms = static_cast<int>(router.heartbeat_interval.count());
  int forget_ms = static_cast<int>(router.forget_after.count());
  app.add_option("--database-url", database_url,
                 "libpq URI (default: $CHIME_DATABASE_URL, or the file named by $CHIME_DATABASE_URL_FILE)");
  std::optional<std::string> database_pooler, database_listen_url;
  app.add_option("--database-pooler", database_pooler,
                 "transaction: the URL goes through a transaction-mode pooler such as pgbouncer (no "
                 "prepared statements or session settings; LISTEN on --database-listen-url); none "
                 "or session: direct (default: $CHIME_DATABASE_POOLER or none)");
  app.add_option("--database-listen-url", database_listen_url,
                 "direct libpq URI for LISTEN when the database URL is pooled (default: "
                 "$CHIME_DATABASE_LISTEN_URL or the file named by $CHIME_DATABASE_LISTEN_URL_FILE)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error (default: $CHIME_LOG_LEVEL or info)");
  app.add_option("--log-format", log_format, "text or json (one object per line) (default: $CHIME_LOG_FORMAT or text)");
  app.add_option("--rescue-interval-ms", rescue_interval_ms, "how often jobs whose job lease expired are rescued")
      ->capture_default_str();
  app.add_option("--retention-hours", retention_hours, "finished jobs and runs older than this are deleted")
      ->capture_default_str();
  app.add_option("--max-rescues", max_rescues, "a job rescued more often is discarded as a poison pill")
      ->capture_default_str();
  app.add_option("--bind", router.bind,
                 "ZeroMQ endpoint for workers and jobctl (default: $CHIME_SCHEDULER_BIND or " +
                     router.bind + ")");
  app.add_option("--heartbeat-interval-ms", heartbeat_ms, "how often workers report")
      ->capture_default_str();
  app.add_option("--forget-after-ms", forget_ms, "a worker silent this long is forgotten")
      ->capture_default_str();
  app.add_option("--max-workers", router.limits.max_workers,
                 "workers this scheduler registers at most; further hellos are refused "
                 "(default: $CHIME_MAX_WORKERS or 512)")
      ->envname("CHIME_MAX_WORKERS");
  app.add_option("--max-workers-per-address", router.limits.max_workers_per_address,
                 "workers registered at most from one peer address (default: "
                 "$CHIME_MAX_WORKERS_PER_ADDRESS or 64)")
      ->envname("CHIME_MAX_WORKERS_PER_ADDRESS");
  app.add_flag("--once", once, "run one maintenance pass (rescue + cleanup) and exit");
  std::string schedules_file = EnvOr("CHIME_SCHEDULES", "");
  std::string leader_ttl = "15s", leader_renew = "5s", misfire_grace = "60s";
  chime::scheduler::CronRunnerConfig cron;
  bool cron_seconds = false;
  app.add_option("--schedules", schedules_file,
                 "YAML schedule file, loaded at start (default: $CHIME_SCHEDULES); one bad entry "
                 "stops the scheduler");
  // The workers' kinds file: the scheduler reads only its `limits:`, so
  // that workers need no right to write chime.limits.
  std::string kinds_file = EnvOr("CHIME_KINDS_CONFIG", "");
  app.add_option("--kinds-config", kinds_file,
                 "the workers' kinds file (YAML); its limits: are applied at start like the schedule "
                 "file's, the rest is the workers' (default: $CHIME_KINDS_CONFIG); one bad limit "
                 "stops the scheduler");
  app.add_option("--leader-ttl", leader_ttl, "leader term length; a standby takes over this long "
                 "after the leader dies (plus one renewal)")->capture_default_str();
  app.add_option("--leader-renew", leader_renew, "how often the leader term is renewed or asked for")
      ->capture_default_str();
  app.add_option("--misfire-grace", misfire_grace,
                 "a tick older than this when fired counts as missed and follows the misfire policy")
      ->capture_default_str();
  app.add_option("--misfire-run-all-cap", cron.planner.run_all_cap,
                 "run_all fires at most this many missed ticks per schedule")->capture_default_str();
  // Test clocks only: a leading seconds field, so tests see many ticks quickly.
  app.add_flag("--cron-seconds", cron_seconds)->group("");
  std::string http_listen = EnvOr("CHIME_HTTP_LISTEN", "127.0.0.1:8080");
  app.add_option("--http-listen", http_listen,
                 "host:port for /healthz, /readyz, /metrics and /api (port 0: any free port; "
                 "\"off\": no HTTP) (default: $CHIME_HTTP_LISTEN or 127.0.0.1:8080)");
  chime::scheduler::HealthMonitorConfig health;
  std::string health_interval = "30s";
  int health_window_hours = static_cast<int>(health.window.count());
  app.add_option("--health-interval", health_interval,
                 "how often the leader evaluates the schedules' health rules and sends alerts to "
                 "$CHIME_ALERT_WEBHOOK_URL (CIDRs it may reach besides public addresses: "
                 "$CHIME_ALERT_WEBHOOK_ALLOW)")->capture_default_str();
  app.add_option("--health-window-hours", health_window_hours,
                 "statistics window of the rate and duration rules, 1-168")->capture_default_str();
  chime::scheduler::QueueSamplerConfig sampler;
  std::string sample_interval = "15s";
  app.add_option("--queue-sample-interval", sample_interval,
                 "how often the leader records each queue's depth for the dashboard's charts (1s-5m)")
      ->capture_default_str();
  bool named_tokens_only = false;
  app.add_flag("--named-tokens-only", named_tokens_only,
               "refuse the bootstrap admin secret: accept only named tokens (jobctl token create); "
               "CHIME_ADMIN_SECRET is then not read");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: on stdout.
    // A usage error exits 2 like every other start-up error (not CLI11's
    // 105-127), naming the program.
    return Fatal(chime::OneLine(e.what(), 1000) + " (see --help)");
  }

  {
    auto format = chime::ParseLogFormat(log_format);
    if (!format) return Fatal("log-format: " + format.error().message);
    fatal_format = *format;
    if (auto ok = chime::InitLogging("scheduler", log_level, *format); !ok) return Fatal(ok.error().message);
  }
  RaiseDescriptorLimit();
  chime::db::ConnectionConfig db{.url = database_url};
  if (auto ok = chime::db::ApplyPoolerSettings(db, database_pooler, database_listen_url); !ok) {
    return Fatal(ok.error().message);
  }
  chime::scheduler::MaintainerConfig maintenance;
  maintenance.rescue_interval = std::chrono::milliseconds(rescue_interval_ms);
  maintenance.cleanup.retention = std::chrono::hours(retention_hours);
  maintenance.rescue.max_rescues = max_rescues;
  if (auto ok = maintenance.Validate(); !ok) return Fatal(ok.error().message);
  for (auto [flag, text, out] : {std::tuple{"leader-ttl", &leader_ttl, &cron.leader.term_ttl},
                                 std::tuple{"leader-renew", &leader_renew, &cron.leader.renew_interval},
                                 std::tuple{"misfire-grace", &misfire_grace,
                                            &cron.planner.misfire_grace}}) {
    if (auto ok = DurationFlag(flag, *text, *out); !ok) return Fatal(ok.error().message);
  }
  cron.cron_options.seconds_field = cron_seconds;
  {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    // host-pid alone repeats when a container restarts with the same
    // hostname and pid 1; the random part keeps two lives of one pod apart
    // in the leader term and in the workers' view.
    router.scheduler_id =
        fmt::format("{}-{}-{:04x}", host, getpid(), std::random_device{}() & 0xffffu);
  }
  cron.leader.holder = router.scheduler_id;
  chime::history::InitProcess("scheduler:" + cron.leader.holder);
  if (auto ok = cron.Validate(); !ok) return Fatal(ok.error().message);
  health.window = std::chrono::hours(health_window_hours);
  health.cron_options = cron.cron_options;
  if (auto ok = DurationFlag("health-interval", health_interval, health.interval); !ok) {
    return Fatal(ok.error().message);
  }
  {
    std::chrono::milliseconds interval{};
    if (auto ok = DurationFlag("queue-sample-interval", sample_interval, interval); !ok) {
      return Fatal(ok.error().message);
    }
    sampler.interval = std::chrono::duration_cast<std::chrono::seconds>(interval);
    if (interval % std::chrono::seconds(1) != std::chrono::milliseconds(0)) {
      return Fatal("queue-sample-interval: must be whole seconds");
    }
    if (auto ok = sampler.Validate(); !ok) return Fatal(ok.error().message);
  }
  if (auto ok = health.ReadEnvironment(); !ok) return Fatal(ok.error().message);
  if (auto ok = health.Validate(); !ok) return Fatal(ok.error().message);
  router.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);
  router.forget_after = std::chrono::milliseconds(forget_ms);
  if (auto ok = router.Validate(); !ok) return Fatal(ok.error().message);
  chime::scheduler::HttpServiceConfig http;
  http.server.listen = http_listen;
  http.cron_options = cron.cron_options;
  if (http_listen != "off") {
    if (auto ok = http.server.Validate(); !ok) return Fatal(ok.error().message);
  }

  auto files = LoadStartupFiles(schedules_file, kinds_file, cron.cron_options);
  if (!files) return Fatal(files.error().message);
  if (auto ok = PrepareDatabase(db, *files, cron.cron_options); !ok) return Fatal(ok.error().message);

  if (once) {
    chime::scheduler::Maintainer maintainer(db, maintenance);
    auto ok = maintainer.RunOnce(/*force_cleanup=*/true);
    if (!ok) return Fatal(ok.error().ToString());
    auto c = maintainer.counters();
    // In the log, so --log-format json makes it a JSON line with the rest.
    spdlog::info("maintenance pass: rescued {}, discarded {}, deleted {} jobs and {} runs", c.rescued,
                 c.discarded, c.jobs_deleted, c.runs_deleted);
    return 0;
  }

  // Every admin request is signed, with a named token or the bootstrap
  // admin secret. Without the secret (and unless told to take named tokens
  // only) a scheduler of a fresh deployment could be reached by no one, so
  // it does not start.
  std::optional<chime::wire::AdminSecret> secret;
  if (!named_tokens_only) {
    auto loaded = chime::wire::AdminSecret::FromEnvironment();
    if (!loaded) return Fatal(loaded.error().message);
    secret = std::move(*loaded);
  }
  auto curve = chime::net::CurveServerConfig::FromEnvironment();
  if (!curve) return Fatal(curve.error().message);

  chime::scheduler::SchedulerConfig config{.db = db,
                                           .router = router,
                                           .maintainer = maintenance,
                                           .cron = cron,
                                           .health = health,
                                           .sampler = sampler,
                                           .http = std::nullopt,
                                           .admin_secret = std::move(secret),
                                           .curve = std::move(*curve)};
  if (http_listen != "off") config.http = http;
  if (auto ok = config.Validate(); !ok) return Fatal(ok.error().message);

  // Block the stop signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  chime::scheduler::Scheduler scheduler(std::move(config));
  if (auto ok = scheduler.Start(); !ok) return Fatal(ok.error().message);
  spdlog::info("scheduler running");
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received; stopping", sig);
  scheduler.Stop();
  return 0;
}
