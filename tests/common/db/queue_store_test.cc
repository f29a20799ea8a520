// Paused queues (migration 0024): a paused queue accepts jobs but no claim
// takes them, whichever claim path; resuming wakes its workers; the list
// shows every queue with work or a pause on record.
#include "common/db/limit_store.h"
#include "common/db/queue_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

class QueueStoreTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    queues_ = std::make_unique<QueueStore>(conn_);
  }

  QueueRow Pause(const std::string& name, const std::string& by = "alice") {
    auto row = queues_->QueuePause(name, by);
    EXPECT_TRUE(row.has_value()) << row.error().ToString();
    return row ? *row : QueueRow{};
  }
  QueueRow Resume(const std::string& name, const std::string& by = "bob") {
    auto row = queues_->QueueResume(name, by);
    EXPECT_TRUE(row.has_value()) << row.error().ToString();
    return row ? *row : QueueRow{};
  }

  std::unique_ptr<QueueStore> queues_;
};

TEST_F(QueueStoreTest, APausedQueueKeepsItsJobsReadyAndOthersAreClaimed) {
  const int64_t mail = Enqueue("send", "mail");
  const int64_t other = Enqueue("send", "default");
  QueueRow row = Pause("mail");
  EXPECT_TRUE(row.paused());
  EXPECT_EQ(row.changed_by, "alice");
  EXPECT_EQ(row.ready, 1);

  auto claimed = Claim(10, {"mail", "default"});
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, other);
  EXPECT_TRUE(Claim(10, {"mail"}).empty());
  EXPECT_EQ(State(mail), "available");

  // Enqueueing into a paused queue goes on.
  Enqueue("send", "mail");
  row = Resume("mail");
  EXPECT_FALSE(row.paused());
  EXPECT_EQ(row.changed_by, "bob");
  EXPECT_EQ(Claim(10, {"mail"}).size(), 2u);
}

// The limits' claim path (a limit on the queue) honours the pause too.
TEST_F(QueueStoreTest, APauseHoldsJobsUnderALimit) {
  LimitStore limits(conn_);
  schedule::LimitSpec spec;
  spec.name = "mail-rate";
  spec.queue = "mail";
  spec.concurrency = 5;
  ASSERT_OK(limits.LimitSet(spec));
  Enqueue("send", "mail");
  Pause("mail");
  EXPECT_TRUE(Claim(10, {"mail"}).empty());
  Resume("mail");
  EXPECT_EQ(Claim(10, {"mail"}).size(), 1u);
}

// Running jobs of a queue paused under them finish normally.
TEST_F(QueueStoreTest, RunningJobsFinishWhenTheirQueueIsPaused) {
  Enqueue("send", "mail");
  ClaimedJob job = ClaimOne("mail");
  Pause("mail");
  EXPECT_TRUE(Complete(job, CompletionKind::kSucceeded).applied);
  EXPECT_EQ(State(job.id), "succeeded");
}

TEST_F(QueueStoreTest, PausingTwiceKeepsTheFirstPause) {
  QueueRow first = Pause("mail", "alice");
  QueueRow second = Pause("mail", "carol");
  ASSERT_TRUE(first.paused_at && second.paused_at);
  EXPECT_EQ(*second.paused_at, *first.paused_at);
  EXPECT_EQ(second.changed_by, "alice");
  // Resuming an open queue changes nothing either.
  Resume("mail", "bob");
  QueueRow again = Resume("mail", "dave");
  EXPECT_EQ(again.changed_by, "bob");
}

TEST_F(QueueStoreTest, ListsQueuesWithWorkAndQueuesPausedBeforeTheirFirstJob) {
  Enqueue("send", "mail");
  Enqueue("send", "mail");
  ClaimOne("mail");
  EnqueueParams later = Params("send", "mail");
  later.delay = std::chrono::hours(1);
  Enqueue(later);
  Pause("reports");
  ASSERT_OK_AND_ASSIGN(std::vector<QueueRow> rows, queues_->QueuesList());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "mail");
  EXPECT_FALSE(rows[0].paused());
  EXPECT_EQ(rows[0].ready, 1);
  EXPECT_EQ(rows[0].running, 1);
  EXPECT_EQ(rows[0].scheduled, 1);
  EXPECT_EQ(rows[1].name, "reports");
  EXPECT_TRUE(rows[1].paused());
  EXPECT_EQ(rows[1].ready + rows[1].running + rows[1].scheduled, 0);
}

TEST_F(QueueStoreTest, ResumingAnnouncesTheQueuesReadyJobs) {
  Enqueue("send", "mail");
  Enqueue("send", "mail");
  Pause("mail");
  ReadyNotifications ready(db_.url());
  Resume("mail");
  // Delivered at the resume's commit.
  EXPECT_EQ(ready.Next(), "mail:2");
  EXPECT_EQ(ready.Pending(), 0u);
}

// `jobctl show` says why a ready job waits: its queue is paused.
TEST_F(QueueStoreTest, AJobInAPausedQueueSaysSo) {
  const int64_t id = Enqueue("send", "mail");
  ASSERT_OK_AND_ASSIGN(JobWithRuns open, store().JobGet(id));
  EXPECT_FALSE(open.queue_paused_at.has_value());
  QueueRow row = Pause("mail", "alice");
  ASSERT_OK_AND_ASSIGN(JobWithRuns held, store().JobGet(id));
  ASSERT_TRUE(held.queue_paused_at.has_value());
  EXPECT_EQ(*held.queue_paused_at, *row.paused_at);
  EXPECT_EQ(held.queue_paused_by, "alice");
}

TEST_F(QueueStoreTest, RefusesMalformedNamesAndAuthors) {
  auto bad = queues_->QueuePause("no spaces", "alice");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("queue"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(queues_->QueueResume(std::string(129, 'q'), "alice").has_value());
  EXPECT_FALSE(queues_->QueuePause("mail", "").has_value());
  EXPECT_FALSE(queues_->QueuePause("mail", std::string(201, 'a')).has_value());
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.queues"), 0);
}

}  // namespace
}  // namespace chime::db::testing
