// The checker on crafted histories and database snapshots: a correct run
// passes, and each rule fires on the fault it names (a checker that cannot
// fail would prove nothing).
#include "tests/reliability/history_checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace chime::testing {
namespace {

constexpr int64_t kTick0 = 1'700'000'000'000'000;  // Unix micros, a whole second.
constexpr int64_t kSecond = 1'000'000;

std::string Ev(int64_t t, const std::string& proc, const std::string& ev, const std::string& fields) {
  return "{\"t\":" + std::to_string(t) + ",\"proc\":\"" + proc + "\",\"ev\":\"" + ev + "\"," + fields + "}\n";
}
std::string Enqueue(int64_t t, int64_t job) { return Ev(t, "jobctl", "enqueue", "\"job\":" + std::to_string(job)); }
std::string Claim(int64_t t, const std::string& w, int64_t job, int attempt, const std::string& lease) {
  return Ev(t, w, "claim", "\"job\":" + std::to_string(job) + ",\"attempt\":" + std::to_string(attempt) +
                               ",\"lease\":\"" + lease + "\"");
}
std::string Effect(int64_t t, const std::string& w, int64_t job, int attempt) {
  return Ev(t, w, "side_effect", "\"job\":" + std::to_string(job) + ",\"attempt\":" + std::to_string(attempt));
}
std::string Complete(int64_t t, const std::string& w, int64_t job, int attempt, const std::string& lease,
                     const std::string& outcome, bool accepted, int64_t sent) {
  return Ev(t, w, "complete", "\"job\":" + std::to_string(job) + ",\"attempt\":" + std::to_string(attempt) +
                                  ",\"lease\":\"" + lease + "\",\"outcome\":\"" + outcome +
                                  "\",\"accepted\":" + (accepted ? "true" : "false") +
                                  ",\"sent\":" + std::to_string(sent));
}
std::string Leader(int64_t t, const std::string& s, int64_t epoch) {
  return Ev(t, s, "leader", "\"epoch\":" + std::to_string(epoch));
}
std::string Fire(int64_t t, const std::string& s, int64_t schedule, int64_t tick, int64_t job, int64_t epoch,
                 int64_t sent) {
  return Ev(t, s, "fire", "\"schedule\":" + std::to_string(schedule) + ",\"tick\":" + std::to_string(tick) +
                              ",\"job\":" + std::to_string(job) + ",\"epoch\":" + std::to_string(epoch) +
                              ",\"sent\":" + std::to_string(sent));
}

// A correct run: job 1 enqueued and run once; job 2 run by w1 whose lease
// expired (killed), rescued and run again by w2; schedule 5 fired every
// second at ticks 0..2 by scheduler a (epoch 1), which then lost the lease to
// b (epoch 2), which fired ticks 3 and 4.
class HistoryCheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    history_ = Enqueue(100, 1) + Enqueue(101, 2) +
               Claim(200, "worker:w1", 1, 1, "L1") + Effect(210, "worker:w1", 1, 1) +
               Complete(300, "worker:w1", 1, 1, "L1", "succeeded", true, 290) +
               Claim(200, "worker:w1", 2, 1, "L2a") + Effect(220, "worker:w1", 2, 1) +
               Claim(5000, "worker:w2", 2, 2, "L2b") + Effect(5010, "worker:w2", 2, 2) +
               Complete(5100, "worker:w2", 2, 2, "L2b", "succeeded", true, 5090) +
               Leader(1000, "scheduler:a", 1) +
               Fire(1100, "scheduler:a", 5, kTick0, 10, 1, 1090) +
               Fire(1200, "scheduler:a", 5, kTick0 + kSecond, 11, 1, 1190) +
               Fire(1300, "scheduler:a", 5, kTick0 + 2 * kSecond, 12, 1, 1290) +
               Leader(2000, "scheduler:b", 2) +
               Fire(2100, "scheduler:b", 5, kTick0 + 3 * kSecond, 13, 2, 2090) +
               Fire(2200, "scheduler:b", 5, kTick0 + 4 * kSecond, 14, 2, 2190);
    db_.jobs = {{1, "succeeded", 1, {}, {}}, {2, "succeeded", 2, {}, {}}};
    db_.runs = {{1, 1, "succeeded"}, {2, 1, "lease_expired"}, {2, 2, "succeeded"}};
    for (int i = 0; i < 5; ++i) {
      db_.jobs.push_back({10 + i, "succeeded", 1, 5, kTick0 + i * kSecond});
      db_.runs.push_back({10 + i, 1, "succeeded"});
      db_.fires.push_back({5, kTick0 + i * kSecond, 10 + i, i < 3 ? 1 : 2, "enqueued", "cron"});
    }
    db_.schedules = {{5, "tick", "* * * * * *", "UTC", "run_once"}};
    db_.leader_epoch = 2;
  }

  std::vector<Violation> Check(CheckerOptions options = {.cron_seconds = true}) {
    HistoryChecker checker(options);
    checker.AddHistory(history_);
    return checker.Check(db_);
  }

  // The rules that fired, each once.
  std::vector<std::string> Rules() {
    std::vector<std::string> rules;
    for (const auto& v : Check()) {
      if (std::ranges::find(rules, v.rule) == rules.end()) rules.push_back(v.rule);
    }
    return rules;
  }

  std::string history_;
  DbSnapshot db_;
};

