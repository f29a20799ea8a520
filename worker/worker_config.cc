#include "worker/worker_config.h"

#include "common/base/name_rule.h"
#include "common/log/log.h"

#include <CLI/CLI.hpp>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "common/base/env_setting.h"
#include "common/base/utf8.h"
#include "common/base/version.h"
#include "common/web/server.h"
#include "common/wire/envelope.h"

namespace chime::worker {
namespace {

using std::chrono::milliseconds;

Result<void> Bad(const std::string& field, const std::string& why) {
  return Fail(ErrorCode::kInvalidArgument, field + ": " + why);
}

Result<int64_t> ParseInt(const std::string& field, const std::string& text) {
  try {
    size_t used = 0;
    const int64_t v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (...) {
    return Fail(ErrorCode::kInvalidArgument, field + ": '" + text.substr(0, 64) + "' is not an integer");
  }
}

// Applies one setting by its field name; used for the file, the
// environment and flags alike so all three validate the same way.
Result<void> Apply(WorkerConfig& c, const std::string& field, const std::string& value) {
  auto integer = [&]() { return ParseInt(field, value); };
  if (field == "database_url") {
    c.database_url = value;
  } else if (field == "database_pooler") {
    auto pooled = db::ParsePooler(value);
    if (!pooled) return Bad(field, "'" + value.substr(0, 64) + "' is not transaction, session or none");
    c.database_pooled = *pooled;
  } else if (field == "scheduler") {
    c.schedulers = SplitList(value);
  } else if (field == "queues") {
    c.queues = SplitList(value);
  } else if (field == "worker_id") {
    c.worker_id = value;
  } else if (field == "log_level") {
    c.log_level = value;
  } else if (field == "log_format") {
    c.log_format = value;
  } else if (field == "kinds_config") {
    c.kinds_config = value;
  } else if (field == "http_listen") {
    c.http_listen = value;
  } else if (field == "prefetch" && value == "auto") {
    c.prefetch = WorkerConfig::kPrefetchAuto;
  } else if (field == "slots" || field == "claim_batch" || field == "prefetch") {
    auto v = integer();
    if (!v) return std::unexpected(v.error());
    // A negative prefetch is not "auto" in disguise: only the word is.
    if (field == "prefetch" && *v < 0) return Bad(field, "must be auto or 0-1000, got " + std::to_string(*v));
    int& target = field == "slots" ? c.slots : field == "claim_batch" ? c.claim_batch : c.prefetch;
    target = static_cast<int>(std::clamp<int64_t>(*v, INT32_MIN, INT32_MAX));
  } else if (field == "poll_interval_ms" || field == "lease_ms" || field == "default_timeout_ms" ||
             field == "hard_stop_grace_ms" || field == "shutdown_grace_ms") {
    auto v = integer();
    if (!v) return std::unexpected(v.error());
    milliseconds& target = field == "poll_interval_ms"   ? c.poll_interval
                           : field == "lease_ms"         ? c.lease
                           : field == "default_timeout_ms" ? c.default_timeout
                           : field == "hard_stop_grace_ms" ? c.hard_stop_grace
                                                           : c.shutdown_grace;
    target = milliseconds(*v);
  } else {
    return Bad(field, "unknown setting");
  }
  return {};
}

Result<void> ApplyFile(WorkerConfig& c, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Bad("config", path + ": " + e.what());
  }
  if (!root.IsMap()) return Bad("config", path + ": expected a mapping of settings");
  for (const auto& kv : root) {
    const auto field = kv.first.as<std::string>();
    std::string value;
    if (kv.second.IsSequence()) {
      for (const auto& item : kv.second) value += (value.empty() ? "" : ",") + item.as<std::string>();
    } else if (kv.second.IsScalar()) {
      value = kv.second.as<std::string>();
    } else {
      return Bad(field, "expected a value or a list in " + path);
    }
    if (auto ok = Apply(c, field, value); !ok) {
      return Fail(ErrorCode::kInvalidArgument, ok.error().message + " (in " + path + ")");
    }
  }
  return {};
}

}  // namespace

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    std::erase(item, ' ');
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

Result<void> WorkerConfig::Validate() const {
  if (database_url.empty()) return Bad("database_url", "empty (set CHIME_DATABASE_URL or --database-url)");
  if (slots < 1 || slots > wire::kMaxSlots) return Bad("slots", "must be 1-1000, got " + std::to_string(slots));
  if (queues.empty()) return Bad("queues", "at least one queue");
  if (static_cast<int>(queues.size()) > wire::kMaxQueues) return Bad("queues", "at most 64");
  for (const auto& q : queues) {
    if (!wire::ValidName(q)) return Bad("queues", "'" + q.substr(0, 64) + "' is not " + std::string(kNameRule));
  }
  if (worker_id.size() > wire::kMaxIdBytes) return Bad("worker_id", "longer than 256 bytes");
  // The scheduler refuses a hello whose id is not printable (it goes into
  // logs and the worker directory as it is): refuse it here, at start.
  if (!IsPrintableUtf8(worker_id)) return Bad("worker_id", "must be printable UTF-8 (no control characters)");
  if (poll_interval < milliseconds(10)) return Bad("poll_interval_ms", "must be >= 10");
  if (lease < milliseconds(1000)) return Bad("lease_ms", "must be >= 1000");
  if (default_timeout < milliseconds(1)) return Bad("default_timeout_ms", "must be > 0");
  if (hard_stop_grace < milliseconds(0)) return Bad("hard_stop_grace_ms", "must be >= 0");
  if (shutdown_grace < milliseconds(0)) return Bad("shutdown_grace_ms", "must be >= 0");
  if (claim_batch < 1 || claim_batch > 1000) return Bad("claim_batch", "must be 1-1000");
  if (prefetch != kPrefetchAuto && (prefetch < 0 || prefetch > 1000)) {
    return Bad("prefetch", "must be auto or 0-1000, got " + std::to_string(prefetch));
  }
  if (auto ok = ParseLogFormat(log_format); !ok) return Bad("log_format", ok.error().message);
  if (http_listen != "off") {
    if (auto ok = web::ParseListenAddress(http_listen, "http_listen"); !ok) return std::unexpected(ok.error());
  }
  return {};
}

Result<std::optional<WorkerConfig>> LoadWorkerConfig(int argc, char** argv) {
  CLI::App app{"chime-worker: claims jobs from PostgreSQL (woken by the scheduler's dispatch, "
               "polling otherwise) and runs them on concurrent slots",
               "chime-worker"};
  app.set_version_flag("--version", VersionLine("chime-worker"));
  std::optional<std::string> config_file, database_url, database_pooler, scheduler, queues, worker_id, log_level,
      log_format, kinds_config, http_listen;
  std::optional<std::string> slots, poll, lease, timeout, hard_stop, grace, batch, prefetch;
  bool drain = false;
  // As with most Unix tools, a repeated flag's last value wins.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--config", config_file, "YAML file of settings (field: value)");
  app.add_option("--database-url", database_url,
                 "libpq URI (default: $CHIME_DATABASE_URL, or the file named by $CHIME_DATABASE_URL_FILE)");
  app.add_option("--database-pooler", database_pooler,
                 "transaction: the URL goes through a transaction-mode pooler such as pgbouncer "
                 "(no prepared statements or session settings); none or session: direct "
                 "($CHIME_DATABASE_POOLER; default none)");
  app.add_option("--scheduler", scheduler, "scheduler endpoint(s), comma-separated ($CHIME_SCHEDULER)");
  app.add_option("--queues", queues, "queues to claim from, comma-separated ($CHIME_QUEUES; default)");
  app.add_option("--slots", slots, "concurrent jobs ($CHIME_WORKER_SLOTS; default 10)");
  app.add_option("--worker-id", worker_id, "id recorded on runs ($CHIME_WORKER_ID; default host-pid)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error ($CHIME_LOG_LEVEL)");
  app.add_option("--log-format", log_format, "text or json, one object per line ($CHIME_LOG_FORMAT; default text)");
  app.add_option("--kinds-config", kinds_config,
                 "YAML file for the built-in kinds: application tables, providers, endpoints, "
                 "address policy ($CHIME_KINDS_CONFIG; see deploy/kinds.example.yaml)");
  app.add_option("--poll-interval-ms", poll, "claim this often without dispatch (default 1000)");
  app.add_option("--lease-ms", lease, "lease per claimed job; heartbeats every third (default 30000)");
  app.add_option("--default-timeout-ms", timeout,
                 "handler timeout when a job has none (default 1800000); a job whose kind needs longer gets "
                 "that (an http_request: its timeoutMs, default 300000 = 5 min, at most 1 h, plus 60000)");
  app.add_option("--hard-stop-grace-ms", hard_stop, "after a stop request, abandon the attempt (default 5000)");
  app.add_option("--shutdown-grace-ms", grace, "SIGTERM: let running jobs finish this long (default 30000)");
  app.add_option("--claim-batch", batch,
                 "most jobs per claim round trip ($CHIME_WORKER_CLAIM_BATCH; default 1000; a claim never "
                 "takes more than the free slots plus the prefetch)");
  app.add_option("--prefetch", prefetch,
                 "jobs claimed ahead of free slots, waiting in the worker: larger claims for short "
                 "jobs ($CHIME_WORKER_PREFETCH; default auto: what the worker finishes in 200 ms at "
                 "its recent rate, at most 1000; 0: never more than the free slots)");
  app.add_option("--http-listen", http_listen,
                 "host:port for /healthz, /readyz and /metrics; port 0: any free port "
                 "($CHIME_HTTP_LISTEN; default off)");
  app.add_flag("--drain", drain, "exit 0 once no job is ready (scripts, tests)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::optional<WorkerConfig>{};
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return std::optional<WorkerConfig>{};
  } catch (const CLI::ParseError& e) {
    return Fail(ErrorCode::kInvalidArgument, std::string(e.what()) + " (see --help)");
  }

  WorkerConfig c;
  if (config_file) {
    if (auto ok = ApplyFile(c, *config_file); !ok) return std::unexpected(ok.error());
  }
  const std::pair<const char*, const char*> env[] = {
      {"CHIME_SCHEDULER", "scheduler"},
      {"CHIME_QUEUES", "queues"},             {"CHIME_WORKER_SLOTS", "slots"},
      {"CHIME_WORKER_ID", "worker_id"},       {"CHIME_LOG_LEVEL", "log_level"},
      {"CHIME_KINDS_CONFIG", "kinds_config"}, {"CHIME_HTTP_LISTEN", "http_listen"},
      {"CHIME_LOG_FORMAT", "log_format"},   {"CHIME_DATABASE_POOLER", "database_pooler"},
      {"CHIME_WORKER_PREFETCH", "prefetch"}, {"CHIME_WORKER_CLAIM_BATCH", "claim_batch"}};
  // The database URL may carry a password: it can come from a file
  // (CHIME_DATABASE_URL_FILE, a mounted secret) instead.
  auto url_setting = EnvSetting("CHIME_DATABASE_URL");
  if (!url_setting) return Fail(ErrorCode::kInvalidArgument, "database_url: " + url_setting.error().message);
  if (*url_setting) {
    if (auto ok = Apply(c, "database_url", **url_setting); !ok) return std::unexpected(ok.error());
  }
  for (const auto& [var, field] : env) {
    const char* v = std::getenv(var);
    if (v == nullptr || *v == '\0') continue;
    if (auto ok = Apply(c, field, v); !ok) {
      return Fail(ErrorCode::kInvalidArgument, ok.error().message + " (from " + var + ")");
    }
  }
  const std::pair<std::optional<std::string>*, const char*> flags[] = {
      {&database_url, "database_url"}, {&scheduler, "scheduler"},   {&queues, "queues"},
      {&slots, "slots"},               {&worker_id, "worker_id"},   {&log_level, "log_level"},
      {&poll, "poll_interval_ms"},     {&lease, "lease_ms"},        {&timeout, "default_timeout_ms"},
      {&hard_stop, "hard_stop_grace_ms"}, {&grace, "shutdown_grace_ms"}, {&batch, "claim_batch"},
      {&kinds_config, "kinds_config"}, {&http_listen, "http_listen"}, {&log_format, "log_format"},
      {&database_pooler, "database_pooler"}, {&prefetch, "prefetch"}};
  for (const auto& [value, field] : flags) {
    if (!*value) continue;
    if (auto ok = Apply(c, field, **value); !ok) return std::unexpected(ok.error());
  }
  c.drain = drain;
  if (c.worker_id.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    c.worker_id = std::string(host) + "-" + std::to_string(getpid());
  }
  if (auto ok = c.Validate(); !ok) return std::unexpected(ok.error());
  return c;
}

}  // namespace chime::worker
