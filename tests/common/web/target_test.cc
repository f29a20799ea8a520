// Request targets as handlers see them: decoded paths and query parameters.
#include "common/web/target.h"

#include <gtest/gtest.h>

namespace chime::web {
namespace {

TEST(TargetTest, DecodesThePathAndTheQuery) {
  auto t = ParseTarget("/api/schedules/a%20b+c?kind=bad%20kind&x=1+2&flag&&y=%zz#frag");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/api/schedules/a b+c");
  EXPECT_EQ(t->query.find("kind")->second, "bad kind");
  EXPECT_EQ(t->query.find("x")->second, "1 2");
  EXPECT_EQ(t->query.find("flag")->second, "");
  EXPECT_EQ(t->query.find("y")->second, "%zz") << "a bad escape stays as sent";
  EXPECT_EQ(t->query.size(), 4u);
}

TEST(TargetTest, RefusesTargetsThatAreNotPathsOrHideControlCharacters) {
  EXPECT_FALSE(ParseTarget("*"));
  EXPECT_FALSE(ParseTarget("http://example.com/x"));
  EXPECT_FALSE(ParseTarget("/a%00b"));
  EXPECT_FALSE(ParseTarget("/a%0d%0aSet-Cookie:x"));
  EXPECT_TRUE(ParseTarget("/"));
  EXPECT_EQ(PercentDecode("%41%4a%2", false), "AJ%2");
}

TEST(TargetTest, LoggablePathsArePrintableAscii) {
  EXPECT_EQ(LoggablePath("/api/jobs/12"), "/api/jobs/12");
  EXPECT_EQ(LoggablePath("/a b\xff\x1b%"), "/a%20b%FF%1B%25");
}

}  // namespace
}  // namespace chime::web
