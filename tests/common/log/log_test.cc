// The log formats and the secret scrubbing every line goes through.
#include "common/log/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace chime {
namespace {

TEST(ScrubSecretsTest, HidesUrlPasswordsButKeepsTheRestOfTheUrl) {
  EXPECT_EQ(ScrubSecrets("db postgresql://chime:s3cr3t@db.internal:5432/chime?sslmode=require down"),
            "db postgresql://chime:***@db.internal:5432/chime?sslmode=require down");
  EXPECT_EQ(ScrubSecrets("https://user:p%40ss@example.com/x and https://other:pw@h"),
            "https://user:***@example.com/x and https://other:***@h");
  // No password, no change.
  EXPECT_EQ(ScrubSecrets("postgresql://chime@db/chime tcp://127.0.0.1:5555"),
            "postgresql://chime@db/chime tcp://127.0.0.1:5555");
}

TEST(ScrubSecretsTest, HidesPasswordSettingsAndCredentials) {
  EXPECT_EQ(ScrubSecrets("host=db password=hunter2 dbname=chime"), "host=db password=*** dbname=chime");
  EXPECT_EQ(ScrubSecrets("postgresql://db/chime?user=a&Password=hunter2&x=1"),
            "postgresql://db/chime?user=a&Password=***&x=1");
  EXPECT_EQ(ScrubSecrets("Authorization: Bearer abc.DEF-123_~+/="), "Authorization: Bearer ***");
  EXPECT_EQ(ScrubSecrets("authorization: bearer tok"), "authorization: bearer ***");
  EXPECT_EQ(ScrubSecrets("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic ***");
  EXPECT_EQ(ScrubSecrets("a basic check passed"), "a basic check passed");
}

TEST(LogFormatTest, ParsesTextAndJsonOnly) {
  EXPECT_EQ(ParseLogFormat("json").value(), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("text").value(), LogFormat::kText);
  auto bad = ParseLogFormat("xml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("'xml'"), std::string::npos);
}

class LogLinesTest : public ::testing::Test {
 protected:
  spdlog::logger Logger(LogFormat format) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::logger logger("test", sink);
    logger.set_formatter(MakeLogFormatter(format));
    return logger;
  }
  std::ostringstream out_;
};

TEST_F(LogLinesTest, JsonLinesCarryTheFieldsInScopeAndAreScrubbed) {
  spdlog::logger logger = Logger(LogFormat::kJson);
  {
    LogFields job{{"job_id", int64_t{42}}, {"kind", std::string("noop")}};
    LogFields end{{"outcome", std::string("succeeded")}, {"duration_ms", int64_t{7}}, {"ok", true}};
    logger.info("job 42 \"quoted\" finished; url postgresql://u:topsecret@h/db");
  }
  logger.warn("after");
  std::istringstream lines(out_.str());
  std::string first, second;
  ASSERT_TRUE(std::getline(lines, first));
  ASSERT_TRUE(std::getline(lines, second));
  const auto a = nlohmann::json::parse(first);
  EXPECT_EQ(a["level"], "info");
  EXPECT_EQ(a["logger"], "test");
  EXPECT_EQ(a["msg"], "job 42 \"quoted\" finished; url postgresql://u:***@h/db");
  EXPECT_EQ(a["job_id"], 42);
  EXPECT_EQ(a["kind"], "noop");
  EXPECT_EQ(a["outcome"], "succeeded");
  EXPECT_EQ(a["duration_ms"], 7);
  EXPECT_EQ(a["ok"], true);
  EXPECT_EQ(a["time"].get<std::string>().back(), 'Z');
  const auto b = nlohmann::json::parse(second);
  EXPECT_EQ(b["level"], "warning");
  EXPECT_FALSE(b.contains("job_id")) << "fields leave with their scope";
  EXPECT_EQ(first.find("topsecret"), std::string::npos);
}

TEST_F(LogLinesTest, TextLinesAreScrubbedToo) {
  spdlog::logger logger = Logger(LogFormat::kText);
  logger.error("connect to postgresql://chime:topsecret@db/chime failed; Bearer abcdef");
  const std::string line = out_.str();
  EXPECT_NE(line.find(" error [test] connect to postgresql://chime:***@db/chime failed; Bearer ***"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("topsecret"), std::string::npos);
  EXPECT_EQ(line.find("abcdef"), std::string::npos);
}

}  // namespace
}  // namespace chime
