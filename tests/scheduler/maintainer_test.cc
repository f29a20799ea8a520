// The maintainer against a real PostgreSQL, one pass at a time through its
// RunOnce hook: a pass rescues jobs whose job lease expired (db::JobRescuer) (and discards one
// with no attempts left), cleans up finished jobs past retention at most
// once per cleanup interval, and prunes expired admin nonces in bounded
// batches; the loop does the same on its own thread. The store's SQL has its
// own tests (tests/common/db/job_store_rescue_test.cc); these check what the
// service does with it.
#include "scheduler/maintainer.h"

#include <gtest/gtest.h>

#include "common/db/auth_store.h"
#include "tests/common/db/job_store_test_base.h"
#include "tests/support/wait_until.h"

namespace chime::scheduler {
namespace {

using db::testing::JobStoreTestBase;
using std::chrono::hours;
using std::chrono::minutes;

class MaintainerTest : public JobStoreTestBase {
 protected:
  std::unique_ptr<Maintainer> Make(MaintainerConfig config = {}) {
    EXPECT_TRUE(config.Validate().has_value());
    return std::make_unique<Maintainer>(db::ConnectionConfig{.url = db_.url()}, config);
  }

  // A job that finished (succeeded) `age` ago, run included.
  int64_t FinishedJob(std::chrono::hours age) {
    const int64_t id = Enqueue("finished", "done");
    const db::ClaimedJob j = ClaimOne("done");
    EXPECT_TRUE(Complete(j, db::CompletionKind::kSucceeded).applied);
    const std::string back = "now() - interval '" + std::to_string(age.count()) + " hours'";
    sql_.Exec("UPDATE chime.jobs SET finished_at = " + back + " WHERE id = $1", id);
    sql_.Exec("UPDATE chime.runs SET finished_at = " + back + " WHERE job_id = $1", id);
    return id;
  }

