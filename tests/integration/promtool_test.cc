// Both processes' /metrics through Prometheus's own linter, `promtool check
// metrics` (Debian's prometheus package; scripts/install-deps.sh installs
// it), after a cluster ran jobs of every outcome, schedule ticks and a kind
// no worker runs, so every family has samples: any lint problem fails the
// test. Without promtool the test fails too: /metrics would go unchecked.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/cluster.h"

extern char** environ;

namespace chime::testing {
namespace {

struct Lint {
  int status = -1;
  std::string output;  // promtool's stdout and stderr.
};

// `promtool check metrics` with `text` on its stdin.
Lint PromtoolCheck(const std::string& text) {
  const std::string base = ::testing::TempDir() + "promtool_test." + std::to_string(getpid());
  std::ofstream(base + ".in", std::ios::binary) << text;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, (base + ".in").c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const char* argv[] = {"promtool", "check", "metrics", nullptr};
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "promtool", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  Lint lint;
  if (rc != 0) {
    lint.output = std::string("cannot run promtool (scripts/install-deps.sh installs Debian's prometheus): ") +
                  std::strerror(rc);
  } else {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    lint.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::ifstream in(base + ".out");
    std::ostringstream out;
    out << in.rdbuf();
    lint.output = out.str();
  }
  std::filesystem::remove(base + ".in");
  std::filesystem::remove(base + ".out");
  return lint;
}

std::string HttpAddressOf(ChildProcess& process) {
  auto line = process.WaitForLog("http listening on ", std::chrono::seconds(30));
  EXPECT_TRUE(line.has_value()) << process.log();
  return line ? line->substr(line->find("http listening on ") + 18) : "";
}

TEST(PromtoolTest, PromtoolFindsNoProblemInEitherProcesssMetrics) {
  ASSERT_EQ(PromtoolCheck("# HELP up_total x\n# TYPE up_total counter\nup_total 1\n").status, 0)
      << "promtool itself does not work";
  ASSERT_NE(PromtoolCheck("# HELP x_seconds_total x\n# TYPE x_seconds_total gauge\nx_seconds_total 1\n").status, 0)
      << "promtool lints nothing: the test could not fail";

  Cluster cluster;
  const std::string schedules = ::testing::TempDir() + "promtool-" + RandomHex(8) + ".yaml";
  std::ofstream(schedules) << "schedules:\n  - {name: tick, cron: \"* * * * * *\", kind: noop}\n";
  cluster.StartScheduler({"--schedules", schedules, "--cron-seconds"});
  std::string standby_endpoint, standby_http;
  cluster.StartReplica(standby_endpoint, {}, {}, &standby_http);
  auto& worker = cluster.StartWorker("w1", {"--http-listen", "127.0.0.1:0"});
  const std::string worker_http = HttpAddressOf(worker);
  ASSERT_EQ(cluster.Jobctl({"enqueue", "noop", "--count", "3"}).exit_code, 0);
  ASSERT_EQ(cluster.Jobctl({"enqueue", "fail", "--payload", R"({"times": 5})", "--max-attempts", "1"}).exit_code, 0);
  ASSERT_EQ(cluster.Jobctl({"enqueue", "no_worker_runs_this"}).exit_code, 0);
  ASSERT_EQ(cluster.Jobctl({"enqueue", "noop", "--queue", "parked"}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] {
    return cluster.Int("SELECT count(*) FROM chime.jobs_all WHERE queue = 'default' AND state IN "
                       "('succeeded', 'discarded')") >= 5 &&
           cluster.Int("SELECT count(*) FROM chime.fires") >= 1;
  }, kClusterWaitBound)) << cluster.scheduler().log();

  for (const auto& [who, address] : {std::pair<std::string, std::string>{"leader", cluster.http()},
                                     {"standby", standby_http},
                                     {"worker", worker_http}}) {
    const HttpReply metrics = HttpGet(address, "/metrics");
    ASSERT_EQ(metrics.status, 200) << who;
    ASSERT_NE(metrics.body.find("process_cpu_seconds_total"), std::string::npos) << who;
    const Lint lint = PromtoolCheck(metrics.body);
    EXPECT_EQ(lint.status, 0) << who << ": " << lint.output << "\n" << metrics.body;
    EXPECT_EQ(lint.output, "") << who << ": " << lint.output;
  }
  std::filesystem::remove(schedules);
}

}  // namespace
}  // namespace chime::testing
