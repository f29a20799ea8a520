// The directory of workers against a real PostgreSQL: every replica's
// sightings are listed together, the fresher sighting of a worker wins
// whichever replica made it, silent workers are forgotten, and odd text is
// stored verbatim.
#include "common/db/worker_directory.h"

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::seconds;

// The replica's clock in these tests: sightings are this long before it.
const TimePoint kNow = std::chrono::system_clock::now();

WorkerRow Sighting(const std::string& id, int free_slots, std::chrono::milliseconds silent_for,
                   int pid = 100) {
  WorkerRow w;
  w.worker_id = id;
  w.host = "host-" + id;
  w.pid = pid;
  w.queues = {"default", "mail"};
  w.slots = 4;
  w.free_slots = free_slots;
  w.running_jobs = {11, 12};
  w.version = "1.2.3";
  w.last_seen = kNow - silent_for;
  return w;
}

class WorkerDirectoryTest : public JobStoreTestBase {
 protected:
  void Publish(const std::vector<WorkerRow>& sightings, const std::string& replica) {
    ASSERT_OK(directory_.Publish(sightings, replica, kNow));
  }

  std::vector<WorkerRow> List() {
    auto rows = directory_.List();
    EXPECT_TRUE(rows.has_value()) << rows.error().ToString();
    return rows.value_or(std::vector<WorkerRow>{});
  }

  WorkerDirectory directory_{conn_};
};

TEST_F(WorkerDirectoryTest, ListsTheWorkersOfEveryReplica) {
  Publish({Sighting("w1", 1, seconds(0))}, "replica-a");
  Publish({Sighting("w2", 2, seconds(0))}, "replica-b");
  auto rows = List();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].worker_id, "w1");
  EXPECT_EQ(rows[0].seen_by, "replica-a");
  EXPECT_EQ(rows[0].host, "host-w1");
  EXPECT_EQ(rows[0].pid, 100);
  EXPECT_EQ(rows[0].queues, (std::vector<std::string>{"default", "mail"}));
  EXPECT_EQ(rows[0].slots, 4);
  EXPECT_EQ(rows[0].free_slots, 1);
  EXPECT_EQ(rows[0].running_jobs, (std::vector<int64_t>{11, 12}));
  EXPECT_EQ(rows[0].version, "1.2.3");
  EXPECT_EQ(rows[1].worker_id, "w2");
  EXPECT_EQ(rows[1].seen_by, "replica-b");
}

TEST_F(WorkerDirectoryTest, TheFresherSightingWinsWhicheverReplicaMadeIt) {
  Publish({Sighting("w1", 1, seconds(5))}, "replica-a");
  Publish({Sighting("w1", 3, seconds(0))}, "replica-b");
  Publish({Sighting("w1", 0, seconds(4))}, "replica-a");  // Older than b's: ignored.
  auto rows = List();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].free_slots, 3);
  EXPECT_EQ(rows[0].seen_by, "replica-b");
  // The sighting's age is applied in database time.
  EXPECT_EQ(sql_.Scalar("SELECT last_seen_at > now() - interval '3 seconds' FROM chime.workers"), "t");
}

TEST_F(WorkerDirectoryTest, AWorkerListedTwiceKeepsItsFresherEntry) {
  Publish({Sighting("w1", 1, seconds(3)), Sighting("w1", 2, seconds(1)), Sighting("w1", 3, seconds(2))},
          "replica-a");
  auto rows = List();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].free_slots, 2);
}

TEST_F(WorkerDirectoryTest, StartedAtStaysUntilTheProcessChanges) {
  Publish({Sighting("w1", 1, seconds(0))}, "replica-a");
  sql_.Exec("UPDATE chime.workers SET started_at = now() - interval '1 hour'");
  Publish({Sighting("w1", 1, seconds(0))}, "replica-b");
  EXPECT_EQ(sql_.Scalar("SELECT started_at < now() - interval '59 minutes' FROM chime.workers"), "t");
  Publish({Sighting("w1", 1, seconds(0), /*pid=*/101)}, "replica-b");  // Restarted.
  EXPECT_EQ(sql_.Scalar("SELECT started_at > now() - interval '1 minute' FROM chime.workers"), "t");
}

TEST_F(WorkerDirectoryTest, ForgetsOnlyWorkersSilentForTheWindow) {
  Publish({Sighting("quiet", 1, seconds(20)), Sighting("chatty", 1, seconds(0))}, "replica-a");
  auto forgotten = directory_.ForgetSilent(seconds(10));
  ASSERT_TRUE(forgotten.has_value()) << forgotten.error().ToString();
  EXPECT_EQ(*forgotten, 1);
  auto rows = List();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].worker_id, "chatty");
}

TEST_F(WorkerDirectoryTest, StoresOddTextVerbatimAndRefusesEmptyNames) {
  WorkerRow odd = Sighting("w'); DROP TABLE chime.jobs;--", 1, seconds(0));
  odd.host = "host \"quoted\" \\ back{slash},";
  odd.queues = {"a,b", "{c}", "\"d\""};
  odd.version = "$1";
  Publish({odd}, "replica \"x\"");
  auto rows = List();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].worker_id, odd.worker_id);
  EXPECT_EQ(rows[0].host, odd.host);
  EXPECT_EQ(rows[0].queues, odd.queues);
  EXPECT_EQ(rows[0].version, "$1");
  EXPECT_EQ(rows[0].seen_by, "replica \"x\"");
  EXPECT_EQ(sql_.Scalar("SELECT to_regclass('chime.jobs') IS NOT NULL"), "t");

  auto no_replica = directory_.Publish(std::vector<WorkerRow>{Sighting("w", 1, seconds(0))}, "", kNow);
  ASSERT_FALSE(no_replica.has_value());
  EXPECT_EQ(no_replica.error().code, ErrorCode::kInvalidArgument);
  auto no_id = directory_.Publish(std::vector<WorkerRow>{Sighting("", 1, seconds(0))}, "r", kNow);
  ASSERT_FALSE(no_id.has_value());
  EXPECT_EQ(no_id.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(List().size(), 1u);
}

TEST_F(WorkerDirectoryTest, TheSchedulerRoleWritesItAndTheAdminRoleReadsIt) {
  Connection scheduler_conn(ConnectionConfig{.url = db_.UrlAsRole("chime_scheduler")});
  WorkerDirectory scheduler(scheduler_conn);
  ASSERT_OK(scheduler.Publish(
      std::vector<WorkerRow>{Sighting("w1", 1, seconds(0)), Sighting("old", 1, seconds(60))}, "replica-a",
      kNow));
  auto forgotten = scheduler.ForgetSilent(seconds(10));
  ASSERT_TRUE(forgotten.has_value()) << forgotten.error().ToString();
  EXPECT_EQ(*forgotten, 1);
  Connection admin_conn(ConnectionConfig{.url = db_.UrlAsRole("chime_admin")});
  auto rows = WorkerDirectory(admin_conn).List();
  ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].worker_id, "w1");
}

TEST_F(WorkerDirectoryTest, PublishingNobodyChangesNothing) {
  ASSERT_OK(directory_.Publish({}, "replica-a", kNow));
  EXPECT_TRUE(List().empty());
}

}  // namespace
}  // namespace chime::db::testing
