#include "worker/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "common/base/version.h"
#include "common/db/migrations.h"
#include "common/history/history.h"
#include "common/net/curve.h"

namespace chime::worker {

using Clock = std::chrono::steady_clock;

Worker::Worker(WorkerConfig config, HandlerRegistry& handlers, JobObserver* observer)
    : config_(std::move(config)), handlers_(handlers), observer_(observer) {}

int Worker::free_slots() const {
  Executor* executor = running_executor_.load();
  return executor ? executor->free_slots() : 0;
}

Worker::~Worker() { Drain(); }

Result<void> Worker::Start() {
  if (started_) return {};
  const db::ConnectionConfig db = config_.database();
  {
    db::Connection conn(db);
    auto migrated = db::MigrationsApply(conn);
    if (!migrated) return Fail(migrated.error().code, "migrations: " + migrated.error().message);
  }
  auto curve = net::CurveClientConfig::FromEnvironment();
  if (!curve) return std::unexpected(curve.error());

  LinkConfig link;
  link.endpoints = config_.schedulers;
  link.curve = *curve;
  auto& hello = link.hello;
  hello.set_worker_id(config_.worker_id);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  hello.set_host(host);
  hello.set_pid(getpid());
  for (const auto& q : config_.queues) hello.add_queues(q);
  hello.set_slots(config_.slots);
  for (const auto& k : handlers_.Kinds()) {
    if (hello.kinds_size() < 1000) hello.add_kinds(k);
  }
  hello.set_version(std::string(Version()));
  hello.set_started_at_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());

  // Constructed in dependency order; the link's callbacks reach services
  // that exist before it starts.
  link_ = std::make_unique<SchedulerLink>(
      link, [this] { return executor_ ? executor_->free_slots() : 0; },
      [this] { return executor_ ? executor_->RunningIds() : std::vector<int64_t>{}; },
      [this] {
        if (producer_) producer_->Wake();
      });
  completer_ = std::make_unique<Completer>(db, db::JobStoreConfig{}, [this](std::span<v1::JobResult> results) {
    if (observer_) {
      for (const v1::JobResult& r : results) observer_->JobFinished(r);
    }
    link_->SendResults(results);
  });
  // A slot of a limit freed by this worker: its own claim may be the one
  // waiting for it (the scheduler's dispatch reaches the others).
  completer_->set_on_limit_freed([this] {
    if (producer_) producer_->Wake();
  });
  executor_ = std::make_unique<Executor>(
      ExecutorConfig{.slots = config_.slots,
                     .worker_id = config_.worker_id,
                     .default_timeout = config_.default_timeout,
                     .hard_stop_grace = config_.hard_stop_grace,
                     .db = db},
      handlers_, *completer_);
  producer_ = std::make_unique<Producer>(
      ProducerConfig{.worker_id = config_.worker_id,
                     .queues = config_.queues,
                     .poll_interval = config_.poll_interval,
                     .lease = config_.lease,
                     .max_batch = config_.claim_batch,
                     .prefetch = std::max(0, config_.prefetch),
                     .adaptive_prefetch = config_.prefetch == WorkerConfig::kPrefetchAuto},
      db, *executor_);
  heartbeater_ = std::make_unique<Heartbeater>(db, *executor_, config_.lease, config_.heartbeat_interval());
  executor_->set_observer(observer_);
  executor_->set_on_slot_freed([this] {
    producer_->SlotFreed();
    link_->SendCapacity();
  });

  completer_->Start();
  executor_->Start();
  heartbeater_->Start();
  link_->Start();
  producer_->Start();
  started_ = true;
  running_executor_.store(executor_.get());
  claiming_.store(true);
  spdlog::info("worker {}: {} slots on queues {}; scheduler {}", config_.worker_id, config_.slots,
               fmt::join(config_.queues, ","),
               config_.schedulers.empty() ? std::string("none (polling only)")
                                          : fmt::format("{}", fmt::join(config_.schedulers, ",")));
  return {};
}

void Worker::Drain() {
  if (!started_ || drained_) return;
  drained_ = true;
  claiming_.store(false);
  producer_->Stop();
  link_->SendGoodbye("draining");
  const auto grace_end = Clock::now() + config_.shutdown_grace;
  if (!executor_->WaitIdle(grace_end)) {
    spdlog::warn("shutdown grace over; stopping {} running jobs", executor_->RunningIds().size());
    executor_->RequestStopAll(StopReason::kShutdown);
    // The heartbeater keeps ticking: a job past the hard-stop grace is
    // abandoned so that the wait below ends.
    executor_->WaitIdle(Clock::now() + config_.hard_stop_grace + std::chrono::seconds(1));
  }
  heartbeater_->Stop();
  executor_->Stop();
  auto unfinished = executor_->TakeUnfinished();
  if (!unfinished.empty()) {
    db::Connection conn(config_.database());
    db::JobStore store(conn);
    auto released = store.JobsReleaseIfLeased(unfinished, config_.worker_id);
    if (auto* h = history::Process(); h && released) {
      for (const auto& lease : unfinished) {
        h->Release(lease.job_id, lease.token, std::ranges::find(*released, lease.job_id) != released->end());
      }
    }
    if (released) {
      spdlog::info("released {} unfinished jobs back to available", released->size());
    } else {
      spdlog::error("releasing {} jobs failed: {}; they will be rescued when their lease expires",
                    unfinished.size(), released.error().ToString());
    }
  }
  completer_->Stop();  // Flushes the outcomes still pending.
  link_->Stop();
  spdlog::info("worker {} stopped", config_.worker_id);
}

}  // namespace chime::worker
