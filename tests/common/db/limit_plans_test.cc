// The plans of the claim under limits (migration 0026): a connection plans
// the claim's statements once (force_generic_plan), so the plans it keeps
// must hold when the limit tables grow after its first claim.
#include <gtest/gtest.h>

#include <pqxx/errorhandler>
#include <pqxx/pqxx>

#include <string>
#include <vector>

#include "common/db/limit_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using schedule::LimitRate;
using schedule::LimitSpec;

// Collects the notices a connection receives (auto_explain's plans here).
class Notices final : public pqxx::errorhandler {
 public:
  explicit Notices(pqxx::connection_base& conn) : pqxx::errorhandler(conn) {}
  bool operator()(const char msg[]) noexcept override {
    try {
      seen.emplace_back(msg);
    } catch (...) {
    }
    return true;
  }
  std::vector<std::string> seen;
};

class LimitPlansTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    LimitStore limits(conn_);
    auto row = limits.LimitSet(LimitSpec{.name = "per-user",
                                         .kind = "sync",
                                         .partition_by = "userId",
                                         .concurrency = 1,
                                         .rate = LimitRate{1000, std::chrono::minutes(1)}});
    ASSERT_TRUE(row.has_value()) << row.error().ToString();
  }

  void EnqueueUsers(int from, int to) {
    sql_.Exec(
        "INSERT INTO chime.jobs (kind, queue, payload) "
        "SELECT 'sync', 'default', jsonb_build_object('userId', 'u' || g) FROM generate_series($1::int, $2::int) g",
        from, to);
  }
};

// A worker's first claim came while the limit's tables were small (a new
// limit: no partition rows yet, and statistics that say so). After the
// limit grew to 1,000 partitions with starts in their windows, the same
// connection's claim still reaches a partition's shards and buckets by
// their keys: 0023's plans read every row of limit_partitions for each
// partition (1,000 x 1,000 rows a claim of 1,000) and every bucket of the
// partition. Nor does the claim compile JIT code for a plan priced high.
TEST_F(LimitPlansTest, AClaimKeepsItsIndexPlansAfterTheLimitGrows) {
  sql_.Exec("ANALYZE chime.limit_partitions, chime.limit_starts");
  pqxx::connection worker(db_.url());
  Notices notices(worker);
  {
    pqxx::nontransaction tx(worker);
    tx.exec("LOAD 'auto_explain'");
    tx.exec("SET auto_explain.log_min_duration = 0");
    tx.exec("SET auto_explain.log_nested_statements = on");
    tx.exec("SET auto_explain.log_level = notice");
    tx.exec("SET client_min_messages = notice");
  }
  EnqueueUsers(1, 1);
  {
    pqxx::work tx(worker);
    EXPECT_EQ(tx.exec("SELECT * FROM chime.jobs_claim_limited(ARRAY['default'], 10)").size(), 1u);
    tx.commit();
  }

  // (That pick took nothing: its job is still ready.) 1,000 users' jobs
  // claimed elsewhere: a row per partition and a start in each window.
  EnqueueUsers(2, 1001);
  EXPECT_EQ(Claim(1000).size(), 1000u);
  ASSERT_GE(sql_.Int("SELECT count(*) FROM chime.limit_partitions"), 1000);
  ASSERT_GE(sql_.Int("SELECT sum(n) FROM chime.limit_starts"), 1000);
  EnqueueUsers(1, 1000);

  notices.seen.clear();
  {
    pqxx::work tx(worker);
    // u1001's job, behind which every user's next job waits for its first.
    EXPECT_EQ(tx.exec("SELECT * FROM chime.jobs_claim_limited(ARRAY['default'], 10)").size(), 1u);
    tx.commit();
  }
  ASSERT_FALSE(notices.seen.empty()) << "auto_explain sent no plans";
  int plans = 0;
  for (const auto& plan : notices.seen) {
    if (plan.find("limit_partitions") != std::string::npos || plan.find("limit_starts") != std::string::npos) {
      ++plans;
    }
    EXPECT_EQ(plan.find("Seq Scan on limit_partitions"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Seq Scan on limit_starts"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("JIT:"), std::string::npos) << plan;
  }
  EXPECT_GT(plans, 0) << "no plan of the claim read the limit's tables";
}

}  // namespace
}  // namespace chime::db::testing
