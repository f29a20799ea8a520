// Ready-job notifications: every route that inserts ready jobs wakes the
// listener with per-queue counts, at commit and only then.
#include "common/db/ready_listener.h"

#include <chrono>
#include <map>

#include "tests/common/db/job_store_test_base.h"
#include "tests/support/wait_until.h"

namespace chime::db::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class ReadyListenerTest : public JobStoreTestBase {
 protected:
  // Collects notifications until `want` jobs were announced or 30 s passed
  // (a deadline for a broken build, not a timing assertion).
  std::map<std::string, int64_t> Collect(ReadyListener& listener, int64_t want) {
    std::map<std::string, int64_t> got;
    int64_t total = 0;
    // Not asserted here: callers check what arrived, and one of them drains
    // a notification that may already be gone.
    (void)chime::testing::WaitUntil(std::to_string(want) + " jobs announced", [&] {
      auto r = listener.Wait(milliseconds(200));
      if (!r) {
        ADD_FAILURE() << r.error().ToString();
        return true;
      }
      for (const auto& q : *r) {
        got[q.queue] += q.count;
        total += q.count;
      }
      return total >= want;
    }, seconds(30));
    return got;
  }

  ReadyListener listener_{ConnectionConfig{.url = db_.url()}};
};

TEST_F(ReadyListenerTest, AnnouncesJobsEnqueuedThroughTheStorePerQueue) {
  ASSERT_TRUE(listener_.Wait(milliseconds(1)).has_value());  // LISTEN before inserting.
  EXPECT_TRUE(listener_.TakeReconnected());
  EXPECT_FALSE(listener_.TakeReconnected());
  Enqueue("a", "default");
  std::vector<EnqueueParams> many(5, Params("b", "mail"));
  ASSERT_OK(store().JobsInsertMany(many));
  auto got = Collect(listener_, 6);
  EXPECT_EQ(got["default"], 1);
  EXPECT_EQ(got["mail"], 5);
}

TEST_F(ReadyListenerTest, AnnouncesAnApplicationsOwnInsertAtCommitOnly) {
  ASSERT_TRUE(listener_.Wait(milliseconds(1)).has_value());
  pqxx::connection app(db_.url());
  pqxx::work tx(app);
  tx.exec("INSERT INTO chime.jobs (kind, queue) VALUES ('app_kind', 'app')");
  // Not committed yet: nothing may be announced.
  auto before = listener_.Wait(milliseconds(300));
  ASSERT_TRUE(before.has_value());
  EXPECT_TRUE(before->empty());
  tx.commit();
  EXPECT_EQ(Collect(listener_, 1)["app"], 1);
}

TEST_F(ReadyListenerTest, ScheduledJobsAreNotAnnouncedAsReady) {
  ASSERT_TRUE(listener_.Wait(milliseconds(1)).has_value());
  EnqueueParams later = Params("later");
  later.delay = std::chrono::hours(1);
  Enqueue(later);
  Enqueue("now", "marker");
  auto got = Collect(listener_, 1);
  EXPECT_EQ(got.count("default"), 0u);
  EXPECT_EQ(got["marker"], 1);
}

TEST_F(ReadyListenerTest, JobsMadeReadyAgainAreAnnounced) {
  // LISTEN before the enqueue, so that its own notification surely arrives
  // and is drained here (listening after it, the drain waited out its 30 s).
  ASSERT_TRUE(listener_.Wait(milliseconds(1)).has_value());
  const int64_t id = Enqueue("again", "retries");
  ClaimParams claim;
  claim.worker_id = "w";
  claim.queues = {"retries"};
  ASSERT_OK_AND_ASSIGN(auto claimed, store().JobsClaim(claim));
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(Collect(listener_, 1)["retries"], 1);  // The enqueue's own notification.
  // Released at shutdown: ready again at once.
  ASSERT_OK(store().JobsReleaseIfLeased(std::vector<Lease>{claimed[0].lease}, "w"));
  EXPECT_EQ(Collect(listener_, 1)["retries"], 1);
  // A claim or heartbeat makes nothing ready and announces nothing.
  ASSERT_OK_AND_ASSIGN(claimed, store().JobsClaim(claim));
  ASSERT_OK(store().JobsHeartbeat(std::vector<Lease>{claimed[0].lease}, std::chrono::minutes(1)));
  auto quiet = listener_.Wait(milliseconds(300));
  ASSERT_TRUE(quiet.has_value());
  EXPECT_TRUE(quiet->empty());
  (void)id;
}

TEST(ReadyPayloadTest, ParsesCountsAndSkipsWhatDoesNotParse) {
  auto r = ParseReadyPayload("default:3,mail:12,bad,:4,q:x,q:-1,ns:queue:2");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].queue, "default");
  EXPECT_EQ(r[0].count, 3);
  EXPECT_EQ(r[1].queue, "mail");
  EXPECT_EQ(r[1].count, 12);
  EXPECT_EQ(r[2].queue, "ns:queue");
  EXPECT_EQ(r[2].count, 2);
  EXPECT_TRUE(ParseReadyPayload("").empty());
}

TEST(ReadyListenerUnreachableTest, AnUnreachableDatabaseIsUnavailable) {
  ReadyListener listener(ConnectionConfig{.url = "postgresql://x:pw@127.0.0.1:1/none?connect_timeout=5"});
  auto r = listener.Wait(milliseconds(1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message.find("pw"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace chime::db::testing
