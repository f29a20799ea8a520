// Runs claimed jobs on M slot threads. Each job gets a stop source that
// fires on its timeout, a cancel request, a lost lease or shutdown; a job
// still running `hard_stop_grace` after its stop was requested is abandoned:
// its attempt fails ("did not stop"), its slot is given to a fresh thread,
// and whatever it returns later is ignored. Outcomes go to the Completer.
// Thread-safe; Start()/Stop() from the controlling thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stop_token>
#include <thread>
#include <vector>

#include "common/db/connection.h"
#include "common/db/job.h"
#include "common/db/job_store.h"
#include "worker/completer.h"
#include "worker/handler.h"
#include "worker/job_observer.h"

namespace chime::worker {

// A slot thread with its own lazily opened database session for handlers.
// Shared with its thread, which outlives the executor when abandoned.
struct Slot {
  explicit Slot(db::ConnectionConfig config) : db_config(std::move(config)) {}
  Result<db::Connection*> Database();
  Result<db::JobStore*> Store();

  db::ConnectionConfig db_config;
  std::unique_ptr<db::Connection> conn;  // Owned by the slot's thread.
  std::unique_ptr<db::JobStore> store;   // Owned by the slot's thread.
  std::atomic<bool> retired{false};      // Abandoned: exit without touching the executor.
  std::thread thread;
};

struct ExecutorConfig {
  int slots = 10;
  std::string worker_id;
  // A job without its own timeout gets this, or what its handler's
  // Timeout(payload) asks for when that is longer.
  std::chrono::milliseconds default_timeout{std::chrono::minutes(30)};
  std::chrono::milliseconds hard_stop_grace{std::chrono::seconds(5)};
  db::ConnectionConfig db;  // For handlers' own database access.
};

// Why a running job was asked to stop.
enum class StopReason { kTimeout, kCancelRequested, kLeaseLost, kShutdown };

// A lease the executor holds (a queued or running job), and when it was last
// known to be extended: the claim, or the send of a heartbeat that extended it.
struct HeldLease {
  db::Lease lease;
  std::string kind;
  std::chrono::steady_clock::time_point extended;
};

class Executor {
 public:
  Executor(ExecutorConfig config, HandlerRegistry& handlers, Completer& completer);
  ~Executor();

  void Start();
  // Stops every running job (kShutdown), waits for slot threads; abandoned
  // ones are left to finish on their own. Jobs never reported are returned
  // through unfinished() for release.
  void Stop();

  int free_slots() const;
  // Jobs that may be queued now when `prefetch` may wait beyond the slots.
  int room(int prefetch) const;
  int slots() const { return config_.slots; }
  // Queues jobs to run; the caller claims no more than room(its prefetch).
  void Run(std::vector<db::ClaimedJob> jobs);

  // Leases of the jobs running now (for heartbeats and release).
  std::vector<db::Lease> Leases() const;
  std::vector<int64_t> RunningIds() const;
  // Asks one queued or running job to stop. A lost lease also drops its
  // outcome. With a `token`, only the job holding that lease is stopped: an
  // answer about an old lease must not stop the job's next attempt. True
  // when a job was stopped, false when none matched or it was already
  // stopped for a lost lease.
  bool RequestStop(int64_t job_id, StopReason reason, std::string_view token = {});
  void RequestStopAll(StopReason reason);
  // Fires timeouts and abandons jobs past their hard-stop grace; call
  // periodically (the worker's supervisor does, every 100 ms).
  void Tick();
  // Records that a heartbeat sent at `sent_at` extended these leases; a job
  // now held under another token, or gone, is left alone.
  void MarkExtended(std::span<const db::Lease> leases, std::chrono::steady_clock::time_point sent_at);
  // Leases of queued and running jobs last extended before `cutoff`, except
  // those already stopped for a lost lease.
  std::vector<HeldLease> LeasesExtendedBefore(std::chrono::steady_clock::time_point cutoff) const;
  // Waits until no job runs or the deadline passes; true when idle.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

  // Called (from a slot thread) whenever a slot frees up.
  void set_on_slot_freed(std::function<void()> f) { on_slot_freed_ = std::move(f); }
  // Told when a handler starts (metrics); set before Start(). Null: none.
  void set_observer(JobObserver* observer) { observer_ = observer; }
  // Abandoned jobs so far.
  int64_t abandoned() const { return abandoned_.load(); }
  // Leases of jobs stopped for shutdown without finishing: the worker
  // releases them (no attempt used). Clears the list.
  std::vector<db::Lease> TakeUnfinished();

 private:
  struct Queued {
    db::ClaimedJob job;
    std::chrono::steady_clock::time_point extended;  // As in HeldLease.
  };
  struct Running {
    db::ClaimedJob job;
    std::stop_source stop;
    std::chrono::steady_clock::time_point extended;  // As in HeldLease.
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point deadline;  // Written by the slot's thread under mu_.
    std::optional<std::chrono::steady_clock::time_point> stop_requested_at;
    std::optional<StopReason> reason;
    bool drop_outcome = false;  // Lease lost: the store would refuse it anyway.
    bool abandoned = false;     // Reported as failed by Tick(); ignore the late result.
    std::shared_ptr<struct Slot> slot;
    // "<kind>[, schedule <name>][: <what the handler describes>]", for log
    // lines. Set under mu_ before the handler runs.
    std::string what;
  };

  void SlotLoop(const std::shared_ptr<Slot>& slot);
  HandlerResult Execute(Slot& slot, Running& running);
  // A job without a timeout of its own gets the longer of the default and
  // what its handler says this payload needs (an hour-long http_request).
  void ExtendDeadline(Running& running, const Handler& handler, const nlohmann::json& payload);
  Outcome BuildOutcome(const Running& r, const HandlerResult& result) const;
  // BuildOutcome, or a failed attempt naming why when it throws. Never throws.
  Outcome OutcomeOrFailure(const Running& r, const HandlerResult& result) const;
  void Finish(const std::shared_ptr<Running>& running, Outcome outcome);
  void SpawnSlot();  // Requires mu_.

  const ExecutorConfig config_;
  HandlerRegistry& handlers_;
  Completer& completer_;
  std::function<void()> on_slot_freed_;
  JobObserver* observer_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // Jobs queued or stopping.
  std::condition_variable idle_cv_;  // A job finished.
  std::deque<Queued> queue_;                             // Guarded by mu_.
  std::map<int64_t, std::shared_ptr<Running>> running_;  // Guarded by mu_.
  std::vector<std::shared_ptr<Slot>> slots_;             // Guarded by mu_.
  std::vector<db::Lease> unfinished_;                    // Guarded by mu_.
  int busy_ = 0;                                         // Guarded by mu_.
  bool stopping_ = false;                                // Guarded by mu_.
  std::atomic<int64_t> abandoned_{0};
};

}  // namespace chime::worker
