// The one rescue path (db::JobRescuer), which the scheduler's maintainer and
// the reset_stale_jobs kind both call: page after page until nothing stale
// is left, bounded by max_pages, stopped between pages on request, and a dry
// run that changes nothing. The SQL of one page is job_store_rescue_test's.
#include "common/db/job_rescuer.h"

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

class JobRescuerTest : public JobStoreTestBase {
 protected:
  // `n` running jobs whose job lease expired; their ids, ascending.
  std::vector<int64_t> Stale(int n) {
    std::vector<int64_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(Enqueue("crashy"));
    Claim(n);
    for (int64_t id : ids) ExpireLease(id);
    return ids;
  }
  int64_t Running() { return sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'"); }

  JobRescuer Rescuer() { return JobRescuer(store()); }  // The store exists after SetUp.
};

TEST_F(JobRescuerTest, RescuesJobsWhoseLeaseExpiredPageAfterPageUntilNoneIsLeft) {
  const std::vector<int64_t> stale = Stale(5);
  Enqueue("healthy");
  const ClaimedJob live = ClaimOne();

  ASSERT_OK_AND_ASSIGN(RescueResult r, Rescuer().Run(RescueParams{.limit = 2}));
  EXPECT_EQ(r.rescued, stale) << "three pages of at most 2, ids sorted";
  EXPECT_TRUE(r.discarded.empty());
  EXPECT_EQ(Running(), 1);
  EXPECT_EQ(State(live.id), "running");
}

TEST_F(JobRescuerTest, DiscardsJobsWithNoAttemptsLeftOnTheSamePath) {
  EnqueueParams p = Params("poison");
  p.max_attempts = 1;
  const int64_t spent = Enqueue(p);
  ClaimOne();
  ExpireLease(spent);
  ASSERT_OK_AND_ASSIGN(RescueResult r, Rescuer().Run(RescueParams{}));
  EXPECT_TRUE(r.rescued.empty());
  EXPECT_EQ(r.discarded, std::vector<int64_t>{spent});
  EXPECT_EQ(State(spent), "discarded");
}

TEST_F(JobRescuerTest, ABacklogBeyondMaxPagesWaitsForTheNextRun) {
  Stale(5);
  ASSERT_OK_AND_ASSIGN(RescueResult first, Rescuer().Run(RescueParams{.limit = 2}, {.max_pages = 2}));
  EXPECT_EQ(first.rescued.size(), 4u);
  EXPECT_EQ(Running(), 1);
  ASSERT_OK_AND_ASSIGN(RescueResult second, Rescuer().Run(RescueParams{.limit = 2}, {.max_pages = 2}));
  EXPECT_EQ(second.rescued.size(), 1u);
  EXPECT_EQ(Running(), 0);
}

TEST_F(JobRescuerTest, AStopRequestEndsTheRunBetweenPages) {
  Stale(5);
  int asked = 0;
  ASSERT_OK_AND_ASSIGN(RescueResult r, Rescuer().Run(RescueParams{.limit = 2},
                                                    {.stop = [&asked] { return ++asked >= 1; }}));
  EXPECT_EQ(r.rescued.size(), 2u) << "one page, then the stop was honoured";
  EXPECT_EQ(Running(), 3);
}

TEST_F(JobRescuerTest, ADryRunReportsOnePageAndChangesNothing) {
  const std::vector<int64_t> stale = Stale(3);
  const std::string before = Snapshot(stale[0]);
  ASSERT_OK_AND_ASSIGN(RescueResult r, Rescuer().Run(RescueParams{.limit = 2}, {.dry_run = true}));
  EXPECT_EQ(r.rescued.size(), 2u) << "a preview sees the same rows again: one page";
  EXPECT_EQ(Running(), 3);
  EXPECT_EQ(Snapshot(stale[0]), before);
}

}  // namespace
}  // namespace chime::db::testing
