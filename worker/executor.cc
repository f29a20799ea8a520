#include "worker/executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/base/utf8.h"
#include "common/log/log.h"

namespace chime::worker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string UnknownKindMessage(const std::string& kind, const std::vector<std::string>& known) {
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return "unknown job kind '" + kind + "' (this worker knows: " + list + ")";
}

std::shared_ptr<spdlog::logger> JobLogger(const db::ClaimedJob& job) {
  // Shares the default logger's sinks; the name tags every line.
  auto base = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(job.kind + "#" + std::to_string(job.id),
                                                 base->sinks().begin(), base->sinks().end());
  logger->set_level(base->level());
  return logger;
}

// What the attempt's run will record, as the finish line names it.
std::string_view OutcomeLabel(const db::ClaimedJob& job, const db::Completion& c) {
  switch (c.kind) {
    case db::CompletionKind::kSucceeded:
      return c.errors.empty() ? "succeeded" : "partial";
    case db::CompletionKind::kFailed:
      return job.attempt >= job.max_attempts ? "discarded" : "failed";
    case db::CompletionKind::kFailedPermanent:
      return "discarded";
    case db::CompletionKind::kCancelled:
      return "cancelled";
    case db::CompletionKind::kSkipped:
      return "skipped";
  }
  return "unknown";
}

// A handler's error as the run records it: well-formed UTF-8 (handlers
// pass on text from anywhere: an exception's what(), a response body) and
// at most kMaxErrorBytes, so one error cannot hold a worker's memory.
constexpr size_t kMaxErrorBytes = 16 * 1024;
std::string RecordedError(std::string_view error) {
  if (error.size() <= kMaxErrorBytes) return RepairUtf8(error);
  return Utf8Prefix(error, kMaxErrorBytes) + " ... (cut at " + std::to_string(kMaxErrorBytes) + " bytes)";
}

// The job's identity on every JSON line its slot logs while it runs.
LogFields JobFields(const db::ClaimedJob& job) {
  return LogFields{{"job_id", job.id}, {"kind", job.kind}, {"queue", job.queue},
                   {"attempt", static_cast<int64_t>(job.attempt)},
                   {"schedule", job.schedule_name}};
}

// What the start and finish lines say a job is: its kind, the schedule that
// fired it, and the handler's own description of the payload. A handler's
// Describe() that throws is left out rather than failing the job.
std::string JobWhat(const db::ClaimedJob& job, const Handler* handler, const nlohmann::json& payload) {
  std::string what = job.kind;
  if (!job.schedule_name.empty()) what += ", schedule " + job.schedule_name;
  if (handler == nullptr || payload.is_discarded()) return what;
  try {
    std::string description = handler->Describe(payload);
    if (!description.empty()) what += ": " + description;
  } catch (...) {
  }
  return what;
}

// One line per finished attempt: outcome and duration, and the first error.
void LogFinished(const db::ClaimedJob& job, const std::string& what, std::string_view outcome,
                 int64_t duration_ms, const std::vector<std::string>& errors) {
  LogFields fields{{"outcome", std::string(outcome)}, {"duration_ms", duration_ms}};
  const bool bad = outcome != "succeeded" && outcome != "released" && outcome != "skipped";
  std::string first_error = errors.empty() ? "" : errors.front();
  if (first_error.size() > 300) first_error = std::string(CutUtf8(first_error, 300)) + "...";
  spdlog::log(bad ? spdlog::level::warn : spdlog::level::info, "job {} ({}) attempt {}/{} finished: {} in {} ms{}{}",
              job.id, what.empty() ? job.kind : what, job.attempt, job.max_attempts, outcome, duration_ms,
              first_error.empty() ? "" : ": ", first_error);
}

}  // namespace

Result<db::Connection*> Slot::Database() {
  if (!conn) conn = std::make_unique<db::Connection>(db_config);
  if (auto ok = conn->Connect(); !ok) return std::unexpected(ok.error());
  return conn.get();
}

Result<db::JobStore*> Slot::Store() {
  auto c = Database();
  if (!c) return std::unexpected(c.error());
  // No COPY for handlers' child jobs: chime_worker may not name job ids.
  if (!store) store = std::make_unique<db::JobStore>(**c, db::JobStoreConfig{.copy_min_batch = 0});
  return store.get();
}

Executor::Executor(ExecutorConfig config, HandlerRegistry& handlers, Completer& completer)
    : config_(std::move(config)), handlers_(handlers), completer_(completer) {}

Executor::~Executor() { Stop(); }

void Executor::Start() {
  std::lock_guard lock(mu_);
  if (!slots_.empty()) return;
  stopping_ = false;
  for (int i = 0; i < config_.slots; ++i) SpawnSlot();
}

