// The ready feed against a real PostgreSQL, with a PULL socket standing in
// for the router on RouterServer::kReadyEndpoint: after each (re)connection
// of its LISTEN session it sends "*" (look everywhere), then forwards each
// committed enqueue as "queue:count", and never a job that is not yet due;
// "*" again when a notification names '*'.
#include "scheduler/ready_feed.h"

#include <gtest/gtest.h>

#include <zmq.hpp>

#include "common/db/migrations.h"
#include "scheduler/router_server.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"

namespace chime::scheduler {
namespace {

class ReadyFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    auto migrated = db::MigrationsApply(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
    router_.set(zmq::sockopt::linger, 0);
    router_.bind(RouterServer::kReadyEndpoint);
  }

  // The next notice the feed pushed to the router.
  std::string Next() {
    std::string got;
    EXPECT_TRUE(chime::testing::WaitUntil("a notice from the ready feed", [&] {
      zmq::message_t m;
      if (!router_.recv(m, zmq::recv_flags::dontwait)) return false;
      got = m.to_string();
      return true;
    }));
    return got;
  }

  // Starts the feed and consumes the "*" of its first LISTEN session.
  void StartListening() {
    feed_.Start();
    EXPECT_EQ(Next(), "*");
    EXPECT_TRUE(chime::testing::WaitUntil("the feed to report listening", [&] { return feed_.listening(); }));
  }

  chime::testing::TestDatabase db_;
  zmq::context_t context_;
  zmq::socket_t router_{context_, zmq::socket_type::pull};
  ReadyFeed feed_{context_, db::ConnectionConfig{.url = db_.url()}};
};

TEST_F(ReadyFeedTest, ForwardsACommittedEnqueueToTheRouter) {
  StartListening();
  db_.Exec("INSERT INTO chime.jobs (kind, queue) VALUES ('noop', 'mail'), ('noop', 'mail'), ('noop', 'mail')");
  EXPECT_EQ(Next(), "mail:3");
  EXPECT_EQ(feed_.forwarded(), 1);
  db_.Exec("INSERT INTO chime.jobs (kind) VALUES ('noop')");
  EXPECT_EQ(Next(), "default:1");
  EXPECT_EQ(feed_.forwarded(), 2);
  feed_.Stop();
  feed_.Stop();  // Idempotent.
}

TEST_F(ReadyFeedTest, AJobThatIsNotDueYetIsNotForwarded) {
  StartListening();
  db_.Exec("INSERT INTO chime.jobs (kind, queue, state, run_at) "
           "VALUES ('later', 'later', 'scheduled', now() + interval '1 hour')");
  db_.Exec("INSERT INTO chime.jobs (kind, queue) VALUES ('noop', 'marker')");
  // Notifications arrive in commit order: the marker's is the first one.
  EXPECT_EQ(Next(), "marker:1");
  EXPECT_EQ(feed_.forwarded(), 1);
}

// A job finished under a limit on every queue (migration 0023 notifies
// "queue:n,*:1"): the jobs waiting for its slot may be on any queue, so the
// router is told to look everywhere.
TEST_F(ReadyFeedTest, AFinishUnderALimitOnEveryQueueMakesTheRouterLookEverywhere) {
  StartListening();
  db_.Exec("SELECT pg_notify('chime_jobs_ready', 'mail:1,*:1,#x')");
  EXPECT_EQ(Next(), "*");
  db_.Exec("SELECT pg_notify('chime_jobs_ready', 'mail:1,#y')");
  EXPECT_EQ(Next(), "mail:1");
}

TEST_F(ReadyFeedTest, AfterLosingItsSessionItTellsTheRouterToLookEverywhereAndGoesOn) {
  StartListening();
  // Ends the feed's LISTEN session as a database restart or a proxy would.
  ASSERT_TRUE(chime::testing::WaitUntil("the feed's LISTEN session to be terminated", [&] {
    return db_.Scalar("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND query ILIKE 'LISTEN%'") == "1";
  }));
  // Whatever was announced while it was away is lost, so it says "*".
  EXPECT_EQ(Next(), "*");
  ASSERT_TRUE(chime::testing::WaitUntil("the feed to listen again", [&] { return feed_.listening(); }));
  db_.Exec("INSERT INTO chime.jobs (kind, queue) VALUES ('noop', 'after')");
  EXPECT_EQ(Next(), "after:1");
}

}  // namespace
}  // namespace chime::scheduler