std::vector<std::string> Only(const std::string& rule) { return {rule}; }

TEST_F(HistoryCheckerTest, ACorrectRunPasses) {
  const auto violations = Check();
  EXPECT_TRUE(violations.empty()) << ToString(violations);
}

TEST_F(HistoryCheckerTest, AMissingEnqueuedJobIsLost) {
  db_.jobs.erase(db_.jobs.begin());
  EXPECT_EQ(Rules(), Only("lost_job")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, AnUnfinishedJobIsLostOnlyWhenTheRunMustBeSettled) {
  db_.jobs[0].state = "available";
  EXPECT_EQ(Rules(), Only("lost_job")) << ToString(Check());
  EXPECT_TRUE(Check({.require_settled = false, .cron_seconds = true}).empty());
}

TEST_F(HistoryCheckerTest, AnAcceptedCompletionWithoutItsRunIsLost) {
  db_.runs[0].outcome = "lease_expired";  // Job 1's only run, not the completion's.
  EXPECT_EQ(Rules(), Only("lost_job")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, TwoAcceptedCompletionsOfOneLeaseAreCaught) {
  history_ += Complete(400, "worker:w1", 1, 1, "L1", "succeeded", true, 390);
  const auto violations = Check();
  ASSERT_FALSE(violations.empty());
  for (const auto& v : violations) EXPECT_EQ(v.rule, "double_completion") << ToString(violations);
  EXPECT_NE(ToString(violations).find("lease L1"), std::string::npos) << ToString(violations);
}

TEST_F(HistoryCheckerTest, ARefusedCompletionIsNoDoubleCompletion) {
  history_ += Complete(5200, "worker:w1", 2, 1, "L2a", "lease_lost", false, 5190);
  EXPECT_TRUE(Check().empty()) << ToString(Check());
}

TEST_F(HistoryCheckerTest, TwoEndingRunsOfOneAttemptInTheLedgerAreCaught) {
  db_.runs.push_back({2, 1, "succeeded"});  // Beside its lease_expired run.
  EXPECT_EQ(Rules(), Only("double_completion")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, AJobFinishedTwiceAcrossAttemptsIsCaught) {
  db_.runs[1].outcome = "succeeded";  // Attempt 1 of job 2 too.
  EXPECT_EQ(Rules(), Only("double_completion")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, MoreSideEffectsThanClaimsAreCaught) {
  history_ += Effect(230, "worker:w1", 1, 1);
  EXPECT_EQ(Rules(), Only("side_effects")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, MoreSideEffectsThanAttemptsInTheLedgerAreCaught) {
  // A claim the ledger never saw end, with its side effect.
  history_ += Claim(6000, "worker:w3", 2, 3, "L2c") + Effect(6010, "worker:w3", 2, 3);
  EXPECT_EQ(Rules(), Only("side_effects")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, ACompletionAcceptedAfterALaterAttemptWasClaimedIsStale) {
  // w1 wakes up after w2 claimed attempt 2, and the store accepts its write.
  history_ += Complete(5300, "worker:w1", 2, 1, "L2a", "succeeded", true, 5290);
  const auto rules = Rules();
  EXPECT_NE(std::ranges::find(rules, "stale_lease"), rules.end());
}

TEST_F(HistoryCheckerTest, ACompletionUnderALeaseNobodyClaimedIsStale) {
  history_ += Complete(5300, "worker:w1", 2, 2, "forged", "failed", true, 5290);
  const auto rules = Rules();
  EXPECT_NE(std::ranges::find(rules, "stale_lease"), rules.end());
}

TEST_F(HistoryCheckerTest, TwoJobsForOneTickAreCaught) {
  db_.jobs.push_back({99, "succeeded", 1, 5, kTick0});
  EXPECT_EQ(Rules(), Only("tick")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, OneTickFiredAsTwoJobsIsCaught) {
  history_ += Fire(2300, "scheduler:b", 5, kTick0 + 4 * kSecond, 15, 2, 2290);
  db_.jobs.push_back({15, "succeeded", 1, 5, kTick0 + 4 * kSecond});
  EXPECT_EQ(Rules(), Only("tick")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, AMissingTickIsCaughtUnlessTheMisfirePolicyExplainsIt) {
  db_.fires.erase(db_.fires.begin() + 2);  // Tick 2.
  history_.erase(history_.find(Fire(1300, "scheduler:a", 5, kTick0 + 2 * kSecond, 12, 1, 1290)),
                 Fire(1300, "scheduler:a", 5, kTick0 + 2 * kSecond, 12, 1, 1290).size());
  db_.jobs.erase(db_.jobs.begin() + 4);  // Job 12.
  EXPECT_EQ(Rules(), Only("tick")) << ToString(Check());
  // run_once: the tick after the gap fired as the misfire.
  db_.fires[2].origin = "misfire";
  EXPECT_TRUE(Check().empty()) << ToString(Check());
  // run_all fires every missed tick (under the cap): still a gap.
  db_.schedules[0].misfire = "run_all";
  EXPECT_EQ(Rules(), Only("tick")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, TwoLeadersInOneEpochAreCaught) {
  history_ += Leader(2500, "scheduler:c", 2);
  EXPECT_EQ(Rules(), Only("epoch")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, AFireUnderAnEpochItsProcessNeverLedIsCaught) {
  history_ += Fire(2300, "scheduler:c", 5, kTick0 + 5 * kSecond, 15, 2, 2290);
  db_.jobs.push_back({15, "succeeded", 1, 5, kTick0 + 5 * kSecond});
  db_.runs.push_back({15, 1, "succeeded"});
  db_.fires.push_back({5, kTick0 + 5 * kSecond, 15, 2, "enqueued", "cron"});
  EXPECT_EQ(Rules(), Only("epoch")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, AFireSentAfterANewerEpochWasTakenIsCaught) {
  // a froze, woke after b took epoch 2, and its fire under epoch 1 went in.
  history_ += Fire(2600, "scheduler:a", 5, kTick0 + 5 * kSecond, 15, 1, 2590);
  db_.jobs.push_back({15, "succeeded", 1, 5, kTick0 + 5 * kSecond});
  db_.runs.push_back({15, 1, "succeeded"});
  db_.fires.push_back({5, kTick0 + 5 * kSecond, 15, 1, "enqueued", "cron"});
  EXPECT_EQ(Rules(), Only("epoch")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, AFireRowWithAnotherEpochThanTheHistoryIsCaught) {
  db_.fires[4].epoch = 1;
  EXPECT_EQ(Rules(), Only("epoch")) << ToString(Check());
}

TEST_F(HistoryCheckerTest, MalformedLinesAreReported) {
  history_ += "{\"t\":1,\"proc\":\"x\",\"ev\":\"claim\"}\nnot json\n";
  const auto violations = Check();
  ASSERT_EQ(violations.size(), 2u) << ToString(violations);
  EXPECT_EQ(violations[0].rule, "malformed");
  EXPECT_EQ(violations[1].rule, "malformed");
}

}  // namespace
}  // namespace chime::testing
