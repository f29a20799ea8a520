// The limits a real chime-scheduler applies at start from its two files:
// the schedule file's `limits:` and the kinds file's (--kinds-config or
// CHIME_KINDS_CONFIG, the workers' file, of which the scheduler reads only
// the limits: workers need no right to write chime.limits). Both are
// applied as file limits; a name declared in both files, or a bad limit in
// the kinds file, stops the scheduler naming it, and nothing is applied.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/base/child_process.h"
#include "tests/integration/cluster.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kScheduleFile = R"(schedules: []
limits:
  - {name: one-sync-per-user, kind: sync_integration, partition_by: userId, concurrency: 1}
)";

// A workers' kinds file: its other keys are none of the scheduler's business.
constexpr const char* kKindsFile = R"(providers:
  - name: github
    cadence: 15m
http_request:
  secrets: [env:CRON_SECRET]
limits:
  - name: provider-rate
    kind: sync_integration
    partition_by: provider
    rate: 5000/1h
)";

class FileLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string stem = ::testing::TempDir() + "chime-file-limits-" + RandomHex(8);
    schedules_ = stem + "-schedules.yaml";
    kinds_ = stem + "-kinds.yaml";
  }
  void TearDown() override {
    std::remove(schedules_.c_str());
    std::remove(kinds_.c_str());
  }

  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

  // Runs a scheduler until it is up (then stops it) or exits; returns its
  // log, and its exit status in `*status` when it exited.
  std::string RunScheduler(std::vector<std::string> args, std::optional<int>* status,
                           std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0",
                               "--http-listen", "off"});
    env.emplace("CHIME_DATABASE_URL", cluster_.db().url());
    env.emplace("CHIME_ADMIN_SECRET", kClusterSecret);
    ChildProcess p(args, env);
    EXPECT_TRUE(p.Start()) << p.log();
    EXPECT_TRUE(WaitUntil([&] {
      return !p.running() || p.log().find("scheduler running") != std::string::npos;
    }, kClusterWaitBound)) << p.log();
    *status = p.running() ? std::nullopt : p.Wait(seconds(5));
    return p.log();  // The destructor stops a running one.
  }

  std::string Limits() {
    return cluster_.Text(
        "SELECT string_agg(concat_ws('/', name, source, partition_by, concurrency, rate, rate_window_ms), ' ' "
        "ORDER BY name) FROM chime.limits");
  }

  // A scheduler on the schedule file alone: the schema, and one file limit
  // that a refused start must leave as it is.
  void StartOnTheScheduleFile() {
    Write(schedules_, kScheduleFile);
    std::optional<int> status;
    const std::string log = RunScheduler({"--schedules", schedules_}, &status);
    ASSERT_FALSE(status.has_value()) << log;
    ASSERT_EQ(Limits(), kScheduleFileLimit);
  }

  static constexpr const char* kScheduleFileLimit = "one-sync-per-user/file/userId/1";

  std::string schedules_;
  std::string kinds_;
  Cluster cluster_;
};

TEST_F(FileLimitsTest, TheKindsFilesLimitsAreAppliedBesideTheScheduleFiles) {
  Write(schedules_, kScheduleFile);
  Write(kinds_, kKindsFile);
  std::optional<int> status;
  std::string log = RunScheduler({"--schedules", schedules_, "--kinds-config", kinds_}, &status);
  ASSERT_FALSE(status.has_value()) << log;
  EXPECT_NE(log.find(schedules_ + " and " + kinds_ + ": 2 limits set"), std::string::npos) << log;
  EXPECT_EQ(Limits(), "one-sync-per-user/file/userId/1 provider-rate/file/provider/5000/3600000");

  // From CHIME_KINDS_CONFIG alone, as the workers read it; the schedule
  // file's limit, no longer listed, is kept as file limits are.
  Write(kinds_, std::string(kKindsFile).replace(std::string(kKindsFile).find("5000/1h"), 7, "100/1m"));
  log = RunScheduler({}, &status, {{"CHIME_KINDS_CONFIG", kinds_}});
  ASSERT_FALSE(status.has_value()) << log;
  EXPECT_NE(log.find(kinds_ + ": 1 limits set"), std::string::npos) << log;
  EXPECT_NE(log.find("1 file limits are not in the files and were kept (jobctl limit delete NAME removes one): "
                     "one-sync-per-user"),
            std::string::npos)
      << log;
  EXPECT_EQ(Limits(), "one-sync-per-user/file/userId/1 provider-rate/file/provider/100/60000");
}

TEST_F(FileLimitsTest, ALimitDeclaredInBothFilesStopsTheSchedulerAndNothingIsApplied) {
  ASSERT_NO_FATAL_FAILURE(StartOnTheScheduleFile());
  Write(schedules_, std::string(kScheduleFile) + "  - {name: provider-rate, kind: sync_integration, rate: 10/s}\n");
  Write(kinds_, kKindsFile);
  std::optional<int> status;
  const std::string log = RunScheduler({"--schedules", schedules_, "--kinds-config", kinds_}, &status);
  ASSERT_TRUE(status.has_value()) << "a scheduler started with a limit declared twice:\n" << log;
  EXPECT_NE(*status, 0);
  EXPECT_NE(log.find("limit \"provider-rate\" is declared in both " + schedules_ + " and " + kinds_ +
                     "; declare it in one"),
            std::string::npos)
      << log;
  EXPECT_EQ(Limits(), kScheduleFileLimit);
}

TEST_F(FileLimitsTest, ABadLimitInTheKindsFileStopsTheSchedulerNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartOnTheScheduleFile());
  Write(kinds_, std::string(kKindsFile) + "  - {name: per-user, partition_by: user.id, concurrency: 1}\n");
  std::optional<int> status;
  std::string log = RunScheduler({"--schedules", schedules_, "--kinds-config", kinds_}, &status);
  ASSERT_TRUE(status.has_value()) << "a scheduler started with a bad kinds-file limit:\n" << log;
  EXPECT_NE(*status, 0);
  EXPECT_NE(log.find("kinds file has bad limits:"), std::string::npos) << log;
  EXPECT_NE(log.find(kinds_ + ": limits entry 1 (per-user): partition_by: \"user.id\" is not a top-level payload "
                              "field"),
            std::string::npos)
      << log;
  EXPECT_EQ(Limits(), kScheduleFileLimit);

  Write(kinds_, "limits: provider-rate\n");
  log = RunScheduler({"--kinds-config", kinds_}, &status);
  ASSERT_TRUE(status.has_value()) << log;
  EXPECT_NE(log.find(kinds_ + ":1:9: \"limits\" must be a list of limits"), std::string::npos) << log;
  EXPECT_EQ(Limits(), kScheduleFileLimit);
}

}  // namespace
}  // namespace chime::testing
