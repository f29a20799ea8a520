// The log formats and the secret scrubbing every line goes through.
#include "common/log/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <sstream>
#include <vector>

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
  // "timestamp": what Datadog and most log shippers read as the event time.
  EXPECT_FALSE(a.contains("time"));
  EXPECT_EQ(a["timestamp"].get<std::string>().back(), 'Z');
  const auto b = nlohmann::json::parse(second);
  EXPECT_EQ(b["level"], "warn") << "spelled as --log-level takes it";
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

TEST_F(LogLinesTest, EachLevelIsSpelledAsTheLogLevelFlagTakesItInBothFormats) {
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    out_.str("");
    spdlog::logger logger = Logger(format);
    logger.set_level(spdlog::level::trace);
    logger.trace("t");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.critical("c");
    std::istringstream lines(out_.str());
    std::vector<std::string> levels;
    for (std::string line; std::getline(lines, line);) {
      if (format == LogFormat::kJson) {
        levels.push_back(nlohmann::json::parse(line)["level"]);
      } else {
        // "2026-01-31T02:00:00.123Z warn [test] w"
        const size_t space = line.find(' ');
        levels.push_back(line.substr(space + 1, line.find(' ', space + 1) - space - 1));
        EXPECT_TRUE(line.ends_with(" [test] " + line.substr(line.size() - 1))) << line;
      }
    }
    EXPECT_EQ(levels, (std::vector<std::string>{"trace", "debug", "info", "warn", "error", "critical"}));
    for (const std::string& level : levels) {
      EXPECT_NE(spdlog::level::from_str(level), spdlog::level::off) << level << " is not a --log-level value";
    }
  }
}

TEST(StartupLogFormatTest, TheLastLogFormatFlagWinsOverTheEnvironment) {
  setenv("CHIME_LOG_FORMAT", "json", 1);
  const char* none[] = {"chime-worker"};
  EXPECT_EQ(StartupLogFormat(1, none), LogFormat::kJson);
  const char* text[] = {"chime-worker", "--log-format", "text"};
  EXPECT_EQ(StartupLogFormat(3, text), LogFormat::kText);
  unsetenv("CHIME_LOG_FORMAT");
  const char* json[] = {"chime-worker", "--slots", "x", "--log-format=json"};
  EXPECT_EQ(StartupLogFormat(4, json), LogFormat::kJson);
  const char* both[] = {"chime-worker", "--log-format=json", "--log-format", "text"};
  EXPECT_EQ(StartupLogFormat(4, both), LogFormat::kText);
  const char* bad[] = {"chime-worker", "--log-format", "xml"};
  EXPECT_EQ(StartupLogFormat(3, bad), LogFormat::kText) << "the parser names a bad value";
  const char* dangling[] = {"chime-worker", "--log-format"};
  EXPECT_EQ(StartupLogFormat(2, dangling), LogFormat::kText);
}

// Issue 22: with --log-format json a fatal start-up error was two plain
// lines, the second starting with a tab, which a JSON log pipeline drops
// or splits.
TEST(LogStartupErrorTest, IsOneJsonLineInJsonAndThePlainReportInText) {
  const std::string report =
      "schedule file has bad entries:\n\ts.yaml: nightly: cron: minute: 60 is out of range 0-59\n"
      "\ts.yaml: url postgresql://u:topsecret@h/db \x1b[31m";
  ::testing::internal::CaptureStderr();
  LogStartupError("chime-scheduler", "scheduler", LogFormat::kJson, report);
  const std::string json_out = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(json_out.empty());
  EXPECT_EQ(json_out.find('\n'), json_out.size() - 1) << "one line: " << json_out;
  const auto line = nlohmann::json::parse(json_out);
  EXPECT_EQ(line["level"], "critical");
  EXPECT_EQ(line["logger"], "scheduler");
  EXPECT_TRUE(line["timestamp"].is_string());
  EXPECT_TRUE(line["msg"].get<std::string>().starts_with("schedule file has bad entries:\n\ts.yaml: nightly"));
  EXPECT_EQ(json_out.find("topsecret"), std::string::npos);

  ::testing::internal::CaptureStderr();
  LogStartupError("chime-scheduler", "scheduler", LogFormat::kText, report);
  const std::string text_out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(text_out,
            "chime-scheduler: schedule file has bad entries:\n"
            "\ts.yaml: nightly: cron: minute: 60 is out of range 0-59\n"
            "\ts.yaml: url postgresql://u:***@h/db \\x1b[31m\n");
}

}  // namespace
}  // namespace chime
