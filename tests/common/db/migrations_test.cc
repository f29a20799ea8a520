#include "common/db/migrations.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

// Every version this binary embeds, from the file names.
std::set<int> KnownVersions() {
  std::set<int> versions;
  for (const auto& m : internal::kMigrations) versions.insert(std::atoi(m.file));
  return versions;
}

int LatestKnownVersion() { return *KnownVersions().rbegin(); }

class MigrationsTest : public ::testing::Test {
 protected:
  MigrationsTest() : conn_(ConnectionConfig{.url = db_.url()}), sql_(db_.url()) {}

  bool TableExists(const std::string& name) {
    return sql_.Scalar("SELECT to_regclass($1) IS NOT NULL", name) == "t";
  }

  chime::testing::TestDatabase db_;
  Connection conn_;
  Inspector sql_;
};

TEST_F(MigrationsTest, StatusReportsVersionZeroOnAnEmptyDatabase) {
  ASSERT_OK_AND_ASSIGN(MigrationStatus status, MigrationsStatus(conn_));
  EXPECT_EQ(status.current_version, 0);
  EXPECT_EQ(status.latest_version, LatestKnownVersion());
  EXPECT_TRUE(status.applied_now.empty());
  // Reporting must not create anything.
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM pg_namespace WHERE nspname = 'chime'"), 0);
}

TEST_F(MigrationsTest, ApplyOnAnEmptyDatabaseCreatesEveryTable) {
  ASSERT_OK_AND_ASSIGN(MigrationStatus status, MigrationsApply(conn_));
  EXPECT_EQ(status.current_version, LatestKnownVersion());
  EXPECT_EQ(status.latest_version, LatestKnownVersion());
  EXPECT_EQ(status.applied_now.size(), internal::kMigrations.size());
  ASSERT_FALSE(status.applied_now.empty());
  EXPECT_EQ(status.applied_now.front(), "0001_init.sql");

  for (const char* table : {"chime.jobs", "chime.runs", "chime.job_counts", "chime.schedules",
                            "chime.fires", "chime.leader", "chime.workers",
                            "chime.schema_migrations"}) {
    EXPECT_TRUE(TableExists(table)) << table;
  }
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.schema_migrations"),
            static_cast<int64_t>(KnownVersions().size()));
  EXPECT_EQ(sql_.Int("SELECT max(version) FROM chime.schema_migrations"), LatestKnownVersion());
  EXPECT_EQ(sql_.Scalar("SELECT name FROM chime.schema_migrations WHERE version = 1"),
            "0001_init.sql");

  ASSERT_OK_AND_ASSIGN(MigrationStatus after, MigrationsStatus(conn_));
  EXPECT_EQ(after.current_version, LatestKnownVersion());
}

TEST_F(MigrationsTest, ReapplyingIsANoOp) {
  ASSERT_OK_AND_ASSIGN(MigrationStatus first, MigrationsApply(conn_));
  const std::string ledger =
      sql_.Scalar("SELECT string_agg(version || ':' || name || ':' || applied_at, ',' "
                  "ORDER BY version) FROM chime.schema_migrations");

  ASSERT_OK_AND_ASSIGN(MigrationStatus second, MigrationsApply(conn_));
  EXPECT_TRUE(second.applied_now.empty());
  EXPECT_EQ(second.current_version, first.current_version);
  EXPECT_EQ(second.latest_version, first.latest_version);
  EXPECT_EQ(sql_.Scalar("SELECT string_agg(version || ':' || name || ':' || applied_at, ',' "
                        "ORDER BY version) FROM chime.schema_migrations"),
            ledger);

  // A fresh connection (a restarted process) also finds nothing to do.
  Connection other(ConnectionConfig{.url = db_.url()});
  ASSERT_OK_AND_ASSIGN(MigrationStatus third, MigrationsApply(other));
  EXPECT_TRUE(third.applied_now.empty());
  EXPECT_EQ(third.current_version, first.current_version);
}

TEST_F(MigrationsTest, ConcurrentAppliersAllSucceedAndApplyEachVersionOnce) {
  constexpr int kThreads = 4;
  std::vector<Result<MigrationStatus>> results(kThreads, Fail(ErrorCode::kInternal, "not run"));
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        Connection conn(ConnectionConfig{.url = db_.url()});
        results[i] = MigrationsApply(conn);
      });
    }
  }
  size_t applied_total = 0;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(results[i].has_value()) << "thread " << i << ": " << results[i].error().ToString();
    EXPECT_EQ(results[i]->current_version, LatestKnownVersion()) << "thread " << i;
    applied_total += results[i]->applied_now.size();
  }
  // Exactly one caller did the work.
  EXPECT_EQ(applied_total, internal::kMigrations.size());
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.schema_migrations"),
            static_cast<int64_t>(KnownVersions().size()));
  EXPECT_EQ(sql_.Int("SELECT count(DISTINCT version) FROM chime.schema_migrations"),
            static_cast<int64_t>(KnownVersions().size()));
  EXPECT_TRUE(TableExists("chime.jobs"));
}