void Executor::SpawnSlot() {
  auto slot = std::make_shared<Slot>(config_.db);
  slot->thread = std::thread([this, slot] { SlotLoop(slot); });
  slots_.push_back(std::move(slot));
}

void Executor::Stop() {
  std::vector<std::shared_ptr<Slot>> slots;
  {
    std::lock_guard lock(mu_);
    if (slots_.empty()) return;
    stopping_ = true;
    for (auto& [id, r] : running_) {
      if (!r->reason) r->reason = StopReason::kShutdown;
      r->stop.request_stop();
    }
    // Queued jobs never started: hand them back.
    for (auto& q : queue_) unfinished_.push_back(q.job.lease);
    busy_ -= static_cast<int>(queue_.size());
    queue_.clear();
    slots.swap(slots_);
  }
  cv_.notify_all();
  for (auto& s : slots) {
    if (s->thread.joinable()) s->thread.join();
  }
}

int Executor::free_slots() const {
  std::lock_guard lock(mu_);
  return stopping_ ? 0 : std::max(0, config_.slots - busy_);
}

int Executor::room(int prefetch) const {
  std::lock_guard lock(mu_);
  return stopping_ ? 0 : config_.slots + prefetch - busy_;
}

void Executor::Run(std::vector<db::ClaimedJob> jobs) {
  // The claim's reply is a little later than the claim: the lease started
  // before this on the database's clock, never after.
  const auto claimed = Clock::now();
  {
    std::lock_guard lock(mu_);
    busy_ += static_cast<int>(jobs.size());
    for (auto& j : jobs) queue_.push_back({std::move(j), claimed});
  }
  cv_.notify_all();
}

std::vector<db::Lease> Executor::Leases() const {
  std::lock_guard lock(mu_);
  std::vector<db::Lease> leases;
  for (const auto& [id, r] : running_) leases.push_back(r->job.lease);
  for (const auto& q : queue_) leases.push_back(q.job.lease);
  return leases;
}

void Executor::MarkExtended(std::span<const db::Lease> leases, Clock::time_point sent_at) {
  std::lock_guard lock(mu_);
  for (const auto& lease : leases) {
    if (auto it = running_.find(lease.job_id); it != running_.end()) {
      auto& r = *it->second;
      if (r.job.lease.token == lease.token) r.extended = std::max(r.extended, sent_at);
      continue;
    }
    for (auto& q : queue_) {
      if (q.job.id == lease.job_id && q.job.lease.token == lease.token) q.extended = std::max(q.extended, sent_at);
    }
  }
}

std::vector<HeldLease> Executor::LeasesExtendedBefore(Clock::time_point cutoff) const {
  std::lock_guard lock(mu_);
  std::vector<HeldLease> out;
  for (const auto& [id, r] : running_) {
    if (r->extended < cutoff && !r->drop_outcome) out.push_back({r->job.lease, r->job.kind, r->extended});
  }
  for (const auto& q : queue_) {
    if (q.extended < cutoff) out.push_back({q.job.lease, q.job.kind, q.extended});
  }
  return out;
}

std::vector<int64_t> Executor::RunningIds() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> ids;
  for (const auto& [id, r] : running_) ids.push_back(id);
  return ids;
}

std::vector<db::Lease> Executor::TakeUnfinished() {
  std::lock_guard lock(mu_);
  std::vector<db::Lease> out;
  out.swap(unfinished_);
  return out;
}

bool Executor::RequestStop(int64_t job_id, StopReason reason, std::string_view token) {
  std::lock_guard lock(mu_);
  auto it = running_.find(job_id);
  if (it == running_.end()) {
    // Not started yet: a queued job whose lease is lost is simply dropped.
    if (reason == StopReason::kLeaseLost || reason == StopReason::kCancelRequested) {
      for (auto q = queue_.begin(); q != queue_.end(); ++q) {
        const db::ClaimedJob& job = q->job;
        if (job.id != job_id || (!token.empty() && job.lease.token != token)) continue;
        if (reason == StopReason::kCancelRequested) {
          // Never started: finish it as cancelled straight away.
          Outcome o;
          o.completion = {.lease = job.lease, .kind = db::CompletionKind::kCancelled,
                          .attempt = job.attempt, .worker_id = config_.worker_id};
          o.kind = job.kind;
          o.queue = job.queue;
          completer_.Add(std::move(o));
        }
        queue_.erase(q);
        --busy_;
        idle_cv_.notify_all();
        return true;
      }
    }
    return false;
  }
  auto& r = *it->second;
  if (!token.empty() && r.job.lease.token != token) return false;
  if (r.drop_outcome) return false;
  if (reason == StopReason::kLeaseLost) r.drop_outcome = true;
  if (!r.reason) r.reason = reason;
  if (!r.stop_requested_at) r.stop_requested_at = Clock::now();
  r.stop.request_stop();
  return true;
}

