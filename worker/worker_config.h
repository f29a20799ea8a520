// chime-worker's configuration: defaults, then an optional YAML file
// (--config), then CHIME_* environment variables, then flags. A bad value
// stops the worker at start with one line naming the field.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"

namespace chime::worker {

struct WorkerConfig {
  std::string database_url;                 // CHIME_DATABASE_URL, --database-url
  // CHIME_DATABASE_POOLER, --database-pooler: "transaction" when the URL
  // goes through a transaction-mode pooler (db::ConnectionConfig::pooled).
  bool database_pooled = false;
  std::vector<std::string> schedulers;      // CHIME_SCHEDULER, --scheduler (empty: poll only)
  std::vector<std::string> queues{"default"};  // CHIME_QUEUES, --queues
  int slots = 10;                           // CHIME_WORKER_SLOTS, --slots
  std::string worker_id;                    // CHIME_WORKER_ID, --worker-id (default host-pid)
  std::string log_level = "info";           // CHIME_LOG_LEVEL, --log-level
  std::string log_format = "text";          // CHIME_LOG_FORMAT, --log-format: text | json
  // The seeds' kinds' file (tables, providers, endpoints, address policy):
  // CHIME_KINDS_CONFIG, --kinds-config. Empty: the defaults.
  std::string kinds_config;
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds default_timeout{30 * 60'000};
  std::chrono::milliseconds hard_stop_grace{5'000};
  std::chrono::milliseconds shutdown_grace{30'000};
  // Most jobs per claim round trip: CHIME_WORKER_CLAIM_BATCH, --claim-batch.
  // A claim never takes more than the free slots plus the prefetch, so this
  // only binds while the prefetch is large.
  int claim_batch = 1000;
  // Jobs claimed ahead of free slots, queued in the worker (leases kept by
  // heartbeats) so that short jobs are claimed in larger batches:
  // CHIME_WORKER_PREFETCH, --prefetch. 0: never more claimed than slots;
  // kPrefetchAuto ("auto", the default): sized from the worker's completion
  // rate (ProducerConfig::adaptive_prefetch).
  static constexpr int kPrefetchAuto = -1;
  int prefetch = kPrefetchAuto;
  // host:port of /healthz, /readyz and /metrics (port 0: any free port):
  // CHIME_HTTP_LISTEN, --http-listen. "off": no HTTP.
  std::string http_listen = "off";
  bool drain = false;  // --drain: exit 0 once no job is ready.

  [[nodiscard]] Result<void> Validate() const;
  // How every session of the worker connects.
  db::ConnectionConfig database() const { return {.url = database_url, .pooled = database_pooled}; }
  // Heartbeats extend leases every third of the lease.
  std::chrono::milliseconds heartbeat_interval() const { return lease / 3; }
};

// Parses argv with the environment as given. An empty optional means --help
// or --version was printed (exit 0); an InvalidArgument error names the field.
[[nodiscard]] Result<std::optional<WorkerConfig>> LoadWorkerConfig(int argc, char** argv);

// Splits "a,b , c" into {"a","b","c"}.
std::vector<std::string> SplitList(const std::string& text);

}  // namespace chime::worker