TEST_F(MigrationsTest, RefusesADatabaseNewerThanTheBinary) {
  ASSERT_OK(MigrationsApply(conn_));
  const int future = LatestKnownVersion() + 1;
  sql_.Exec("INSERT INTO chime.schema_migrations (version, name) VALUES ($1, 'from_the_future.sql')",
            future);

  auto applied = MigrationsApply(conn_);
  ASSERT_FALSE(applied.has_value());
  EXPECT_EQ(applied.error().code, ErrorCode::kFailedPrecondition) << applied.error().ToString();

  ASSERT_OK_AND_ASSIGN(MigrationStatus status, MigrationsStatus(conn_));
  EXPECT_EQ(status.current_version, future);
  EXPECT_EQ(status.latest_version, LatestKnownVersion());
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.schema_migrations"),
            static_cast<int64_t>(KnownVersions().size()) + 1);
}

// A migration that fails half way rolls back everything it did. We cannot
// embed a broken file, so we make 0001 fail: a table it creates is already
// there.
TEST_F(MigrationsTest, AFailingMigrationLeavesTheDatabaseAsItWas) {
  sql_.Exec("CREATE SCHEMA chime");
  sql_.Exec("CREATE TABLE chime.runs (squatter text)");
  sql_.Exec("INSERT INTO chime.runs VALUES ('still here')");

  auto applied = MigrationsApply(conn_);
  ASSERT_FALSE(applied.has_value());
  EXPECT_NE(applied.error().message.find("0001_init.sql"), std::string::npos)
      << applied.error().ToString();

  // chime.jobs comes before chime.runs in 0001; it must be gone again.
  EXPECT_FALSE(TableExists("chime.jobs"));
  EXPECT_FALSE(TableExists("chime.schema_migrations"));
  EXPECT_EQ(sql_.Scalar("SELECT squatter FROM chime.runs"), "still here");
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM information_schema.columns "
                     "WHERE table_schema = 'chime' AND table_name = 'runs'"),
            1);
  ASSERT_OK_AND_ASSIGN(MigrationStatus status, MigrationsStatus(conn_));
  EXPECT_EQ(status.current_version, 0);
}

TEST_F(MigrationsTest, CreatesRolesWithLeastPrivilege) {
  ASSERT_OK(MigrationsApply(conn_));
  for (const char* role : {"chime_worker", "chime_scheduler", "chime_admin"}) {
    EXPECT_EQ(sql_.Int("SELECT count(*) FROM pg_roles WHERE rolname = $1", std::string(role)), 1)
        << role;
  }
  auto has = [&](const char* role, const char* table, const char* privilege) {
    return sql_.Scalar("SELECT has_table_privilege($1, $2, $3)", std::string(role),
                       std::string(table), std::string(privilege)) == "t";
  };
  auto has_column = [&](const char* role, const char* table, const char* column, const char* privilege) {
    return sql_.Scalar("SELECT has_column_privilege($1, $2, $3, $4)", std::string(role), std::string(table),
                       std::string(column), std::string(privilege)) == "t";
  };
  // Workers claim and complete but never delete; they write only the columns
  // a claim, heartbeat, completion or child job sets (0008; roles_test.cc).
  EXPECT_TRUE(has("chime_worker", "chime.jobs", "SELECT"));
  EXPECT_FALSE(has("chime_worker", "chime.jobs", "INSERT"));
  EXPECT_FALSE(has("chime_worker", "chime.jobs", "UPDATE"));
  EXPECT_TRUE(has_column("chime_worker", "chime.jobs", "payload", "INSERT"));
  EXPECT_FALSE(has_column("chime_worker", "chime.jobs", "schedule_id", "INSERT"));
  EXPECT_TRUE(has_column("chime_worker", "chime.jobs", "state", "UPDATE"));
  EXPECT_FALSE(has_column("chime_worker", "chime.jobs", "payload", "UPDATE"));
  EXPECT_FALSE(has("chime_worker", "chime.jobs", "DELETE"));
  EXPECT_TRUE(has("chime_worker", "chime.job_counts", "SELECT"));
  EXPECT_FALSE(has("chime_worker", "chime.job_counts", "UPDATE"));
  EXPECT_TRUE(has("chime_worker", "chime.runs", "INSERT"));
  EXPECT_FALSE(has("chime_worker", "chime.runs", "DELETE"));
  EXPECT_FALSE(has("chime_worker", "chime.runs", "UPDATE"));
  EXPECT_FALSE(has("chime_worker", "chime.schedules", "UPDATE"));
  EXPECT_FALSE(has("chime_worker", "chime.leader", "UPDATE"));
  // The scheduler rescues and cleans up.
  EXPECT_TRUE(has("chime_scheduler", "chime.jobs", "DELETE"));
  EXPECT_TRUE(has("chime_scheduler", "chime.runs", "DELETE"));
  EXPECT_TRUE(has("chime_scheduler", "chime.leader", "UPDATE"));
  // It owns schedules: the file sync deletes entries gone from the file, and
  // jobctl's schedule commands arrive through it over ZeroMQ.
  EXPECT_TRUE(has("chime_scheduler", "chime.schedules", "DELETE"));
  EXPECT_TRUE(has("chime_scheduler", "chime.fires", "INSERT"));
  EXPECT_FALSE(has("chime_worker", "chime.fires", "INSERT"));
  EXPECT_FALSE(has("chime_scheduler", "chime.schedules_version", "DELETE"));
  EXPECT_TRUE(has("chime_admin", "chime.schedules", "DELETE"));
  EXPECT_EQ(sql_.Scalar("SELECT has_schema_privilege('chime_worker', 'chime', 'USAGE')"), "t");
  EXPECT_EQ(sql_.Scalar("SELECT has_schema_privilege('chime_worker', 'chime', 'CREATE')"), "f");
}

}  // namespace
}  // namespace chime::db::testing
