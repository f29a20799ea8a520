// The chime_worker role (migrations 0001, 0008, 0009, 0010) holds what a
// worker uses and nothing more: every job store call a worker makes succeeds
// under it, while DDL, schedules, the leader lease, the bookkeeping tables,
// deletions (other than through the cleanup functions) and rewriting what a
// job or a webhook is are refused with insufficient_privilege. The
// sessions are the superuser's running as chime_worker (options -c role=),
// which checks privileges exactly as a login of that role would.
#include <pqxx/pqxx>

#include "common/db/limit_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

class WorkerRoleTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    ASSERT_EQ(sql_.Scalar("SELECT count(*) FROM pg_roles WHERE rolname = 'chime_worker' AND NOT rolsuper"), "1");
    worker_conn_ = std::make_unique<Connection>(ConnectionConfig{.url = WorkerUrl()});
    worker_ = std::make_unique<JobStore>(*worker_conn_, StoreConfig(), &rng_);
  }

  std::string WorkerUrl() const { return db_.UrlAsRole("chime_worker"); }

  // Runs `sql` as chime_worker in a transaction, through Connection.
  Result<void> AsWorker(const std::string& sql) {
    return worker_conn_->Run([&](pqxx::connection_base& c) {
      pqxx::work tx(c);
      tx.exec(sql);
      tx.commit();
    });
  }

  // Each statement is refused for want of a privilege (insufficient_privilege,
  // which Connection reports as Unauthenticated).
  void ExpectRefused(const std::vector<std::string>& statements) {
    for (const auto& sql : statements) {
      const auto r = AsWorker(sql);
      if (r.has_value()) {
        ADD_FAILURE() << "chime_worker may run: " << sql;
        continue;
      }
      EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << sql << ": " << r.error().ToString();
      EXPECT_TRUE(r.error().message.find("permission denied") != std::string::npos ||
                  r.error().message.find("must be owner") != std::string::npos ||
                  r.error().message.find("must be superuser") != std::string::npos)
          << sql << ": " << r.error().message;
    }
  }

  // Every table and function of schema chime with its definition, so that
  // "nothing changed" is one comparison.
  std::string Schema() {
    return sql_.Scalar(
        "SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
        " SELECT c.relname || ':' || c.relkind::text || ':' || coalesce(c.relacl::text, '') || ':' ||"
        "        coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' ||"
        "                           coalesce(a.attacl::text, ''), ',' ORDER BY a.attnum)"
        "         FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') AS x"
        " FROM pg_class c WHERE c.relnamespace = 'chime'::regnamespace"
        " UNION ALL SELECT p.proname || ':' || md5(p.prosrc) || ':' || p.prosecdef::text || ':' ||"
        "        coalesce(p.proacl::text, '')"
        " FROM pg_proc p WHERE p.pronamespace = 'chime'::regnamespace"
        " UNION ALL SELECT t.tgname || ':' || t.tgenabled::text FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'chime'::regnamespace) s");
  }

  std::unique_ptr<Connection> worker_conn_;
  std::unique_ptr<JobStore> worker_;
};

