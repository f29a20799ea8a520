// EnvSetting: NAME or NAME_FILE, never both; the file's trailing newline is
// dropped; errors name the variable and path but never the value.
#include "common/base/env_setting.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace chime {
namespace {

constexpr const char* kName = "CHIME_ENV_SETTING_TEST";

class EnvSettingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv(kName);
    unsetenv((std::string(kName) + "_FILE").c_str());
    dir_ = std::filesystem::temp_directory_path() /
           ("env_setting_test." + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& contents) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(EnvSettingTest, NeitherSetIsNoValue) {
  auto value = EnvSetting(kName);
  ASSERT_TRUE(value.has_value()) << value.error().message;
  EXPECT_FALSE(value->has_value());
}

TEST_F(EnvSettingTest, TheVariableItself) {
  setenv(kName, "postgresql://a@b/c", 1);
  auto value = EnvSetting(kName);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->value(), "postgresql://a@b/c");
}

TEST_F(EnvSettingTest, TheFileWithoutOneTrailingNewline) {
  setenv((std::string(kName) + "_FILE").c_str(), WriteFile("lf", "postgresql://u:pw@db/x\n").c_str(), 1);
  EXPECT_EQ(EnvSetting(kName)->value(), "postgresql://u:pw@db/x");
  setenv((std::string(kName) + "_FILE").c_str(), WriteFile("crlf", "abc\r\n").c_str(), 1);
  EXPECT_EQ(EnvSetting(kName)->value(), "abc");
  setenv((std::string(kName) + "_FILE").c_str(), WriteFile("plain", "abc\n\n").c_str(), 1);
  EXPECT_EQ(EnvSetting(kName)->value(), "abc\n");  // Only one newline is the file's end.
}

TEST_F(EnvSettingTest, BothSetIsAnErrorNamingBoth) {
  setenv(kName, "x", 1);
  setenv((std::string(kName) + "_FILE").c_str(), WriteFile("v", "y").c_str(), 1);
  auto value = EnvSetting(kName);
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(value.error().message,
            "set CHIME_ENV_SETTING_TEST or CHIME_ENV_SETTING_TEST_FILE, not both");
}

TEST_F(EnvSettingTest, AMissingOrEmptyFileIsNamedButNotItsContents) {
  const std::string missing = (dir_ / "missing").string();
  setenv((std::string(kName) + "_FILE").c_str(), missing.c_str(), 1);
  auto value = EnvSetting(kName);
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().message, "CHIME_ENV_SETTING_TEST_FILE: cannot read " + missing);

  const std::string empty = WriteFile("empty", "\n");
  setenv((std::string(kName) + "_FILE").c_str(), empty.c_str(), 1);
  value = EnvSetting(kName);
  ASSERT_FALSE(value.has_value());
  EXPECT_EQ(value.error().message, "CHIME_ENV_SETTING_TEST_FILE: " + empty + " is empty");
}

}  // namespace
}  // namespace chime
