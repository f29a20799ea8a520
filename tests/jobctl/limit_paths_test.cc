// `jobctl limit set|list|delete` on both of jobctl's paths (the database,
// and a real chime-scheduler over ZeroMQ: ZmqBackend -> AdminService ->
// LimitStore): the same text and JSON, from limits with jobs running under
// them, and the same errors and exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/db/job_store.h"
#include "tests/jobctl/both_paths.h"

namespace chime::jobctl {
namespace {

using json = nlohmann::json;

class LimitPathsTest : public BothPathsTest {
 protected:
  void SetUp() override {
    BothPathsTest::SetUp();
    if (HasFatalFailure()) return;
    StartScheduler();
  }

  // Each path's --json answer, without updated_at (a set through the
  // second path replaces what the first set).
  static json WithoutUpdatedAt(const std::string& text) {
    json j = json::parse(text);
    j.erase("updated_at");
    return j;
  }

  db::JobStore store_{conn_};
};

TEST_F(LimitPathsTest, SetListAndStatsAnswerTheSameThroughTheScheduler) {
  const std::vector<std::string> set = {"limit", "set", "provider-quota", "--kind", "sync_integration",
                                        "--partition-by", "provider", "--concurrency", "2", "--rate", "100/1m"};
  Ran text = Both(set);
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out,
            "limit 'provider-quota' set: 2 at once, 100/1m (queue *, kind sync_integration, per provider); "
            "0 running, 0 ready\n");
  std::vector<std::string> set_json = set;
  set_json.push_back("--json");
  Ran via_db = Jobctl(false, set_json);
  Ran via_scheduler = Jobctl(true, set_json);
  ASSERT_EQ(via_db.code, 0) << via_db.err;
  ASSERT_EQ(via_scheduler.code, 0) << via_scheduler.err;
  EXPECT_EQ(WithoutUpdatedAt(via_db.out), WithoutUpdatedAt(via_scheduler.out));
  EXPECT_EQ(json::parse(via_scheduler.out)["source"], "api");

  // Three github syncs and one notion sync; the claim takes two github
  // (the partition's concurrency) and the notion one.
  for (const char* provider : {"github", "github", "github", "notion"}) {
    auto inserted = store_.JobInsert(
        {.kind = "sync_integration", .payload = std::string(R"({"provider":")") + provider + "\"}"});
    ASSERT_TRUE(inserted.has_value()) << inserted.error().ToString();
  }
  auto claimed = store_.JobsClaim({.worker_id = "w1", .limit = 10});
  ASSERT_TRUE(claimed.has_value()) << claimed.error().ToString();
  ASSERT_EQ(claimed->size(), 3u);

  Ran list = Both({"limit", "list", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  const json limits = json::parse(list.out)["limits"];
  ASSERT_EQ(limits.size(), 1u) << list.out;
  EXPECT_EQ(limits[0]["running"], 3);
  EXPECT_EQ(limits[0]["ready"], 1);
  EXPECT_EQ(limits[0]["partitions_in_use"], 2);
  EXPECT_EQ(limits[0]["partitions"][0], (json{{"partition", "github"}, {"running", 2}, {"started_in_window", 2}}));
  EXPECT_EQ(limits[0]["partitions"][1], (json{{"partition", "notion"}, {"running", 1}, {"started_in_window", 1}}));
  Ran table = Both({"limit", "list"});
  EXPECT_NE(table.out.find("provider=github: 2 running, 2 started; provider=notion: 1 running, 1 started"),
            std::string::npos)
      << table.out;

  // jobctl stats lists limits through the scheduler too.
  Ran stats = Jobctl(true, {"stats", "--json"});
  ASSERT_EQ(stats.code, 0) << stats.err;
  EXPECT_EQ(json::parse(stats.out)["limits"], limits);
}

TEST_F(LimitPathsTest, DeleteAndErrorsAnswerTheSameThroughTheScheduler) {
  for (const char* name : {"a", "b", "c", "d"}) {
    ASSERT_EQ(Jobctl(false, {"limit", "set", name, "--concurrency", "1"}).code, 0);
  }
  Ran a = Jobctl(false, {"limit", "delete", "a"});
  Ran b = Jobctl(true, {"limit", "delete", "b"});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(b.out, "limit 'b' deleted; the jobs it held are claimable now\n");
  EXPECT_EQ(a.out, "limit 'a' deleted; the jobs it held are claimable now\n");
  Ran c = Jobctl(false, {"limit", "delete", "c", "--json"});
  Ran d = Jobctl(true, {"limit", "delete", "d", "--json"});
  EXPECT_EQ(json::parse(d.out), (json{{"name", "d"}, {"deleted", true}}));
  EXPECT_EQ(json::parse(c.out), (json{{"name", "c"}, {"deleted", true}}));
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.limits"), "0");
  Ran empty = Both({"limit", "list"});
  EXPECT_EQ(empty.out, "no limits (jobctl limit set NAME --kind K --concurrency N --rate COUNT/WINDOW)\n");

  // The same exit codes and messages: not found (3), bad input (2).
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"limit", "delete", "a"}, {"limit", "set", "x"},
        {"limit", "set", "x", "--rate", "100 per minute"}, {"limit", "set", "x", "--concurrency", "0"}}) {
    Ran via_db = Jobctl(false, args);
    Ran via_scheduler = Jobctl(true, args);
    EXPECT_EQ(via_db.code, args[1] == "delete" ? 3 : 2) << via_db.err;
    EXPECT_EQ(via_scheduler.code, via_db.code) << via_scheduler.err;
    EXPECT_EQ(via_scheduler.err, via_db.err);
  }
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.limits"), "0");
}

}  // namespace
}  // namespace chime::jobctl
