#include "tests/worker/kinds/job_harness.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include <cstdlib>

#include "common/db/migrations.h"
#include "worker/kinds/app_schema.h"

namespace chime::worker::kinds::testing {
namespace {

template <typename T>
T OrDie(Result<T> result, const char* what) {
  if (!result) {
    ADD_FAILURE() << what << ": " << result.error().ToString();
    std::abort();
  }
  return std::move(*result);
}

}  // namespace

JobHarness::JobHarness(const chime::testing::TestDatabase& db)
    : conn_(db::ConnectionConfig{.url = db.url()}), store_(conn_) {
  OrDie(db::MigrationsApply(conn_), "migrations");
  if (auto ok = ApplyAppSchema(conn_); !ok) {
    ADD_FAILURE() << "app schema: " << ok.error().ToString();
    std::abort();
  }
}

HandlerResult JobHarness::Run(Handler& handler, const nlohmann::json& payload, JobOptions options) {
  db::EnqueueParams params;
  params.kind = std::string(handler.Kind());
  params.queue = options.queue;  // Never "default", where children go.
  params.payload = payload.dump();
  params.dry_run = options.dry_run;
  params.invocation = options.invocation;
  last_job_id_ = OrDie(store_.JobInsert(params), "enqueue").id;
  auto claimed = OrDie(store_.JobsClaim({.worker_id = "harness", .queues = {options.queue}}), "claim");
  if (claimed.size() != 1 || claimed[0].id != last_job_id_) {
    ADD_FAILURE() << "claimed " << claimed.size() << " jobs, not job " << last_job_id_;
    std::abort();
  }
  JobContext::Services services{
      .database = [this]() -> Result<db::Connection*> { return &conn_; },
      .store = [this]() -> Result<db::JobStore*> { return &store_; },
  };
  std::stop_source stop;
  if (options.stop_requested) stop.request_stop();
  JobContext ctx(claimed[0], payload, stop.get_token(), std::make_shared<spdlog::logger>("kinds-test"),
                 std::move(services));
  return handler.Run(ctx);
}

}  // namespace chime::worker::kinds::testing
