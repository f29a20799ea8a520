#include "bench/chime_driver.h"

#include <chrono>
#include <latch>
#include <memory>
#include <span>
#include <thread>

#include "bench/interrupt.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "common/db/ready_listener.h"

namespace chime::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A plain success of one attempt, as a worker reports it.
db::Completion Succeeded(const db::Lease& lease, int attempt, const std::string& worker_id) {
  db::Completion c;
  c.lease = lease;
  c.kind = db::CompletionKind::kSucceeded;
  c.attempt = attempt;
  c.worker_id = worker_id;
  return c;
}

// A Connection with a JobStore on it; the store prepares its statements at
// connect time.
struct Store {
  explicit Store(const std::string& conninfo)
      : conn(db::ConnectionConfig{.url = conninfo}), store(conn) {}
  db::Connection conn;
  db::JobStore store;
};

class ChimeClaimer final : public Claimer {
 public:
  ChimeClaimer(const std::string& conninfo, int batch, std::string worker_id)
      : s_(conninfo), ready_(db::ConnectionConfig{.url = conninfo}), worker_id_(std::move(worker_id)) {
    params_.worker_id = worker_id_;
    params_.queues = {"default"};
    params_.limit = batch;
  }

  Result<void> Prepare() override {
    if (auto ok = s_.conn.Connect(); !ok) return ok;
    // Listening before the timed loop: the first wait finds it connected.
    (void)ready_.Wait(std::chrono::milliseconds(0));
    // Run both statements once where they touch nothing, so that the timed
    // loop starts on a warm session, like the bare claimer.
    db::ClaimParams probe = params_;
    probe.queues = {"bench-warmup"};
    if (auto r = s_.store.JobsClaim(probe); !r) return std::unexpected(r.error());
    const db::Completion none =
        Succeeded({0, "00000000-0000-0000-0000-000000000000"}, 0, worker_id_);
    if (auto r = s_.store.JobsCompleteIfLeased({&none, 1}); !r) return std::unexpected(r.error());
    return {};
  }

  Result<int64_t> ClaimAndComplete() override {
    auto jobs = s_.store.JobsClaim(params_);
    if (!jobs) return std::unexpected(jobs.error());
    if (jobs->empty()) return 0;
    completions_.clear();
    for (const auto& job : *jobs) {
      completions_.push_back(Succeeded(job.lease, job.attempt, worker_id_));
    }
    auto done = s_.store.JobsCompleteIfLeased(completions_);
    if (!done) return std::unexpected(done.error());
    int64_t applied = 0;
    for (const auto& c : *done) applied += c.applied ? 1 : 0;
    return applied;
  }

  // What a worker's claimer does after a short claim: sleep until jobs
  // become ready or a limited job finishes (the NOTIFY of migration 0022),
  // and look again after a while regardless.
  void AwaitWork() override { (void)ready_.Wait(std::chrono::milliseconds(100)); }

 private:
  Store s_;
  db::ReadyListener ready_;
  std::string worker_id_;
  db::ClaimParams params_;
  std::vector<db::Completion> completions_;
};

}  // namespace

std::unique_ptr<Claimer> MakeChimeClaimer(const std::string& conninfo, int batch,
                                          std::string worker_id) {
  return std::make_unique<ChimeClaimer>(conninfo, batch, std::move(worker_id));
}

Result<double> TimeBulkEnqueue(const std::string& conninfo, int64_t jobs, int batch, int sessions) {
  std::vector<db::EnqueueParams> params(static_cast<size_t>(jobs));
  for (int64_t i = 0; i < jobs; ++i) {
    params[i].kind = "bench";
    params[i].payload = "{\"n\":" + std::to_string(i) + "}";
  }
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < sessions; ++i) {
    stores.push_back(std::make_unique<Store>(conninfo));
    if (auto ok = stores.back()->conn.Connect(); !ok) return std::unexpected(ok.error());
  }
  std::latch start(sessions + 1);
  Clock::time_point t0;
  std::vector<Result<void>> outcomes(static_cast<size_t>(sessions));
  {
    std::vector<std::jthread> threads;
    for (int s = 0; s < sessions; ++s) {
      threads.emplace_back([&, s] {
        const int64_t from = jobs * s / sessions, to = jobs * (s + 1) / sessions;
        start.arrive_and_wait();
        for (int64_t at = from; at < to; at += batch) {
          if (Interrupt::StopRequested()) {
            outcomes[s] = std::unexpected(Interrupt::Interrupted());
            return;
          }
          const auto n = static_cast<size_t>(std::min<int64_t>(batch, to - at));
          auto r = stores[s]->store.JobsInsertMany(std::span(params).subspan(static_cast<size_t>(at), n));
          if (!r) {
            outcomes[s] = std::unexpected(r.error());
            return;
          }
          if (r->size() != n) {
            outcomes[s] = Fail(ErrorCode::kInternal, "JobsInsertMany returned a short result");
            return;
          }
        }
      });
    }
    start.arrive_and_wait();
    t0 = Clock::now();
  }  // Joins every session.
  const auto spent = Clock::now() - t0;
  for (auto& outcome : outcomes) {
    if (!outcome) return std::unexpected(outcome.error());
  }
  return std::chrono::duration<double>(spent).count();
}

Result<std::vector<double>> TimeClaims(const std::string& conninfo, int samples, int warmup) {
  Store s(conninfo);
  if (auto ok = s.conn.Connect(); !ok) return std::unexpected(ok.error());
  db::ClaimParams params;
  params.worker_id = "bench-latency";
  params.queues = {"default"};
  params.limit = 1;
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(samples));
  for (int i = 0; i < warmup + samples; ++i) {
    if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
    const auto t0 = Clock::now();
    auto jobs = s.store.JobsClaim(params);
    const auto t1 = Clock::now();
    if (!jobs) return std::unexpected(jobs.error());
    if (jobs->size() != 1) return Fail(ErrorCode::kInternal, "the queue ran dry while timing claims");
    if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    const db::Completion done = Succeeded((*jobs)[0].lease, (*jobs)[0].attempt, params.worker_id);
    if (auto r = s.store.JobsCompleteIfLeased({&done, 1}); !r) return std::unexpected(r.error());
  }
  return ms;
}

}  // namespace chime::bench
