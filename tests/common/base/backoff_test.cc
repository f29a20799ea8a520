#include "common/base/backoff.h"

#include <gtest/gtest.h>

namespace chime {
namespace {

// Returns a fixed value so the jitter term is known.
class FixedRng final : public Rng {
 public:
  explicit FixedRng(double v) : v_(v) {}
  double Uniform01() override { return v_; }

 private:
  double v_;
};

TEST(BackoffTest, DoublesFromBaseUntilCap) {
  BackoffPolicy policy{std::chrono::milliseconds(1000), std::chrono::milliseconds(30000), 0.0};
  FixedRng rng(0.0);
  EXPECT_EQ(BackoffDelay(policy, 1, rng).count(), 1000);
  EXPECT_EQ(BackoffDelay(policy, 2, rng).count(), 2000);
  EXPECT_EQ(BackoffDelay(policy, 3, rng).count(), 4000);
  EXPECT_EQ(BackoffDelay(policy, 5, rng).count(), 16000);
  EXPECT_EQ(BackoffDelay(policy, 6, rng).count(), 30000);
  EXPECT_EQ(BackoffDelay(policy, 1000, rng).count(), 30000);
}

TEST(BackoffTest, JitterAddsUpToItsFractionButNeverPassesCap) {
  BackoffPolicy policy{std::chrono::milliseconds(1000), std::chrono::milliseconds(5000), 0.5};
  FixedRng high(0.999);
  EXPECT_EQ(BackoffDelay(policy, 1, high).count(), 1499);
  EXPECT_EQ(BackoffDelay(policy, 3, high).count(), 5000);  // 4000 * 1.4995 capped.
  FixedRng low(0.0);
  EXPECT_EQ(BackoffDelay(policy, 2, low).count(), 2000);
}

TEST(BackoffTest, NonPositiveAttemptUsesBase) {
  BackoffPolicy policy{std::chrono::milliseconds(250), std::chrono::milliseconds(1000), 0.0};
  FixedRng rng(0.0);
  EXPECT_EQ(BackoffDelay(policy, 0, rng).count(), 250);
  EXPECT_EQ(BackoffDelay(policy, -3, rng).count(), 250);
}

}  // namespace
}  // namespace chime
