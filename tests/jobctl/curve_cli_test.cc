// jobctl curve-keygen: a key pair file the CURVE links read back, mode 0600,
// its public key printed, and never written over an existing file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/net/curve.h"
#include "jobctl/exit_code.h"
#include "tests/jobctl/cli_harness.h"

namespace chime::jobctl {
namespace {

class CurveCliTest : public test_support::CliTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("curve-cli-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(CurveCliTest, WritesAKeyPairTheLinksReadAndPrintsItsPublicKey) {
  const std::string file = (dir_ / "worker.key").string();
  ASSERT_EQ(Run({"curve-keygen", file}), kExitOk) << err.str();
  EXPECT_EQ(backends_made, 0);  // Neither database nor scheduler.
  auto pair = net::CurveReadKeyPair(file);
  ASSERT_TRUE(pair.has_value()) << pair.error().message;
  EXPECT_EQ(out.str(), pair->public_key + "\n");
  EXPECT_EQ(pair->public_key.size(), 40u);
  EXPECT_EQ(pair->secret_key.size(), 40u);
  EXPECT_EQ(err.str().find(pair->secret_key), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Another pair is another key.
  ASSERT_EQ(Run({"curve-keygen", (dir_ / "other.key").string()}), kExitOk) << err.str();
  EXPECT_NE(out.str(), pair->public_key + "\n");
}

TEST_F(CurveCliTest, NeverOverwritesAFile) {
  const std::string file = (dir_ / "scheduler.key").string();
  std::ofstream(file) << "keep me\n";
  EXPECT_EQ(Run({"curve-keygen", file}), kExitUsage);
  EXPECT_NE(err.str().find("never overwritten"), std::string::npos) << err.str();
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "keep me");
  EXPECT_TRUE(out.str().empty());
}

TEST_F(CurveCliTest, AnUnwritablePlaceIsNamed) {
  const std::string file = (dir_ / "missing" / "x.key").string();
  EXPECT_EQ(Run({"curve-keygen", file}), kExitUsage);
  EXPECT_NE(err.str().find(file), std::string::npos) << err.str();
  EXPECT_EQ(Run({"curve-keygen"}), kExitUsage);
}

}  // namespace
}  // namespace chime::jobctl
