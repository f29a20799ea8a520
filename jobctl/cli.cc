#include "jobctl/cli.h"

#include <cstdlib>
#include <ostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/base/version.h"
#include "common/log/log.h"
#include "jobctl/completion.h"
#include "jobctl/commands.h"
#include "jobctl/curve_commands.h"
#include "jobctl/db_backend.h"
#include "jobctl/exit_code.h"
#include "jobctl/import_commands.h"
#include "jobctl/observe_commands.h"
#include "jobctl/run_commands.h"
#include "jobctl/schedule_commands.h"
#include "jobctl/limit_commands.h"
#include "jobctl/queue_commands.h"
#include "jobctl/token_commands.h"
#include "jobctl/zmq_backend.h"

namespace chime::jobctl {
namespace {

constexpr const char* kDescription =
    "jobctl: the Chime admin client. Applies schema migrations, enqueues jobs, lists,\n"
    "shows, cancels and retries them, prints queue and run statistics and health alerts,\n"
    "manages cron schedules (jobctl schedule --help), scoped tokens (jobctl token --help) and\n"
    "cluster-wide limits (jobctl limit --help), pauses queues (jobctl queue --help)\n"
    "and evaluates cron expressions (jobctl cron next).";

constexpr const char* kFooter =
    "Database: --database-url URL, else $CHIME_DATABASE_URL (a libpq URI such as\n"
    "postgresql://chime@db:5432/chime). Passwords are never printed. Through pgbouncer in\n"
    "transaction mode set $CHIME_DATABASE_POOLER=transaction.\n"
    "Scheduler: --scheduler ENDPOINTS, else $CHIME_SCHEDULER; requests are signed with the named\n"
    "token in --token-file FILE, $CHIME_TOKEN or $CHIME_TOKEN_FILE, else with the bootstrap admin\n"
    "secret ($CHIME_ADMIN_SECRET or $CHIME_ADMIN_SECRET_FILE).\n"
    "Times are RFC 3339 (2026-01-31T02:00:00Z); durations are like 500ms, 30s, 5m, 2h, 1h30m, 7d.\n"
    "Every subcommand answers --help.";

constexpr const char* kGlobalOptionsHelp =
    "Global options, before or after the subcommand: --database-url URL, --scheduler ENDPOINT,\n"
    "--token-file FILE, --log-level LEVEL.\n";

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
using LocalAction = std::function<Result<void>(LocalContext&)>;

// A command to run when its (sub)subcommand was parsed. A command with a
// local action needs no backend: none is made for it, unless `local_if`
// says no for this invocation (import-vercel without --dry-run).
struct Command {
  CLI::App* sub = nullptr;
  Action action = nullptr;
  LocalAction local = nullptr;
  std::function<bool()> local_if = nullptr;
};

struct Options {
  std::optional<std::string> database_url;
  std::optional<std::string> scheduler;
  std::optional<std::string> token_file;
  std::string log_level = "warn";
  MigrateOptions migrate;
  AppSchemaOptions app_schema;
  EnqueueOptions enqueue;
  ListOptions list;
  JobIdOptions show, cancel, retry;
  StatsOptions stats;
  RunStatsOptions run_stats;
  AlertsOptions alerts;
  RunsOptions runs;
  WorkersOptions workers;
  CronNextOptions cron_next;
  ProbeOptions probe;
  CurveKeygenOptions curve_keygen;
  ScheduleLintOptions schedule_lint;
  ScheduleCreateOptions schedule_create;
  ScheduleUpdateOptions schedule_update;
  ScheduleNameOptions schedule_delete, schedule_show, schedule_pause, schedule_resume,
      schedule_trigger;
  ScheduleListOptions schedule_list;
  ScheduleBackfillOptions schedule_backfill;
  ScheduleImportOptions schedule_import{.source = ScheduleImportOptions::Source::kVercel};
  ScheduleImportOptions schedule_import_cloud{.source = ScheduleImportOptions::Source::kCloudScheduler};
  ScheduleLeaderOptions schedule_leader;
  TokenCreateOptions token_create;
  TokenListOptions token_list;
  TokenRevokeOptions token_revoke;
  WhoamiOptions whoami;
  LimitSetOptions limit_set;
  LimitListOptions limit_list;
  LimitDeleteOptions limit_delete;
  QueuePauseOptions queue_pause;
  QueuePauseOptions queue_resume{.paused = false};
  QueueListOptions queue_list;
  std::string completion_shell;
  ScheduleFiresOptions schedule_fires;
};

// The `token` group and `whoami`.
void DeclareTokenCommands(CLI::App& app, Options& o, std::vector<Command>& commands) {
  CLI::App* token = AddSubcommand(app, "token",
      "Named tokens with a scope, for jobctl (CHIME_TOKEN) and the HTTP API: create, list,\n"
      "revoke. Scopes: read (list, show, stats, limit list, queue list, the API and dashboard), operate\n"
      "(read + retry, cancel, schedule trigger/pause/resume, queue pause/resume), admin (operate + enqueue, schedule\n"
      "create/update/delete/backfill, limit set/delete, tokens). Through the database (--database-url) no token\n"
      "is needed, so the first one can be made there");
  token->require_subcommand(1);

  CLI::App* create = AddSubcommand(*token, "create",
      "Make a token and print it once (chime_NAME_SECRET); only its SHA-256 and Ed25519 public\n"
      "key are stored. A revoked or expired token's name may be reused");
  auto& tc = o.token_create;
  create->add_option("NAME", tc.name, "Token name: 1-64 of A-Z a-z 0-9 _ . -")->required();
  create->add_option("--scope", tc.scope, "read, operate or admin")->required()->type_name("SCOPE");
  AddOptional(create, "--expires", tc.expires, "Lifetime, e.g. 30d or 12h (default: never)")
      ->type_name("DURATION");
  create->add_flag("--json", tc.json, "Print {\"name\", \"scope\", ..., \"token\"}");
  commands.push_back({create, [&o](CommandContext& c) { return RunTokenCreate(c, o.token_create); }});

  CLI::App* list = AddSubcommand(*token, "list",
      "List tokens: scope, state (active, expired, revoked), created, created by, last used\n"
      "(within a minute), expiry. Never shows a secret");
  list->add_flag("--json", o.token_list.json, "Print {\"tokens\": [...]}");
  commands.push_back({list, [&o](CommandContext& c) { return RunTokenList(c, o.token_list); }});

  CLI::App* revoke = AddSubcommand(*token, "revoke",
      "Revoke a token: every scheduler refuses it within seconds (their caches last 2 s)");
  revoke->add_option("NAME", o.token_revoke.name, "Token name")->required();
  revoke->add_flag("--json", o.token_revoke.json, "Print the token as JSON");
  commands.push_back({revoke, [&o](CommandContext& c) { return RunTokenRevoke(c, o.token_revoke); }});

  CLI::App* whoami = AddSubcommand(app, "whoami",
      "Ask the scheduler which credential jobctl signs with: its name, scope and expiry");
  whoami->add_flag("--json", o.whoami.json, "Print {\"name\", \"scope\", \"bootstrap\", \"expires_at\"}");
  commands.push_back({whoami, [&o](CommandContext& c) { return RunWhoami(c, o.whoami); }});
}

// The `limit` group.
void DeclareLimitCommands(CLI::App& app, Options& o, std::vector<Command>& commands) {
  CLI::App* limit = AddSubcommand(app, "limit",
      "Cluster-wide limits: at most N jobs running at once and/or at most COUNT started per\n"
      "sliding WINDOW, for a queue and/or kind, one budget per value of a payload field.\n"
      "Every worker's claim keeps them; a job over its limit stays ready, unclaimed. Through a\n"
      "scheduler (list: scope read; set, delete: admin) or the database, alike. A schedule\n"
      "file or kinds file may declare them too (limits:), applied by the scheduler at start");
  limit->require_subcommand(1);

  CLI::App* set = AddSubcommand(*limit, "set",
      "Create or replace a limit, e.g.\n"
      "  jobctl limit set github-rate --kind sync_integration --partition-by provider --rate 5000/1h\n"
      "  jobctl limit set one-sync-per-user --kind sync_integration --partition-by userId --concurrency 1");
  auto& ls = o.limit_set;
  set->add_option("NAME", ls.name, "Limit name (A-Z a-z 0-9 _ . : -)")->required();
  AddOptional(set, "--queue", ls.queue, "Only jobs of this queue (default: any)")->type_name("QUEUE");
  AddOptional(set, "--kind", ls.kind, "Only jobs of this kind (default: any)")->type_name("KIND");
  AddOptional(set, "--partition-by", ls.partition_by,
              "A top-level payload field: one budget per value (provider, userId)")
      ->type_name("FIELD");
  AddOptional(set, "--concurrency", ls.concurrency, "At most N running at once (per partition)")
      ->type_name("N");
  AddOptional(set, "--rate", ls.rate,
              "At most COUNT started in any WINDOW (per partition): 100/1m, 5000/1h, 10/s")
      ->type_name("COUNT/WINDOW");
  set->add_flag("--json", ls.json, "Print the limit as JSON");
  commands.push_back({set, [&o](CommandContext& c) { return RunLimitSet(c, o.limit_set); }});

  CLI::App* list = AddSubcommand(*limit, "list",
      "List limits with what they apply to, running and ready jobs, and their busiest partitions");
  list->add_flag("--json", o.limit_list.json, "Print {\"limits\": [...]}");
  commands.push_back({list, [&o](CommandContext& c) { return RunLimitList(c, o.limit_list); }});

  CLI::App* del = AddSubcommand(*limit, "delete", "Delete a limit; the jobs it held become claimable");
  del->add_option("NAME", o.limit_delete.name, "Limit name")->required();
  del->add_flag("--json", o.limit_delete.json, "Print {\"name\", \"deleted\"}");
  commands.push_back({del, [&o](CommandContext& c) { return RunLimitDelete(c, o.limit_delete); }});
}

// The `queue` group.
void DeclareQueueCommands(CLI::App& app, Options& o, std::vector<Command>& commands) {
  CLI::App* queue = AddSubcommand(app, "queue",
      "Queues: pause one (it accepts jobs, no worker claims them until it is resumed; running\n"
      "jobs finish), resume it, list them. Through a scheduler (list: scope read; pause,\n"
      "resume: operate) or the database, alike");
  queue->require_subcommand(1);

  CLI::App* pause = AddSubcommand(*queue, "pause",
      "Pause a queue (it need not have jobs yet); pausing a paused queue changes nothing");
  pause->add_option("NAME", o.queue_pause.name, "Queue name")->required();
  pause->add_flag("--json", o.queue_pause.json, "Print the queue as JSON");
  commands.push_back({pause, [&o](CommandContext& c) { return RunQueuePause(c, o.queue_pause); }});

  CLI::App* resume = AddSubcommand(*queue, "resume",
      "Resume a queue: its workers are woken and claim its ready jobs at once");
  resume->add_option("NAME", o.queue_resume.name, "Queue name")->required();
  resume->add_flag("--json", o.queue_resume.json, "Print the queue as JSON");
  commands.push_back({resume, [&o](CommandContext& c) { return RunQueuePause(c, o.queue_resume); }});

  CLI::App* list = AddSubcommand(*queue, "list",
      "List queues with live jobs or a pause on record: state, ready, scheduled and running jobs,\n"
      "the oldest ready job's age");
  list->add_flag("--json", o.queue_list.json, "Print {\"queues\": [...]}");
  commands.push_back({list, [&o](CommandContext& c) { return RunQueueList(c, o.queue_list); }});
}

// The flags of `schedule create` (where --cron and --kind are required) and
// `schedule update` (where every flag is optional and unset ones keep their value).
void AddScheduleFlags(CLI::App* sub, ScheduleFlags& f, bool create) {
  const std::string keep = create ? "" : "; unset: unchanged";
  auto* cron = AddOptional(sub, "--cron", f.cron,
                           "Cron expression: five fields (minute hour day-of-month month "
                           "day-of-week) or @hourly/@daily/@weekly/@monthly/@yearly; quote it" + keep);
  cron->type_name("EXPR");
  auto* kind = AddOptional(sub, "--kind", f.kind, "Job kind each fire enqueues" + keep);
  kind->type_name("KIND");
  if (create) {
    cron->required();
    kind->required();
  }
  AddOptional(sub, "--tz", f.time_zone,
              "IANA time zone the expression is read in (create default: UTC)" + keep)
      ->type_name("ZONE");
  auto* payload = AddOptional(sub, "--payload", f.payload, "Job payload as JSON (create default: {})" + keep);
  payload->type_name("JSON");
  auto* payload_file = AddOptional(sub, "--payload-file", f.payload_file,
                                   "Read the payload from FILE (- for stdin)");
  payload_file->type_name("FILE");
  payload->excludes(payload_file);
  AddOptional(sub, "--queue", f.queue, "Queue of the jobs (create default: default)" + keep)
      ->type_name("Q");
  AddOptional(sub, "--priority", f.priority, "0 (first) .. 9 (last) (create default: 0)" + keep)
      ->type_name("N");
  AddOptional(sub, "--max-attempts", f.max_attempts,
              "Attempts before a job is discarded (create default: 20)" + keep)
      ->type_name("N");
  AddOptional(sub, "--timeout", f.timeout,
              "Per-attempt time limit, or none for the worker's default (create default: none)" + keep)
      ->type_name("DURATION");
  AddOptional(sub, "--jitter", f.jitter,
              "Run each fire's job up to this much later, 0 .. 1h (create default: 0)" + keep)
      ->type_name("DURATION");
  AddOptional(sub, "--overlap", f.overlap,
              "While the previous fire's job is live: skip, allow, buffer_one or cancel_running "
              "(create default: skip)" + keep)
      ->type_name("POLICY");
  AddOptional(sub, "--misfire", f.misfire,
              "Ticks missed while no scheduler ran: skip, run_once or run_all "
              "(create default: run_once)" + keep)
      ->type_name("POLICY");
  sub->add_option("--health", f.health,
                  "Health-rule threshold, as under health: in a schedule file; repeat or separate\n"
                  "with commas: consecutive_failures=5, failure_rate=0.25, success_rate=off,\n"
                  "average_duration=10m, run_duration=1h, no_success_within=6h, min_runs=10,\n"
                  "enabled=false; \"defaults\" drops the overrides given before it" +
                      (create ? std::string() : std::string("; rules not named keep their value")))
      ->type_name("KEY=VALUE")->delimiter(',')->allow_extra_args(false);
}

// `cron next` and the `schedule` group.
void DeclareScheduleCommands(CLI::App& app, Options& o, std::vector<Command>& commands) {
  CLI::App* cron = AddSubcommand(app, "cron", "Cron expression tools (need no database): cron next");
  cron->require_subcommand(1);
  CLI::App* next = AddSubcommand(*cron, "next",
      "Print the next fire times of a cron expression, one RFC 3339 UTC time per line");
  auto& cn = o.cron_next;
  next->add_option("EXPR", cn.expression,
                   "Five fields or a macro, e.g. \"0 */2 * * *\" or @daily (quote it)")->required();
  next->add_option("--tz", cn.time_zone, "IANA time zone the expression is read in")
      ->capture_default_str()->type_name("ZONE");
  AddOptional(next, "--from", cn.from, "Fire times strictly after this RFC 3339 time (default: now)")
      ->type_name("TIME");
  next->add_option("--count", cn.count, "How many fire times (1-1000)")->capture_default_str()->type_name("N");
  next->add_flag("--json", cn.json, "Print a JSON array of RFC 3339 strings");
  commands.push_back({.sub = next, .local = [&o](LocalContext& c) { return RunCronNext(c, o.cron_next); }});

  CLI::App* sched = AddSubcommand(app, "schedule",
      "Cron schedules: lint a schedule file; create, update, delete, show, list, pause, resume,\n"
      "trigger and backfill schedules; import a vercel.json or Cloud Scheduler jobs; show the\n"
      "scheduler leader");
  sched->require_subcommand(1);

  CLI::App* lint = AddSubcommand(*sched, "lint",
      "Check a schedule file (YAML) without a database; every bad entry is named");
  lint->add_option("FILE", o.schedule_lint.file, "Schedule file (- for stdin)")->required();
  commands.push_back({.sub = lint, .local = [&o](LocalContext& c) { return RunScheduleLint(c, o.schedule_lint); }});

  CLI::App* list = AddSubcommand(*sched, "list",
      "List schedules with their next fire (computed here from now), last fire and last run,\n"
      "after a line saying which scheduler leads");
  list->add_flag("--json", o.schedule_list.json, "Print {\"leader\": {...} | null, \"schedules\": [...]}");
  commands.push_back({.sub = list, .action = [&o](CommandContext& c) { return RunScheduleList(c, o.schedule_list); }});

  CLI::App* create = AddSubcommand(*sched, "create",
      "Create a schedule; prints it with its next 3 fire times");
  create->add_option("NAME", o.schedule_create.name, "Schedule name: 1-128 of A-Z a-z 0-9 _ . : -")
      ->required();
  AddScheduleFlags(create, o.schedule_create.flags, /*create=*/true);
  create->add_flag("--paused", o.schedule_create.paused, "Create it paused (resume to start it)");
  create->add_flag("--json", o.schedule_create.json, "Print the schedule as JSON");
  commands.push_back({.sub = create, .action = [&o](CommandContext& c) {
                        return RunScheduleCreate(c, o.schedule_create);
                      }});

  CLI::App* update = AddSubcommand(*sched, "update",
      "Change the flags given of a schedule; the rest keep their values.\n"
      "A new --cron or --tz restarts the schedule from now. Pausing: schedule pause/resume");
  update->add_option("NAME", o.schedule_update.name, "Schedule name")->required();
  AddScheduleFlags(update, o.schedule_update.flags, /*create=*/false);
  update->add_flag("--json", o.schedule_update.json, "Print the schedule as JSON");
  commands.push_back({.sub = update, .action = [&o](CommandContext& c) {
                        return RunScheduleUpdate(c, o.schedule_update);
                      }});

  struct NameCommand {
    const char* name;
    const char* help;
    ScheduleNameOptions* options;
    Result<void> (*run)(CommandContext&, const ScheduleNameOptions&);
    const char* json_help;  // Null: no --json.
  };
  for (const NameCommand& nc : {
           NameCommand{"show", "Show every field of a schedule and its next 3 fire times",
                       &o.schedule_show, &RunScheduleShow, "Print the schedule as JSON"},
           NameCommand{"delete", "Delete a schedule and its fire records; jobs it fired stay",
                       &o.schedule_delete, &RunScheduleDelete, nullptr},
           NameCommand{"pause", "Pause a schedule: no fires until it is resumed", &o.schedule_pause,
                       &RunSchedulePause, "Print the schedule as JSON"},
           NameCommand{"resume",
                       "Resume a paused schedule from now (ticks while paused are not made up)",
                       &o.schedule_resume, &RunScheduleResume, "Print the schedule as JSON"},
           NameCommand{"trigger",
                       "Fire a schedule now, paused or not, under its overlap policy (rate-limited "
                       "per schedule)",
                       &o.schedule_trigger, &RunScheduleTrigger,
                       "Print {\"scheduled_for\", \"outcome\", \"job_id\"}"},
       }) {
    CLI::App* sub = AddSubcommand(*sched, nc.name, nc.help);
    sub->add_option("NAME", nc.options->name, "Schedule name")->required();
    if (nc.json_help != nullptr) sub->add_flag("--json", nc.options->json, nc.json_help);
    auto* options = nc.options;
    auto* run = nc.run;
    commands.push_back({.sub = sub, .action = [options, run](CommandContext& c) { return run(c, *options); }});
  }

  CLI::App* backfill = AddSubcommand(*sched, "backfill",
      "Fire every tick of a schedule in (--from, --to], oldest first; ticks already fired are "
      "left alone");
  auto& bf = o.schedule_backfill;
  backfill->add_option("NAME", bf.name, "Schedule name")->required();
  backfill->add_option("--from", bf.from, "Exclusive start, RFC 3339")->required()->type_name("TIME");
  backfill->add_option("--to", bf.to, "Inclusive end, RFC 3339")->required()->type_name("TIME");
  backfill->add_flag("--json", bf.json, "Print {\"ticks\": [...], \"enqueued\", \"already_fired\", \"other\"}");
  commands.push_back({.sub = backfill, .action = [&o](CommandContext& c) {
                        return RunScheduleBackfill(c, o.schedule_backfill);
                      }});

  // What both importers take: how the imported schedules authenticate,
  // time out, retry and overlap.
  auto add_import_flags = [](CLI::App* import, ScheduleImportOptions& im, const std::string& auth_default) {
    im.secret_ref = "env:CRON_SECRET";
    import->add_option("--secret-ref", im.secret_ref,
                       "Where workers find the secret: env:NAME or file:/path (never the secret itself)")
        ->capture_default_str()->type_name("REF");
    AddOptional(import, "--auth", im.auth,
                "bearer (Authorization: Bearer), x-cron-secret, header:NAME (e.g. header:x-cron-key) or none "
                "(default: " + auth_default + ")")
        ->type_name("AUTH");
    AddOptional(import, "--timeout", im.timeout,
                "The call's time limit, up to 1h (default: " +
                    std::string(im.source == ScheduleImportOptions::Source::kVercel ? "5m, http_request's default"
                                                                                   : "the job's attemptDeadline, else 5m") +
                    ")")
        ->type_name("DURATION");
    AddOptional(import, "--max-attempts", im.max_attempts,
                "Attempts per tick (default: " +
                    std::string(im.source == ScheduleImportOptions::Source::kVercel ? "3" : "retryConfig.retryCount + 1") +
                    ")")
        ->type_name("N");
    AddOptional(import, "--overlap", im.overlap,
                "While a tick's job is live: skip, allow, buffer_one or cancel_running (default: skip)")
        ->type_name("POLICY");
    AddOptional(import, "--tz", im.time_zone,
                "IANA time zone the schedules are read in (default: " +
                    std::string(im.source == ScheduleImportOptions::Source::kVercel ? "UTC, as Vercel" : "the job's timeZone") +
                    ")")
        ->type_name("ZONE");
    import->add_flag("--dry-run", im.dry_run, "Print the schedules as a schedule file (YAML); create nothing");
    import->add_flag("--json", im.json, "Print JSON");
  };

  CLI::App* import = AddSubcommand(*sched, "import-vercel",
      "Turn a vercel.json's \"crons\" into http_request schedules that call BASE_URL + path (query\n"
      "kept) as Vercel does (GET, \"Authorization: Bearer <secret>\", UTC); creates them, or with\n"
      "--dry-run prints a schedule file without touching the database");
  auto& im = o.schedule_import;
  import->add_option("FILE", im.file, "vercel.json (- for stdin)")->required();
  import->add_option("--base-url", im.base_url, "Where the app runs: http(s)://host[:port][/prefix]")
      ->required()->type_name("URL");
  AddOptional(import, "--method", im.method, "HTTP method of every call (default: GET, as Vercel; POST for "
                                             "routes that take only POST)")
      ->type_name("METHOD");
  add_import_flags(import, im, "bearer");
  commands.push_back({.sub = import,
                      .action = [&o](CommandContext& c) { return RunScheduleImport(c, o.schedule_import); },
                      .local = [&o](LocalContext& c) { return RunScheduleImportDryRun(c, o.schedule_import); },
                      .local_if = [&o] { return o.schedule_import.dry_run; }});

  CLI::App* cloud = AddSubcommand(*sched, "import-cloud-scheduler",
      "Turn Google Cloud Scheduler jobs (the JSON of `gcloud scheduler jobs list --format=json`)\n"
      "into http_request schedules: schedule, timeZone, httpTarget uri/method/headers/body,\n"
      "attemptDeadline, retryConfig. A secret in a header becomes auth with --secret-ref; its value\n"
      "is never copied. Creates them, or with --dry-run prints a schedule file");
  auto& ic = o.schedule_import_cloud;
  cloud->add_option("FILE", ic.file, "gcloud's JSON (- for stdin)")->required();
  add_import_flags(cloud, ic, "the job's credential header");
  commands.push_back({.sub = cloud,
                      .action = [&o](CommandContext& c) { return RunScheduleImport(c, o.schedule_import_cloud); },
                      .local = [&o](LocalContext& c) { return RunScheduleImportDryRun(c, o.schedule_import_cloud); },
                      .local_if = [&o] { return o.schedule_import_cloud.dry_run; }});
  CLI::App* fires = AddSubcommand(*sched, "fires",
      "A schedule's recorded ticks, newest first, skipped overlaps and misfires included:\n"
      "origin, what the tick did, its job's state and its run's final outcome");
  auto& sf = o.schedule_fires;
  fires->add_option("NAME", sf.name, "Schedule name")->required();
  AddOptional(fires, "--before", sf.before, "Page cursor: only ticks before this RFC 3339 time")
      ->type_name("TIME");
  fires->add_option("--limit", sf.limit, "Ticks per page (1-1000)")->capture_default_str()->type_name("N");
  fires->add_flag("--json", sf.json, "Print {\"fires\": [...], \"next_before\": TIME|null}");
  commands.push_back({.sub = fires, .action = [&o](CommandContext& c) {
                        return RunScheduleFires(c, o.schedule_fires);
                      }});

  CLI::App* leader = AddSubcommand(*sched, "leader",
      "Which scheduler holds the leader lease: holder, epoch, acquired and expiry times");
  leader->add_flag("--json", o.schedule_leader.json, "Print {\"leader\": {...} | null}");
  commands.push_back({.sub = leader, .action = [&o](CommandContext& c) {
                        return RunScheduleLeader(c, o.schedule_leader);
                      }});
}

// Declares every subcommand on `app`; returns each with the action to run.
std::vector<Command> DeclareCommands(CLI::App& app, Options& o) {
  std::vector<Command> commands;

  CLI::App* probe = AddSubcommand(
      app, "probe",
      "GET a loopback health URL, print the body; exit 0 on 2xx, 5 otherwise (container health checks)");
  probe->add_option("URL", o.probe.url, "http://127.0.0.1:PORT/PATH")->capture_default_str();
  probe->add_option("--timeout", o.probe.timeout, "Give up after this long")->capture_default_str()
      ->type_name("DURATION");
  commands.push_back({.sub = probe, .local = [&o](LocalContext& c) { return RunProbe(c, o.probe); }});

  CLI::App* keygen = AddSubcommand(
      app, "curve-keygen",
      "Write a new CURVE key pair to FILE (mode 0600, never over an existing file) and print its "
      "public key, for CHIME_CURVE_*_FILE and the scheduler's allowlist");
  keygen->add_option("FILE", o.curve_keygen.file, "The key pair file to create")->required();
  commands.push_back(
      {.sub = keygen, .local = [&o](LocalContext& c) { return RunCurveKeygen(c, o.curve_keygen); }});

  CLI::App* completion = AddSubcommand(
      app, "completion",
      "Print a shell completion script for bash or zsh (needs no database):\n"
      "source <(jobctl completion bash), or jobctl completion zsh > \"${fpath[1]}/_jobctl\"");
  completion->add_option("SHELL", o.completion_shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  commands.push_back({.sub = completion, .local = [&o, &app](LocalContext& c) -> Result<void> {
                        // The whole tree is declared by the time this runs.
                        auto script = CompletionScript(app, o.completion_shell);
                        if (!script) return std::unexpected(script.error());
                        c.out << *script;
                        return {};
                      }});

  CLI::App* migrate = AddSubcommand(app, "migrate", "Apply pending schema migrations and print the versions");
  migrate->add_flag("--status", o.migrate.status_only, "Only report the versions; change nothing");
  migrate->add_flag("--json", o.migrate.json, "Print JSON");
  commands.push_back({migrate, [&o](CommandContext& c) { return RunMigrate(c, o.migrate); }});
  CLI::App* app_schema = AddSubcommand(
      app, "app-schema",
      "Create the application schema chime_app that the seeds' kinds read by default "
      "(users, integrations, exams, bookings; see common/app/app_schema.sql)");
  app_schema->add_flag("--demo-data", o.app_schema.demo_data,
                       "Also insert demo users, integrations, exams and bookings (missing rows only)");
  commands.push_back({app_schema, [&o](CommandContext& c) { return RunAppSchema(c, o.app_schema); }});

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
  AddOptional(enqueue, "--timeout", e.timeout,
              "Per-attempt time limit (default: the worker's, 30m, or what the kind needs: an http_request's "
              "timeoutMs, default 5m, at most 1h, plus 1m)")
      ->type_name("DURATION");
  enqueue->add_flag("--dry-run", e.dry_run,
                    "Mark the job a dry run: its handler reports what it would change, changing nothing\n"
                    "(so does \"dry_run\": true or \"dryRun\": true in the payload)");
  enqueue->add_flag("--json", e.json, "Print {\"id\", \"existing\", \"state\"} as JSON");
  auto* count = enqueue->add_option("--count", e.count,
                                    "Enqueue N identical jobs, one id per line (--json: an array)")
                     ->capture_default_str()->type_name("N");
  auto* wait = enqueue->add_flag("--wait", e.wait,
                    "Block until the job's run has its final outcome (a fan-out's waits for its\n"
                    "children) and print it: exit 0 succeeded, 8 partial, 9 skipped, 4 failed or cancelled");
  count->excludes(wait);
  count->excludes(unique_key);
  AddOptional(enqueue, "--wait-timeout", e.wait_timeout, "Give up waiting after this long (exit 5)")
      ->type_name("DURATION");
  commands.push_back({enqueue, [&o](CommandContext& c) { return RunEnqueue(c, o.enqueue); }});

  CLI::App* list = AddSubcommand(app, "list",
      "List jobs, newest first, one page at a time: state and final outcome (succeeded,\n"
      "partial, failed, skipped, cancelled; \"waiting\" for a fan-out's children), schedule");
  auto& l = o.list;
  list->add_option("--state", l.states,
                   "Only jobs in this state (repeat or separate with commas): scheduled, available, "
                   "running, retryable, succeeded, discarded, cancelled")
      ->type_name("S")->allow_extra_args(false);
  AddOptional(list, "--kind", l.kind, "Only jobs of this kind")->type_name("K");
  AddOptional(list, "--queue", l.queue, "Only jobs in this queue")->type_name("Q");
  AddOptional(list, "--schedule", l.schedule, "Only jobs the schedule of this name fired")->type_name("NAME");
  AddOptional(list, "--since", l.since,
              "Only jobs created at or after this RFC 3339 time, or this long ago (24h)")
      ->type_name("TIME|DURATION");
  list->add_option("--limit", l.limit, "Jobs per page (1-1000)")->capture_default_str()->type_name("N");
  AddOptional(list, "--before-id", l.before_id, "Page cursor: only jobs with a smaller id")
      ->type_name("ID");
  list->add_flag("--json", l.json, "Print {\"jobs\": [...], \"next_before_id\": N|null}");
  commands.push_back({list, [&o](CommandContext& c) { return RunList(c, o.list); }});

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
    commands.push_back({sub, [options, run](CommandContext& c) { return run(c, *options); }});
  }

  CLI::App* stats = AddSubcommand(app, "stats",
      "Job counts per queue, kind and state; ready depth and oldest ready age per queue.\n"
      "With --by: run statistics per schedule or job kind from the run ledger (executions,\n"
      "successes, failures, success rate, average and p95 duration, last run, failure streak,\n"
      "recent failures)");
  stats->add_flag("--json", o.stats.json,
                  "Print {\"states\": {state: count}, \"rows\": [...], \"queues\": [...]}; with --by\n"
                  "{\"stats\": [...], \"alerts\": [...], \"timeRange\": {...}} (the seeds' monitoring shape)");
  AddOptional(stats, "--by", o.run_stats.by, "Run statistics per schedule or per kind")
      ->type_name("schedule|kind");
  AddOptional(stats, "--name", o.run_stats.name, "Only this schedule (or kind); needs --by")
      ->type_name("NAME");
  AddOptional(stats, "--hours", o.run_stats.hours, "Range back from now, 1-168 (default 24); needs --by")
      ->type_name("N");
  commands.push_back({stats, [&o](CommandContext& c) {
                        if (!o.run_stats.by && !o.run_stats.name && !o.run_stats.hours) {
                          return RunStats(c, o.stats);
                        }
                        o.run_stats.json = o.stats.json;
                        return RunRunStats(c, o.run_stats);
                      }});

  CLI::App* runs = AddSubcommand(app, "runs",
      "Runs, newest first: each finished job (a schedule's tick) with its final outcome\n"
      "(succeeded, partial, failed, skipped, cancelled, or waiting for its children) and the\n"
      "attempts it took; --attempts lists every attempt instead");
  auto& rn = o.runs;
  AddOptional(runs, "--schedule", rn.schedule, "Only runs of this schedule")->type_name("NAME");
  AddOptional(runs, "--kind", rn.kind, "Only runs of this kind")->type_name("K");
  AddOptional(runs, "--outcome", rn.outcome,
              "Only runs with this final outcome: succeeded, partial, failed, skipped, cancelled, waiting")
      ->type_name("O");
  AddOptional(runs, "--since", rn.since,
              "Only runs that finished at or after this RFC 3339 time, or this long ago (24h)")
      ->type_name("TIME|DURATION");
  runs->add_flag("--attempts", rn.attempts, "List every attempt, not only each run's final one");
  runs->add_option("--limit", rn.limit, "Runs per page (1-1000)")->capture_default_str()->type_name("N");
  AddOptional(runs, "--before-id", rn.before_id, "Page cursor: only runs older than this run id")
      ->type_name("ID");
  runs->add_flag("--json", rn.json, "Print {\"runs\": [...], \"next_before_id\": N|null}");
  commands.push_back({runs, [&o](CommandContext& c) { return RunRuns(c, o.runs); }});

  CLI::App* alerts = AddSubcommand(app, "alerts",
      "Health alerts of schedules (failure rate, failure streak, slow or stuck runs, no success\n"
      "within a window): the firing ones, or with --all resolved ones too, newest first");
  alerts->add_flag("--all", o.alerts.all, "Also list resolved alerts");
  alerts->add_option("--limit", o.alerts.limit, "At most this many (1-1000)")
      ->capture_default_str()->type_name("N");
  alerts->add_flag("--json", o.alerts.json, "Print {\"alerts\": [...]}");
  commands.push_back({alerts, [&o](CommandContext& c) { return RunAlerts(c, o.alerts); }});

  CLI::App* workers = AddSubcommand(app, "workers",
      "Workers connected to the scheduler: queues, slots, free slots, running jobs");
  workers->add_flag("--json", o.workers.json, "Print {\"workers\": [...]}");
  commands.push_back({workers, [&o](CommandContext& c) { return RunWorkers(c, o.workers); }});
  DeclareScheduleCommands(app, o, commands);
  DeclareTokenCommands(app, o, commands);
  DeclareLimitCommands(app, o, commands);
  DeclareQueueCommands(app, o, commands);
  return commands;
}

std::string CommandNames(const CLI::App& group) {
  std::string out;
  for (const CLI::App* sub : group.get_subcommands({})) {
    if (!out.empty()) out += ", ";
    out += sub->get_name();
  }
  return out;
}

// A clearer message than CLI11's when the (sub)command is unknown or a group
// (schedule, cron) is given without one; nullopt when the commands are fine.
// Arguments that are options or a global option's value are skipped.
std::optional<std::string> CommandProblem(int argc, const char* const* argv, const CLI::App& app) {
  const CLI::App* group = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--database-url" || arg == "--scheduler" || arg == "--log-level" ||
        arg == "--token-file") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    const CLI::App* found = nullptr;
    for (const CLI::App* sub : group->get_subcommands({})) {
      if (sub->get_name() == arg) found = sub;
    }
    if (found == nullptr) {
      const std::string what = group == &app ? "command" : group->get_name() + " command";
      return "unknown " + what + " \"" + OneLine(arg, 64) + "\"; commands: " + CommandNames(*group);
    }
    if (found->get_subcommands({}).empty()) return std::nullopt;
    group = found;
  }
  if (group != &app) return group->get_name() + ": give a command: " + CommandNames(*group);
  return std::nullopt;
}

