// Configuration: flags over environment over file, and one line naming the
// field for every bad value.
#include "worker/worker_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace chime::worker {
namespace {

class WorkerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"CHIME_DATABASE_URL", "CHIME_SCHEDULER", "CHIME_QUEUES", "CHIME_WORKER_SLOTS",
                          "CHIME_WORKER_ID", "CHIME_LOG_LEVEL", "CHIME_HTTP_LISTEN", "CHIME_WORKER_PREFETCH"}) {
      unsetenv(v);
    }
  }
  void TearDown() override {
    SetUp();
    if (!file_.empty()) std::filesystem::remove(file_);
  }

  Result<WorkerConfig> Load(std::vector<std::string> args) {
    args.insert(args.begin(), "chime-worker");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    auto loaded = LoadWorkerConfig(static_cast<int>(argv.size()), argv.data());
    if (!loaded) return std::unexpected(loaded.error());
    if (!*loaded) return Fail(ErrorCode::kInternal, "--help was printed");
    return **loaded;
  }

  std::string File(const std::string& yaml) {
    file_ = (std::filesystem::temp_directory_path() / ("chime-worker-" + std::to_string(getpid()) + ".yaml")).string();
    std::ofstream(file_) << yaml;
    return file_;
  }

  std::string file_;
};

TEST_F(WorkerConfigTest, FlagsOverrideTheEnvironmentWhichOverridesTheFile) {
  const auto path = File("database_url: postgresql://file/db\nslots: 3\nqueues: [a, b]\npoll_interval_ms: 250\n");
  auto from_file = Load({"--config", path});
  ASSERT_TRUE(from_file.has_value()) << from_file.error().ToString();
  EXPECT_EQ(from_file->database_url, "postgresql://file/db");
  EXPECT_EQ(from_file->slots, 3);
  EXPECT_EQ(from_file->queues, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(from_file->poll_interval.count(), 250);

  setenv("CHIME_WORKER_SLOTS", "5", 1);
  setenv("CHIME_SCHEDULER", "tcp://s1:7700, tcp://s2:7700", 1);
  auto from_env = Load({"--config", path});
  ASSERT_TRUE(from_env.has_value());
  EXPECT_EQ(from_env->slots, 5);
  EXPECT_EQ(from_env->schedulers, (std::vector<std::string>{"tcp://s1:7700", "tcp://s2:7700"}));

  auto from_flag = Load({"--config", path, "--slots", "7", "--queues", "c"});
  ASSERT_TRUE(from_flag.has_value());
  EXPECT_EQ(from_flag->slots, 7);
  EXPECT_EQ(from_flag->queues, std::vector<std::string>{"c"});
  EXPECT_FALSE(from_flag->worker_id.empty());  // host-pid by default.

  auto repeated = Load({"--config", path, "--slots", "7", "--slots", "9"});
  ASSERT_TRUE(repeated.has_value()) << repeated.error().ToString();
  EXPECT_EQ(repeated->slots, 9);  // The last value wins.
}

TEST_F(WorkerConfigTest, ABadValueNamesItsField) {
  struct Case {
    std::vector<std::string> args;
    std::string starts;
  };
  const Case cases[] = {
      {{"--slots", "0", "--database-url", "x"}, "slots: must be 1-1000, got 0"},
      {{"--slots", "many", "--database-url", "x"}, "slots: 'many' is not an integer"},
      {{"--queues", "bad queue!", "--database-url", "x"}, "queues: 'badqueue!'"},
      {{"--lease-ms", "10", "--database-url", "x"}, "lease_ms: must be >= 1000"},
      {{"--prefetch", "-1", "--database-url", "x"}, "prefetch: must be auto or 0-1000, got -1"},
      {{"--prefetch", "1001", "--database-url", "x"}, "prefetch: must be auto or 0-1000, got 1001"},
      {{"--prefetch", "some", "--database-url", "x"}, "prefetch: "},
      {{}, "database_url: empty"},
  };
  for (const auto& c : cases) {
    auto r = Load(c.args);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(r.error().message.starts_with(c.starts)) << r.error().message;
  }
  setenv("CHIME_WORKER_SLOTS", "-3", 1);
  auto env = Load({"--database-url", "x"});
  ASSERT_FALSE(env.has_value());
  EXPECT_TRUE(env.error().message.starts_with("slots: must be 1-1000, got -3")) << env.error().message;
}

TEST_F(WorkerConfigTest, PrefetchIsAutoByDefaultAndComesFromFileEnvironmentOrFlag) {
  const auto path = File("database_url: postgresql://file/db\nprefetch: 8\n");
  auto none = Load({"--database-url", "x"});
  ASSERT_TRUE(none.has_value()) << none.error().ToString();
  EXPECT_EQ(none->prefetch, WorkerConfig::kPrefetchAuto);
  EXPECT_EQ(none->claim_batch, 1000);
  auto off = Load({"--database-url", "x", "--prefetch", "0"});
  ASSERT_TRUE(off.has_value()) << off.error().ToString();
  EXPECT_EQ(off->prefetch, 0);
  auto back = Load({"--config", path, "--prefetch", "auto"});
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->prefetch, WorkerConfig::kPrefetchAuto);
  auto from_file = Load({"--config", path});
  ASSERT_TRUE(from_file.has_value()) << from_file.error().ToString();
  EXPECT_EQ(from_file->prefetch, 8);
  setenv("CHIME_WORKER_PREFETCH", "16", 1);
  auto from_env = Load({"--config", path});
  ASSERT_TRUE(from_env.has_value()) << from_env.error().ToString();
  EXPECT_EQ(from_env->prefetch, 16);
  auto from_flag = Load({"--config", path, "--prefetch", "32"});
  ASSERT_TRUE(from_flag.has_value()) << from_flag.error().ToString();
  EXPECT_EQ(from_flag->prefetch, 32);
}

