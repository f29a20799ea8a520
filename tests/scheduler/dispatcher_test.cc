// The dispatch policy: ready jobs spread by free capacity, never more than a
// worker's free slots, only to workers serving the queue, one order per
// worker; "look everywhere" asks every worker with free slots.
#include "scheduler/dispatcher.h"

#include <gtest/gtest.h>

#include "tests/scheduler/worker_hello.h"
#include "tests/support/fake_clock.h"

namespace chime::scheduler {
namespace {

using std::chrono::milliseconds;

using testing::Hello;

int MaxJobsFor(const std::vector<DispatchOrder>& plan, const std::string& routing_id) {
  for (const auto& o : plan) {
    if (o.routing_id == routing_id) return o.dispatch.max_jobs();
  }
  return 0;
}

class DispatcherTest : public ::testing::Test {
 protected:
  chime::testing::FakeClock clock_;
  WorkerRegistry registry_{clock_, milliseconds(5000)};
  Dispatcher dispatcher_{registry_};
};

TEST_F(DispatcherTest, OneReadyJobGoesToOneWorkerWithTheMostFreeSlots) {
  registry_.Hello("r1", Hello("w1", 4, 2, {"default"}));
  registry_.Hello("r2", Hello("w2", 4, 4, {"default"}));
  auto plan = dispatcher_.Plan({{"default", 1}});
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].routing_id, "r2");
  EXPECT_EQ(plan[0].dispatch.max_jobs(), 1);
  EXPECT_EQ(plan[0].dispatch.queues(0), "default");
}

TEST_F(DispatcherTest, TiesGoToTheLowestRoutingIdSoPlansAreDeterministic) {
  registry_.Hello("r2", Hello("w2", 4, 4, {"default"}));
  registry_.Hello("r1", Hello("w1", 4, 4, {"default"}));
  auto plan = dispatcher_.Plan({{"default", 1}});
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].routing_id, "r1");
}

TEST_F(DispatcherTest, ABacklogIsSpreadAndNeverExceedsFreeSlots) {
  registry_.Hello("r1", Hello("w1", 16, 16, {"default"}));
  registry_.Hello("r2", Hello("w2", 16, 10, {"default"}));
  auto plan = dispatcher_.Plan({{"default", 100}});
  EXPECT_EQ(MaxJobsFor(plan, "r1"), 16);
  EXPECT_EQ(MaxJobsFor(plan, "r2"), 10);
  // Their slots count as taken until they report capacity again.
  EXPECT_TRUE(dispatcher_.Plan({{"default", 5}}).empty());
  ASSERT_TRUE(registry_.Capacity("r2", 3));
  EXPECT_EQ(MaxJobsFor(dispatcher_.Plan({{"default", 5}}), "r2"), 3);
}

TEST_F(DispatcherTest, SlotsTakenForOneQueueAreNotOfferedForTheNext) {
  registry_.Hello("r1", Hello("w1", 4, 3, {"default", "mail"}));
  auto plan = dispatcher_.Plan({{"default", 2}, {"mail", 5}});
  ASSERT_EQ(plan.size(), 1u);  // One order per worker, naming both queues.
  EXPECT_EQ(plan[0].dispatch.max_jobs(), 3);
  EXPECT_EQ(plan[0].dispatch.queues_size(), 2);
  EXPECT_EQ(registry_.free_slots(), 0);
}

// Found by fuzz_router: the ready feed lists a queue once per notification
// it collected; a dispatch naming it 65+ times was refused by the worker.
TEST_F(DispatcherTest, AQueueListedManyTimesIsNamedOnceInTheDispatch) {
  registry_.Hello("r1", Hello("w1", 100, 100, {"default"}));
  std::vector<db::ReadyQueue> ready(70, db::ReadyQueue{"default", 1});
  auto plan = dispatcher_.Plan(ready);
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].dispatch.queues_size(), 1);
  EXPECT_EQ(plan[0].dispatch.queues(0), "default");
  EXPECT_EQ(plan[0].dispatch.max_jobs(), 70);
}

TEST_F(DispatcherTest, OnlyWorkersServingTheQueueAreDispatched) {
  registry_.Hello("r1", Hello("w1", 4, 4, {"mail"}));
  registry_.Hello("r2", Hello("w2", 4, 4, {"default", "reports"}));
  auto plan = dispatcher_.Plan({{"reports", 2}, {"nobody", 3}});
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].routing_id, "r2");
  EXPECT_EQ(plan[0].dispatch.max_jobs(), 2);
}

TEST_F(DispatcherTest, ADrainingWorkerGetsNoDispatch) {
  registry_.Hello("r1", Hello("w1", 4, 4, {"default"}));
  registry_.Goodbye("r1");
  EXPECT_TRUE(dispatcher_.Plan({{"default", 1}}).empty());
  EXPECT_TRUE(dispatcher_.PlanAll().empty());
}

TEST_F(DispatcherTest, DispatchAllAsksEveryWorkerWithFreeSlotsAndTakesNone) {
  registry_.Hello("r1", Hello("w1", 4, 0, {"default"}));
  registry_.Hello("r2", Hello("w2", 4, 3, {"mail"}));
  auto plan = dispatcher_.PlanAll();
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].routing_id, "r2");
  EXPECT_EQ(plan[0].dispatch.max_jobs(), 3);
  EXPECT_EQ(plan[0].dispatch.queues_size(), 0);  // All of its queues.
  EXPECT_EQ(registry_.free_slots(), 3);
}

TEST_F(DispatcherTest, ANoticeIsParsedAndAStarMeansLookEverywhere) {
  registry_.Hello("r1", Hello("w1", 4, 4, {"default"}));
  registry_.Hello("r2", Hello("w2", 4, 2, {"mail"}));
  auto plan = dispatcher_.OnNotice("default:1");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].routing_id, "r1");
  EXPECT_EQ(plan[0].dispatch.max_jobs(), 1);
  auto all = dispatcher_.OnNotice("*");
  EXPECT_EQ(MaxJobsFor(all, "r1"), 3);
  EXPECT_EQ(MaxJobsFor(all, "r2"), 2);
  EXPECT_TRUE(dispatcher_.OnNotice("garbage:-1").empty());
}

TEST_F(DispatcherTest, ANewWorkerWithFreeSlotsIsAskedToLookAtItsBacklog) {
  auto order = Dispatcher::ForNewWorker("r9", Hello("w9", 8, 5, {"default"}));
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order->routing_id, "r9");
  EXPECT_EQ(order->dispatch.max_jobs(), 5);
  EXPECT_EQ(order->dispatch.queues_size(), 0);
  EXPECT_FALSE(Dispatcher::ForNewWorker("r9", Hello("w9", 8, 0, {"default"})).has_value());
}

}  // namespace
}  // namespace chime::scheduler
