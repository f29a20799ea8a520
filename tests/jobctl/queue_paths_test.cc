// `jobctl queue pause|resume|list` on both of jobctl's paths (the database,
// and a real chime-scheduler over ZeroMQ: ZmqBackend -> AdminService ->
// admin::QueuePause -> QueueStore): the same text and JSON, a pause kept by
// the claim, and the same errors and exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/db/job_store.h"
#include "tests/jobctl/both_paths.h"

namespace chime::jobctl {
namespace {

using json = nlohmann::json;

class QueuePathsTest : public BothPathsTest {
 protected:
  void SetUp() override {
    BothPathsTest::SetUp();
    if (HasFatalFailure()) return;
    StartScheduler();
  }

  db::JobStore store_{conn_};
};

TEST_F(QueuePathsTest, PauseListAndResumeAnswerTheSameThroughTheScheduler) {
  for (const char* queue : {"mail", "mail", "default"}) {
    auto inserted = store_.JobInsert({.kind = "send", .queue = queue});
    ASSERT_TRUE(inserted.has_value()) << inserted.error().ToString();
  }
  Ran paused = Jobctl(false, {"queue", "pause", "mail"});
  ASSERT_EQ(paused.code, 0) << paused.err;
  EXPECT_EQ(paused.out.substr(0, paused.out.find(" paused ")), "queue 'mail'");
  EXPECT_NE(paused.out.find(" by database: 2 ready and 0 scheduled wait; 0 running finish\n"), std::string::npos)
      << paused.out;
  // A second pause, through the scheduler, keeps the first.
  Ran again = Jobctl(true, {"queue", "pause", "mail"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, paused.out);

  // `show` says why a job of the paused queue waits, on both paths.
  Ran show = Both({"show", "1"});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find(" by database (jobctl queue resume mail)\n"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("queue mail paused since "), std::string::npos) << show.out;
  Ran shown = Both({"show", "1", "--json"});
  EXPECT_EQ(json::parse(shown.out)["queue_paused"]["by"], "database") << shown.out;

  // The claim leaves the paused queue's jobs.
  auto claimed = store_.JobsClaim({.worker_id = "w1", .queues = {"mail", "default"}, .limit = 10});
  ASSERT_TRUE(claimed.has_value()) << claimed.error().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].queue, "default");

  // The same on both paths, but for the oldest ready job's age (it grows).
  Ran list = Jobctl(false, {"queue", "list", "--json"});
  Ran list_zmq = Jobctl(true, {"queue", "list", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  ASSERT_EQ(list_zmq.code, 0) << list_zmq.err;
  json queues = json::parse(list.out)["queues"];
  json queues_zmq = json::parse(list_zmq.out)["queues"];
  for (auto* q : {&queues, &queues_zmq}) {
    for (auto& row : *q) row.erase("oldest_ready_age_ms");
  }
  EXPECT_EQ(queues, queues_zmq);
  ASSERT_EQ(queues.size(), 2u) << list.out;
  EXPECT_EQ(queues[0]["queue"], "default");
  EXPECT_EQ(queues[0]["paused"], false);
  EXPECT_EQ(queues[0]["running"], 1);
  EXPECT_EQ(queues[1]["queue"], "mail");
  EXPECT_EQ(queues[1]["paused"], true);
  EXPECT_EQ(queues[1]["changed_by"], "database");
  EXPECT_EQ(queues[1]["ready"], 2);
  Ran table = Jobctl(true, {"queue", "list"});
  EXPECT_EQ(table.out.substr(0, table.out.find('\n')),
            "QUEUE    STATE                                    READY  SCHEDULED  RUNNING  OLDEST READY")
      << table.out;
  EXPECT_NE(table.out.find("\ndefault  open                                         0          0        1             -\n"),
            std::string::npos) << table.out;

  Ran resumed = Jobctl(true, {"queue", "resume", "mail", "--json"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(json::parse(resumed.out)["paused"], false);
  EXPECT_EQ(json::parse(resumed.out)["changed_by"], "token 'bootstrap'") << "the caller, never its secret";
  Ran open = Jobctl(false, {"queue", "resume", "mail"});
  EXPECT_EQ(open.out, "queue 'mail' open: 2 ready are claimable now\n");
  auto rest = store_.JobsClaim({.worker_id = "w1", .queues = {"mail"}, .limit = 10});
  ASSERT_TRUE(rest.has_value()) << rest.error().ToString();
  EXPECT_EQ(rest->size(), 2u);
}

TEST_F(QueuePathsTest, ErrorsAnswerTheSameThroughTheScheduler) {
  Ran empty = Both({"queue", "list"});
  EXPECT_EQ(empty.out, "no queues: none has live jobs or a pause on record\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"queue", "pause", "no spaces"}, {"queue", "resume", std::string(129, 'q')},
        {"queue", "pause"}}) {
    Ran via_db = Jobctl(false, args);
    Ran via_scheduler = Jobctl(true, args);
    EXPECT_EQ(via_db.code, 2) << via_db.err;
    EXPECT_EQ(via_scheduler.code, via_db.code) << via_scheduler.err;
    EXPECT_EQ(via_scheduler.err, via_db.err);
  }
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.queues"), "0");
}

}  // namespace
}  // namespace chime::jobctl
