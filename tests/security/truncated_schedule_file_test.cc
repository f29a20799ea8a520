// Issue 18, finding 7, with the real chime-scheduler: a schedule file that
// is empty or truncated (a 0-byte ConfigMap, a replica starting with an
// older copy) used to be read as "no schedules", and the start-up sync then
// deleted every file schedule with its fire history and paused state
// ("0 schedules (0 created, 0 updated, 2 deleted)"). Now an empty file stops
// the scheduler with a clear error and changes nothing, a file that no
// longer lists a schedule keeps it (and says so), only `remove:` deletes,
// and fires outlive their schedule.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/child_process.h"
#include "tests/integration/cluster.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kTwo = R"(schedules:
  - {name: nightly, cron: "0 2 * * *", kind: noop}
  - {name: hourly-sync, cron: "0 * * * *", kind: noop}
)";

class ScheduleFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "chime-security-schedules-" + RandomHex(8) + ".yaml";
  }
  void TearDown() override { std::remove(path_.c_str()); }

  void Write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }

  // Runs a scheduler on the file until it is up (then stops it) or exits;
  // returns its log, and its exit status in `*status` when it exited.
  std::string RunScheduler(std::optional<int>* status) {
    ChildProcess p({BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0", "--http-listen", "off",
                    "--schedules", path_},
                   {{"CHIME_DATABASE_URL", cluster_.db().url()}, {"CHIME_ADMIN_SECRET", kClusterSecret}});
    EXPECT_TRUE(p.Start()) << p.log();
    EXPECT_TRUE(WaitUntil([&] {
      return !p.running() || p.log().find("scheduler running") != std::string::npos;
    }, kClusterWaitBound)) << p.log();
    *status = p.running() ? std::nullopt : p.Wait(seconds(5));
    return p.log();  // The destructor stops a running one.
  }

  int64_t Int(const std::string& sql) { return cluster_.Int(sql); }

  std::string path_;
  Cluster cluster_;
};

TEST_F(ScheduleFileTest, AnEmptyOrTruncatedFileDeletesNothing) {
  Write(kTwo);
  std::optional<int> status;
  std::string log = RunScheduler(&status);
  ASSERT_FALSE(status.has_value()) << log;
  ASSERT_EQ(Int("SELECT count(*) FROM chime.schedules"), 2);
  // History and an operator's pause, which a sync must not lose.
  for (const char* name : {"nightly", "hourly-sync"}) {
    auto trigger = cluster_.Jobctl({"schedule", "trigger", name, "--database-url", cluster_.db().url()});
    ASSERT_EQ(trigger.exit_code, 0) << trigger.output;
  }
  auto pause = cluster_.Jobctl({"schedule", "pause", "hourly-sync", "--database-url", cluster_.db().url()});
  ASSERT_EQ(pause.exit_code, 0) << pause.output;
  ASSERT_EQ(Int("SELECT count(*) FROM chime.fires"), 2);

  // A 0-byte file, a whitespace-only one and a bare `schedules:` stop the
  // scheduler naming the problem; nothing changes.
  for (const std::string& empty : {std::string(""), std::string("\n\n# cut here\n"), std::string("schedules:\n")}) {
    Write(empty);
    log = RunScheduler(&status);
    ASSERT_TRUE(status.has_value()) << "a scheduler started on an empty file:\n" << log;
    EXPECT_NE(*status, 0);
    EXPECT_NE(log.find("(truncated?); nothing was changed"), std::string::npos) << log;
    EXPECT_EQ(Int("SELECT count(*) FROM chime.schedules"), 2);
    EXPECT_EQ(Int("SELECT count(*) FROM chime.fires"), 2);
  }

  // Truncated after the first entry (or an older file without the second):
  // the second is kept, paused, with its fires, and the log says so.
  Write("schedules:\n  - {name: nightly, cron: \"0 2 * * *\", kind: noop}\n");
  log = RunScheduler(&status);
  ASSERT_FALSE(status.has_value()) << log;
  EXPECT_NE(log.find("1 schedules (0 created, 0 updated, 0 removed)"), std::string::npos) << log;
  EXPECT_NE(log.find("1 file schedules are not in the file and were kept (list them under remove: to delete "
                     "them): hourly-sync"),
            std::string::npos)
      << log;
  EXPECT_EQ(Int("SELECT count(*) FROM chime.schedules"), 2);
  EXPECT_EQ(cluster_.Text("SELECT paused FROM chime.schedules WHERE name = 'hourly-sync'"), "t");
  EXPECT_EQ(Int("SELECT count(*) FROM chime.fires"), 2);

  // The full file again: still paused (the operator's state wins).
  Write(kTwo);
  log = RunScheduler(&status);
  ASSERT_FALSE(status.has_value()) << log;
  EXPECT_EQ(cluster_.Text("SELECT paused FROM chime.schedules WHERE name = 'hourly-sync'"), "t");
}

TEST_F(ScheduleFileTest, OnlyRemoveDeletesAndTheFireHistoryStays) {
  Write(kTwo);
  std::optional<int> status;
  std::string log = RunScheduler(&status);
  ASSERT_FALSE(status.has_value()) << log;
  auto trigger = cluster_.Jobctl({"schedule", "trigger", "hourly-sync", "--database-url", cluster_.db().url()});
  ASSERT_EQ(trigger.exit_code, 0) << trigger.output;
  const int64_t id = Int("SELECT id FROM chime.schedules WHERE name = 'hourly-sync'");
  ASSERT_EQ(Int("SELECT count(*) FROM chime.fires WHERE schedule_id = " + std::to_string(id)), 1);

  Write("schedules:\n  - {name: nightly, cron: \"0 2 * * *\", kind: noop}\nremove: [hourly-sync]\n");
  log = RunScheduler(&status);
  ASSERT_FALSE(status.has_value()) << log;
  EXPECT_NE(log.find("1 schedules (0 created, 0 updated, 1 removed)"), std::string::npos) << log;
  EXPECT_EQ(Int("SELECT count(*) FROM chime.schedules WHERE name = 'hourly-sync'"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.fires WHERE schedule_id = " + std::to_string(id)), 1);
  // Every reader copes with the orphaned fire: listing, stats, the job it made.
  for (std::vector<std::string> args : {std::vector<std::string>{"schedule", "list"},
                                        std::vector<std::string>{"stats", "--by", "schedule"},
                                        std::vector<std::string>{"list"}}) {
    args.insert(args.end(), {"--database-url", cluster_.db().url()});
    auto out = cluster_.Jobctl(args);
    EXPECT_EQ(out.exit_code, 0) << args[0] << ": " << out.output;
  }
}

}  // namespace
}  // namespace chime::testing
