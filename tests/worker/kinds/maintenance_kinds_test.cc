// cleanup_old_jobs and reset_stale_jobs on a real PostgreSQL: what they
// delete (jobs, runs, delivered webhooks) or reset, what a dry run reports
// without changing anything, and parameters checked before any work.
#include "worker/kinds/maintenance_kinds.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/support/test_database.h"
#include "tests/worker/kinds/job_harness.h"
#include "common/db/outbox_store.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;
using testing::JobHarness;
using testing::JobOptions;

class MaintenanceKindsTest : public ::testing::Test {
 protected:
  std::string Sql(const std::string& sql) { return db_.Scalar(sql); }

  // A finished job (and its run) that ended `days_ago` days ago.
  void Finished(int count, int days_ago, const std::string& state = "succeeded") {
    const std::string at = "now() - interval '" + std::to_string(days_ago) + " days'";
    db_.Exec("WITH j AS (INSERT INTO chime.jobs (kind, state, attempt, attempted_at, finished_at) "
             "SELECT 'noop', '" + state + "', 1, " + at + ", " + at +
             " FROM generate_series(1, " + std::to_string(count) + ") RETURNING id, kind, queue) "
             "INSERT INTO chime.runs (job_id, kind, queue, attempt, started_at, finished_at, outcome) "
             "SELECT id, kind, queue, 1, " + at + ", " + at + ", 'succeeded' FROM j");
  }

  // A running job of another worker; returns its id.
  int64_t Running(const std::string& lease_expires, const std::string& heartbeat,
                  int attempt = 1, int max_attempts = 20) {
    return std::stoll(Sql(
        "INSERT INTO chime.jobs (kind, state, attempt, max_attempts, worker_id, lease_token, "
        "lease_expires_at, attempted_at, heartbeat_at) VALUES ('noop', 'running', " +
        std::to_string(attempt) + ", " + std::to_string(max_attempts) +
        ", 'other-worker', gen_random_uuid(), now() + interval '" + lease_expires +
        "', now() - interval '2 hours', now() - interval '" + heartbeat + "') RETURNING id"));
  }

  // `count` webhook outbox rows written `age` ago; delivered `delivered_ago`
  // ago, or undelivered (with failed attempts) when that is empty.
  void Webhooks(int count, const std::string& age, const std::string& delivered_ago = "") {
    const std::string delivered = delivered_ago.empty() ? "NULL" : "now() - interval '" + delivered_ago + "'";
    db_.Exec("INSERT INTO chime.webhook_outbox (webhook_id, event_type, target, timeout_ms, body, "
             "attempts, created_at, delivered_at) "
             "SELECT 'wh_' || gen_random_uuid(), 'test.event', 'capacity_webhook', 1000, '{}', "
             "3, now() - interval '" + age + "', " + delivered + " FROM generate_series(1, " +
             std::to_string(count) + ")");
  }
  int64_t Outbox(const std::string& where) {
    return std::stoll(Sql("SELECT count(*) FROM chime.webhook_outbox WHERE " + where));
  }

