// AdminService against a real PostgreSQL, called directly (the ROUTER, the
// signatures and the scopes are admin_scopes_test's): each command answers
// from the stores and changes what it says, a job made ready is announced
// through the ready hint, and a bad request is refused with a clear error
// that changes nothing.
#include "scheduler/admin_service.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/auth/scope.h"
#include "common/db/job_store.h"
#include "common/db/migrations.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_database.h"

namespace chime::scheduler {
namespace {

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    auto migrated = db::MigrationsApply(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
  }

  v1::AdminReply Handle(const v1::AdminRequest& request) {
    return admin_.Handle(request, auth::BootstrapPrincipal(), workers_,
                         [this](const db::ReadyQueue& q) { hints_.push_back(q.queue + ":" + std::to_string(q.count)); });
  }

  static v1::AdminRequest Enqueue(const std::string& kind, const std::string& queue = "") {
    v1::AdminRequest r;
    r.mutable_enqueue()->set_kind(kind);
    r.mutable_enqueue()->set_queue(queue);
    return r;
  }

  static v1::AdminRequest Schedule(const std::string& name, const std::string& cron) {
    v1::AdminRequest r;
    r.mutable_schedule_create()->set_name(name);
    r.mutable_schedule_create()->set_cron(cron);
    r.mutable_schedule_create()->set_kind("noop");
    return r;
  }

  static v1::AdminRequest Limit(const std::string& name) {
    v1::AdminRequest r;
    r.mutable_limit_set()->set_name(name);
    r.mutable_limit_set()->set_kind("sync_integration");
    r.mutable_limit_set()->set_partition_by("provider");
    return r;
  }

  int64_t Count(const std::string& sql) { return std::stoll(db_.Scalar(sql)); }