TEST_F(WorkerRoleTest, DoesEverythingAWorkerDoes) {
  const int64_t parent = Enqueue("fan_out");
  // Children, one and many at once, as a handler enqueues them.
  EnqueueParams child = Params("child");
  child.parent_id = parent;
  child.unique_key = "child-1";
  ASSERT_OK(worker_->JobInsert(child));
  child.unique_key = std::nullopt;
  ASSERT_OK(worker_->JobsInsertMany(std::vector<EnqueueParams>{child, child}));
  EXPECT_EQ(JobCount(), 4);

  ClaimParams claim;
  claim.worker_id = "w1";
  claim.limit = 4;
  ASSERT_OK_AND_ASSIGN(std::vector<ClaimedJob> jobs, worker_->JobsClaim(claim));
  ASSERT_EQ(jobs.size(), 4u);
  std::vector<Lease> leases;
  for (const auto& j : jobs) leases.push_back(j.lease);
  ASSERT_OK_AND_ASSIGN(HeartbeatResult hb, worker_->JobsHeartbeat(leases, milliseconds(60'000)));
  EXPECT_EQ(hb.extended.size(), 4u);
  ASSERT_OK_AND_ASSIGN(bool progressed, worker_->JobProgressSetIfLeased(jobs[0].lease, R"({"done": 1})"));
  EXPECT_TRUE(progressed);

  const std::vector<Completion> done{MakeCompletion(jobs[0], CompletionKind::kSucceeded, {}, R"({"n": 1})", "w1"),
                                     MakeCompletion(jobs[1], CompletionKind::kFailed, {"boom"}, "{}", "w1")};
  ASSERT_OK_AND_ASSIGN(std::vector<CompletionResult> completed, worker_->JobsCompleteIfLeased(done));
  EXPECT_TRUE(completed[0].applied && completed[1].applied);
  EXPECT_EQ(State(jobs[0].id), "succeeded");
  EXPECT_EQ(State(jobs[1].id), "retryable");
  // Counted by the trigger its statement fired.
  EXPECT_EQ(sql_.Int("SELECT sum(n) FROM chime.job_counts WHERE state = 'succeeded'"), 1);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> released,
                       worker_->JobsReleaseIfLeased(std::vector<Lease>{jobs[2].lease}, "w1"));
  EXPECT_EQ(released.size(), 1u);

  // reset_stale_jobs and cleanup_old_jobs run on workers too.
  ExpireLease(jobs[3].id);
  ASSERT_OK(worker_->JobsRescuePreview(RescueParams{}));
  ASSERT_OK_AND_ASSIGN(RescueResult rescued, worker_->JobsRescue(RescueParams{}));
  EXPECT_EQ(rescued.rescued.size(), 1u);
  ASSERT_OK(worker_->JobsCleanupPreview(std::chrono::hours(0)));
  sql_.Exec("UPDATE chime.jobs SET finished_at = now() - interval '2 hours' WHERE id = $1", jobs[0].id);
  ASSERT_OK_AND_ASSIGN(CleanupResult cleaned,
                       worker_->JobsCleanup(CleanupParams{.retention = std::chrono::hours(1)}));
  EXPECT_EQ(cleaned.jobs_deleted, 1);

  // The counters the triggers keep, read back as a worker does.
  ASSERT_OK_AND_ASSIGN(Stats stats, worker_->JobsStats());
  EXPECT_FALSE(stats.rows.empty());
  EXPECT_EQ(sql_.Int("SELECT coalesce(sum(n), 0) FROM chime.job_counts WHERE state = 'succeeded'"), 0);
  EXPECT_EQ(sql_.Int("SELECT coalesce(sum(n), 0) FROM chime.jobs_enqueued"), 4);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.runs"), 4);
}

// Limits are kept by the claim's function, which runs with its owner's
// rights: the worker needs no right on the limit tables beyond reading.
TEST_F(WorkerRoleTest, ClaimsUnderALimitAndAsksForTheNextSlot) {
  sql_.Exec("INSERT INTO chime.limits (name, kind, concurrency, rate, rate_window_ms) "
            "VALUES ('one', 'limited', 1, 5, 60000)");
  Enqueue("limited");
  Enqueue("limited");
  ClaimParams claim;
  claim.worker_id = "w1";
  claim.limit = 4;
  ASSERT_OK_AND_ASSIGN(std::vector<ClaimedJob> jobs, worker_->JobsClaim(claim));
  EXPECT_EQ(jobs.size(), 1u);
  LimitStore limits(*worker_conn_);
  ASSERT_OK_AND_ASSIGN(std::optional<TimePoint> next, limits.LimitsNextSlot(std::vector<std::string>{"default"}));
  EXPECT_TRUE(next.has_value());
  ExpectRefused({"INSERT INTO chime.limits (name, concurrency) VALUES ('mine', 1)",
                 "DELETE FROM chime.limit_starts", "UPDATE chime.limit_partitions SET key = 'x'",
                 "UPDATE chime.limit_running SET n = 0"});
  // The running count (migration 0028) is kept by triggers with their
  // owner's rights, through the worker's claim and completion.
  EXPECT_EQ(sql_.Int("SELECT sum(n) FROM chime.limit_running"), 1);
  ASSERT_OK(worker_->JobsCompleteIfLeased(
      std::vector<Completion>{MakeCompletion(jobs[0], CompletionKind::kSucceeded, {}, "{}", "w1")}));
  EXPECT_EQ(sql_.Int("SELECT sum(n) FROM chime.limit_running"), 0);
}

// The scheduler applies a schedule file's limits at start and its API lists
// them; jobctl (the admin role) sets and deletes them. Changing a limit's
// partition field deletes its old partitions.
TEST_F(WorkerRoleTest, TheSchedulerAndTheAdminManageLimits) {
  for (const char* role : {"chime_scheduler", "chime_admin"}) {
    SCOPED_TRACE(role);
    Connection conn(ConnectionConfig{.url = db_.UrlAsRole(role)});
    LimitStore limits(conn);
    schedule::LimitSpec spec{.name = std::string("l-") + role, .kind = "sync", .partition_by = "provider",
                             .concurrency = 2};
    ASSERT_OK(limits.LimitsSyncFile(std::vector<schedule::LimitSpec>{spec}));
    sql_.Exec("INSERT INTO chime.limit_partitions (key, limit_name) VALUES ($1 || '/github', $1)", spec.name);
    spec.partition_by = "userId";
    ASSERT_OK(limits.LimitsSyncFile(std::vector<schedule::LimitSpec>{spec}));
    EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.limit_partitions WHERE limit_name = $1", spec.name), 0);
    ASSERT_OK(limits.LimitsList());
  }
  Connection admin(ConnectionConfig{.url = db_.UrlAsRole("chime_admin")});
  LimitStore limits(admin);
  ASSERT_OK(limits.LimitSet({.name = "by-admin", .concurrency = 1}));
  ASSERT_OK(limits.LimitDelete("by-admin"));
}

TEST_F(WorkerRoleTest, MayNotNameJobIdsSoItsStoreNeverCopies) {
  // JobsInsertMany's COPY path names each job's id, taken from the jobs
  // sequence: chime_worker may do neither, which is why a worker's stores set
  // copy_min_batch = 0. The scheduler's and the admin's roles may.
  const std::vector<EnqueueParams> batch(600, Params("child"));
  JobStore copying(*worker_conn_, JobStoreConfig{.copy_min_batch = 1});
  auto refused = copying.JobsInsertMany(batch);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated) << refused.error().ToString();
  EXPECT_EQ(JobCount(), 0);
  JobStore arrays(*worker_conn_, JobStoreConfig{.copy_min_batch = 0});
  ASSERT_OK(arrays.JobsInsertMany(batch));
  for (const char* role : {"chime_scheduler", "chime_admin"}) {
    SCOPED_TRACE(role);
    Connection conn(ConnectionConfig{.url = db_.UrlAsRole(role)});
    JobStore store(conn, JobStoreConfig{.copy_min_batch = 1});
    ASSERT_OK(store.JobsInsertMany(batch));
  }
  EXPECT_EQ(JobCount(), 1'800);
}

TEST_F(WorkerRoleTest, CannotDropAlterOrTruncateAnything) {
  const std::string before = Schema();
  ExpectRefused({
      "DROP TABLE chime.jobs",
      "DROP TABLE chime.schedules CASCADE",
      "DROP SCHEMA chime CASCADE",
      "ALTER TABLE chime.jobs ADD COLUMN evil int",
      "ALTER TABLE chime.jobs DISABLE TRIGGER ALL",
      "ALTER TABLE chime.runs DROP CONSTRAINT runs_pkey",
      "TRUNCATE chime.jobs",
      "TRUNCATE chime.runs",
      "CREATE TABLE chime.evil (a int)",
      "CREATE TABLE public.evil (a int)",
      "CREATE INDEX ON chime.jobs (payload)",
      "DROP FUNCTION chime.delete_finished_jobs(bigint, integer)",
      "DROP FUNCTION chime.delete_delivered_webhooks(bigint, integer)",
      "TRUNCATE chime.webhook_outbox",
      "CREATE OR REPLACE FUNCTION chime.job_counts_apply() RETURNS trigger LANGUAGE plpgsql "
      "AS $$BEGIN RETURN NULL; END$$",
      "GRANT ALL ON chime.schedules TO chime_worker",
      "ALTER ROLE chime_worker SUPERUSER",
  });
  EXPECT_EQ(Schema(), before);
}

// cleanup_old_jobs prunes the webhook outbox through the function of
// migration 0010; the table itself stays closed to deletions.
TEST_F(WorkerRoleTest, DeletesOnlyOldDeliveredWebhooksThroughTheFunction) {
  const auto add = [&](const std::string& id, const std::string& delivered_at) {
    sql_.Exec("INSERT INTO chime.webhook_outbox (webhook_id, event_type, target, timeout_ms, body, "
              "created_at, delivered_at) VALUES ($1, 'test.event', 'capacity_webhook', 1000, "
              "'{}', now() - interval '3 days', " + delivered_at + ")",
              id);
  };
  add("wh_old", "now() - interval '2 days'");
  add("wh_recent", "now()");
  add("wh_undelivered", "NULL");
  ExpectRefused({
      "DELETE FROM chime.webhook_outbox",
      "UPDATE chime.webhook_outbox SET target = 'elsewhere'",
      "UPDATE chime.webhook_outbox SET body = '{\"evil\": true}'",
  });
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.webhook_outbox"), 3);

  int64_t deleted = -1;
  const auto ran = worker_conn_->Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    deleted = tx.exec("SELECT chime.delete_delivered_webhooks(3600, 100)")[0][0].as<int64_t>();
  });
  ASSERT_TRUE(ran.has_value()) << ran.error().ToString();
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(sql_.Scalar("SELECT string_agg(webhook_id, ' ' ORDER BY webhook_id) FROM chime.webhook_outbox"),
            "wh_recent wh_undelivered");
}

