#include "jobctl/cli.h"

#include <ostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/log/log.h"
#include "jobctl/commands.h"
#include "jobctl/db_backend.h"
#include "jobctl/zmq_backend.h"
#include "jobctl/exit_code.h"

namespace chime::jobctl {
namespace {

constexpr const char* kDescription =
    "jobctl: the Chime admin client. Applies schema migrations, enqueues jobs, lists,\n"
    "shows, cancels and retries them, and prints queue statistics.";

constexpr const char* kFooter =
    "Database: --database-url URL, else $CHIME_DATABASE_URL (a libpq URI such as\n"
    "postgresql://chime@db:5432/chime). Passwords are never printed.\n"
    "Times are RFC 3339 (2026-01-31T02:00:00Z); durations are like 500ms, 30s, 5m, 2h, 1h30m, 7d.\n"
    "Every subcommand answers --help.";

constexpr const char* kGlobalOptionsHelp =
    "Global options, before or after the subcommand: --database-url URL, --scheduler ENDPOINT,\n"
    "--log-level LEVEL.\n";

// An option whose presence matters: sets `target` only when given.
template <typename T>
CLI::Option* AddOptional(CLI::App* app, const std::string& name, std::optional<T>& target,
                         const std::string& help) {
  return app->add_option_function<T>(
      name, [&target](const T& value) { target = value; }, help);
}

CLI::App* AddSubcommand(CLI::App& app, const std::string& name, const std::string& help) {
  CLI::App* sub = app.add_subcommand(name, help);
  sub->footer(std::string(kGlobalOptionsHelp) + kExitCodeHelp);
  return sub;
}

using Action = std::function<Result<void>(CommandContext&)>;

struct Options {
  std::optional<std::string> database_url;
  std::optional<std::string> scheduler;
  std::string log_level = "warn";
  MigrateOptions migrate;
  EnqueueOptions enqueue;
  ListOptions list;
  JobIdOptions show, cancel, retry;
  StatsOptions stats;
  WorkersOptions workers;
};

// Declares every subcommand on `app`; returns each with the action to run.
std::vector<std::pair<CLI::App*, Action>> DeclareCommands(CLI::App& app, Options& o) {
  std::vector<std::pair<CLI::App*, Action>> commands;

  CLI::App* migrate = AddSubcommand(app, "migrate", "Apply pending schema migrations and print the versions");
  migrate->add_flag("--status", o.migrate.status_only, "Only report the versions; change nothing");
  migrate->add_flag("--json", o.migrate.json, "Print JSON");
  commands.emplace_back(migrate, [&o](CommandContext& c) { return RunMigrate(c, o.migrate); });

  CLI::App* enqueue = AddSubcommand(app, "enqueue",
      "Enqueue one job and print its id (\"existing job N\" when --unique-key matched a live job)");
  auto& e = o.enqueue;
  enqueue->add_option("KIND", e.kind, "Job kind, e.g. reconcile_exam_capacity")->required();
  auto* payload = AddOptional(enqueue, "--payload", e.payload, "Payload as JSON (default {})");
  payload->type_name("JSON");
  auto* payload_file = AddOptional(enqueue, "--payload-file", e.payload_file,
                                   "Read the payload from FILE (- for stdin)");
  payload_file->type_name("FILE");
  payload->excludes(payload_file);
  enqueue->add_option("--queue", e.queue, "Queue")->capture_default_str()->type_name("Q");
  enqueue->add_option("--priority", e.priority, "0 (first) .. 9 (last)")
      ->capture_default_str()->type_name("N");
  auto* run_at = AddOptional(enqueue, "--run-at", e.run_at, "Run no earlier than this RFC 3339 time");
  run_at->type_name("TIME");
  auto* delay = AddOptional(enqueue, "--delay", e.delay, "Run no earlier than this long from now");
  delay->type_name("DURATION");
  run_at->excludes(delay);
  auto* unique_key = AddOptional(enqueue, "--unique-key", e.unique_key,
              "At most one live job of this kind holds the key; a second enqueue returns it");
  unique_key->type_name("K");
  enqueue->add_option("--max-attempts", e.max_attempts, "Attempts before the job is discarded (1-1000)")
      ->capture_default_str()->type_name("N");
  AddOptional(enqueue, "--timeout", e.timeout, "Per-attempt time limit (default: the worker's)")
      ->type_name("DURATION");
  enqueue->add_flag("--dry-run", e.dry_run,
                    "Mark the job a dry run: its handler reports what it would change, changing nothing");
  enqueue->add_flag("--json", e.json, "Print {\"id\", \"existing\", \"state\"} as JSON");
  auto* count = enqueue->add_option("--count", e.count,
                                    "Enqueue N identical jobs, one id per line (--json: an array)")
                     ->capture_default_str()->type_name("N");
  auto* wait = enqueue->add_flag("--wait", e.wait,
                    "Block until the job finishes and print its outcome (exit 4 unless it succeeded)");
  count->excludes(wait);
  count->excludes(unique_key);
  AddOptional(enqueue, "--wait-timeout", e.wait_timeout, "Give up waiting after this long (exit 5)")
      ->type_name("DURATION");
  commands.emplace_back(enqueue, [&o](CommandContext& c) { return RunEnqueue(c, o.enqueue); });

  CLI::App* list = AddSubcommand(app, "list", "List jobs, newest first, one page at a time");
  auto& l = o.list;
  list->add_option("--state", l.states,
                   "Only jobs in this state (repeat or separate with commas): scheduled, available, "
                   "running, retryable, succeeded, discarded, cancelled")
      ->type_name("S")->allow_extra_args(false);
  AddOptional(list, "--kind", l.kind, "Only jobs of this kind")->type_name("K");
  AddOptional(list, "--queue", l.queue, "Only jobs in this queue")->type_name("Q");
  AddOptional(list, "--since", l.since,
              "Only jobs created at or after this RFC 3339 time, or this long ago (24h)")
      ->type_name("TIME|DURATION");
  list->add_option("--limit", l.limit, "Jobs per page (1-1000)")->capture_default_str()->type_name("N");
  AddOptional(list, "--before-id", l.before_id, "Page cursor: only jobs with a smaller id")
      ->type_name("ID");
  list->add_flag("--json", l.json, "Print {\"jobs\": [...], \"next_before_id\": N|null}");
  commands.emplace_back(list, [&o](CommandContext& c) { return RunList(c, o.list); });

  struct IdCommand {
    const char* name;
    const char* help;
    JobIdOptions* options;
    Result<void> (*run)(CommandContext&, const JobIdOptions&);
  };
  for (const IdCommand& ic : {
           IdCommand{"show", "Show one job with all its fields and its runs", &o.show, &RunShow},
           IdCommand{"cancel", "Cancel a job; a running job's worker is asked to stop it", &o.cancel,
                     &RunCancel},
           IdCommand{"retry", "Make a failed, cancelled or waiting job available now", &o.retry,
                     &RunRetry},
       }) {
    CLI::App* sub = AddSubcommand(app, ic.name, ic.help);
    sub->add_option("ID", ic.options->id, "Job id")->required();
    sub->add_flag("--json", ic.options->json, "Print JSON");
    auto* options = ic.options;
    auto* run = ic.run;
    commands.emplace_back(sub, [options, run](CommandContext& c) { return run(c, *options); });
  }

  CLI::App* stats = AddSubcommand(app, "stats",
      "Job counts per queue, kind and state; ready depth and oldest ready age per queue");
  stats->add_flag("--json", o.stats.json,
                  "Print {\"states\": {state: count}, \"rows\": [...], \"queues\": [...]}");
  commands.emplace_back(stats, [&o](CommandContext& c) { return RunStats(c, o.stats); });

  CLI::App* workers = AddSubcommand(app, "workers",
      "Workers connected to the scheduler: queues, slots, free slots, running jobs");
  workers->add_flag("--json", o.workers.json, "Print {\"workers\": [...]}");
  commands.emplace_back(workers, [&o](CommandContext& c) { return RunWorkers(c, o.workers); });
  return commands;
}

// The first argument that is neither an option nor a global option's value,
// if it names no command: CLI11 would only say "A subcommand is required".
std::optional<std::string> UnknownCommand(int argc, const char* const* argv, const CLI::App& app) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--database-url" || arg == "--scheduler" || arg == "--log-level") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    for (const CLI::App* sub : app.get_subcommands({})) {
      if (sub->get_name() == arg) return std::nullopt;
    }
    return std::string(arg);
  }
  return std::nullopt;
}