  std::string State(int64_t id) { return Sql("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id)); }

  chime::testing::TestDatabase db_;
  JobHarness harness_{db_};
};

TEST_F(MaintenanceKindsTest, CleanupDeletesOnlyWhatIsPastTheRetention) {
  Finished(3, 8);
  Finished(2, 10, "discarded");
  Finished(4, 2);
  const std::string live = Sql("INSERT INTO chime.jobs (kind, created_at) "
                               "VALUES ('noop', now() - interval '30 days') RETURNING id");
  CleanupOldJobs handler;

  HandlerResult dry = harness_.Run(handler, json::object(), JobOptions{.dry_run = true});
  ASSERT_EQ(dry.kind, HandlerResult::Kind::kSuccess) << dry.summary;
  EXPECT_EQ(dry.summary["jobsDeleted"], 5);
  EXPECT_EQ(dry.summary["runsDeleted"], 5);
  EXPECT_EQ(dry.summary["dryRun"], true);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs"), "9") << "a dry run deletes nothing";

  HandlerResult r = harness_.Run(handler, json::object(), JobOptions{.invocation = db::Invocation::kCron});
  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << r.summary;
  EXPECT_EQ(r.summary["retentionDays"], 7);
  EXPECT_EQ(r.summary["jobsDeleted"], 5);
  EXPECT_EQ(r.summary["runsDeleted"], 5);
  EXPECT_EQ(r.summary["invocation"], "cron");
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs"), "4");
  EXPECT_EQ(Sql("SELECT state FROM chime.jobs_all WHERE id = " + live), "available");

  HandlerResult narrow = harness_.Run(handler, {{"retentionDays", 1}});
  EXPECT_EQ(narrow.summary["jobsDeleted"], 4);
}

TEST_F(MaintenanceKindsTest, CleanupDeletesOnlyWebhooksDeliveredBeforeTheRetention) {
  Webhooks(3, "12 days", "10 days");
  Webhooks(1, "3 days", "2 days");
  Webhooks(1, "1 minute", "1 second");
  Webhooks(2, "30 days");  // Never delivered: kept however old.
  CleanupOldJobs handler;

  HandlerResult dry = harness_.Run(handler, json::object(), JobOptions{.dry_run = true});
  ASSERT_EQ(dry.kind, HandlerResult::Kind::kSuccess) << dry.summary;
  EXPECT_EQ(dry.summary["webhooksDeleted"], 3);
  EXPECT_EQ(Outbox("true"), 7) << "a dry run deletes nothing";

  HandlerResult r = harness_.Run(handler, json::object());
  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << r.summary;
  EXPECT_EQ(r.summary["webhooksDeleted"], 3);
  EXPECT_EQ(r.summary["jobsDeleted"], 0);
  EXPECT_EQ(Outbox("delivered_at < now() - interval '7 days'"), 0);
  EXPECT_EQ(Outbox("delivered_at IS NOT NULL"), 2);
  EXPECT_EQ(Outbox("delivered_at IS NULL"), 2);

  HandlerResult narrow = harness_.Run(handler, {{"retentionDays", 1}});
  ASSERT_EQ(narrow.kind, HandlerResult::Kind::kSuccess) << narrow.summary;
  EXPECT_EQ(narrow.summary["webhooksDeleted"], 1);
  EXPECT_EQ(Outbox("delivered_at IS NOT NULL"), 1);
  EXPECT_EQ(Outbox("delivered_at IS NULL"), 2);
}

TEST_F(MaintenanceKindsTest, CleanupDeletesDeliveredWebhooksInBoundedBatches) {
  Webhooks(2001, "9 days", "8 days");  // Two full batches of 1,000 and one more row.
  Webhooks(1, "9 days");
  CleanupOldJobs handler;

  HandlerResult r = harness_.Run(handler, json::object());

  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << r.summary;
  EXPECT_EQ(r.summary["webhooksDeleted"], 2001);
  EXPECT_EQ(Outbox("true"), 1);

  // One call does at most max_batches batches and says when it stopped early.
  Webhooks(5, "9 days", "8 days");
  const db::OutboxPruneParams small{.retention = std::chrono::hours(24), .batch_size = 2, .max_batches = 2};
  auto first = db::OutboxStore(harness_.connection()).OutboxPrune(small);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->deleted, 4);
  EXPECT_TRUE(first->more);
  auto second = db::OutboxStore(harness_.connection()).OutboxPrune(small);
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->deleted, 1);
  EXPECT_FALSE(second->more);
  EXPECT_EQ(Outbox("delivered_at IS NULL"), 1);
}

TEST_F(MaintenanceKindsTest, CleanupRefusesBadParametersWithoutDeleting) {
  Finished(1, 30);
  Webhooks(1, "31 days", "30 days");
  CleanupOldJobs handler;
  for (const json& payload : {json{{"retentionDays", 0}}, json{{"retentionDays", "7"}},
                              json{{"retentionDay", 7}}, json::array()}) {
    HandlerResult r = harness_.Run(handler, payload);
    EXPECT_EQ(r.kind, HandlerResult::Kind::kFailure) << payload;
    EXPECT_FALSE(r.retryable) << payload;
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].rfind("cleanup_old_jobs: ", 0), 0u) << r.errors[0];
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.runs"), "1");
  EXPECT_EQ(Outbox("true"), 1);
}

TEST_F(MaintenanceKindsTest, ResetStaleJobsResetsExpiredAndSilentJobsAndDiscardsSpentOnes) {
  const int64_t expired = Running("-1 minute", "5 minutes");
  const int64_t silent = Running("2 hours", "45 minutes");
  const int64_t healthy = Running("2 hours", "10 seconds");
  const int64_t spent = Running("-1 minute", "5 minutes", /*attempt=*/3, /*max_attempts=*/3);
  ResetStaleJobs handler;

  HandlerResult dry = harness_.Run(handler, json::object(), JobOptions{.dry_run = true});
  ASSERT_EQ(dry.kind, HandlerResult::Kind::kSuccess) << dry.summary;
  EXPECT_EQ(dry.summary["reset"], 2);
  EXPECT_EQ(dry.summary["discarded"], 1);
  EXPECT_EQ(State(expired), "running") << "a dry run resets nothing";
  EXPECT_EQ(State(spent), "running");

  HandlerResult r = harness_.Run(handler, json::object());
  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << r.summary;
  EXPECT_EQ(r.summary["staleAfterMinutes"], 30);
  EXPECT_EQ(r.summary["resetJobIds"], json({expired, silent}));
  EXPECT_EQ(r.summary["discardedJobIds"], json({spent}));
  EXPECT_EQ(r.summary["idsTruncated"], false);
  EXPECT_EQ(State(expired), "retryable");
  EXPECT_EQ(State(silent), "retryable");
  EXPECT_EQ(State(spent), "discarded");
  EXPECT_EQ(State(healthy), "running");

  // Thresholds under a minute are refused before anything changes.
  HandlerResult bad = harness_.Run(handler, {{"staleAfterMinutes", 0}});
  EXPECT_EQ(bad.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(bad.retryable);
  EXPECT_EQ(State(healthy), "running");
}

}  // namespace
}  // namespace chime::worker::kinds
