// Writes attempt outcomes to the store in batches (one JobsCompleteIfLeased
// round trip for everything pending), then hands the batch's results, each
// with whether the store accepted it, to a callback (the scheduler link) in
// one call. Owns one
// database connection and one thread. Add() is thread-safe; Start()/Stop()
// from the controlling thread. Stop() flushes what is pending first. A write
// retried after the connection dropped is refused when the first try did
// commit; the completer then finds its run and reports it accepted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"

namespace chime::worker {

// One attempt's end, as the executor reports it.
struct Outcome {
  db::Completion completion;
  std::string kind;
  std::string queue;
  int64_t duration_ms = 0;
  int64_t pickup_latency_ms = 0;
  bool limited = false;  // ClaimedJob::limited.
};

class Completer {
 public:
  // Called once per written batch, with its results in batch order; may
  // move them out.
  using ResultSink = std::function<void(std::span<v1::JobResult>)>;

  Completer(db::ConnectionConfig db, db::JobStoreConfig store, ResultSink sink,
            int max_batch = 500);
  ~Completer();

  void Start();
  void Stop();

  void Add(Outcome outcome);
  // Called after a batch that ended an attempt counted under a limit was
  // written: the claimer may take a job that waited for that slot. Set
  // before Start().
  void set_on_limit_freed(std::function<void()> fn) { on_limit_freed_ = std::move(fn); }
  // Outcomes written so far, and those the store refused (lease lost).
  int64_t written() const { return written_.load(); }
  int64_t refused() const { return refused_.load(); }

 private:
  void Loop(std::stop_token stop);
  void Flush(std::vector<Outcome>& batch);
  // After a try whose outcome is unknown: takes the refused completions
  // that had in fact been recorded (by that try, sent at `sent`) as applied.
  void AcceptRecordedEarlier(std::span<const db::Completion> completions,
                             std::vector<db::CompletionResult>& results, int64_t sent,
                             std::vector<int64_t>& sent_at);

  db::Connection conn_;
  db::JobStore store_;
  ResultSink sink_;
  std::function<void()> on_limit_freed_;
  const int max_batch_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<Outcome> pending_;  // Guarded by mu_.
  std::atomic<int64_t> written_{0};
  std::atomic<int64_t> refused_{0};
  std::jthread thread_;
};

}  // namespace chime::worker