void Executor::RequestStopAll(StopReason reason) {
  for (int64_t id : RunningIds()) RequestStop(id, reason);
}

void Executor::Tick() {
  const auto now = Clock::now();
  std::vector<std::shared_ptr<Running>> abandon;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, r] : running_) {
      if (!r->stop_requested_at && now >= r->deadline) {
        r->reason = StopReason::kTimeout;
        r->stop_requested_at = now;
        r->stop.request_stop();
        spdlog::warn("job {} ({}) timed out after {} ms; asking it to stop", id, r->job.kind,
                     duration_cast<milliseconds>(now - r->started).count());
      } else if (r->stop_requested_at && now - *r->stop_requested_at >= config_.hard_stop_grace) {
        abandon.push_back(r);
      }
    }
    for (auto& r : abandon) {
      r->abandoned = true;
      running_.erase(r->job.id);
      --busy_;
      ++abandoned_;
      // The stuck thread keeps its Slot (shared) and exits when the handler
      // returns; a fresh thread takes the slot's place.
      r->slot->retired = true;
      r->slot->thread.detach();
      std::erase(slots_, r->slot);
      if (!stopping_) SpawnSlot();
    }
  }
  for (auto& r : abandon) {
    const LogFields fields = JobFields(r->job);
    spdlog::error("job {} ({}) did not stop within {} ms; abandoning its attempt", r->job.id,
                  r->job.kind, config_.hard_stop_grace.count());
    if (r->drop_outcome) continue;
    if (r->reason == StopReason::kShutdown) {
      std::lock_guard lock(mu_);
      unfinished_.push_back(r->job.lease);
      continue;
    }
    Outcome o;
    o.kind = r->job.kind;
    o.queue = r->job.queue;
    o.duration_ms = duration_cast<milliseconds>(now - r->started).count();
    o.pickup_latency_ms = PickupLatencyMs(r->job);
    o.completion = {.lease = r->job.lease, .attempt = r->job.attempt, .worker_id = config_.worker_id};
    if (r->reason == StopReason::kCancelRequested) {
      o.completion.kind = db::CompletionKind::kCancelled;
      o.completion.errors = {"cancelled; the handler did not stop and was abandoned"};
    } else {
      o.completion.kind = db::CompletionKind::kFailed;
      o.completion.errors = {"timed out after " +
                             std::to_string(duration_cast<milliseconds>(r->deadline - r->started).count()) +
                             " ms; the handler did not stop within the hard-stop grace"};
    }
    completer_.Add(std::move(o));
  }
  if (!abandon.empty() && on_slot_freed_) on_slot_freed_();
}

bool Executor::WaitIdle(Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [&] { return busy_ == 0; });
}

void Executor::SlotLoop(const std::shared_ptr<Slot>& slot) {
  while (true) {
    std::shared_ptr<Running> running;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping.
      running = std::make_shared<Running>();
      running->job = std::move(queue_.front().job);
      running->extended = queue_.front().extended;
      queue_.pop_front();
      running->started = Clock::now();
      const auto timeout = running->job.timeout.value_or(config_.default_timeout);
      running->deadline = running->started + timeout;
      running->slot = slot;
      running_[running->job.id] = running;
    }
    const LogFields fields = JobFields(running->job);
    if (observer_) observer_->JobStarted(running->job);
    HandlerResult result = Execute(*slot, *running);
    // Abandoned while the handler ran: the executor may be gone; touch nothing.
    if (slot->retired.load()) return;
    Finish(running, OutcomeOrFailure(*running, result));
  }
}

void Executor::ExtendDeadline(Running& running, const Handler& handler, const nlohmann::json& payload) {
  std::optional<milliseconds> needed;
  try {
    needed = handler.Timeout(payload);
  } catch (...) {
  }
  if (!needed) return;
  std::lock_guard lock(mu_);
  running.deadline = std::max(running.deadline, running.started + *needed);
}

HandlerResult Executor::Execute(Slot& slot, Running& running) {
  const db::ClaimedJob& job = running.job;
  Handler* handler = handlers_.Find(job.kind);
  auto payload = nlohmann::json::parse(job.payload, nullptr, /*allow_exceptions=*/false);
  std::string what = JobWhat(job, handler, payload);
  spdlog::info("job {} ({}) attempt {}/{} started", job.id, what, job.attempt, job.max_attempts);
  {
    std::lock_guard lock(mu_);
    running.what = std::move(what);
  }
  if (handler == nullptr) {
    return HandlerResult::Fail({}, {UnknownKindMessage(job.kind, handlers_.Kinds())},
                               /*retryable=*/false);
  }
  if (payload.is_discarded()) {
    return HandlerResult::Fail({}, {"payload is not valid JSON"}, /*retryable=*/false);
  }
  if (!job.timeout) ExtendDeadline(running, *handler, payload);
  JobContext::Services services{[&slot] { return slot.Database(); }, [&slot] { return slot.Store(); }};
  JobContext ctx(job, std::move(payload), running.stop.get_token(), JobLogger(job), std::move(services));
  try {
    return handler->Run(ctx);
  } catch (const std::exception& e) {
    return HandlerResult::Fail({}, {std::string("handler threw: ") + e.what()}, /*retryable=*/true);
  } catch (...) {
    return HandlerResult::Fail({}, {"handler threw a non-standard exception"}, /*retryable=*/true);
  }
}

