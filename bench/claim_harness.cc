#include "bench/claim_harness.h"

#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <optional>
#include <thread>

#include "bench/interrupt.h"

namespace chime::bench {

Result<CellOutcome> RunClaimers(std::vector<std::unique_ptr<Claimer>> claimers, std::optional<int64_t> until) {
  const auto n = static_cast<std::ptrdiff_t>(claimers.size());
  std::latch prepared(n);  // Every claimer connected and warm.
  std::latch start(1);     // Timing starts.
  std::atomic<bool> abort{false};
  std::atomic<int64_t> completed{0};
  std::mutex mu;
  std::optional<Error> first_error;  // Guarded by mu.
  auto fail = [&](Error e) {
    std::lock_guard lock(mu);
    if (!first_error) first_error = std::move(e);
    abort = true;
  };
  std::vector<std::jthread> threads;
  threads.reserve(claimers.size());
  for (auto& c : claimers) {
    threads.emplace_back([&, claimer = c.get()] {
      // Connecting in parallel: 16 sessions one after another take a while.
      if (auto ok = claimer->Prepare(); !ok) fail(ok.error());
      prepared.count_down();
      start.wait();
      int64_t mine = 0;
      while (!abort.load(std::memory_order_relaxed)) {
        if (Interrupt::StopRequested()) {
          fail(Interrupt::Interrupted());
          break;
        }
        auto done = claimer->ClaimAndComplete();
        if (!done) {
          fail(done.error());
          break;
        }
        if (*done == 0) {
          if (!until || completed.load() + mine >= *until) break;
          // Another claimer's running jobs hold what is left (a limit).
          completed += mine;
          mine = 0;
          claimer->AwaitWork();
          continue;
        }
        mine += *done;
      }
      completed += mine;
    });
  }
  prepared.wait();
  const auto t0 = std::chrono::steady_clock::now();
  start.count_down();
  threads.clear();  // Joins.
  const auto t1 = std::chrono::steady_clock::now();
  if (first_error) return std::unexpected(*first_error);
  return CellOutcome{completed.load(), std::chrono::duration<double>(t1 - t0).count()};
}

}  // namespace chime::bench
