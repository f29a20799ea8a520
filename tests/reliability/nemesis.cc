#include "tests/reliability/nemesis.h"

#include <cstdlib>
#include <string>

namespace chime::testing {
namespace {

uint64_t SeedFromEnvironment() {
  if (const char* s = std::getenv("CHIME_NEMESIS_SEED"); s != nullptr && *s != '\0') {
    return std::stoull(s);
  }
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

Nemesis::Nemesis() : Nemesis(SeedFromEnvironment()) {}

std::string Nemesis::Describe() const {
  return "nemesis seed " + std::to_string(seed_) + " (replay: CHIME_NEMESIS_SEED=" +
         std::to_string(seed_) + ")";
}

int64_t Nemesis::Between(int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
}

}  // namespace chime::testing