Outcome Executor::BuildOutcome(const Running& r, const HandlerResult& result) const {
  Outcome o;
  o.kind = r.job.kind;
  o.queue = r.job.queue;
  o.duration_ms = duration_cast<milliseconds>(Clock::now() - r.started).count();
  o.pickup_latency_ms = PickupLatencyMs(r.job);
  o.completion.lease = r.job.lease;
  o.completion.attempt = r.job.attempt;
  o.completion.worker_id = config_.worker_id;
  // Strings were repaired where they came in (e.g. the HTTP client's body
  // excerpt); `replace` is the second line of defence, since a strict dump
  // throws on any ill-formed byte a handler let through.
  constexpr auto kRepair = nlohmann::json::error_handler_t::replace;
  if (result.kind == HandlerResult::Kind::kSkipped && result.summary.is_object()) {
    nlohmann::json summary = result.summary;
    summary["skipReason"] = result.skip_reason;
    o.completion.summary = summary.dump(-1, ' ', false, kRepair);
  } else {
    o.completion.summary = result.summary.dump(-1, ' ', false, kRepair);
  }
  o.completion.errors.reserve(result.errors.size());
  for (const auto& e : result.errors) o.completion.errors.push_back(RecordedError(e));
  if (result.kind == HandlerResult::Kind::kSuccess) {
    o.completion.kind = db::CompletionKind::kSucceeded;
  } else if (result.kind == HandlerResult::Kind::kSkipped) {
    o.completion.kind = db::CompletionKind::kSkipped;
  } else if (r.reason == StopReason::kCancelRequested) {
    o.completion.kind = db::CompletionKind::kCancelled;
  } else if (r.reason == StopReason::kTimeout) {
    o.completion.kind = db::CompletionKind::kFailed;
    o.completion.errors.push_back(
        "timed out after " + std::to_string(duration_cast<milliseconds>(r.deadline - r.started).count()) + " ms");
  } else {
    o.completion.kind = result.retryable ? db::CompletionKind::kFailed : db::CompletionKind::kFailedPermanent;
  }
  return o;
}

Outcome Executor::OutcomeOrFailure(const Running& r, const HandlerResult& result) const {
  std::string why;
  try {
    return BuildOutcome(r, result);
  } catch (const std::exception& e) {
    why = RepairUtf8(e.what());
  } catch (...) {
    why = "a non-standard exception";
  }
  // Nothing a handler returns may throw past its slot: the attempt fails
  // with the reason, and the job retries like any failed attempt.
  Outcome o;
  o.kind = r.job.kind;
  o.queue = r.job.queue;
  o.duration_ms = duration_cast<milliseconds>(Clock::now() - r.started).count();
  o.pickup_latency_ms = PickupLatencyMs(r.job);
  o.completion = {.lease = r.job.lease, .kind = db::CompletionKind::kFailed, .attempt = r.job.attempt,
                  .worker_id = config_.worker_id};
  o.completion.errors = {"the handler's result could not be recorded: " + why};
  if (r.reason == StopReason::kCancelRequested) o.completion.kind = db::CompletionKind::kCancelled;
  return o;
}

void Executor::Finish(const std::shared_ptr<Running>& running, Outcome outcome) {
  bool send = false;
  std::string_view label;
  {
    std::lock_guard lock(mu_);
    if (running->abandoned) return;  // Tick() already reported it.
    running_.erase(running->job.id);
    --busy_;
    const bool shutdown_unfinished = running->reason == StopReason::kShutdown &&
                                     outcome.completion.kind != db::CompletionKind::kSucceeded &&
                                     outcome.completion.kind != db::CompletionKind::kSkipped;
    if (shutdown_unfinished) {
      unfinished_.push_back(running->job.lease);  // Released, not failed.
    } else {
      send = !running->drop_outcome;
    }
    label = shutdown_unfinished    ? "released"
            : running->drop_outcome ? "lease_lost"
                                    : OutcomeLabel(running->job, outcome.completion);
  }
  LogFinished(running->job, running->what, label, outcome.duration_ms, outcome.completion.errors);
  outcome.limited = running->job.limited;
  if (send) completer_.Add(std::move(outcome));
  idle_cv_.notify_all();
  if (on_slot_freed_) on_slot_freed_();
}

}  // namespace chime::worker