TEST_F(WorkerRoleTest, CannotChangeSchedulesFiresOrTheLeaderLease) {
  sql_.Exec("INSERT INTO chime.schedules (name, cron, kind) VALUES ('nightly', '0 2 * * *', 'noop')");
  sql_.Exec("INSERT INTO chime.fires (schedule_id, scheduled_for, leader_epoch) "
            "SELECT id, now(), 1 FROM chime.schedules");
  sql_.Exec("INSERT INTO chime.leader (holder, epoch, expires_at) VALUES ('s1', 1, now() + interval '1 hour')");
  const auto rows = [&] {
    return sql_.Scalar("SELECT (SELECT string_agg(s::text, ',') FROM chime.schedules s) || "
                       "(SELECT string_agg(f::text, ',') FROM chime.fires f) || "
                       "(SELECT string_agg(l::text, ',') FROM chime.leader l) || "
                       "(SELECT version FROM chime.schedules_version)");
  };
  const std::string before = rows();
  ExpectRefused({
      "INSERT INTO chime.schedules (name, cron, kind) VALUES ('evil', '* * * * *', 'noop')",
      "UPDATE chime.schedules SET paused = true",
      "UPDATE chime.schedules SET cron = '* * * * *'",
      "DELETE FROM chime.schedules",
      "UPDATE chime.schedules_version SET version = 0",
      "INSERT INTO chime.fires (schedule_id, scheduled_for, leader_epoch) SELECT 1, now(), 99",
      "DELETE FROM chime.fires",
      "UPDATE chime.leader SET holder = 'w1', epoch = epoch + 1",
      "DELETE FROM chime.leader",
      "DELETE FROM chime.alerts",
  });
  EXPECT_EQ(rows(), before);
}

