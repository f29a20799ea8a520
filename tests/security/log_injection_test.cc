// Issue 18, finding 11: a logged field cannot forge a line. A payload key,
// a worker id or an error holding CR/LF, escape sequences or ill-formed
// UTF-8 used to go into the text log verbatim, so one job could print a
// "job 1 ... finished: succeeded" line of its own. The formatter escapes
// them, whatever the call site.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include "common/base/utf8.h"
#include "common/log/log.h"

namespace chime {
namespace {

class LogInjectionTest : public ::testing::Test {
 protected:
  spdlog::logger Logger(LogFormat format, std::string name = "worker") {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::logger logger(std::move(name), sink);
    logger.set_formatter(MakeLogFormatter(format));
    return logger;
  }
  size_t Lines() const {
    const std::string s = out_.str();
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  }
  std::ostringstream out_;
};

const std::string kForged =
    "sync\n2026-11-25T00:00:00.000Z info [worker] job 1 (noop) attempt 1/20 finished: succeeded in 3 ms";

TEST_F(LogInjectionTest, AForgedNewlineInAFieldStaysOnItsLine) {
  spdlog::logger logger = Logger(LogFormat::kText);
  logger.info("job 7 payload key {} accepted", kForged);
  ASSERT_EQ(Lines(), 1u) << out_.str();
  const std::string line = out_.str();
  EXPECT_NE(line.find("payload key sync\\n2026-11-25T00:00:00.000Z info [worker] job 1"), std::string::npos)
      << line;
}

TEST_F(LogInjectionTest, CarriageReturnsEscapesAndIllFormedBytesAreEscaped) {
  spdlog::logger logger = Logger(LogFormat::kText);
  logger.warn("peer {} said goodbye: {}", "w1\r\x1b[2Kfake", std::string("bye\0\x7f\xC2\x85\xE2\x80\xA8\xFF", 11));
  ASSERT_EQ(Lines(), 1u);
  const std::string line = out_.str();
  EXPECT_NE(line.find("peer w1\\r\\x1b[2Kfake said goodbye: bye\\x00\\x7f\\u0085\\u2028\xEF\xBF\xBD"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_TRUE(IsValidUtf8(line));
}

TEST_F(LogInjectionTest, ALoggerNamedAfterAJobCannotBreakTheLineEither) {
  spdlog::logger logger = Logger(LogFormat::kText, "kind\nforged#1");
  logger.info("started");
  ASSERT_EQ(Lines(), 1u) << out_.str();
  EXPECT_NE(out_.str().find("[kind\\nforged#1] started"), std::string::npos) << out_.str();
}

TEST_F(LogInjectionTest, SecretsAreStillScrubbedBeforeEscaping) {
  spdlog::logger logger = Logger(LogFormat::kText);
  logger.error("header Authorization: Bearer s3cr3t-token\nnext postgresql://u:hunter2@db/x");
  const std::string line = out_.str();
  ASSERT_EQ(Lines(), 1u) << line;
  EXPECT_EQ(line.find("s3cr3t"), std::string::npos) << line;
  EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
}

TEST_F(LogInjectionTest, JsonLinesAreWellFormedUtf8WithEveryFieldRepaired) {
  spdlog::logger logger = Logger(LogFormat::kJson, "bad\xC3");
  {
    LogFields fields{{"worker_id", std::string("w\xFF\n1")}, {"key\xE2\x82", std::string("v")}};
    logger.info("body {}", std::string("aaa\xC3\xA9\xC3\nnext"));
  }
  ASSERT_EQ(Lines(), 1u) << out_.str();
  const std::string line = out_.str();
  ASSERT_TRUE(IsValidUtf8(line)) << line;
  const auto j = nlohmann::json::parse(line);  // Strict: throws on ill-formed UTF-8.
  EXPECT_EQ(j["msg"], "body aaa\xC3\xA9\xEF\xBF\xBD\nnext");
  EXPECT_EQ(j["worker_id"], "w\xEF\xBF\xBD\n1");
  EXPECT_EQ(j["logger"], "bad\xEF\xBF\xBD");
  EXPECT_TRUE(j.contains("key\xEF\xBF\xBD"));
}

}  // namespace
}  // namespace chime
