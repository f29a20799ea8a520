// Connection::Run maps what PostgreSQL refuses to an error code by SQLSTATE,
// for every class libpqxx 6 throws - also those it throws outside sql_error
// or without their SQLSTATE (serialization failure, deadlock, insufficient
// privilege), which a retry loop or a role check must still tell apart.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "common/db/connection.h"
#include "tests/support/test_database.h"

namespace chime::db {
namespace {

struct Case {
  const char* sqlstate;
  ErrorCode code;
};

class ConnectionErrorTest : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { db_ = new chime::testing::TestDatabase(); }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }
  static inline chime::testing::TestDatabase* db_ = nullptr;
};

TEST_P(ConnectionErrorTest, MapsTheRefusalToItsCode) {
  const Case c = GetParam();
  Connection conn(ConnectionConfig{.url = db_->url()});
  auto r = conn.Run([&](pqxx::connection_base& pg) {
    pqxx::work tx(pg);
    tx.exec(std::string("DO $$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '") + c.sqlstate + "'; END $$");
    tx.commit();
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, c.code) << c.sqlstate << ": " << r.error().ToString();
  EXPECT_NE(r.error().message.find("refused"), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Sqlstates, ConnectionErrorTest,
    ::testing::Values(Case{"40001", ErrorCode::kRetryable},          // serialization_failure
                      Case{"40P01", ErrorCode::kRetryable},          // deadlock_detected
                      Case{"42501", ErrorCode::kUnauthenticated},    // insufficient_privilege
                      Case{"23505", ErrorCode::kAlreadyExists},      // unique_violation
                      Case{"22012", ErrorCode::kInvalidArgument},    // division_by_zero
                      Case{"23514", ErrorCode::kInvalidArgument},    // check_violation
                      Case{"57P01", ErrorCode::kUnavailable},        // admin_shutdown
                      Case{"40003", ErrorCode::kInternal},           // statement_completion_unknown
                      Case{"XX000", ErrorCode::kInternal}),          // internal_error
    [](const ::testing::TestParamInfo<Case>& param) { return std::string("Sqlstate") + param.param.sqlstate; });

}  // namespace
}  // namespace chime::db
