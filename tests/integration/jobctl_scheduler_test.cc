// chime-scheduler and jobctl as real processes: jobctl's commands travel
// signed over ZeroMQ, bad secrets are refused with their exit code, and a
// scheduler without a secret does not start.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "common/base/child_process.h"
#include "tests/support/test_database.h"

namespace chime::testing {
namespace {

using chime::BinaryPath;
using chime::ChildProcess;

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kSecret = "integration-secret-0123456789";

struct Outcome {
  int exit_code = -1;
  std::string output;
};

class JobctlSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scheduler_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0",
                                 "--http-listen", "127.0.0.1:0",
                                 // One health pass at start, none while a test compares alerts.
                                 "--health-interval", "1h"},
        std::map<std::string, std::string>{{"CHIME_DATABASE_URL", db_.url()},
                                           {"CHIME_ADMIN_SECRET", kSecret}});
    ASSERT_TRUE(scheduler_->Start()) << scheduler_->log();
    auto line = scheduler_->WaitForLog("listening on ", seconds(30));
    ASSERT_TRUE(line.has_value()) << scheduler_->log();
    endpoint_ = line->substr(line->find("listening on ") + 13);
  }

  void TearDown() override {
    scheduler_->Signal(SIGTERM);
    auto status = scheduler_->Wait(seconds(30));
    ASSERT_TRUE(status.has_value()) << "scheduler did not stop on SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << scheduler_->log();
  }

  Outcome Jobctl(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), BinaryPath("jobctl/jobctl"));
    env.emplace("CHIME_SCHEDULER", endpoint_);
    env.emplace("CHIME_ADMIN_SECRET", kSecret);
    env.emplace("CHIME_DATABASE_URL", "");
    ChildProcess p(args, env);
    if (!p.Start()) return {};
    auto status = p.Wait(seconds(60));
    Outcome out;
    out.output = p.log();
    if (status && WIFEXITED(*status)) out.exit_code = WEXITSTATUS(*status);
    return out;
  }

  TestDatabase db_;
  std::unique_ptr<ChildProcess> scheduler_;
  std::string endpoint_;
};

