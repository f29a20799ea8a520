#include "tests/reliability/replica_fixture.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>

#include "tests/reliability/history_checker.h"

namespace chime::testing {

using std::chrono::seconds;

void ReplicaTest::SetUp() {
  const std::string base = ::testing::TempDir() + "chime-replicas-" + std::to_string(getpid()) + "-" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  history_ = base + ".jsonl";
  schedules_ = base + ".yaml";
  std::remove(history_.c_str());
  std::ofstream(schedules_) << "schedules:\n"
                               "  - name: tick\n"
                               "    cron: \"* * * * * *\"\n"
                               "    kind: history_effect\n"
                               "    payload: {\"ms\": 1500}\n"
                               "    overlap: allow\n";
}

void ReplicaTest::TearDown() {
  processes_.clear();
  std::remove(schedules_.c_str());
  if (HasFailure()) {
    std::printf("history kept in %s\n", history_.c_str());
  } else {
    std::remove(history_.c_str());
  }
}

std::map<std::string, std::string> ReplicaTest::Env(std::map<std::string, std::string> extra) const {
  extra.emplace("CHIME_HISTORY_FILE", history_);
  return extra;
}

ChildProcess& ReplicaTest::StartScheduler(const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0",
                                "--schedules", schedules_, "--cron-seconds", "--leader-ttl", "2s",
                                "--leader-renew", "500ms", "--rescue-interval-ms", "200",
                                "--http-listen", "127.0.0.1:0"};
  auto full = Env(env);
  full.emplace("CHIME_DATABASE_URL", cluster_.db().url());
  full.emplace("CHIME_ADMIN_SECRET", kClusterSecret);
  auto& p = *processes_.emplace_back(std::make_unique<ChildProcess>(argv, full));
  EXPECT_TRUE(p.Start()) << p.log();
  EXPECT_TRUE(p.WaitForLog("scheduler running", seconds(30)).has_value()) << p.log();
  return p;
}

ChildProcess& ReplicaTest::StartWorker(const std::string& id, const std::map<std::string, std::string>& env) {
  return cluster_.StartWorker(id, {"--lease-ms", "1000"}, Env(env));
}

ChildProcess* ReplicaTest::Leader(const std::vector<ChildProcess*>& candidates) {
  const std::string needle = "cron: leading (epoch " + std::to_string(Int("SELECT epoch FROM chime.leader")) + ")";
  for (auto* p : candidates) {
    if (p->running() && p->log().find(needle) != std::string::npos) return p;
  }
  return nullptr;
}

::testing::AssertionResult ReplicaTest::WaitForFires(int64_t more) {
  const int64_t target = Fires() + more;
  return WaitForValue(std::to_string(more) + " more fires (chime.fires to reach " + std::to_string(target) + ")",
                      [&] { return Fires(); }, [&](int64_t n) { return n >= target; }, kClusterWaitBound);
}

std::string ReplicaTest::Endpoint(ChildProcess& scheduler) {
  auto line = scheduler.WaitForLog("listening on tcp://", seconds(30));
  return line ? line->substr(line->find("listening on ") + 13) : "";
}

void ReplicaTest::StopAndCheck(const std::vector<ChildProcess*>& schedulers, bool workers_faulted) {
  for (auto* s : schedulers) {
    if (!s->running()) continue;
    s->Signal(SIGTERM);
    ASSERT_TRUE(s->Wait(seconds(30)).has_value()) << s->log();
  }
  ASSERT_TRUE(WaitUntil([&] {
    return Int("SELECT count(*) FROM chime.jobs_all WHERE state NOT IN ('succeeded', 'discarded', 'cancelled')") == 0;
  }, seconds(120)));
  EXPECT_EQ(Int("SELECT count(*) FROM chime.fires WHERE fired_at < scheduled_for"), 0)
      << cluster_.Text("SELECT string_agg(scheduled_for || ' fired at ' || fired_at, '; ') "
                       "FROM chime.fires WHERE fired_at < scheduled_for");
  EXPECT_EQ(Int("SELECT count(*) FROM chime.fires WHERE scheduled_for > now()"), 0);
  EXPECT_EQ(Fires(), Int("SELECT extract(epoch FROM max(scheduled_for) - min(scheduled_for))::bigint + 1 "
                         "FROM chime.fires"))
      << "a tick was lost or fired twice";
  std::printf("fires: %lld, latest fire %s s after its tick\n", static_cast<long long>(Fires()),
              cluster_.Text("SELECT round(extract(epoch FROM max(fired_at - scheduled_for)), 3) "
                            "FROM chime.fires").c_str());
  if (!workers_faulted) {
    EXPECT_EQ(Int("SELECT count(*) FROM chime.runs WHERE outcome = 'lease_expired'"), 0);
  }
  // Faulted workers may rescue an unlucky job past the poison-pill limit;
  // anything else that did not succeed is a loss.
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all j WHERE state <> 'succeeded' AND NOT (" +
                std::string(workers_faulted ? "true" : "false") +
                " AND state = 'discarded' AND last_error LIKE '%poison pill%' AND (SELECT count(*) "
                "FROM chime.runs r WHERE r.job_id = j.id AND r.outcome = 'lease_expired') > 3)"),
            0);
  HistoryChecker checker({.cron_seconds = true});
  ASSERT_TRUE(checker.AddHistoryFile(history_));
  std::printf("history: %s\n", checker.Summary().c_str());
  const auto violations = checker.Check(ReadSnapshot(cluster_.db().url()));
  EXPECT_TRUE(violations.empty()) << violations.size() << " violations:\n" << ToString(violations);
}

}  // namespace chime::testing
