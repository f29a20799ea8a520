// The conventions tools and people expect of Chime's binaries (issue 22),
// checked on the built binaries as processes: --version everywhere and one
// version string (binaries, /healthz, the worker directory, /metrics), exit
// code 2 naming the program on a bad flag, fatal start-up errors as JSON
// lines under --log-format json, and --once's summary in the log.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base/version.h"
#include "tests/integration/cluster.h"

extern char** environ;

namespace chime::testing {
namespace {

using json = nlohmann::json;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `argv` through env(1): the variables in `unset` removed, `set`
// ("NAME=value") added; stdout and stderr kept apart.
Outcome RunBinary(const std::vector<std::string>& argv, const std::vector<std::string>& set = {}) {
  std::vector<std::string> full = {"env"};
  for (const char* name : {"CHIME_LOG_FORMAT", "CHIME_LOG_LEVEL", "CHIME_DATABASE_URL", "CHIME_DATABASE_URL_FILE",
                           "CHIME_SCHEDULES", "CHIME_ADMIN_SECRET", "CHIME_HTTP_LISTEN"}) {
    full.insert(full.end(), {"-u", name});
  }
  full.insert(full.end(), set.begin(), set.end());
  full.insert(full.end(), argv.begin(), argv.end());
  const std::string base = ::testing::TempDir() + "conventions_test." + std::to_string(getpid());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, (base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const std::string& a : full) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "env", &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  Outcome o;
  if (rc != 0) {
    o.err = std::string("cannot run env: ") + std::strerror(rc);
    return o;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.out = ReadAll(base + ".out");
  o.err = ReadAll(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return o;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every line of `text` as a JSON object; a line that is not one fails.
std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> out;
  for (const std::string& line : Lines(text)) {
    json j = json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not a JSON line: " << line;
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

struct Binary {
  std::string name;
  std::string path;
};

std::vector<Binary> Binaries() {
  return {{"chime-scheduler", BinaryPath("scheduler/chime-scheduler")},
          {"chime-worker", BinaryPath("worker/chime-worker")},
          {"jobctl", BinaryPath("jobctl/jobctl")},
          {"chime-bench", BinaryPath("bench/chime-bench")}};
}

TEST(ConventionsTest, EveryBinaryAnswersVersionWithTheProjectVersion) {
  for (const Binary& b : Binaries()) {
    const Outcome o = RunBinary({b.path, "--version"});
    EXPECT_EQ(o.status, 0) << b.name << ": " << o.err;
    EXPECT_EQ(o.out, b.name + " " + std::string(Version()) + "\n") << b.name;
    EXPECT_EQ(o.err, "") << b.name;
  }
  EXPECT_EQ(Version(), "0.1.0") << "CMakeLists.txt's project version";
}

// Issue 22: chime-scheduler exited with CLI11's raw codes (109, 114) and a
// message that did not say who wrote it.
TEST(ConventionsTest, EveryBinaryExitsTwoOnABadFlagNamingItself) {
  for (const Binary& b : Binaries()) {
    const Outcome o = RunBinary({b.path, "--no-such-flag"});
    EXPECT_EQ(o.status, 2) << b.name << ": " << o.err;
    EXPECT_TRUE(o.err.starts_with(b.name + ": ")) << b.name << ": " << o.err;
    EXPECT_NE(o.err.find("--no-such-flag"), std::string::npos) << b.name << ": " << o.err;
    EXPECT_EQ(Lines(o.err).size(), 1u) << b.name << ": " << o.err;
    EXPECT_EQ(o.out, "") << b.name;
  }
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--rescue-interval-ms", "soon"}, {"--max-workers"}, {"--log-format", "xml"}}) {
    std::vector<std::string> argv = {BinaryPath("scheduler/chime-scheduler")};
    argv.insert(argv.end(), bad.begin(), bad.end());
    const Outcome o = RunBinary(argv);
    EXPECT_EQ(o.status, 2) << bad[0] << ": " << o.err;
    EXPECT_TRUE(o.err.starts_with("chime-scheduler: ")) << o.err;
  }
  const Outcome worker = RunBinary({BinaryPath("worker/chime-worker"), "--slots", "many"});
  EXPECT_EQ(worker.status, 2) << worker.err;
  EXPECT_TRUE(worker.err.starts_with("chime-worker: ")) << worker.err;
}

// A database URL nothing answers: these errors come before any connection.
constexpr const char* kNoDatabase = "CHIME_DATABASE_URL=postgresql://127.0.0.1:1/none";

class StartupErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schedules_ = ::testing::TempDir() + "conventions-schedules-" + std::to_string(getpid()) + ".yaml";
    std::ofstream(schedules_) << "schedules:\n"
                                 "  - {name: a, cron: \"61 * * * *\", kind: noop}\n"
                                 "  - {name: b, cron: \"* * * * *\"}\n";
  }
  void TearDown() override { std::filesystem::remove(schedules_); }
  std::string schedules_;
};

// Issue 22: with --log-format json the report of a bad schedule file was
// two plain lines, the second starting with a tab.
TEST_F(StartupErrorTest, FatalErrorsAreJsonLinesWithLogFormatJson) {
  const Outcome o = RunBinary({BinaryPath("scheduler/chime-scheduler"), "--log-format", "json", "--schedules", schedules_,
                               "--http-listen", "off"},
                              {kNoDatabase});
  EXPECT_EQ(o.status, 2) << o.err;
  EXPECT_EQ(o.out, "");
  const std::vector<json> lines = JsonLines(o.err);
  ASSERT_FALSE(lines.empty()) << o.err;
  const json& last = lines.back();
  EXPECT_EQ(last["level"], "critical");
  EXPECT_EQ(last["logger"], "scheduler");
  EXPECT_TRUE(last["timestamp"].is_string());
  const std::string msg = last["msg"];
  EXPECT_TRUE(msg.starts_with("schedule file has bad entries:")) << msg;
  EXPECT_NE(msg.find("minute"), std::string::npos) << msg;
  EXPECT_NE(msg.find("kind"), std::string::npos) << msg;

  // The same in text: the report as it always read.
  const Outcome text =
      RunBinary({BinaryPath("scheduler/chime-scheduler"), "--schedules", schedules_, "--http-listen", "off"}, {kNoDatabase});
  EXPECT_EQ(text.status, 2);
  const auto text_lines = Lines(text.err);
  ASSERT_GE(text_lines.size(), 3u) << text.err;
  EXPECT_EQ(text_lines[text_lines.size() - 3], "chime-scheduler: schedule file has bad entries:") << text.err;
  EXPECT_TRUE(text_lines.back().starts_with(schedules_ + ": entry 1 (b)")) << text.err;
}

TEST_F(StartupErrorTest, BadFlagsAndSettingsAreJsonLinesWhenJsonIsAskedForAnyWay) {
  struct Case {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::string logger;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{BinaryPath("scheduler/chime-scheduler"), "--log-format", "json", "--no-such-flag"}, {}, "scheduler",
       "--no-such-flag"},
      {{BinaryPath("scheduler/chime-scheduler"), "--log-format=json", "--leader-ttl", "forever"}, {}, "scheduler",
       "leader-ttl"},
      {{BinaryPath("scheduler/chime-scheduler"), "--no-such-flag"}, {"CHIME_LOG_FORMAT=json"}, "scheduler",
       "--no-such-flag"},
      {{BinaryPath("worker/chime-worker"), "--log-format", "json", "--slots", "0"}, {}, "worker", "slots"},
      {{BinaryPath("worker/chime-worker"), "--no-such-flag"}, {"CHIME_LOG_FORMAT=json"}, "worker", "--no-such-flag"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> env = c.env;
    env.push_back(kNoDatabase);
    const Outcome o = RunBinary(c.argv, env);
    EXPECT_EQ(o.status, 2) << c.needle << ": " << o.err;
    const std::vector<json> lines = JsonLines(o.err);
    ASSERT_EQ(lines.size(), 1u) << o.err;
    EXPECT_EQ(lines[0]["level"], "critical");
    EXPECT_EQ(lines[0]["logger"], c.logger);
    EXPECT_NE(lines[0]["msg"].get<std::string>().find(c.needle), std::string::npos) << o.err;
  }
}

// Issue 22: `--once` printed its summary on stdout, outside the log.
TEST(ConventionsTest, OnceWritesItsSummaryToTheLog) {
  TestDatabase db;
  const Outcome o = RunBinary({BinaryPath("scheduler/chime-scheduler"), "--once", "--log-format", "json", "--database-url",
                         db.url(), "--http-listen", "off"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "");
  bool summary = false;
  for (const json& line : JsonLines(o.err)) {
    summary = summary || line["msg"].get<std::string>().starts_with("maintenance pass: rescued 0, discarded 0, deleted 0 jobs");
  }
  EXPECT_TRUE(summary) << o.err;
}

// Issue 22: /healthz said 0.1.0, the worker directory 0.1.
TEST(ConventionsTest, OneVersionStringEverywhere) {
  Cluster cluster;
  cluster.StartScheduler();
  auto& worker = cluster.StartWorker("w1", {"--http-listen", "127.0.0.1:0"});
  auto line = worker.WaitForLog("http listening on ", std::chrono::seconds(30));
  ASSERT_TRUE(line) << worker.log();
  const std::string worker_http = line->substr(line->find("http listening on ") + 18);
  const std::string version(Version());
  ASSERT_TRUE(WaitUntil([&] { return cluster.Int("SELECT count(*) FROM chime.workers") == 1; }, kClusterWaitBound));
  EXPECT_EQ(cluster.Text("SELECT version FROM chime.workers"), version);
  const JobctlOutcome workers = cluster.Jobctl({"workers", "--json"});
  ASSERT_EQ(workers.exit_code, 0) << workers.output;
  EXPECT_EQ(json::parse(workers.output)["workers"][0]["version"], version) << workers.output;
  for (const std::string& address : {cluster.http(), worker_http}) {
    const HttpReply health = HttpGet(address, "/healthz");
    ASSERT_EQ(health.status, 200) << address;
    EXPECT_EQ(json::parse(health.body)["version"], version) << health.body;
    const HttpReply metrics = HttpGet(address, "/metrics");
    EXPECT_NE(metrics.body.find("chime_build_info{version=\"" + version + "\"} 1\n"), std::string::npos)
        << metrics.body;
  }
}

}  // namespace
}  // namespace chime::testing
