#include "tests/worker/kinds/job_harness.h"

#include <gtest/gtest.h>
#include <pqxx/pqxx>
#include <spdlog/logger.h>

#include <cstdlib>

#include "common/db/migrations.h"
#include "common/app/app_schema.h"

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

void OrDie(Result<void> result, const char* what) {
  if (!result) {
    ADD_FAILURE() << what << ": " << result.error().ToString();
    std::abort();
  }
}

}  // namespace

JobHarness::JobHarness(const chime::testing::TestDatabase& db)
    : conn_(db::ConnectionConfig{.url = db.url()}), store_(conn_) {
  OrDie(db::MigrationsApply(conn_), "migrations");
  if (auto ok = app::ApplyAppSchema(conn_); !ok) {
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
  if (options.raw_insert) {
    OrDie(conn_.Run([&](pqxx::connection_base& c) {
      pqxx::nontransaction tx(c);
      last_job_id_ = tx.exec_params1("INSERT INTO chime.jobs (kind, queue, payload, dry_run, invocation) "
                                     "VALUES ($1, $2, $3::jsonb, $4, $5) RETURNING id",
                                     params.kind, params.queue, params.payload, params.dry_run,
                                     std::string(db::InvocationName(params.invocation)))[0]
                         .as<int64_t>();
    }), "raw insert");
  } else {
    last_job_id_ = OrDie(store_.JobInsert(params), "enqueue").id;
  }
  if (!options.schedule.empty()) {
    const int64_t micros = options.scheduled_for
                               ? std::chrono::duration_cast<std::chrono::microseconds>(
                                     options.scheduled_for->time_since_epoch()).count()
                               : 0;
    OrDie(conn_.Run([&](pqxx::connection_base& c) {
      pqxx::work tx(c);
      const int64_t schedule = tx.exec_params1(
          "INSERT INTO chime.schedules (name, cron, kind) VALUES ($1, '0 * * * *', $2) "
          "ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind RETURNING id",
          options.schedule, params.kind)[0].as<int64_t>();
      tx.exec_params("UPDATE chime.jobs SET schedule_id = $1, scheduled_for = CASE WHEN $2::bigint = 0 THEN NULL "
                     "ELSE to_timestamp($2::bigint / 1e6) END WHERE id = $3",
                     schedule, micros, last_job_id_);
      tx.commit();
    }), "schedule");
  }
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