  void Nonce(const std::string& nonce, std::chrono::seconds from_now) {
    db::AuthStore auth(conn_);
    ASSERT_TRUE(auth.NonceRecord(nonce, std::chrono::system_clock::now() + from_now).value_or(false));
  }
  int64_t Nonces() { return sql_.Int("SELECT count(*) FROM chime.admin_nonces"); }
};

TEST_F(MaintainerTest, APassRescuesOnlyJobsWhoseLeaseExpired) {
  const int64_t stale = Enqueue("crashy");
  const int64_t live = Enqueue("healthy");
  ClaimOne();
  ClaimOne();
  ExpireLease(stale);

  auto maintainer = Make();
  ASSERT_OK(maintainer->RunOnce(/*force_cleanup=*/false));
  const std::string rescued = State(stale);
  EXPECT_TRUE(rescued == "available" || rescued == "retryable") << rescued;
  EXPECT_EQ(State(live), "running");
  EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.runs WHERE job_id = $1", stale), "lease_expired");
  const MaintainerCounters c = maintainer->counters();
  EXPECT_EQ(c.rescued, 1);
  EXPECT_EQ(c.discarded, 0);
  EXPECT_EQ(c.passes, 1);

  // Nothing stale is left: the next pass changes nothing.
  ASSERT_OK(maintainer->RunOnce(false));
  EXPECT_EQ(maintainer->counters().rescued, 1);
  EXPECT_EQ(State(live), "running");
}

TEST_F(MaintainerTest, APassDiscardsAStaleJobWithNoAttemptsLeft) {
  db::EnqueueParams p = Params("crashy");
  p.max_attempts = 1;
  const int64_t id = Enqueue(p);
  ClaimOne();
  ExpireLease(id);

  auto maintainer = Make();
  ASSERT_OK(maintainer->RunOnce(false));
  EXPECT_EQ(State(id), "discarded");
  EXPECT_EQ(maintainer->counters().rescued, 0);
  EXPECT_EQ(maintainer->counters().discarded, 1);
}

TEST_F(MaintainerTest, CleanupDeletesOnlyFinishedJobsPastRetention) {
  const int64_t old_job = FinishedJob(hours(24 * 8));
  const int64_t recent = FinishedJob(hours(1));
  const int64_t waiting = Enqueue("live");

  auto maintainer = Make();  // Retention: the default 7 days.
  ASSERT_OK(maintainer->RunOnce(false));  // The first pass always cleans up.
  EXPECT_EQ(State(old_job), "");
  EXPECT_EQ(RunCount(old_job), 0);
  EXPECT_EQ(State(recent), "succeeded");
  EXPECT_EQ(RunCount(recent), 1);
  EXPECT_EQ(State(waiting), "available");
  EXPECT_EQ(maintainer->counters().jobs_deleted, 1);
  EXPECT_EQ(maintainer->counters().runs_deleted, 1);
}

TEST_F(MaintainerTest, CleanupRunsAtMostOncePerIntervalUnlessForced) {
  MaintainerConfig config;
  config.cleanup_interval = hours(1);  // Far longer than this test.
  auto maintainer = Make(config);
  ASSERT_OK(maintainer->RunOnce(false));

  const int64_t old_job = FinishedJob(hours(24 * 8));
  ASSERT_OK(maintainer->RunOnce(false));
  EXPECT_EQ(State(old_job), "succeeded") << "cleaned up again within the interval";
  EXPECT_EQ(maintainer->counters().passes, 2);

  ASSERT_OK(maintainer->RunOnce(/*force_cleanup=*/true));
  EXPECT_EQ(State(old_job), "");
  EXPECT_EQ(maintainer->counters().jobs_deleted, 1);
}

TEST_F(MaintainerTest, ExpiredNoncesArePrunedInBoundedBatchesAndLiveOnesKept) {
  for (int i = 0; i < 5; ++i) Nonce("expired-" + std::to_string(i), std::chrono::seconds(-60));
  Nonce("live", std::chrono::seconds(300));

  MaintainerConfig config;
  config.nonce_prune_batch = 2;
  config.nonce_prune_batches = 1;  // At most 2 per pass.
  auto maintainer = Make(config);
  ASSERT_OK(maintainer->RunOnce(false));
  EXPECT_EQ(maintainer->counters().nonces_deleted, 2);
  EXPECT_EQ(Nonces(), 4);
  ASSERT_OK(maintainer->RunOnce(false));
  ASSERT_OK(maintainer->RunOnce(false));
  ASSERT_OK(maintainer->RunOnce(false));
  EXPECT_EQ(maintainer->counters().nonces_deleted, 5);
  EXPECT_EQ(sql_.Scalar("SELECT convert_from(nonce, 'UTF8') FROM chime.admin_nonces"), "live");
}

TEST_F(MaintainerTest, TheLoopRescuesOnItsOwnAndStopsIdempotently) {
  const int64_t stale = Enqueue("crashy");
  ClaimOne();
  ExpireLease(stale);

  MaintainerConfig config;
  config.rescue_interval = std::chrono::milliseconds(50);
  auto maintainer = Make(config);
  maintainer->Stop();  // Safe before Start.
  maintainer->Start();
  EXPECT_TRUE(chime::testing::WaitForValue("the loop to rescue the stale job",
                                           [&] { return State(stale); },
                                           [](const std::string& s) { return s != "running"; }));
  EXPECT_TRUE(chime::testing::WaitUntil("a second pass", [&] { return maintainer->counters().passes >= 2; }));
  maintainer->Stop();
  maintainer->Stop();
  EXPECT_EQ(maintainer->counters().rescued, 1);
}

TEST(MaintainerConfigTest, NonPositiveIntervalsAndOutOfRangeBatchesAreRefused) {
  EXPECT_TRUE(MaintainerConfig{}.Validate().has_value());
  MaintainerConfig c;
  c.rescue_interval = std::chrono::milliseconds(0);
  EXPECT_EQ(c.Validate().error().message, "rescue_interval: must be > 0");
  c = {};
  c.cleanup_interval = minutes(-1);
  EXPECT_EQ(c.Validate().error().message, "cleanup_interval: must be > 0");
  c = {};
  c.nonce_prune_batch = 0;
  EXPECT_FALSE(c.Validate().has_value());
  c = {};
  c.nonce_prune_batch = db::AuthStore::kMaxPruneBatch + 1;
  EXPECT_FALSE(c.Validate().has_value());
  c = {};
  c.rescue_max_pages = 0;
  EXPECT_EQ(c.Validate().error().message, "rescue: limit and rescue_max_pages must be >= 1");
}

}  // namespace
}  // namespace chime::scheduler
