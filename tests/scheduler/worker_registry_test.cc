// The registry's bookkeeping: registrations, capacity, limits, silent
// workers forgotten. Dispatch plans are tests/scheduler/dispatcher_test.cc.
#include "scheduler/worker_registry.h"

#include <gtest/gtest.h>

#include "tests/scheduler/worker_hello.h"
#include "tests/support/fake_clock.h"

namespace chime::scheduler {
namespace {

using std::chrono::milliseconds;

using testing::Hello;

class WorkerRegistryTest : public ::testing::Test {
 protected:
  chime::testing::FakeClock clock_;
  WorkerRegistry registry_{clock_, milliseconds(5000)};
};

TEST_F(WorkerRegistryTest, UnknownSendersAreReportedSoTheyCanSayHelloAgain) {
  EXPECT_FALSE(registry_.Capacity("ghost", 1));
  EXPECT_FALSE(registry_.Touch("ghost"));
  EXPECT_FALSE(registry_.Heartbeat("ghost", v1::WorkerHeartbeat()));
}

TEST_F(WorkerRegistryTest, SilentWorkersAreForgottenAndHeartbeatsKeepThemAlive) {
  registry_.Hello("r1", Hello("w1", 4, 4, {"default"}));
  registry_.Hello("r2", Hello("w2", 4, 4, {"default"}));
  clock_.Advance(milliseconds(4000));
  v1::WorkerHeartbeat hb;
  hb.set_free_slots(1);
  hb.add_running_jobs(7);
  ASSERT_TRUE(registry_.Heartbeat("r2", hb));
  clock_.Advance(milliseconds(1500));
  EXPECT_EQ(registry_.ForgetSilent(), std::vector<std::string>{"w1"});
  auto listed = registry_.List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].worker_id(), "w2");
  EXPECT_EQ(listed[0].free_slots(), 1);
  ASSERT_EQ(listed[0].running_jobs_size(), 1);
  EXPECT_EQ(listed[0].running_jobs(0), 7);
}

TEST_F(WorkerRegistryTest, ARestartedWorkerReplacesItsOldRegistration) {
  EXPECT_TRUE(registry_.Hello("old", Hello("w1", 4, 4, {"default"})).value());
  EXPECT_TRUE(registry_.Hello("new", Hello("w1", 4, 4, {"default"})).value());
  EXPECT_EQ(registry_.size(), 1u);
  EXPECT_FALSE(registry_.Touch("old"));
}

TEST_F(WorkerRegistryTest, ARepeatedHelloIsNotANewWorker) {
  EXPECT_TRUE(registry_.Hello("r1", Hello("w1", 4, 4, {"default"})).value());
  EXPECT_FALSE(registry_.Hello("r1", Hello("w1", 4, 3, {"default"})).value());
  EXPECT_EQ(registry_.size(), 1u);
}

TEST_F(WorkerRegistryTest, SlotsTakenCountUntilTheWorkerReportsCapacity) {
  registry_.Hello("r1", Hello("w1", 4, 4, {"default"}));
  registry_.TakeSlots("r1", 3);
  ASSERT_EQ(registry_.WithFreeSlots().size(), 1u);
  EXPECT_EQ(registry_.WithFreeSlots()[0].free_slots, 1);
  registry_.TakeSlots("r1", 5);
  EXPECT_TRUE(registry_.WithFreeSlots().empty());
  EXPECT_EQ(registry_.free_slots(), 0);
  ASSERT_TRUE(registry_.Capacity("r1", 2));
  EXPECT_EQ(registry_.free_slots(), 2);
}

TEST_F(WorkerRegistryTest, ADrainingWorkerGetsNoDispatch) {
  registry_.Hello("r1", Hello("w1", 4, 4, {"default"}));
  registry_.Goodbye("r1");
  EXPECT_TRUE(registry_.WithFreeSlots().empty());
}

// Issue 18, finding 6: anyone reaching the port could register any number
// of made-up workers (400 hellos: 401 rows in chime.workers, dispatch
// steered to the fakes). Registration is capped per scheduler and per peer
// address; workers already registered are never refused.
TEST(WorkerRegistryLimitsTest, HellosBeyondTheSchedulerLimitAreRefusedAndChangeNothing) {
  chime::testing::FakeClock clock;
  WorkerRegistry registry(clock, milliseconds(5000), {.max_workers = 3, .max_workers_per_address = 3});
  for (int i = 0; i < 3; ++i) {
    auto ok = registry.Hello("r" + std::to_string(i), Hello("w" + std::to_string(i), 4, 4, {"default"}),
                             "10.0.0." + std::to_string(i));
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  }
  auto refused = registry.Hello("fake", Hello("fake", 1000, 1000, {"default"}), "10.0.0.99");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("at most 3 workers (--max-workers)"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(registry.size(), 3u);
  EXPECT_FALSE(registry.Touch("fake"));
  // The fake gets no dispatch: it is not among the workers dispatch plans over.
  for (const auto& w : registry.WithFreeSlots()) EXPECT_NE(*w.routing_id, "fake");
  // Registered workers keep working: a repeated hello, and a restarted
  // worker under a new routing id, are replacements, not new places.
  EXPECT_FALSE(registry.Hello("r0", Hello("w0", 4, 4, {"default"}), "10.0.0.0").value());
  EXPECT_TRUE(registry.Hello("r1-restarted", Hello("w1", 4, 4, {"default"}), "10.0.0.1").value());
  EXPECT_EQ(registry.size(), 3u);
  // A place frees when a worker leaves.
  registry.Goodbye("r2");
  EXPECT_TRUE(registry.Hello("new", Hello("w-new", 4, 4, {"default"}), "10.0.0.7").has_value());
}

TEST(WorkerRegistryLimitsTest, OneAddressCannotTakeEveryPlace) {
  chime::testing::FakeClock clock;
  WorkerRegistry registry(clock, milliseconds(5000), {.max_workers = 100, .max_workers_per_address = 2});
  ASSERT_TRUE(registry.Hello("a1", Hello("a1", 4, 4, {"default"}), "192.0.2.1").has_value());
  ASSERT_TRUE(registry.Hello("a2", Hello("a2", 4, 4, {"default"}), "192.0.2.1").has_value());
  auto refused = registry.Hello("a3", Hello("a3", 4, 4, {"default"}), "192.0.2.1");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("at most 2 workers from one address"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(registry.Hello("b1", Hello("b1", 4, 4, {"default"}), "192.0.2.2").has_value());
  EXPECT_EQ(registry.size(), 3u);
}

TEST(WorkerRegistryLimitsTest, LimitsAreValidated) {
  EXPECT_TRUE(WorkerLimits{}.Validate().has_value());
  EXPECT_FALSE((WorkerLimits{.max_workers = 0}).Validate().has_value());
  EXPECT_FALSE((WorkerLimits{.max_workers = 10, .max_workers_per_address = 11}).Validate().has_value());
  EXPECT_FALSE((WorkerLimits{.max_workers = 10, .max_workers_per_address = 0}).Validate().has_value());
}

}  // namespace
}  // namespace chime::scheduler
