// Injected time and randomness, so tests control both instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace chime {

// Monotonic and wall time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
};

// The process's real clock.
class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
  static SystemClock& Instance();
};

// A uniform source of doubles in [0, 1). Implementations are thread-safe.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual double Uniform01() = 0;
};

// A seeded mt19937_64 behind a mutex.
class DefaultRng final : public Rng {
 public:
  explicit DefaultRng(uint64_t seed = std::random_device{}()) : engine_(seed) {}
  double Uniform01() override {
    std::lock_guard lock(mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // Guarded by mu_.
};

}  // namespace chime