TEST_F(WorkerRoleTest, CannotRewriteAJobOrEraseItsHistory) {
  EnqueueParams p = Params("report");
  p.payload = R"({"to": "ops@example.com"})";
  p.unique_key = "report-1";
  const int64_t id = Enqueue(p);
  ClaimedJob j = ClaimOne();
  ASSERT_TRUE(Complete(j, CompletionKind::kFailed, {"first try"}).applied);
  const std::string id_text = std::to_string(id);
  const std::string before = Snapshot(id) + sql_.Scalar("SELECT string_agg(r::text, ',') FROM chime.runs r") +
                             sql_.Scalar("SELECT string_agg(c::text, ',') FROM chime.job_counts c");
  std::vector<std::string> refused;
  for (const char* column : {"kind = 'evil'", "payload = '{\"to\": \"evil@example.com\"}'", "queue = 'evil'",
                             "priority = 9", "max_attempts = 1000", "timeout_ms = 1", "unique_key = 'x'",
                             "parent_id = 1", "schedule_id = 1", "scheduled_for = now()", "dry_run = true",
                             "created_at = now()", "invocation = 'cron'", "id = id + 1000"}) {
    refused.push_back(std::string("UPDATE chime.jobs SET ") + column + " WHERE id = " + id_text);
  }
  refused.insert(refused.end(), {
      "DELETE FROM chime.jobs",
      "UPDATE chime.runs SET outcome = 'succeeded'",
      "DELETE FROM chime.runs",
      "UPDATE chime.job_counts SET n = n + 100",
      "INSERT INTO chime.job_counts VALUES ('default', 'report', 'succeeded', 0, 100)",
      "DELETE FROM chime.job_counts",
      "UPDATE chime.jobs_enqueued SET n = 0",
      "UPDATE chime.run_stats SET failed = 0",
      "INSERT INTO chime.workers (id, host, pid, queues, slots) VALUES ('evil', 'h', 1, '{default}', 1)",
      // A job that claims to be a schedule's fire, or to be leased already.
      "INSERT INTO chime.jobs (kind, schedule_id, scheduled_for) VALUES ('noop', 1, now())",
      "INSERT INTO chime.jobs (kind, state, lease_token, worker_id) "
      "VALUES ('noop', 'running', gen_random_uuid(), 'w1')",
  });
  ExpectRefused(refused);
  EXPECT_EQ(Snapshot(id) + sql_.Scalar("SELECT string_agg(r::text, ',') FROM chime.runs r") +
                sql_.Scalar("SELECT string_agg(c::text, ',') FROM chime.job_counts c"),
            before);
  // What it may change, it still may: the lease columns of a job it holds.
  const auto allowed = AsWorker("UPDATE chime.jobs SET run_at = now(), last_error = NULL WHERE id = " + id_text);
  EXPECT_TRUE(allowed.has_value()) << allowed.error().ToString();
}

}  // namespace
}  // namespace chime::db::testing