TEST_F(JobctlSchedulerTest, EnqueueListShowAndStatsGoThroughTheScheduler) {
  auto enqueued = Jobctl({"enqueue", "noop", "--payload", R"({"from":"jobctl"})", "--json"});
  ASSERT_EQ(enqueued.exit_code, 0) << enqueued.output;
  const auto id = nlohmann::json::parse(enqueued.output)["id"].get<int64_t>();
  EXPECT_EQ(db_.Scalar("SELECT payload->>'from' FROM chime.jobs_all WHERE id = " + std::to_string(id)),
            "jobctl");

  auto again = Jobctl({"enqueue", "noop", "--unique-key", "k"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  auto same = Jobctl({"enqueue", "noop", "--unique-key", "k"});
  EXPECT_NE(same.output.find("existing job"), std::string::npos) << same.output;

  auto listed = Jobctl({"list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(nlohmann::json::parse(listed.output)["jobs"].size(), 2u);

  auto shown = Jobctl({"show", std::to_string(id)});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("noop"), std::string::npos);

  auto stats = Jobctl({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.output;
  EXPECT_EQ(nlohmann::json::parse(stats.output)["states"]["available"], 2);

  auto workers = Jobctl({"workers"});
  ASSERT_EQ(workers.exit_code, 0) << workers.output;
  EXPECT_EQ(workers.output, "no workers connected\n");
}

TEST_F(JobctlSchedulerTest, RunStatsAndAlertsAreTheSameThroughTheSchedulerAndTheDatabase) {
  auto created = Jobctl({"schedule", "create", "hourly-sync", "--cron", "0 * * * *", "--kind", "noop"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  // 30 runs of one attempt each, every fourth out of attempts.
  db_.Exec("INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, started_at, finished_at, "
           "outcome, errors, final, job_outcome) SELECT g, 'noop', 'default', 1, s.id, "
           "now() - (g - 0.5) * interval '1 hour' - interval '3 seconds', now() - (g - 0.5) * interval '1 hour', "
           "CASE WHEN g % 4 = 0 THEN 'discarded' ELSE 'succeeded' END, "
           "CASE WHEN g % 4 = 0 THEN ARRAY['boom'] ELSE '{}' END, true, "
           "CASE WHEN g % 4 = 0 THEN 'failed' ELSE 'succeeded' END "
           "FROM generate_series(1, 30) g, chime.schedules s WHERE s.name = 'hourly-sync'");
  db_.Exec("INSERT INTO chime.alerts (schedule_id, schedule_name, rule, state, message, resolved_at) "
           "SELECT id, name, 'failure_rate', 'resolved', 'hourly-sync: failure rate 60%', now() "
           "FROM chime.schedules");
  for (const std::string hours : {"24", "168"}) {
    auto via_scheduler = Jobctl({"stats", "--by", "schedule", "--hours", hours, "--json"});
    ASSERT_EQ(via_scheduler.exit_code, 0) << via_scheduler.output;
    auto via_db = Jobctl({"stats", "--by", "schedule", "--hours", hours, "--json", "--database-url", db_.url()});
    ASSERT_EQ(via_db.exit_code, 0) << via_db.output;
    auto a = nlohmann::json::parse(via_scheduler.output);
    auto b = nlohmann::json::parse(via_db.output);
    ASSERT_EQ(a["stats"].size(), 1u);
    EXPECT_EQ(a["stats"][0]["totalExecutions"], hours == "24" ? 24 : 30);
    EXPECT_EQ(a["stats"][0]["failureCount"], hours == "24" ? 6 : 7);
    EXPECT_EQ(a["stats"], b["stats"]);
    EXPECT_EQ(a["timeRange"]["hours"], std::stoi(hours));
  }
  auto by_kind = Jobctl({"stats", "--by", "kind", "--name", "noop"});
  ASSERT_EQ(by_kind.exit_code, 0) << by_kind.output;
  EXPECT_NE(by_kind.output.find("noop"), std::string::npos) << by_kind.output;
  auto bad = Jobctl({"stats", "--by", "schedule", "--hours", "500"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  auto missing = Jobctl({"stats", "--by", "schedule", "--name", "nope"});
  EXPECT_EQ(missing.exit_code, 3) << missing.output;

  auto alerts = Jobctl({"alerts", "--all", "--json"});
  ASSERT_EQ(alerts.exit_code, 0) << alerts.output;
  auto alerts_db = Jobctl({"alerts", "--all", "--json", "--database-url", db_.url()});
  ASSERT_EQ(alerts_db.exit_code, 0) << alerts_db.output;
  auto x = nlohmann::json::parse(alerts.output);
  auto y = nlohmann::json::parse(alerts_db.output);
  ASSERT_GE(x["alerts"].size(), 1u);
  EXPECT_EQ(x["alerts"].size(), y["alerts"].size());
  EXPECT_EQ(x["alerts"][0]["type"], y["alerts"][0]["type"]);
  EXPECT_EQ(x["alerts"][0]["jobName"], "hourly-sync");
}

TEST_F(JobctlSchedulerTest, ErrorsKeepTheirExitCodes) {
  EXPECT_EQ(Jobctl({"show", "424242"}).exit_code, 3);
  auto bad_kind = Jobctl({"enqueue", "no spaces allowed"});
  EXPECT_EQ(bad_kind.exit_code, 2) << bad_kind.output;
  EXPECT_NE(bad_kind.output.find("KIND: must be"), std::string::npos) << bad_kind.output;
  auto wrong = Jobctl({"stats"}, {{"CHIME_ADMIN_SECRET", "a-wrong-secret-0123456789"}});
  EXPECT_EQ(wrong.exit_code, 6) << wrong.output;
  EXPECT_EQ(wrong.output.find("a-wrong-secret"), std::string::npos) << "secret echoed";
  auto none = Jobctl({"stats"}, {{"CHIME_ADMIN_SECRET", ""}});
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("not configured"), std::string::npos) << none.output;
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.jobs_all"), "0");
}

TEST(SchedulerStartTest, RefusesToStartWithoutAnAdminSecret) {
  TestDatabase db;
  ChildProcess scheduler({BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0"},
                         {{"CHIME_DATABASE_URL", db.url()}, {"CHIME_ADMIN_SECRET", ""},
                          {"CHIME_ADMIN_SECRET_FILE", ""}});
  ASSERT_TRUE(scheduler.Start());
  auto status = scheduler.Wait(seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(scheduler.log().find("admin secret: not configured"), std::string::npos) << scheduler.log();
}

}  // namespace
}  // namespace chime::testing
