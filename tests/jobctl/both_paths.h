// jobctl on both of its paths, for tests that compare them: straight to
// PostgreSQL (DbBackend) and through a real chime-scheduler over ZeroMQ
// (ZmqBackend -> AdminService). jobctl runs in the test's process; the
// scheduler is a child process on the test's database.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/base/child_process.h"
#include "common/db/connection.h"
#include "common/db/migrations.h"
#include "jobctl/cli.h"
#include "tests/support/test_database.h"

namespace chime::jobctl {

struct Ran {
  int code = -1;
  std::string out;
  std::string err;
};

class BothPathsTest : public ::testing::Test {
 protected:
  static constexpr const char* kSecret = "both-paths-test-secret-0123456789";

  void SetUp() override {
    auto migrated = db::MigrationsApply(conn_);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
  }

  // Starts the scheduler; call once the database holds what it must find
  // at start.
  void StartScheduler() {
    scheduler_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0",
                                 "--http-listen", "off", "--health-interval", "1h"},
        std::map<std::string, std::string>{{"CHIME_DATABASE_URL", db_.url()}, {"CHIME_ADMIN_SECRET", kSecret}});
    ASSERT_TRUE(scheduler_->Start()) << scheduler_->log();
    auto line = scheduler_->WaitForLog("listening on ", std::chrono::seconds(30));
    ASSERT_TRUE(line.has_value()) << scheduler_->log();
    endpoint_ = line->substr(line->find("listening on ") + 13);
    // ZmqBackend signs with the secret from the environment.
    setenv("CHIME_ADMIN_SECRET", kSecret, 1);
  }

  void TearDown() override {
    if (!scheduler_) return;
    scheduler_->Signal(SIGTERM);
    EXPECT_TRUE(scheduler_->Wait(std::chrono::seconds(30)).has_value());
  }

  // jobctl in this process, through the scheduler or the database.
  Ran Jobctl(bool through_scheduler, std::vector<std::string> args) {
    args.insert(args.begin(), "jobctl");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    std::istringstream in;
    CliEnvironment env{.out = out, .err = err, .in = in};
    env.database_url = db_.url();
    if (through_scheduler) env.scheduler = endpoint_;
    env.init_logging = [](const std::string&) {};
    const int code = RunCli(static_cast<int>(argv.size()), argv.data(), env);
    return {code, out.str(), err.str()};
  }

  // Both paths; they must agree. Returns the database path's answer.
  Ran Both(const std::vector<std::string>& args) {
    Ran via_db = Jobctl(false, args);
    Ran via_scheduler = Jobctl(true, args);
    EXPECT_EQ(via_db.code, via_scheduler.code) << via_db.err << via_scheduler.err;
    EXPECT_EQ(via_db.out, via_scheduler.out);
    return via_db;
  }

  testing::TestDatabase db_;
  db::Connection conn_{db::ConnectionConfig{.url = db_.url()}};
  std::unique_ptr<ChildProcess> scheduler_;
  std::string endpoint_;
};

}  // namespace chime::jobctl