// CLI11's message for a parse error, without the program name it may lead
// with; an argument CLI11 could not place is named rather than hidden
// behind "A subcommand is required".
std::string UsageProblem(const CLI::App& app, const CLI::ParseError& e) {
  std::string message = e.what();
  if (const std::string prefix = app.get_name() + ": "; message.starts_with(prefix)) message.erase(0, prefix.size());
  const std::vector<std::string> left = app.remaining();
  if (e.get_name() == "RequiredError" && !left.empty()) {
    message = "unknown option or argument \"" + left.front() + "\"";
  }
  return message;
}

Result<std::unique_ptr<AdminBackend>> MakeBackend(const BackendTarget& target) {
  if (target.scheduler.empty()) {
    const char* pooler = std::getenv("CHIME_DATABASE_POOLER");
    auto pooled = db::ParsePooler(pooler != nullptr ? pooler : "");
    if (!pooled) return std::unexpected(pooled.error());
    return std::make_unique<DbBackend>(
        DbBackendConfig{.database_url = target.database_url, .pooled = *pooled});
  }
  auto config = ZmqBackendConfig::FromList(target.scheduler);
  if (!config) return std::unexpected(config.error());
  auto curve = net::CurveClientConfig::FromEnvironment();
  if (!curve) return std::unexpected(curve.error());
  config->curve = *curve;
  auto credential = wire::AdminCredential::FromEnvironment(target.token_file);
  if (!credential) return std::unexpected(credential.error());
  return std::make_unique<ZmqBackend>(std::move(*config), std::move(*credential));
}

}  // namespace

