#include "common/wire/convert.h"

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>

#include "common/db/job_fields.h"
#include "common/wire/millis.h"

namespace chime::wire {
namespace {

using std::chrono::milliseconds;

using internal::FromUs;
using internal::Ms;
using internal::Time;
using internal::Us;

// The job fields (common/db/job_fields.h) to their proto values: what an
// unset optional is depends on the proto field, so it is left unset.
template <typename T>
const T* Present(const T& value) {
  return &value;
}
template <typename T>
const T* Present(const std::optional<T>& value) {
  return value ? &*value : nullptr;
}

template <typename T>
T ProtoValue(const T& value) {
  return value;
}
int64_t ProtoValue(db::TimePoint t) { return Ms(t); }
int64_t ProtoValue(milliseconds d) { return d.count(); }
std::string ProtoValue(db::JobState s) { return std::string(db::JobStateName(s)); }
std::string ProtoValue(db::JobOutcome o) { return std::string(db::JobOutcomeName(o)); }
std::string ProtoValue(db::Invocation i) { return std::string(db::InvocationName(i)); }

// Back from the proto. A name no enum value has leaves the member as it
// was (a default-constructed job's default; an optional unset).
bool FromWire(int64_t ms, db::TimePoint& out) {
  out = Time(ms);
  return true;
}
bool FromWire(int64_t ms, milliseconds& out) {
  out = milliseconds(ms);
  return true;
}
bool FromWire(const std::string& name, db::JobState& out) {
  auto v = db::ParseJobState(name);
  if (v) out = *v;
  return v.has_value();
}
bool FromWire(const std::string& name, db::JobOutcome& out) {
  auto v = db::ParseJobOutcome(name);
  if (v) out = *v;
  return v.has_value();
}
bool FromWire(const std::string& name, db::Invocation& out) {
  auto v = db::ParseInvocation(name);
  if (v) out = *v;
  return v.has_value();
}
template <typename W, typename T>
  requires std::is_assignable_v<T&, const W&>
bool FromWire(const W& wire, T& out) {
  out = wire;
  return true;
}

// A proto3 field without presence: set when not 0 / "" / false.
template <typename W>
bool NotDefault(const W& wire) {
  return wire != W{};
}

// `present`: the proto's presence bit, or NotDefault where the field has none.
template <typename T, typename W>
void Assign(T& out, const W& wire, bool /*present*/) {
  FromWire(wire, out);
}
template <typename T, typename W>
void Assign(std::optional<T>& out, const W& wire, bool present) {
  if (!present) return;
  T value{};
  if (FromWire(wire, value)) out = std::move(value);
}

}  // namespace

v1::Job ToProto(const db::Job& j) {
  v1::Job p;
#define CHIME_JOB_TO_PROTO(member, column, proto, json, encoding) \
  if (const auto* v = Present(j.member)) p.set_##proto(ProtoValue(*v));
  CHIME_JOB_FIELDS(CHIME_JOB_TO_PROTO)
#undef CHIME_JOB_TO_PROTO
  return p;
}

db::Job FromProto(const v1::Job& p) {
  db::Job j;
  // A generic lambda, so that `requires` may ask whether the proto field
  // carries presence (declared `optional`).
#define CHIME_JOB_FROM_PROTO(member, column, proto, json, encoding) \
  [&j](const auto& m) {                                              \
    if constexpr (requires { m.has_##proto(); }) {                   \
      Assign(j.member, m.proto(), m.has_##proto());                  \
    } else {                                                         \
      Assign(j.member, m.proto(), NotDefault(m.proto()));            \
    }                                                                \
  }(p);
  CHIME_JOB_FIELDS(CHIME_JOB_FROM_PROTO)
#undef CHIME_JOB_FROM_PROTO
  return j;
}

v1::Run ToProto(const db::Run& r) {
  v1::Run p;
  p.set_id(r.id);
  p.set_job_id(r.job_id);
  p.set_attempt(r.attempt);
  p.set_worker_id(r.worker_id);
  p.set_started_at_ms(Ms(r.started_at));
  p.set_finished_at_ms(Ms(r.finished_at));
  p.set_outcome(std::string(db::RunOutcomeName(r.outcome)));
  p.set_duration_ms(std::chrono::duration_cast<milliseconds>(r.finished_at - r.started_at).count());
  p.set_summary_json(r.summary);
  for (const auto& e : r.errors) p.add_errors(e);
  p.set_dry_run(r.dry_run);
  p.set_final(r.final);
  if (r.job_outcome) p.set_job_outcome(std::string(db::JobOutcomeName(*r.job_outcome)));
  p.set_started_at_us(Us(r.started_at));
  p.set_finished_at_us(Us(r.finished_at));
  return p;
}

db::Run FromProto(const v1::Run& p) {
  db::Run r;
  r.id = p.id();
  r.job_id = p.job_id();
  r.attempt = p.attempt();
  r.worker_id = p.worker_id();
  r.started_at = Time(p.started_at_ms());
  r.finished_at = Time(p.finished_at_ms());
  r.outcome = db::ParseRunOutcome(p.outcome()).value_or(db::RunOutcome::kFailed);
  r.summary = p.summary_json();
  r.errors.assign(p.errors().begin(), p.errors().end());
  r.dry_run = p.dry_run();
  r.final = p.final();
  r.job_outcome = db::ParseJobOutcome(p.job_outcome());
  if (p.started_at_us() != 0) r.started_at = FromUs(p.started_at_us());
  if (p.finished_at_us() != 0) r.finished_at = FromUs(p.finished_at_us());
  return r;
}

v1::JobPage ToProto(const db::JobPage& page) {
  v1::JobPage p;
  for (const auto& j : page.jobs) *p.add_jobs() = ToProto(j);
  if (page.next_before_id) p.set_next_before_id(*page.next_before_id);
  return p;
}

db::JobPage FromProto(const v1::JobPage& p) {
  db::JobPage page;
  for (const auto& j : p.jobs()) page.jobs.push_back(FromProto(j));
  if (p.has_next_before_id()) page.next_before_id = p.next_before_id();
  return page;
}

v1::JobWithRuns ToProto(const db::JobWithRuns& jr) {
  v1::JobWithRuns p;
  *p.mutable_job() = ToProto(jr.job);
  for (const auto& r : jr.runs) *p.add_runs() = ToProto(r);
  for (const auto& [state, n] : jr.children) {
    (*p.mutable_children_by_state())[std::string(db::JobStateName(state))] = n;
  }
  for (const auto& [outcome, n] : jr.children_outcomes) (*p.mutable_children_by_outcome())[outcome] = n;
  for (const auto& w : jr.waiting_on) {
    auto* q = p.add_waiting_on();
    q->set_limit(w.limit);
    q->set_partition(w.partition);
    q->set_concurrency(w.concurrency.value_or(0));
    q->set_running(w.running);
    q->set_rate(w.rate.value_or(0));
    q->set_rate_window_ms(w.rate_window.count());
    q->set_started_in_window(w.started_in_window);
    q->set_next_slot_us(w.next_slot ? internal::Us(*w.next_slot) : 0);
  }
  p.set_queue_paused_at_ms(internal::Ms(jr.queue_paused_at));
  p.set_queue_paused_by(jr.queue_paused_by);
  return p;
}

db::JobWithRuns FromProto(const v1::JobWithRuns& p) {
  db::JobWithRuns jr;
  jr.job = FromProto(p.job());
  for (const auto& r : p.runs()) jr.runs.push_back(FromProto(r));
  for (const auto& [name, n] : p.children_by_state()) {
    if (auto state = db::ParseJobState(name)) jr.children[*state] = n;
  }
  for (const auto& [outcome, n] : p.children_by_outcome()) jr.children_outcomes[outcome] = n;
  for (const auto& q : p.waiting_on()) {
    db::LimitWait w;
    w.limit = q.limit();
    w.partition = q.partition();
    if (q.concurrency() > 0) w.concurrency = q.concurrency();
    w.running = q.running();
    if (q.rate() > 0) w.rate = q.rate();
    w.rate_window = std::chrono::milliseconds(q.rate_window_ms());
    w.started_in_window = q.started_in_window();
    if (q.next_slot_us() != 0) w.next_slot = internal::FromUs(q.next_slot_us());
    jr.waiting_on.push_back(std::move(w));
  }
  jr.queue_paused_at = internal::OptTime(p.queue_paused_at_ms());
  jr.queue_paused_by = p.queue_paused_by();
  return jr;
}

v1::StatsReply ToProto(const db::Stats& s) {
  v1::StatsReply p;
  for (const auto& row : s.rows) {
    auto* c = p.add_counts();
    c->set_queue(row.queue);
    c->set_kind(row.kind);
    c->set_state(std::string(db::JobStateName(row.state)));
    c->set_count(row.count);
  }
  for (const auto& q : s.queues) {
    auto* d = p.add_queues();
    d->set_queue(q.queue);
    d->set_ready(q.ready);
    d->set_oldest_ready_age_ms(q.oldest_ready_age.count());
  }
  return p;
}

v1::WorkerInfo ToProto(const db::WorkerRow& w) {
  v1::WorkerInfo p;
  p.set_worker_id(w.worker_id);
  p.set_host(w.host);
  p.set_pid(w.pid);
  for (const auto& q : w.queues) p.add_queues(q);
  p.set_slots(w.slots);
  p.set_free_slots(w.free_slots);
  for (int64_t job : w.running_jobs) p.add_running_jobs(job);
  p.set_last_seen_ms(Ms(w.last_seen));
  p.set_version(w.version);
  return p;
}

db::WorkerRow FromProto(const v1::WorkerInfo& p) {
  db::WorkerRow w;
  w.worker_id = p.worker_id();
  w.host = p.host();
  w.pid = p.pid();
  w.queues.assign(p.queues().begin(), p.queues().end());
  w.slots = p.slots();
  w.free_slots = p.free_slots();
  w.running_jobs.assign(p.running_jobs().begin(), p.running_jobs().end());
  w.last_seen = Time(p.last_seen_ms());
  w.version = p.version();
  return w;
}

db::Stats FromProto(const v1::StatsReply& p) {
  db::Stats s;
  for (const auto& c : p.counts()) {
    s.rows.push_back({c.queue(), c.kind(),
                      db::ParseJobState(c.state()).value_or(db::JobState::kAvailable), c.count()});
  }
  for (const auto& q : p.queues()) {
    s.queues.push_back({q.queue(), q.ready(), milliseconds(q.oldest_ready_age_ms())});
  }
  return s;
}

v1::EnqueueRequest ToProto(const db::EnqueueParams& e) {
  v1::EnqueueRequest p;
  p.set_kind(e.kind);
  p.set_queue(e.queue);
  p.set_priority(e.priority);
  p.set_payload_json(e.payload);
  if (e.run_at) p.set_run_at_ms(Ms(*e.run_at));
  p.set_delay_ms(e.delay.count());
  p.set_max_attempts(e.max_attempts);
  if (e.timeout) p.set_timeout_ms(e.timeout->count());
  if (e.unique_key) p.set_unique_key(*e.unique_key);
  if (e.parent_id) p.set_parent_id(*e.parent_id);
  p.set_dry_run(e.dry_run);
  return p;
}

Result<db::EnqueueParams> FromProto(const v1::EnqueueRequest& p) {
  db::EnqueueParams e;
  e.kind = p.kind();
  if (!p.queue().empty()) e.queue = p.queue();
  e.priority = p.priority();
  if (!p.payload_json().empty()) e.payload = p.payload_json();
  if (p.has_run_at_ms()) e.run_at = Time(p.run_at_ms());
  if (p.delay_ms() < 0) return Fail(ErrorCode::kInvalidArgument, "delay: must not be negative");
  e.delay = milliseconds(p.delay_ms());
  if (p.max_attempts() != 0) e.max_attempts = p.max_attempts();
  if (p.has_timeout_ms()) e.timeout = milliseconds(p.timeout_ms());
  if (p.has_unique_key()) e.unique_key = p.unique_key();
  if (p.has_parent_id()) e.parent_id = p.parent_id();
  e.dry_run = p.dry_run();
  return e;  // The store validates the rest and names the field.
}

v1::ListRequest ToProto(const db::ListParams& l) {
  v1::ListRequest p;
  for (auto s : l.states) p.add_states(std::string(db::JobStateName(s)));
  if (l.kind) p.set_kind(*l.kind);
  if (l.queue) p.set_queue(*l.queue);
  if (l.since) p.set_since_ms(Ms(*l.since));
  if (l.until) p.set_until_ms(Ms(*l.until));
  if (l.before_id) p.set_before_id(*l.before_id);
  p.set_limit(l.limit);
  if (l.schedule) p.set_schedule(*l.schedule);
  return p;
}

Result<db::ListParams> FromProto(const v1::ListRequest& p) {
  db::ListParams l;
  for (const auto& name : p.states()) {
    auto s = db::ParseJobState(name);
    if (!s) return Fail(ErrorCode::kInvalidArgument, "state: unknown state '" + name.substr(0, 64) + "'");
    l.states.push_back(*s);
  }
  if (p.has_kind()) l.kind = p.kind();
  if (p.has_queue()) l.queue = p.queue();
  if (p.has_since_ms()) l.since = Time(p.since_ms());
  if (p.has_until_ms()) l.until = Time(p.until_ms());
  if (p.has_before_id()) l.before_id = p.before_id();
  if (p.limit() != 0) l.limit = p.limit();
  if (p.has_schedule()) l.schedule = p.schedule();
  return l;
}

v1::ErrorCode ToProto(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return v1::INVALID_ARGUMENT;
    case ErrorCode::kNotFound: return v1::NOT_FOUND;
    case ErrorCode::kAlreadyExists: return v1::ALREADY_EXISTS;
    case ErrorCode::kFailedPrecondition: return v1::FAILED_PRECONDITION;
    case ErrorCode::kLeaseLost: return v1::LEASE_LOST;
    case ErrorCode::kUnavailable: return v1::UNAVAILABLE;
    case ErrorCode::kRetryable: return v1::RETRYABLE;
    case ErrorCode::kUnauthenticated: return v1::UNAUTHENTICATED;
    case ErrorCode::kPermissionDenied: return v1::PERMISSION_DENIED;
    case ErrorCode::kInternal: return v1::INTERNAL;
  }
  return v1::INTERNAL;
}

ErrorCode FromProto(v1::ErrorCode code) {
  switch (code) {
    case v1::INVALID_ARGUMENT: return ErrorCode::kInvalidArgument;
    case v1::NOT_FOUND: return ErrorCode::kNotFound;
    case v1::ALREADY_EXISTS: return ErrorCode::kAlreadyExists;
    case v1::FAILED_PRECONDITION: return ErrorCode::kFailedPrecondition;
    case v1::UNAUTHENTICATED: return ErrorCode::kUnauthenticated;
    case v1::PERMISSION_DENIED: return ErrorCode::kPermissionDenied;
    case v1::UNAVAILABLE: return ErrorCode::kUnavailable;
    case v1::RETRYABLE: return ErrorCode::kRetryable;
    case v1::LEASE_LOST: return ErrorCode::kLeaseLost;
    case v1::UNSUPPORTED: return ErrorCode::kInvalidArgument;
    default: return ErrorCode::kInternal;
  }
}

v1::Error ToProto(const Error& e) {
  v1::Error p;
  p.set_code(ToProto(e.code));
  p.set_message(e.message);
  return p;
}

Error FromProto(const v1::Error& p) { return Error{FromProto(p.code()), p.message()}; }

}  // namespace chime::wire
