// The leader term on an injected clock and a fake term store: who leads,
// when the term is renewed, when a leader stops counting itself leader
// (deposed, refused, or unable to renew before its term ran out), and the
// database time carried forward from the last renewal. The store is the
// database's rules in miniature (one holder, a new epoch per new term,
// expiry in "database time"); ScheduleStore::LeaderAcquire itself is tested
// in schedule_store_test and the elector against PostgreSQL in
// cron_runner_test and the cluster tests.
#include "scheduler/leader_elector.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace chime::scheduler {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// One term row; its clock is the test's wall clock, offset like a database
// whose clock differs from the replica's.
class FakeTermStore final : public LeaderTermStore {
 public:
  explicit FakeTermStore(const Clock& clock) : clock_(clock) {}

  Result<db::LeaderState> Acquire(const std::string& holder, milliseconds ttl) override {
    ++acquires;
    if (down) return Fail(ErrorCode::kUnavailable, "database unreachable");
    const auto now = DbNow();
    if (holder_ != holder && (holder_.empty() || now >= expires_at_)) {
      holder_ = holder;
      ++epoch_;
      acquired_at_ = now;
    }
    if (holder_ == holder) expires_at_ = now + ttl;
    return db::LeaderState{.holder = holder_,
                           .epoch = epoch_,
                           .expires_at = expires_at_,
                           .acquired_at = acquired_at_,
                           .db_now = now,
                           .held_by_caller = holder_ == holder};
  }
  Result<void> Resign(const db::LeaderGuard& guard) override {
    if (down) return Fail(ErrorCode::kUnavailable, "database unreachable");
    if (guard.holder == holder_ && guard.epoch == epoch_) expires_at_ = DbNow();
    ++resigned;
    return {};
  }

  // Another replica takes the term (as if ours had expired in between).
  void TakenBy(const std::string& other) {
    holder_ = other;
    ++epoch_;
    expires_at_ = DbNow() + seconds(15);
  }
  db::TimePoint DbNow() const { return clock_.WallNow() + offset; }

  bool down = false;
  int acquires = 0;
  int resigned = 0;
  std::chrono::milliseconds offset{std::chrono::hours(3)};  // The database's clock runs ahead.

 private:
  const Clock& clock_;
  std::string holder_;
  int64_t epoch_ = 0;
  db::TimePoint expires_at_{};
  db::TimePoint acquired_at_{};
};

class LeaderElectorTest : public ::testing::Test {
 protected:
  LeaderElectorConfig Config(const std::string& holder) {
    LeaderElectorConfig config;
    config.holder = holder;
    config.term_ttl = seconds(15);
    config.renew_interval = seconds(5);
    return config;
  }

  chime::testing::FakeClock clock_;
  FakeTermStore store_{clock_};
  LeaderElector a_{store_, Config("a"), clock_};
  LeaderElector b_{store_, Config("b"), clock_};
};

TEST_F(LeaderElectorTest, TheFirstToAskLeadsAndTheOtherStandsBy) {
  EXPECT_EQ(a_.Renew(), TermChange::kElected);
  EXPECT_TRUE(a_.Leading());
  EXPECT_EQ(a_.status().holder, "a");
  EXPECT_EQ(a_.epoch(), 1);
  EXPECT_EQ(b_.Renew(), TermChange::kNone);
  EXPECT_FALSE(b_.Leading());
  EXPECT_FALSE(b_.status().leader);
  EXPECT_EQ(b_.status().holder, "a");
  EXPECT_EQ(b_.status().epoch, 1);
}

TEST_F(LeaderElectorTest, RenewalsComeEveryRenewIntervalAndKeepTheSameEpoch) {
  ASSERT_EQ(a_.RenewIfDue(), TermChange::kElected);
  EXPECT_EQ(store_.acquires, 1);
  clock_.Advance(seconds(4));
  EXPECT_EQ(a_.RenewIfDue(), TermChange::kNone);
  EXPECT_EQ(store_.acquires, 1) << "not due yet";
  clock_.Advance(seconds(1));
  EXPECT_EQ(a_.RenewIfDue(), TermChange::kNone);
  EXPECT_EQ(store_.acquires, 2);
  EXPECT_EQ(a_.epoch(), 1);
  // Renewed every 5 s, the 15 s term never runs out.
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(seconds(5));
    EXPECT_EQ(a_.RenewIfDue(), TermChange::kNone);
    EXPECT_TRUE(a_.Leading());
  }
  EXPECT_EQ(a_.epoch(), 1);
}