  chime::testing::TestDatabase db_;
  chime::testing::FakeClock clock_;
  WorkerRegistry workers_{clock_, std::chrono::seconds(30)};
  LiveCounters counters_;
  AdminService admin_{db::ConnectionConfig{.url = db_.url()}, db::JobStoreConfig{}, counters_};
  std::vector<std::string> hints_;
};

TEST_F(AdminServiceTest, EnqueueInsertsTheJobAndAnnouncesItsQueue) {
  const v1::AdminReply reply = Handle(Enqueue("noop", "mail"));
  ASSERT_TRUE(reply.has_enqueue()) << reply.DebugString();
  EXPECT_EQ(reply.enqueue().job().kind(), "noop");
  EXPECT_EQ(reply.enqueue().job().queue(), "mail");
  EXPECT_EQ(reply.enqueue().job().state(), "available");
  EXPECT_FALSE(reply.enqueue().existing());
  EXPECT_EQ(db_.Scalar("SELECT kind || '/' || queue || '/' || state FROM chime.jobs_all WHERE id = " +
                       std::to_string(reply.enqueue().job().id())),
            "noop/mail/available");
  EXPECT_EQ(hints_, std::vector<std::string>{"mail:1"});
}

TEST_F(AdminServiceTest, AnEnqueueThatFindsItsUniqueKeyTakenReturnsTheLiveJobAndAnnouncesNothing) {
  v1::AdminRequest request = Enqueue("noop");
  request.mutable_enqueue()->set_unique_key("nightly");
  const v1::AdminReply first = Handle(request);
  const v1::AdminReply second = Handle(request);
  ASSERT_TRUE(second.has_enqueue()) << second.DebugString();
  EXPECT_TRUE(second.enqueue().existing());
  EXPECT_EQ(second.enqueue().job().id(), first.enqueue().job().id());
  EXPECT_EQ(Count("SELECT count(*) FROM chime.jobs_all"), 1);
  EXPECT_EQ(hints_, std::vector<std::string>{"default:1"});
}

TEST_F(AdminServiceTest, ADelayedJobIsNotAnnouncedAsReady) {
  v1::AdminRequest request = Enqueue("noop");
  request.mutable_enqueue()->set_delay_ms(3'600'000);
  const v1::AdminReply reply = Handle(request);
  ASSERT_TRUE(reply.has_enqueue()) << reply.DebugString();
  EXPECT_EQ(reply.enqueue().job().state(), "scheduled");
  EXPECT_TRUE(hints_.empty());
}

TEST_F(AdminServiceTest, ANegativeDelayIsRefusedAndInsertsNothing) {
  v1::AdminRequest request = Enqueue("noop");
  request.mutable_enqueue()->set_delay_ms(-1);
  const v1::AdminReply reply = Handle(request);
  ASSERT_TRUE(reply.has_error()) << reply.DebugString();
  EXPECT_EQ(reply.error().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(reply.error().message(), "delay: must not be negative");
  EXPECT_EQ(Count("SELECT count(*) FROM chime.jobs_all"), 0);
  EXPECT_TRUE(hints_.empty());
}

TEST_F(AdminServiceTest, AnEnqueueWithABadKindIsRefusedNamingTheField) {
  const v1::AdminReply reply = Handle(Enqueue("no spaces allowed"));
  ASSERT_TRUE(reply.has_error()) << reply.DebugString();
  EXPECT_EQ(reply.error().code(), v1::INVALID_ARGUMENT);
  EXPECT_NE(reply.error().message().find("kind"), std::string::npos) << reply.error().message();
  EXPECT_EQ(Count("SELECT count(*) FROM chime.jobs_all"), 0);
}

TEST_F(AdminServiceTest, ARequestWithNoCommandIsRefused) {
  const v1::AdminReply reply = Handle(v1::AdminRequest{});
  ASSERT_TRUE(reply.has_error()) << reply.DebugString();
  EXPECT_EQ(reply.error().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(reply.error().message(), "admin request: no command");
}

TEST_F(AdminServiceTest, ShowAnswersWithTheJobAndAnUnknownIdIsNotFound) {
  const int64_t id = Handle(Enqueue("noop")).enqueue().job().id();
  v1::AdminRequest show;
  show.mutable_show()->set_job_id(id);
  const v1::AdminReply shown = Handle(show);
  ASSERT_TRUE(shown.has_show()) << shown.DebugString();
  EXPECT_EQ(shown.show().job().id(), id);
  EXPECT_EQ(shown.show().runs_size(), 0);

  show.mutable_show()->set_job_id(id + 1000);
  const v1::AdminReply missing = Handle(show);
  ASSERT_TRUE(missing.has_error()) << missing.DebugString();
  EXPECT_EQ(missing.error().code(), v1::NOT_FOUND);
  EXPECT_NE(missing.error().message().find(std::to_string(id + 1000)), std::string::npos)
      << missing.error().message();
}

TEST_F(AdminServiceTest, CancelCancelsAnAvailableJobAndRetryMakesItReadyAgain) {
  const int64_t id = Handle(Enqueue("noop")).enqueue().job().id();
  v1::AdminRequest cancel;
  cancel.mutable_cancel()->set_job_id(id);
  const v1::AdminReply cancelled = Handle(cancel);
  ASSERT_TRUE(cancelled.has_cancel()) << cancelled.DebugString();
  EXPECT_TRUE(cancelled.cancel().cancelled_now());
  EXPECT_EQ(db_.Scalar("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id)), "cancelled");

  hints_.clear();
  v1::AdminRequest retry;
  retry.mutable_retry()->set_job_id(id);
  const v1::AdminReply retried = Handle(retry);
  ASSERT_TRUE(retried.has_retry()) << retried.DebugString();
  EXPECT_EQ(retried.retry().state(), "available");
  EXPECT_EQ(db_.Scalar("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(id)), "available");
  EXPECT_EQ(hints_, std::vector<std::string>{"default:1"});
}

TEST_F(AdminServiceTest, AScheduleIsCreatedOnceAndListed) {
  const v1::AdminReply created = Handle(Schedule("nightly", "0 3 * * *"));
  ASSERT_TRUE(created.has_schedule()) << created.DebugString();
  EXPECT_EQ(created.schedule().spec().name(), "nightly");
  EXPECT_EQ(created.schedule().spec().cron(), "0 3 * * *");

  const v1::AdminReply again = Handle(Schedule("nightly", "0 4 * * *"));
  ASSERT_TRUE(again.has_error()) << again.DebugString();
  EXPECT_EQ(again.error().code(), v1::ALREADY_EXISTS);
  EXPECT_EQ(db_.Scalar("SELECT cron FROM chime.schedules WHERE name = 'nightly'"), "0 3 * * *");

  v1::AdminRequest list;
  list.mutable_schedule_list();
  const v1::AdminReply listed = Handle(list);
  ASSERT_TRUE(listed.has_schedules()) << listed.DebugString();
  ASSERT_EQ(listed.schedules().schedules_size(), 1);
  EXPECT_EQ(listed.schedules().schedules(0).spec().name(), "nightly");
}

TEST_F(AdminServiceTest, AScheduleWithAnInvalidCronIsRefusedNamingTheFieldAndNotStored) {
  const v1::AdminReply reply = Handle(Schedule("broken", "61 * * * *"));
  ASSERT_TRUE(reply.has_error()) << reply.DebugString();
  EXPECT_EQ(reply.error().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(reply.error().message().rfind("cron: ", 0), 0u) << reply.error().message();
  EXPECT_EQ(Count("SELECT count(*) FROM chime.schedules"), 0);
}

TEST_F(AdminServiceTest, AnUnknownScheduleIsNotFound) {
  v1::AdminRequest show;
  show.mutable_schedule_show()->set_name("ghost");
  const v1::AdminReply reply = Handle(show);
  ASSERT_TRUE(reply.has_error()) << reply.DebugString();
  EXPECT_EQ(reply.error().code(), v1::NOT_FOUND);
  EXPECT_NE(reply.error().message().find("ghost"), std::string::npos) << reply.error().message();
}

TEST_F(AdminServiceTest, WhoamiAnswersWithTheCaller) {
  v1::AdminRequest request;
  request.mutable_whoami();
  const v1::AdminReply reply = admin_.Handle(
      request, auth::Principal{.name = "ci", .scope = auth::Scope::kOperate}, workers_, [](const db::ReadyQueue&) {});
  ASSERT_TRUE(reply.has_whoami()) << reply.DebugString();
  EXPECT_EQ(reply.whoami().name(), "ci");
  EXPECT_EQ(reply.whoami().scope(), "operate");
  EXPECT_FALSE(reply.whoami().bootstrap());
}

TEST_F(AdminServiceTest, WorkersAnswersWithAnEmptyListWhenNoneIsConnected) {
  v1::AdminRequest request;
  request.mutable_workers();
  const v1::AdminReply reply = Handle(request);
  ASSERT_TRUE(reply.has_workers()) << reply.DebugString();
  EXPECT_EQ(reply.workers().workers_size(), 0);
}

TEST_F(AdminServiceTest, MigrateReportsTheSchemaIsCurrent) {
  v1::AdminRequest request;
  request.mutable_migrate();
  const v1::AdminReply reply = Handle(request);
  ASSERT_TRUE(reply.has_migrate()) << reply.DebugString();
  EXPECT_GT(reply.migrate().current_version(), 0);
  EXPECT_EQ(reply.migrate().current_version(), reply.migrate().known_version());
}

TEST_F(AdminServiceTest, ALimitIsSetAndListedWithEachPartitionsUse) {
  v1::AdminRequest set = Limit("provider-quota");
  set.mutable_limit_set()->set_concurrency(2);
  set.mutable_limit_set()->mutable_rate()->set_count(100);
  set.mutable_limit_set()->mutable_rate()->set_window_ms(60'000);
  const v1::AdminReply stored = Handle(set);
  ASSERT_TRUE(stored.has_limit()) << stored.DebugString();
  EXPECT_EQ(stored.limit().spec().name(), "provider-quota");
  EXPECT_EQ(stored.limit().spec().kind(), "sync_integration");
  EXPECT_FALSE(stored.limit().spec().has_queue());
  EXPECT_EQ(stored.limit().spec().concurrency(), 2);
  EXPECT_EQ(stored.limit().spec().rate().window_ms(), 60'000);
  EXPECT_EQ(stored.limit().source(), "api");
  EXPECT_EQ(db_.Scalar("SELECT concat_ws('/', kind, partition_by, concurrency, rate, rate_window_ms, source) "
                       "FROM chime.limits WHERE name = 'provider-quota'"),
            "sync_integration/provider/2/100/60000/api");

  // Three github syncs and one notion sync; the claim takes two github
  // (the partition's concurrency) and the notion one.
  for (const char* provider : {"github", "github", "github", "notion"}) {
    v1::AdminRequest e = Enqueue("sync_integration");
    e.mutable_enqueue()->set_payload_json(std::string(R"({"provider":")") + provider + "\"}");
    ASSERT_TRUE(Handle(e).has_enqueue());
  }
  db::Connection conn(db::ConnectionConfig{.url = db_.url()});
  db::JobStore jobs(conn);
  auto claimed = jobs.JobsClaim({.worker_id = "w1", .limit = 10});
  ASSERT_TRUE(claimed.has_value()) << claimed.error().ToString();
  ASSERT_EQ(claimed->size(), 3u);

  v1::AdminRequest list;
  list.mutable_limit_list();
  const v1::AdminReply listed = Handle(list);
  ASSERT_TRUE(listed.has_limits()) << listed.DebugString();
  ASSERT_EQ(listed.limits().limits_size(), 1);
  const v1::Limit& limit = listed.limits().limits(0);
  EXPECT_EQ(limit.spec().partition_by(), "provider");
  EXPECT_EQ(limit.running(), 3);
  EXPECT_EQ(limit.ready(), 1);
  EXPECT_EQ(limit.partitions_total(), 2);
  ASSERT_EQ(limit.partitions_size(), 2);
  EXPECT_EQ(limit.partitions(0).partition(), "github");
  EXPECT_EQ(limit.partitions(0).running(), 2);
  EXPECT_EQ(limit.partitions(0).started_in_window(), 2);
  EXPECT_EQ(limit.partitions(1).partition(), "notion");
  EXPECT_EQ(limit.partitions(1).running(), 1);
}

TEST_F(AdminServiceTest, AnEmptyLimitListIsStillAList) {
  v1::AdminRequest list;
  list.mutable_limit_list();
  const v1::AdminReply listed = Handle(list);
  ASSERT_TRUE(listed.has_limits()) << listed.DebugString();
  EXPECT_EQ(listed.limits().limits_size(), 0);
}

TEST_F(AdminServiceTest, ABadLimitIsRefusedNamingTheFieldAndNotStored) {
  const v1::AdminReply no_budget = Handle(Limit("no-budget"));
  ASSERT_TRUE(no_budget.has_error()) << no_budget.DebugString();
  EXPECT_EQ(no_budget.error().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(no_budget.error().message(), "limit: needs a concurrency, a rate or both");

  v1::AdminRequest zero_window = Limit("zero-window");
  zero_window.mutable_limit_set()->mutable_rate()->set_count(10);
  const v1::AdminReply refused = Handle(zero_window);
  ASSERT_TRUE(refused.has_error()) << refused.DebugString();
  EXPECT_EQ(refused.error().code(), v1::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error().message().rfind("rate: ", 0), 0u) << refused.error().message();

  v1::AdminRequest bad_name = Limit("a/b");
  bad_name.mutable_limit_set()->set_concurrency(1);
  const v1::AdminReply named = Handle(bad_name);
  ASSERT_TRUE(named.has_error()) << named.DebugString();
  EXPECT_EQ(named.error().message().rfind("name: ", 0), 0u) << named.error().message();
  EXPECT_EQ(Count("SELECT count(*) FROM chime.limits"), 0);
}

TEST_F(AdminServiceTest, ALimitIsDeletedOnceAndThenNotFound) {
  v1::AdminRequest set = Limit("one-per-user");
  set.mutable_limit_set()->set_concurrency(1);
  ASSERT_TRUE(Handle(set).has_limit());
  v1::AdminRequest del;
  del.mutable_limit_delete()->set_name("one-per-user");
  const v1::AdminReply deleted = Handle(del);
  ASSERT_TRUE(deleted.has_limit_deleted()) << deleted.DebugString();
  EXPECT_EQ(deleted.limit_deleted().name(), "one-per-user");
  EXPECT_EQ(Count("SELECT count(*) FROM chime.limits"), 0);

  const v1::AdminReply again = Handle(del);
  ASSERT_TRUE(again.has_error()) << again.DebugString();
  EXPECT_EQ(again.error().code(), v1::NOT_FOUND);
  EXPECT_EQ(again.error().message(), "no limit named 'one-per-user'");
}

}  // namespace
}  // namespace chime::scheduler
