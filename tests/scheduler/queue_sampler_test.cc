// The queue sampler against a real PostgreSQL: a standby samples nothing,
// the leader writes one sample per slot, and the loop keeps writing while
// it runs.
#include "scheduler/queue_sampler.h"

#include <gtest/gtest.h>

#include <atomic>

#include "common/db/migrations.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"

namespace chime::scheduler {
namespace {

class QueueSamplerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    auto migrated = db::MigrationsApply(conn);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
    db_.Exec("INSERT INTO chime.jobs (kind, queue) VALUES ('noop', 'mail'), ('noop', 'mail')");
  }

  int64_t Samples() { return std::stoll(db_.Scalar("SELECT count(*) FROM chime.queue_samples WHERE span = 'sample'")); }

  chime::testing::TestDatabase db_;
  std::atomic<bool> leader_{false};
};

TEST_F(QueueSamplerTest, OnlyTheLeaderSamples) {
  QueueSampler sampler(db::ConnectionConfig{.url = db_.url()}, {.interval = std::chrono::seconds(300)},
                       [this] { return leader_.load(); });
  auto standby = sampler.RunOnce();
  ASSERT_TRUE(standby.has_value()) << standby.error().ToString();
  EXPECT_FALSE(standby->recorded);
  EXPECT_EQ(Samples(), 0);
  leader_ = true;
  auto leading = sampler.RunOnce();
  ASSERT_TRUE(leading.has_value()) << leading.error().ToString();
  EXPECT_TRUE(leading->recorded);
  EXPECT_EQ(db_.Scalar("SELECT queue || ':' || ready FROM chime.queue_samples WHERE span = 'sample'"), "mail:2");
  EXPECT_EQ(sampler.recorded(), 1);
  // The same five-minute slot again: nothing more.
  ASSERT_TRUE(sampler.RunOnce().has_value());
  EXPECT_EQ(Samples(), 1);
}

TEST_F(QueueSamplerTest, TheLoopSamplesEverySlotWhileItRuns) {
  leader_ = true;
  QueueSampler sampler(db::ConnectionConfig{.url = db_.url()}, {.interval = std::chrono::seconds(1)},
                       [this] { return leader_.load(); });
  sampler.Start();
  EXPECT_TRUE(chime::testing::WaitUntil([&] { return Samples() >= 2; }));
  sampler.Stop();
  sampler.Stop();  // Idempotent.
  EXPECT_GE(sampler.recorded(), 2);
}

TEST(QueueSamplerConfigTest, IntervalsOutsideOneSecondToFiveMinutesAreRefused) {
  EXPECT_FALSE(QueueSamplerConfig{.interval = std::chrono::seconds(0)}.Validate().has_value());
  EXPECT_FALSE(QueueSamplerConfig{.interval = std::chrono::seconds(301)}.Validate().has_value());
  EXPECT_TRUE(QueueSamplerConfig{}.Validate().has_value());
}

}  // namespace
}  // namespace chime::scheduler