TEST_F(LeaderElectorTest, ALeaderThatCannotRenewStopsLeadingWhenItsTermRunsOutNotBefore) {
  ASSERT_EQ(a_.Renew(), TermChange::kElected);
  store_.down = true;
  clock_.Advance(seconds(5));
  EXPECT_EQ(a_.RenewIfDue(), TermChange::kNone);
  EXPECT_TRUE(a_.Leading()) << "10 s of its term are left";
  // Failed renewals are retried sooner than the renew interval.
  EXPECT_EQ(a_.next_renewal(), clock_.SteadyNow() + seconds(1));
  clock_.Advance(seconds(9));
  EXPECT_EQ(a_.RenewIfDue(), TermChange::kNone);
  EXPECT_TRUE(a_.Leading());
  clock_.Advance(seconds(1));  // 15 s since the last renewal was sent.
  EXPECT_FALSE(a_.Leading()) << "the local view ends with the term, renewed or not";
  EXPECT_EQ(a_.RenewIfDue(), TermChange::kExpired);
  EXPECT_FALSE(a_.status().leader);
}

TEST_F(LeaderElectorTest, AStandbyTakesOverOnlyOnceTheTermHasExpired) {
  ASSERT_EQ(a_.Renew(), TermChange::kElected);
  // The leader dies (no more renewals); the standby keeps asking.
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(seconds(5));
    EXPECT_EQ(b_.RenewIfDue(), TermChange::kNone);
    EXPECT_FALSE(b_.Leading());
  }
  clock_.Advance(seconds(5));
  EXPECT_EQ(b_.RenewIfDue(), TermChange::kElected);
  EXPECT_TRUE(b_.Leading());
  EXPECT_EQ(b_.epoch(), 2) << "a new term, a new fencing token";
  // The old leader wakes up: the database tells it it was deposed.
  EXPECT_EQ(a_.Renew(), TermChange::kDeposed);
  EXPECT_FALSE(a_.Leading());
  EXPECT_EQ(a_.status().holder, "b");
  EXPECT_EQ(a_.status().epoch, 2);
}

TEST_F(LeaderElectorTest, ATermTheDatabaseRefusedIsLostAtOnceAndRenewedNext) {
  ASSERT_EQ(a_.Renew(), TermChange::kElected);
  store_.TakenBy("b");
  a_.Lost();
  EXPECT_FALSE(a_.Leading());
  EXPECT_FALSE(a_.status().leader);
  EXPECT_EQ(a_.next_renewal(), clock_.SteadyNow()) << "renewed at once to learn who leads";
  EXPECT_EQ(a_.RenewIfDue(), TermChange::kNone) << "already not leading: nothing more to give up";
  EXPECT_EQ(a_.status().holder, "b");
}

TEST_F(LeaderElectorTest, ALeaderThatLostItsTermAndGetsItBackIsElectedAgainUnderANewEpoch) {
  ASSERT_EQ(a_.Renew(), TermChange::kElected);
  store_.TakenBy("b");
  ASSERT_EQ(a_.Renew(), TermChange::kDeposed);
  clock_.Advance(seconds(16));
  EXPECT_EQ(a_.Renew(), TermChange::kElected);
  EXPECT_EQ(a_.epoch(), 3);
}

TEST_F(LeaderElectorTest, ResigningFreesTheTermForTheStandbyAtOnce) {
  ASSERT_EQ(a_.Renew(), TermChange::kElected);
  a_.Resign();
  EXPECT_EQ(store_.resigned, 1);
  EXPECT_FALSE(a_.Leading());
  EXPECT_EQ(b_.Renew(), TermChange::kElected) << "no waiting for the term to expire";
  // A replica that does not lead has nothing to resign.
  a_.Resign();
  EXPECT_EQ(store_.resigned, 1);
}

TEST_F(LeaderElectorTest, DatabaseTimeIsTheDatabasesClockCarriedForwardOnTheSteadyClock) {
  ASSERT_EQ(a_.Renew(), TermChange::kElected);
  EXPECT_EQ(a_.DbNow(), store_.DbNow()) << "the database's clock, not the replica's";
  clock_.Advance(milliseconds(2500));
  EXPECT_EQ(a_.DbNow(), store_.DbNow());
  // A stepped wall clock on the replica changes nothing until the next
  // renewal reads the database's time again.
  store_.offset += seconds(30);
  EXPECT_EQ(a_.DbNow(), store_.DbNow() - seconds(30));
  clock_.Advance(seconds(3));
  ASSERT_EQ(a_.RenewIfDue(), TermChange::kNone);
  EXPECT_EQ(a_.DbNow(), store_.DbNow());
}

TEST(LeaderElectorConfigTest, AnEmptyHolderOrARenewalSlowerThanHalfTheTermIsRefused) {
  LeaderElectorConfig config;
  config.holder = "a";
  EXPECT_TRUE(config.Validate().has_value());
  config.holder.clear();
  EXPECT_EQ(config.Validate().error().message, "leader: holder must not be empty");
  config.holder = "a";
  config.renew_interval = seconds(8);  // Term 15 s.
  EXPECT_EQ(config.Validate().error().message, "leader-renew: must be positive and at most half of leader-ttl");
  config.renew_interval = seconds(5);
  config.term_ttl = milliseconds(100);
  EXPECT_EQ(config.Validate().error().message, "leader-ttl: must be at least 500ms");
}

}  // namespace
}  // namespace chime::scheduler
