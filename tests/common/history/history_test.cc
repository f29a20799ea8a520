#include "common/history/history.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace chime::history {
namespace {

class HistoryWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "chime-history-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl";
    std::remove(path_.c_str());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::vector<nlohmann::json> Lines() {
    std::vector<nlohmann::json> out;
    std::ifstream in(path_);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      EXPECT_TRUE(j.is_object()) << "not a JSON object: " << line;
      out.push_back(std::move(j));
    }
    return out;
  }

  std::string path_;
};

TEST_F(HistoryWriterTest, WritesEachEventAsOneJsonLineWithItsFields) {
  auto w = HistoryWriter::Open(path_, "worker:w\"1");
  ASSERT_NE(w, nullptr);
  const int64_t before = NowMicros();
  w->Enqueue(7);
  w->Enqueue(8, /*existing=*/true);
  w->Claim(7, 1, "lease-a");
  w->SideEffect(7, 1);
  w->Complete(7, 1, "lease-a", "succeeded", true, 123);
  w->Release(9, "lease-b", false);
  w->Leader(4);
  w->Fire(2, 1'700'000'000'000'000, 11, 4, 456);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 8u);
  for (const auto& l : lines) {
    EXPECT_EQ(l["proc"], "worker:w\"1");  // Escaped, and read back whole.
    EXPECT_GE(l["t"].get<int64_t>(), before);
  }
  EXPECT_EQ(lines[0]["ev"], "enqueue");
  EXPECT_EQ(lines[0]["job"], 7);
  EXPECT_FALSE(lines[0].contains("existing"));
  EXPECT_EQ(lines[1]["existing"], true);
  EXPECT_EQ(lines[2]["ev"], "claim");
  EXPECT_EQ(lines[2]["attempt"], 1);
  EXPECT_EQ(lines[2]["lease"], "lease-a");
  EXPECT_EQ(lines[3]["ev"], "side_effect");
  EXPECT_EQ(lines[4]["ev"], "complete");
  EXPECT_EQ(lines[4]["outcome"], "succeeded");
  EXPECT_EQ(lines[4]["accepted"], true);
  EXPECT_EQ(lines[4]["sent"], 123);
  EXPECT_EQ(lines[5]["ev"], "release");
  EXPECT_EQ(lines[5]["accepted"], false);
  EXPECT_EQ(lines[6]["ev"], "leader");
  EXPECT_EQ(lines[6]["epoch"], 4);
  EXPECT_EQ(lines[7]["ev"], "fire");
  EXPECT_EQ(lines[7]["schedule"], 2);
  EXPECT_EQ(lines[7]["tick"], 1'700'000'000'000'000);
  EXPECT_EQ(lines[7]["job"], 11);
  EXPECT_EQ(lines[7]["epoch"], 4);
}

TEST_F(HistoryWriterTest, AppendsToWhatIsThere) {
  HistoryWriter::Open(path_, "a")->Leader(1);
  HistoryWriter::Open(path_, "b")->Leader(2);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["proc"], "a");
  EXPECT_EQ(lines[1]["proc"], "b");
}

// Threads and processes sharing one file never interleave within a line.
TEST_F(HistoryWriterTest, ConcurrentWritersFromThreadsAndProcessesKeepLinesWhole) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  const std::string long_lease(300, 'x');  // Long lines make tearing likelier.
  auto write_all = [&](const std::string& proc) {
    auto w = HistoryWriter::Open(path_, proc);
    ASSERT_NE(w, nullptr);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) w->Claim(t * kPerThread + i, 1, long_lease);
      });
    }
    for (auto& t : threads) t.join();
  };
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    write_all("child");
    _exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  write_all("parent");
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  std::map<std::string, std::set<int64_t>> jobs;
  for (const auto& l : Lines()) {
    ASSERT_EQ(l["lease"], long_lease);
    EXPECT_TRUE(jobs[l["proc"].get<std::string>()].insert(l["job"].get<int64_t>()).second);
  }
  EXPECT_EQ(jobs["parent"].size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(jobs["child"].size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(HistoryWriterTest, OpenReturnsNullWhenTheFileCannotBeCreated) {
  EXPECT_EQ(HistoryWriter::Open("/nonexistent-dir/x/history.jsonl", "p"), nullptr);
}

TEST_F(HistoryWriterTest, ProcessHistoryIsOffWithoutTheVariableAndOnWithIt) {
  unsetenv("CHIME_HISTORY_FILE");
  InitProcess("jobctl");
  EXPECT_EQ(Process(), nullptr);
  setenv("CHIME_HISTORY_FILE", path_.c_str(), 1);
  InitProcess("jobctl");
  unsetenv("CHIME_HISTORY_FILE");
  ASSERT_NE(Process(), nullptr);
  Process()->Enqueue(3);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["proc"], "jobctl");
  EXPECT_EQ(lines[0]["ev"], "enqueue");
}

}  // namespace
}  // namespace chime::history
