// Seeded fault choices for the fault tests: which process, when, which
// fault. The seed comes from CHIME_NEMESIS_SEED (to replay a failed run) or
// is random; tests print it on failure (SCOPED_TRACE(nemesis.Describe())).
// Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace chime::testing {

class Nemesis {
 public:
  Nemesis();
  explicit Nemesis(uint64_t seed) : seed_(seed), rng_(seed) {}

  uint64_t seed() const { return seed_; }
  // "nemesis seed N (replay: CHIME_NEMESIS_SEED=N)".
  std::string Describe() const;

  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi);
  std::chrono::milliseconds Delay(std::chrono::milliseconds lo, std::chrono::milliseconds hi) {
    return std::chrono::milliseconds(Between(lo.count(), hi.count()));
  }
  // An index into a collection of `n` (n > 0).
  size_t Pick(size_t n) { return static_cast<size_t>(Between(0, static_cast<int64_t>(n) - 1)); }
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    std::shuffle(v.begin(), v.end(), rng_);
  }

 private:
  uint64_t seed_;
  std::mt19937_64 rng_;
};

}  // namespace chime::testing
