// Runs one handler on one job, in the test's thread, the way a worker slot
// would: the job is inserted and claimed through the real JobStore (so
// progress and children are written under a real lease) and the handler gets
// a JobContext on the test database. Deterministic: no worker threads, no
// waiting. Thread-compatible.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "tests/support/test_database.h"
#include "worker/handler.h"

namespace chime::worker::kinds::testing {

struct JobOptions {
  bool dry_run = false;
  db::Invocation invocation = db::Invocation::kManual;
  bool stop_requested = false;  // The job's stop token has fired before Run().
  // The job's queue; harnesses that run at the same time need one each.
  std::string queue = "harness";
  // Inserted by plain SQL, past the job store's payload checks: a row an
  // application wrote itself, or one from before a check existed.
  bool raw_insert = false;
  // Fired by this schedule (created if missing) for this tick.
  std::string schedule;
  std::optional<db::TimePoint> scheduled_for;
};

class JobHarness {
 public:
  // Migrates the test database (Chime's schema and chime_app).
  explicit JobHarness(const chime::testing::TestDatabase& db);

  // Enqueues a job of the handler's kind with `payload`, claims it and runs
  // the handler on it. The job stays 'running': its outcome is the return
  // value, which the worker would record.
  HandlerResult Run(Handler& handler, const nlohmann::json& payload, JobOptions options = {});

  // Id of the job the last Run() ran.
  int64_t last_job_id() const { return last_job_id_; }
  db::Connection& connection() { return conn_; }

 private:
  db::Connection conn_;
  db::JobStore store_;
  int64_t last_job_id_ = 0;
};

}  // namespace chime::worker::kinds::testing