TEST_F(WorkerConfigTest, AnUnknownOrMalformedFileIsRefused) {
  auto unknown = Load({"--config", File("slotz: 4\n"), "--database-url", "x"});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("slotz: unknown setting"), std::string::npos);
  auto missing = Load({"--config", "/nonexistent/chime.yaml"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.error().message.starts_with("config: /nonexistent/chime.yaml")) << missing.error().message;
}

TEST_F(WorkerConfigTest, HelpIsNotAConfiguration) {
  std::vector<std::string> args{"chime-worker", "--help"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  auto loaded = LoadWorkerConfig(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_FALSE(loaded->has_value());
}

TEST_F(WorkerConfigTest, HttpListenIsOffByDefaultAndABadAddressNamesTheField) {
  auto defaults = Load({"--database-url", "postgresql://x/db"});
  ASSERT_TRUE(defaults.has_value()) << defaults.error().ToString();
  EXPECT_EQ(defaults->http_listen, "off");
  setenv("CHIME_HTTP_LISTEN", "127.0.0.1:0", 1);
  auto from_env = Load({"--database-url", "postgresql://x/db"});
  ASSERT_TRUE(from_env.has_value()) << from_env.error().ToString();
  EXPECT_EQ(from_env->http_listen, "127.0.0.1:0");
  auto flag = Load({"--database-url", "postgresql://x/db", "--http-listen", "[::1]:9100"});
  ASSERT_TRUE(flag.has_value()) << flag.error().ToString();
  EXPECT_EQ(flag->http_listen, "[::1]:9100");
  auto bad = Load({"--database-url", "postgresql://x/db", "--http-listen", "9100"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().message.starts_with("http_listen: '9100' is not host:port")) << bad.error().message;
  setenv("CHIME_HTTP_LISTEN", "localhost:99999", 1);
  auto bad_env = Load({"--database-url", "postgresql://x/db"});
  ASSERT_FALSE(bad_env.has_value());
  EXPECT_TRUE(bad_env.error().message.starts_with("http_listen: ")) << bad_env.error().message;
}

}  // namespace
}  // namespace chime::worker
