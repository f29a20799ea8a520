#include "tests/support/test_database.h"

#include <gtest/gtest.h>

#include <optional>

namespace chime::testing {
namespace {

TEST(TestDatabaseTest, GivesEachTestItsOwnEmptyDatabase) {
  TestDatabase a;
  TestDatabase b;
  EXPECT_NE(a.name(), b.name());
  EXPECT_EQ(a.Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0");
  a.Exec("CREATE TABLE only_in_a (x int)");
  EXPECT_EQ(a.Scalar("SELECT to_regclass('only_in_a') IS NOT NULL"), "t");
  EXPECT_EQ(b.Scalar("SELECT to_regclass('only_in_a') IS NOT NULL"), "f");
}

TEST(TestDatabaseTest, DropsTheDatabaseWhenDestroyed) {
  std::string name;
  std::optional<TestDatabase> db;
  db.emplace();
  name = db->name();
  TestDatabase observer;
  const std::string query = "SELECT count(*) FROM pg_database WHERE datname = '" + name + "'";
  EXPECT_EQ(observer.Scalar(query), "1");
  db.reset();
  EXPECT_EQ(observer.Scalar(query), "0");
}

TEST(TestDatabaseTest, KnowsItsPortAndUserAndSwapsThePort) {
  TestDatabase db;
  EXPECT_EQ(db.Scalar("SELECT current_setting('port')"), std::to_string(db.port()));
  EXPECT_EQ(db.Scalar("SELECT current_user"), db.user());
  EXPECT_EQ(db.UrlWithPort(db.port()), db.url());
  const std::string other = db.UrlWithPort(1);
  EXPECT_NE(other.find(":1/" + db.name()), std::string::npos) << other;
  EXPECT_EQ(other.find(":" + std::to_string(db.port())), std::string::npos) << other;
}

}  // namespace
}  // namespace chime::testing
