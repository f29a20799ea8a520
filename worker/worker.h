// A whole worker: executor (slots), producer, heartbeater, completer and
// the scheduler link, wired together. Start() then Drain() (the SIGTERM
// path) or Stop(). Used by main.cc and, in-process, by tests.
#pragma once

#include <atomic>
#include <memory>

#include "worker/completer.h"
#include "worker/executor.h"
#include "worker/handler.h"
#include "worker/heartbeater.h"
#include "worker/job_observer.h"
#include "worker/producer.h"
#include "worker/scheduler_link.h"
#include "worker/worker_config.h"

namespace chime::worker {

class Worker {
 public:
  // `handlers` must outlive the worker (usually HandlerRegistry::Global()),
  // and so must `observer` (the metrics; null: none).
  Worker(WorkerConfig config, HandlerRegistry& handlers, JobObserver* observer = nullptr);
  ~Worker();

  [[nodiscard]] Result<void> Start();
  // Stops claiming and says goodbye, lets running jobs finish within the
  // shutdown grace, then stops the rest (abandoning any that ignore it
  // past the hard-stop grace), releases them without using an attempt,
  // flushes outcomes and stops every service. Idempotent.
  void Drain();

  Executor& executor() { return *executor_; }
  Producer& producer() { return *producer_; }
  Completer& completer() { return *completer_; }
  SchedulerLink& link() { return *link_; }
  const WorkerConfig& config() const { return config_; }
  // Thread-safe (for the HTTP probes): whether it claims jobs (started and
  // not draining), and its free slots (0 before Start()).
  bool claiming() const { return claiming_.load(); }
  int free_slots() const;

 private:
  WorkerConfig config_;
  HandlerRegistry& handlers_;
  std::unique_ptr<SchedulerLink> link_;
  std::unique_ptr<Completer> completer_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<Heartbeater> heartbeater_;
  JobObserver* observer_;
  bool started_ = false;
  bool drained_ = false;
  std::atomic<bool> claiming_{false};
  std::atomic<Executor*> running_executor_{nullptr};  // Set once started.
};

}  // namespace chime::worker
