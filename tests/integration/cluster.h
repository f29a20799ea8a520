// A local Chime cluster for integration tests: a fresh database, real
// chime-scheduler and chime-worker processes and jobctl runs, each a child
// process found through CHIME_BIN_DIR. Waits poll the database or a log
// with a deadline that only a broken build reaches; nothing asserts on how
// long anything took. Thread-compatible.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/child_process.h"
#include "tests/support/raw_http.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"

namespace chime::testing {

inline constexpr const char* kClusterSecret = "cluster-test-secret-0123456789";

// `n` random hex digits: sentinels and unique file names.
std::string RandomHex(size_t n);

// HTTP for tests: tests/support/raw_http.h (HttpGet, HttpCall, RawHttp).
using chime::testing::HttpGet;

struct JobctlOutcome {
  int exit_code = -1;
  std::string output;
};

class Cluster {
 public:
  Cluster() = default;
  ~Cluster();

  // Starts a scheduler on `endpoint` (default: a free loopback port, kept
  // for restarts, unless `args` name --bind) and waits until it listens.
  // `args` and `env` add to the defaults (rescue every 200 ms, the
  // cluster's secret, HTTP on a free loopback port unless `args` name
  // --http-listen).
  ChildProcess& StartScheduler(std::vector<std::string> args = {},
                               std::map<std::string, std::string> env = {});
  ChildProcess& scheduler() { return *scheduler_; }
  // Starts another scheduler replica on the same database (a free loopback
  // port, no HTTP unless `args` name --http-listen, the cluster's secret),
  // waits until it listens and returns it; `endpoint` gets its ZeroMQ
  // endpoint and `http` (when given) its HTTP "host:port". The cluster keeps
  // it until destroyed.
  ChildProcess& StartReplica(std::string& endpoint, std::vector<std::string> args = {},
                             std::map<std::string, std::string> env = {}, std::string* http = nullptr);
  const std::string& endpoint() const { return endpoint_; }
  // The running scheduler's HTTP "host:port" ("" when it serves none).
  const std::string& http() const { return http_; }

  // Starts a worker with this id and waits until the scheduler has its hello
  // (when a scheduler runs). Defaults: 4 slots, 1 s lease, 200 ms polling.
  ChildProcess& StartWorker(const std::string& id, std::vector<std::string> args = {},
                            std::map<std::string, std::string> env = {});

  // Runs jobctl to completion against the scheduler (or, with
  // "--database-url" among `args`, the database).
  JobctlOutcome Jobctl(std::vector<std::string> args, std::map<std::string, std::string> env = {});

  // Creates a named API token of `scope` through the database and waits
  // until the scheduler's HTTP accepts it (it reloads tokens every second).
  // "" and a test failure when either fails.
  std::string ApiToken(const std::string& name, const std::string& scope);
  // `jobctl enqueue ARGS --json` against the scheduler: the new job's id, or
  // 0 and a test failure.
  int64_t EnqueueJob(std::vector<std::string> args);

  // Waits for `needle` in `process`'s log past byte `offset`. (Every other
  // wait is WaitUntil, tests/support/wait_until.h, with kClusterWaitBound.)
  static ::testing::AssertionResult WaitForLogAfter(ChildProcess& process, size_t offset, const std::string& needle,
                              std::chrono::milliseconds deadline = std::chrono::seconds(60));

  // First column of the first row, as an integer (0 for no rows or NULL).
  int64_t Int(const std::string& sql) const;
  std::string Text(const std::string& sql) const { return db_.Scalar(sql); }
  const TestDatabase& db() const { return db_; }

 private:
  TestDatabase db_;
  std::string endpoint_;
  std::string http_;
  std::unique_ptr<ChildProcess> scheduler_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
  std::vector<std::unique_ptr<ChildProcess>> stopped_schedulers_;
  std::vector<std::unique_ptr<ChildProcess>> replicas_;
};

}  // namespace chime::testing