int RunCli(int argc, const char* const* argv, CliEnvironment& env) {
  CLI::App app(kDescription, "jobctl");
  app.set_version_flag("--version", VersionLine("jobctl"));
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
  AddOptional(&app, "--token-file", o.token_file,
              "The named token to sign scheduler requests with; overrides $CHIME_TOKEN(_FILE)")
      ->type_name("FILE");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  auto commands = DeclareCommands(app, o);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, env.out, env.err);  // --help
    if (auto problem = CommandProblem(argc, argv, app)) {
      env.err << "jobctl: " << *problem << "\n";
      return kExitUsage;
    }
    env.err << "jobctl: " << OneLine(UsageProblem(app, e), 1000) << " (see --help)\n";
    return kExitUsage;
  }

  if (env.init_logging) {
    env.init_logging(o.log_level);
  } else {
    InitLogging("jobctl", o.log_level);
  }
  const Command* command = nullptr;
  for (const Command& c : commands) {
    if (c.sub->parsed()) command = &c;
  }
  if (command == nullptr) {
    env.err << "jobctl: no command given (see --help)\n";
    return kExitUsage;
  }
  auto finish = [&env](const Result<void>& result, std::optional<int> exit_code = std::nullopt) {
    env.out.flush();
    if (!result) {
      env.err << "jobctl: " << OneLine(result.error().message, 4000) << "\n";
      return static_cast<int>(ExitCodeFor(result.error().code));
    }
    return exit_code.value_or(static_cast<int>(kExitOk));
  };
  if (command->local && (!command->local_if || command->local_if())) {
    LocalContext ctx{env.out, env.err, env.in, env.now()};
    return finish(command->local(ctx));
  }

  // Flags beat the environment: --database-url alone means the database
  // even when $CHIME_SCHEDULER names a scheduler (e.g. while it is down).
  std::string scheduler = o.scheduler ? *o.scheduler : "";
  if (!o.scheduler && !o.database_url) scheduler = env.scheduler.value_or("");
  BackendTarget target{o.database_url.value_or(env.database_url.value_or("")), scheduler,
                       o.token_file};
  // Applying migrations needs the database itself.
  if (command->sub->get_name() == "migrate" && !o.migrate.status_only) target.scheduler.clear();
  if (command->sub->get_name() == "app-schema") target.scheduler.clear();
  auto made = env.make_backend ? env.make_backend(target) : MakeBackend(target);
  if (!made) {
    env.err << "jobctl: " << OneLine(made.error().message, 4000) << "\n";
    return ExitCodeFor(made.error().code);
  }
  std::unique_ptr<AdminBackend> backend = std::move(*made);
  CommandContext ctx{*backend, env.out, env.in, env.now(), env.pause, &env.err, env.out_is_terminal};
  auto result = command->action(ctx);
  return finish(result, ctx.exit_code);
}

}  // namespace chime::jobctl
