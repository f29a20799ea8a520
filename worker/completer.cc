#include "worker/completer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "common/base/backoff.h"
#include "common/base/utf8.h"
#include "common/history/history.h"

namespace chime::worker {
namespace {

v1::Outcome OutcomeOf(const db::Completion& c, const db::CompletionResult& r) {
  if (!r.applied) return v1::LEASE_EXPIRED;
  if (c.kind == db::CompletionKind::kSkipped) return v1::SKIPPED;
  switch (r.new_state.value_or(db::JobState::kDiscarded)) {
    case db::JobState::kSucceeded: return c.errors.empty() ? v1::SUCCEEDED : v1::PARTIAL;
    case db::JobState::kRetryable: return v1::FAILED;
    case db::JobState::kCancelled: return v1::CANCELLED;
    default: return v1::DISCARDED;
  }
}

}  // namespace

Completer::Completer(db::ConnectionConfig db, db::JobStoreConfig store, ResultSink sink,
                     int max_batch)
    : conn_(std::move(db)), store_(conn_, std::move(store)), sink_(std::move(sink)),
      max_batch_(max_batch) {}

Completer::~Completer() { Stop(); }

void Completer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void Completer::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void Completer::Add(Outcome outcome) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(outcome));
  }
  cv_.notify_one();
}

void Completer::Loop(std::stop_token stop) {
  std::vector<Outcome> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, stop, [&] { return !pending_.empty(); });
      if (pending_.empty() && stop.stop_requested()) return;
      const size_t n = std::min<size_t>(pending_.size(), static_cast<size_t>(max_batch_));
      if (n == pending_.size()) {
        batch.swap(pending_);  // The usual case: everything pending, no element moved.
      } else {
        batch.assign(std::make_move_iterator(pending_.begin()),
                     std::make_move_iterator(pending_.begin() + static_cast<std::ptrdiff_t>(n)));
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
      }
    }
    Flush(batch);
    batch.clear();
  }
}

void Completer::AcceptRecordedEarlier(std::span<const db::Completion> completions,
                                      std::vector<db::CompletionResult>& results, int64_t sent,
                                      std::vector<int64_t>& sent_at) {
  std::vector<db::Completion> refused;
  for (size_t i = 0; i < results.size() && i < completions.size(); ++i) {
    if (!results[i].applied) refused.push_back(completions[i]);
  }
  if (refused.empty()) return;
  auto recorded = store_.JobsCompletionRecorded(refused);
  if (!recorded) {
    spdlog::warn("cannot tell whether {} refused outcomes were recorded before the connection dropped: {}",
                 refused.size(), recorded.error().ToString());
    return;
  }
  for (size_t i = 0; i < results.size() && i < completions.size(); ++i) {
    auto it = recorded->find({completions[i].lease.job_id, completions[i].attempt});
    if (results[i].applied || it == recorded->end()) continue;
    results[i].applied = true;
    results[i].new_state = it->second;
    sent_at[i] = sent;
    spdlog::info("job {} attempt {}: outcome was recorded before the connection dropped",
                 completions[i].lease.job_id, completions[i].attempt);
  }
}

void Completer::Flush(std::vector<Outcome>& batch) {
  std::vector<db::Completion> completions;
  completions.reserve(batch.size());
  // Moved, not copied (a summary can be 64 KiB): from here on the batch's
  // completions are read from `completions`.
  for (auto& o : batch) completions.push_back(std::move(o.completion));
  // Keep trying while the database is away: an outcome dropped here would
  // cost its job a lease expiry and a re-run. Stop() waits for this.
  Result<std::vector<db::CompletionResult>> results = Fail(ErrorCode::kUnavailable, "not tried");
  // Capped exponential backoff, for about a minute: the leases are gone by
  // then and the jobs rescued anyway.
  constexpr BackoffPolicy kRetry{.base = std::chrono::milliseconds(50), .cap = std::chrono::seconds(2)};
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  DefaultRng rng;
  int64_t sent = 0;  // When the write that answered was issued, for the history.
  // A try that failed with the connection may have committed; then the next
  // one is refused (the lease is gone), though the outcome is recorded.
  std::optional<int64_t> unknown_sent;
  for (int attempt = 1;; ++attempt) {
    sent = history::NowMicros();
    results = store_.JobsCompleteIfLeased(completions);
    if (results || results.error().code == ErrorCode::kInvalidArgument) break;
    if (results.error().code == ErrorCode::kUnavailable && !unknown_sent) unknown_sent = sent;
    if (attempt == 1) spdlog::warn("writing {} outcomes: {}; retrying", batch.size(), results.error().ToString());
    const auto delay = BackoffDelay(kRetry, attempt, rng);
    if (std::chrono::steady_clock::now() + delay > give_up) break;
    std::this_thread::sleep_for(delay);
  }
  if (!results) {
    spdlog::error("dropping {} outcomes: {}; their jobs will be rescued", batch.size(),
                  results.error().ToString());
    return;
  }
  std::vector<int64_t> sent_at(results->size(), sent);
  if (unknown_sent) AcceptRecordedEarlier(completions, *results, *unknown_sent, sent_at);
  auto* events = history::Process();
  bool limit_freed = false;
  std::vector<v1::JobResult> reported;
  if (sink_) reported.reserve(batch.size());
  for (size_t i = 0; i < batch.size() && i < results->size(); ++i) {
    const auto& r = (*results)[i];
    if (events) {
      const auto& c = completions[i];
      events->Complete(c.lease.job_id, c.attempt, c.lease.token,
                       r.applied ? db::JobStateName(r.new_state.value_or(db::JobState::kDiscarded))
                                 : std::string_view("lease_lost"),
                       r.applied, sent_at[i]);
    }
    if (r.applied) {
      ++written_;
      limit_freed = limit_freed || batch[i].limited;
    } else {
      ++refused_;
      spdlog::warn("job {} attempt {}: outcome not recorded, the lease was lost (the job was rescued "
                   "or cancelled)", completions[i].lease.job_id, completions[i].attempt);
    }
    if (!sink_) continue;
    v1::JobResult& result = reported.emplace_back();
    result.set_worker_id(completions[i].worker_id);
    result.set_job_id(completions[i].lease.job_id);
    result.set_attempt(std::max(1, completions[i].attempt));
    result.set_kind(batch[i].kind);
    result.set_queue(batch[i].queue);
    result.set_outcome(OutcomeOf(completions[i], r));
    result.set_duration_ms(batch[i].duration_ms);
    // Proto3 strings must be well-formed UTF-8 (the scheduler refuses the
    // frame otherwise): cut on character boundaries, never mid-sequence.
    result.set_summary_json(Utf8Prefix(completions[i].summary, 4096));
    for (size_t e = 0; e < completions[i].errors.size() && e < 20; ++e) {
      result.add_errors(Utf8Prefix(completions[i].errors[e], 1000));
    }
    result.set_accepted(r.applied);
    result.set_pickup_latency_ms(batch[i].pickup_latency_ms);
  }
  if (sink_ && !reported.empty()) sink_(reported);
  if (on_limit_freed_ && limit_freed) on_limit_freed_();
}

}  // namespace chime::worker
