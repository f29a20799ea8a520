// The shipped application schema and the demo data: both apply twice
// without change, and the demo data has the drift and mix it promises.
#include "common/app/app_schema.h"

#include <gtest/gtest.h>

#include "tests/support/test_database.h"

namespace chime::app {
namespace {

class AppSchemaTest : public ::testing::Test {
 protected:
  std::string Sql(const std::string& sql) { return db_.Scalar(sql); }

  chime::testing::TestDatabase db_;
  db::Connection conn_{db::ConnectionConfig{.url = db_.url()}};
};

TEST_F(AppSchemaTest, AppliesTwiceAndCreatesTheDocumentedTablesAndIndexes) {
  ASSERT_TRUE(ApplyAppSchema(conn_).has_value());
  auto again = ApplyAppSchema(conn_);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(Sql("SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.tables "
                "WHERE table_schema = 'chime_app'"),
            "bookings exams integrations users");
  EXPECT_EQ(Sql("SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes "
                "WHERE schemaname = 'chime_app' AND indexname LIKE '%\\_idx'"),
            "bookings_active_exam_idx exams_active_idx integrations_syncable_idx");
  EXPECT_NE(AppSchemaSql().find("CREATE SCHEMA IF NOT EXISTS chime_app"), std::string_view::npos);
}

TEST_F(AppSchemaTest, AnIntegrationIsUniquePerUserAndProvider) {
  ASSERT_TRUE(ApplyAppSchema(conn_).has_value());
  db_.Exec("INSERT INTO chime_app.users (id, email) VALUES (1, 'a')");
  db_.Exec("INSERT INTO chime_app.integrations (user_id, provider) VALUES (1, 'github')");
  EXPECT_EQ(Sql("INSERT INTO chime_app.integrations (user_id, provider) VALUES (1, 'github') "
                "ON CONFLICT (user_id, provider) DO NOTHING RETURNING 1"),
            "");
}

TEST_F(AppSchemaTest, DemoDataLoadsOnceWithDriftAndEveryKindOfIntegration) {
  auto first = LoadDemoData(conn_, {.users = 30, .exams = 12});
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->users, 30);
  EXPECT_EQ(first->integrations, 120);
  EXPECT_EQ(first->exams, 12);
  auto second = LoadDemoData(conn_, {.users = 30, .exams = 12});
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->users + second->integrations + second->exams + second->bookings, 0);

  // Drift: exams 3, 6, 9, 12 store 2 too many; 4 and 8 one too few.
  EXPECT_EQ(Sql("SELECT string_agg(e.id || ':' || (e.booking_count - b.actual), ' ' ORDER BY e.id) "
                "FROM chime_app.exams e JOIN (SELECT exam_id, count(*) FILTER (WHERE active) AS actual "
                "FROM chime_app.bookings GROUP BY exam_id) b ON b.exam_id = e.id "
                "WHERE e.booking_count <> b.actual"),
            "3:2 4:-1 6:2 8:-1 9:2 12:2");
  EXPECT_NE(Sql("SELECT count(*) FROM chime_app.integrations WHERE needs_reauth"), "0");
  EXPECT_NE(Sql("SELECT count(*) FROM chime_app.integrations WHERE NOT active"), "0");
  EXPECT_NE(Sql("SELECT count(*) FROM chime_app.integrations WHERE cadence_minutes = 60"), "0");
  EXPECT_NE(Sql("SELECT count(*) FROM chime_app.integrations WHERE last_synced_at IS NULL"), "0");
  EXPECT_NE(Sql("SELECT count(*) FROM chime_app.users WHERE NOT active"), "0");
}

TEST_F(AppSchemaTest, DemoSizeOutOfRangeIsRefusedNamingTheField) {
  auto result = LoadDemoData(conn_, {.users = 0});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message, "users: must be 1-1000000");
}

}  // namespace
}  // namespace chime::app