namespace chime::db::testing {
namespace {

// The trust boundary docs/THREAT_MODEL.md states for chime_worker (issue 18,
// finding 12), pinned so that the document stays true: the role may UPDATE
// the lease columns of any job, since the claim, heartbeat, completion and
// rescue statements that set them must (row-level security or SECURITY
// DEFINER wrappers would put a cost on the hot path; 0008 narrowed the
// columns instead). Only Chime's own SQL checks the lease token. A login
// with the role can therefore take over or finish a job another worker
// holds; it cannot rewrite what a job is (CannotRewriteAJobOrEraseItsHistory).
// If this test starts failing because the role was narrowed further, update
// the threat model with it.
TEST_F(WorkerRoleTest, TrustBoundaryALoginWithTheRoleCanFinishAJobItDoesNotHold) {
  const int64_t id = Enqueue(Params("report"));
  ClaimedJob held = ClaimOne();  // Held by this test's store, not by the login below.
  ASSERT_EQ(held.id, id);
  const std::string id_text = std::to_string(id);
  // Chime's own SQL refuses a completion under another token...
  Lease stolen = held.lease;
  stolen.token = "00000000-0000-0000-0000-000000000000";
  const std::vector<Completion> forged = {Completion{.lease = stolen, .attempt = held.attempt}};
  auto refused = worker_->JobsCompleteIfLeased(forged);
  ASSERT_TRUE(refused.has_value()) << refused.error().ToString();
  EXPECT_FALSE((*refused)[0].applied);
  // ...but the role itself lets a login read the token and end the job.
  const auto finished = AsWorker("UPDATE chime.jobs SET state = 'succeeded', finished_at = now(), "
                                 "lease_token = NULL WHERE id = " + id_text +
                                 " AND lease_token = (SELECT lease_token FROM chime.jobs_all WHERE id = " + id_text + ")");
  EXPECT_TRUE(finished.has_value()) << finished.error().ToString();
  EXPECT_EQ(sql_.Scalar("SELECT state FROM chime.jobs_all WHERE id = " + id_text), "succeeded");
}

}  // namespace
}  // namespace chime::db::testing