Result<std::unique_ptr<AdminBackend>> MakeBackend(const BackendTarget& target) {
  if (target.scheduler.empty()) {
    return std::make_unique<DbBackend>(DbBackendConfig{.database_url = target.database_url});
  }
  auto config = ZmqBackendConfig::FromList(target.scheduler);
  if (!config) return std::unexpected(config.error());
  auto curve = net::CurveClientConfig::FromEnvironment();
  if (!curve) return std::unexpected(curve.error());
  config->curve = *curve;
  auto secret = wire::AdminSecret::FromEnvironment();
  if (!secret) return std::unexpected(secret.error());
  return std::make_unique<ZmqBackend>(std::move(*config), std::move(*secret));
}

}  // namespace

int RunCli(int argc, const char* const* argv, CliEnvironment& env) {
  CLI::App app(kDescription, "jobctl");
  app.footer(std::string(kFooter) + "\n\n" + kExitCodeHelp);
  app.fallthrough();  // Global options may follow the subcommand.
  app.require_subcommand(1);
  Options o;
  AddOptional(&app, "--database-url", o.database_url,
              "PostgreSQL URL; overrides $CHIME_DATABASE_URL and, without --scheduler, $CHIME_SCHEDULER")
      ->type_name("URL");
  AddOptional(&app, "--scheduler", o.scheduler,
              "Scheduler endpoint(s), comma-separated; overrides $CHIME_SCHEDULER")
      ->type_name("ENDPOINTS");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  auto commands = DeclareCommands(app, o);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, env.out, env.err);  // --help
    if (auto unknown = UnknownCommand(argc, argv, app)) {
      env.err << "jobctl: unknown command \"" << OneLine(*unknown, 64)
              << "\"; commands: migrate, enqueue, list, show, cancel, retry, stats, workers\n";
      return kExitUsage;
    }
    env.err << "jobctl: " << OneLine(e.what(), 1000) << " (see --help)\n";
    return kExitUsage;
  }

  if (env.init_logging) {
    env.init_logging(o.log_level);
  } else {
    InitLogging("jobctl", o.log_level);
  }
  // Flags beat the environment: --database-url alone means the database
  // even when $CHIME_SCHEDULER names a scheduler (e.g. while it is down).
  std::string scheduler = o.scheduler ? *o.scheduler : "";
  if (!o.scheduler && !o.database_url) scheduler = env.scheduler.value_or("");
  BackendTarget target{o.database_url.value_or(env.database_url.value_or("")), scheduler};
  // Applying migrations needs the database itself.
  for (auto& [sub, action] : commands) {
    if (sub->parsed() && sub->get_name() == "migrate" && !o.migrate.status_only) target.scheduler.clear();
  }
  auto made = env.make_backend ? env.make_backend(target) : MakeBackend(target);
  if (!made) {
    env.err << "jobctl: " << OneLine(made.error().message, 4000) << "\n";
    return ExitCodeFor(made.error().code);
  }
  std::unique_ptr<AdminBackend> backend = std::move(*made);

  for (auto& [sub, action] : commands) {
    if (!sub->parsed()) continue;
    CommandContext ctx{*backend, env.out, env.in, env.now(), env.pause};
    auto result = action(ctx);
    env.out.flush();
    if (!result) {
      env.err << "jobctl: " << OneLine(result.error().message, 4000) << "\n";
      return ExitCodeFor(result.error().code);
    }
    return kExitOk;
  }
  env.err << "jobctl: no command given (see --help)\n";
  return kExitUsage;
}

}  // namespace chime::jobctl
