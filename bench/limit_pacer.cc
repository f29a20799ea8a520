#include "bench/limit_pacer.h"

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <optional>
#include <thread>

#include "bench/interrupt.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "common/db/limit_store.h"

namespace chime::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class PacedClaimer {
 public:
  PacedClaimer(const std::string& conninfo, int batch, std::string worker_id)
      : conn_(db::ConnectionConfig{.url = conninfo}), store_(conn_), limits_(conn_) {
    params_.worker_id = std::move(worker_id);
    params_.queues = {"default"};
    params_.limit = batch;
  }

  Result<void> Connect() { return conn_.Connect(); }

  // Claims and completes until `end`; adds its counts to `out`.
  Result<void> Run(Clock::time_point end, PacedOutcome& out) {
    while (Clock::now() < end) {
      if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
      auto jobs = store_.JobsClaim(params_);
      if (!jobs) return std::unexpected(jobs.error());
      ++out.claims;
      out.claimed += static_cast<int64_t>(jobs->size());
      if (!jobs->empty()) {
        std::vector<db::Completion> done;
        for (const auto& job : *jobs) {
          db::Completion c;
          c.lease = job.lease;
          c.kind = db::CompletionKind::kSucceeded;
          c.attempt = job.attempt;
          c.worker_id = params_.worker_id;
          done.push_back(std::move(c));
        }
        if (auto r = store_.JobsCompleteIfLeased(done); !r) return std::unexpected(r.error());
      }
      if (static_cast<int>(jobs->size()) == params_.limit) continue;
      ++out.short_claims;
      // As Producer::UntilNextSlot: the next slot, rounded up to a
      // millisecond and at least one; no answer sleeps one millisecond.
      auto next = limits_.LimitsNextSlot(params_.queues);
      if (!next) return std::unexpected(next.error());
      milliseconds wait(1);
      if (*next) {
        wait = std::max(milliseconds(1),
                        std::chrono::ceil<milliseconds>(**next - std::chrono::system_clock::now()));
      }
      const auto wake = std::min(end, Clock::now() + wait);
      std::this_thread::sleep_until(wake);
    }
    return {};
  }

 private:
  db::Connection conn_;
  db::JobStore store_;
  db::LimitStore limits_;
  db::ClaimParams params_;
};

}  // namespace

Result<PacedOutcome> RunPacedClaimers(const std::string& conninfo, int claimers, int batch,
                                      milliseconds duration) {
  std::vector<std::unique_ptr<PacedClaimer>> all;
  for (int i = 0; i < claimers; ++i) {
    all.push_back(std::make_unique<PacedClaimer>(conninfo, batch, "bench-paced-" + std::to_string(i)));
    if (auto ok = all.back()->Connect(); !ok) return std::unexpected(ok.error());
  }
  std::latch start(1);
  Clock::time_point end;
  std::vector<PacedOutcome> outcomes(all.size());
  std::vector<Result<void>> results(all.size());
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < all.size(); ++i) {
      threads.emplace_back([&, i] {
        start.wait();
        results[i] = all[i]->Run(end, outcomes[i]);
      });
    }
    end = Clock::now() + duration;
    start.count_down();
  }  // Joins.
  PacedOutcome total;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!results[i]) return std::unexpected(results[i].error());
    total.claimed += outcomes[i].claimed;
    total.claims += outcomes[i].claims;
    total.short_claims += outcomes[i].short_claims;
  }
  return total;
}

int64_t MostInWindow(const std::vector<int64_t>& sorted_us, int64_t window_us) {
  int64_t most = 0;
  size_t last = 0;  // One past the last start before first + window.
  for (size_t first = 0; first < sorted_us.size(); ++first) {
    last = std::max(last, first);
    while (last < sorted_us.size() && sorted_us[last] < sorted_us[first] + window_us) ++last;
    most = std::max(most, static_cast<int64_t>(last - first));
  }
  return most;
}

}  // namespace chime::bench
