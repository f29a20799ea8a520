// The rules spelled once in C++ against the C++ they name and the copies the
// applied migrations keep: the SQL sets of job states (job_state_sql.h)
// against db::IsFinished and the schema's partial indexes, and the name rule
// (common/base/name_rule.h) against the schema's CHECKs.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/base/name_rule.h"
#include "common/db/job_state_sql.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

// "('a', 'b')" -> {"a", "b"}, in order.
std::vector<std::string> StatesOf(const std::string& sql) {
  std::vector<std::string> out;
  static const std::regex kQuoted("'([a-z_]+)'");
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), kQuoted); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

std::vector<std::string> NamesWhere(bool (*keep)(JobState)) {
  std::vector<std::string> out;
  for (JobState s : kJobStates) {
    if (keep(s)) out.emplace_back(JobStateName(s));
  }
  return out;
}

std::set<std::string> Sorted(std::vector<std::string> v) { return {v.begin(), v.end()}; }

TEST(JobStateSqlTest, TheSqlSetsAreTheStatesIsFinishedSorts) {
  EXPECT_EQ(Sorted(StatesOf(CHIME_SQL_LIVE_STATES)), Sorted(NamesWhere([](JobState s) { return !IsFinished(s); })));
  EXPECT_EQ(Sorted(StatesOf(CHIME_SQL_FINISHED_STATES)), Sorted(NamesWhere(IsFinished)));
  EXPECT_EQ(Sorted(StatesOf(CHIME_SQL_QUEUED_STATES)), Sorted(NamesWhere([](JobState s) {
              return !IsFinished(s) && s != JobState::kRunning;
            })));
}

class OneSourceSchemaTest : public JobStoreTestBase {};

// Statements that name CHIME_SQL_LIVE_STATES rely on matching these indexes'
// predicates (ON CONFLICT picks jobs_unique_live_idx by it).
TEST_F(OneSourceSchemaTest, TheLiveIndexesOfTheMigrationsHoldTheLiveStates) {
  for (const char* index : {"jobs_unique_live_idx", "jobs_schedule_live_idx"}) {
    SCOPED_TRACE(index);
    const std::string def = sql_.Scalar("SELECT pg_get_indexdef(('chime.' || $1)::regclass)", std::string(index));
    const auto where = def.find("WHERE");
    ASSERT_NE(where, std::string::npos) << def;
    EXPECT_EQ(Sorted(StatesOf(def.substr(where))), Sorted(StatesOf(CHIME_SQL_LIVE_STATES))) << def;
  }
}

TEST_F(OneSourceSchemaTest, TheStateCheckOfTheMigrationsHoldsEveryState) {
  const std::string def = sql_.Scalar(
      "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
      "WHERE conrelid = 'chime.jobs'::regclass AND conname = 'jobs_state_check'");
  EXPECT_EQ(Sorted(StatesOf(def)), Sorted(NamesWhere([](JobState) { return true; }))) << def;
}

// A name the rule accepts is one the schema accepts, and the other way round.
TEST_F(OneSourceSchemaTest, TheNameRuleIsTheSchemasCheck) {
  std::vector<std::string> names = {"a", "sync_integration", "A-Z.a:z_0-9", std::string(128, 'k'),
                                    std::string(129, 'k'), "", "has space", "slash/name", "caf\xc3\xa9",
                                    "semi;colon", "quote'd", "tab\tname", "plus+", "at@"};
  for (char c = 0x21; c < 0x7f; ++c) names.push_back(std::string("x") + c);
  for (const auto& name : names) {
    SCOPED_TRACE("name \"" + name + "\"");
    bool accepted = true;
    try {
      sql_.Query("INSERT INTO chime.jobs (kind, queue) VALUES ($1, 'default')", name);
    } catch (const pqxx::check_violation&) {
      accepted = false;
    }
    bool accepted_as_queue = true;
    try {
      sql_.Query("INSERT INTO chime.jobs (kind, queue) VALUES ('k', $1)", name);
    } catch (const pqxx::check_violation&) {
      accepted_as_queue = false;
    }
    // The domain chime.name (migration 0024), which new columns use.
    bool accepted_by_domain = true;
    try {
      sql_.Query("SELECT $1::chime.name", name);
    } catch (const pqxx::check_violation&) {
      accepted_by_domain = false;
    }
    EXPECT_EQ(IsValidName(name), accepted);
    EXPECT_EQ(IsValidName(name), accepted_as_queue);
    EXPECT_EQ(IsValidName(name), accepted_by_domain);
  }
}

}  // namespace
}  // namespace chime::db::testing
