// LiveCounters against a flood of made-up queues and kinds: the number of
// counters stays capped and every result is still counted.
#include "scheduler/live_counters.h"

#include <gtest/gtest.h>

#include <string>

namespace chime::scheduler {
namespace {

v1::JobResult Result(const std::string& queue, const std::string& kind, v1::Outcome outcome) {
  v1::JobResult r;
  r.set_queue(queue);
  r.set_kind(kind);
  r.set_outcome(outcome);
  return r;
}

TEST(LiveCountersTest, CountsEachQueueKindAndOutcomeApart) {
  LiveCounters counters;
  counters.Add(Result("default", "noop", v1::SUCCEEDED));
  counters.Add(Result("default", "noop", v1::SUCCEEDED));
  counters.Add(Result("default", "noop", v1::FAILED));
  counters.Add(Result("slow", "noop", v1::SUCCEEDED));
  const auto snapshot = counters.Snapshot();
  ASSERT_EQ(snapshot.size(), 3u);
  EXPECT_EQ(snapshot[0].queue(), "default");
  EXPECT_EQ(snapshot[0].outcome(), v1::SUCCEEDED);
  EXPECT_EQ(snapshot[0].count(), 2);
  EXPECT_EQ(counters.total(), 4);
}

TEST(LiveCountersTest, AFloodOfMadeUpKindsFoldsIntoOtherPastTheCap) {
  LiveCounters counters;
  const size_t flood = LiveCounters::kMaxCounters + 5'000;
  for (size_t i = 0; i < flood; ++i) {
    counters.Add(Result("q", "kind-" + std::to_string(i), i % 2 == 0 ? v1::SUCCEEDED : v1::FAILED));
  }
  const auto snapshot = counters.Snapshot();
  // The cap, plus one fold counter per outcome seen past it.
  EXPECT_EQ(snapshot.size(), LiveCounters::kMaxCounters + 2);
  int64_t counted = 0, folded = 0;
  for (const auto& c : snapshot) {
    counted += c.count();
    if (c.kind() == LiveCounters::kOther) {
      EXPECT_EQ(c.queue(), LiveCounters::kOther);
      folded += c.count();
    }
  }
  EXPECT_EQ(counted, static_cast<int64_t>(flood));
  EXPECT_EQ(folded, static_cast<int64_t>(flood - LiveCounters::kMaxCounters));
  EXPECT_EQ(counters.total(), static_cast<int64_t>(flood));

  // A kind counted before the cap keeps its own counter.
  counters.Add(Result("q", "kind-0", v1::SUCCEEDED));
  EXPECT_EQ(counters.Snapshot().size(), LiveCounters::kMaxCounters + 2);
}

}  // namespace
}  // namespace chime::scheduler
