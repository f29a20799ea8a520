#include "common/wire/stats_convert.h"

namespace chime::wire {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

int64_t Ms(db::TimePoint t) { return duration_cast<milliseconds>(t.time_since_epoch()).count(); }
db::TimePoint At(int64_t ms) { return db::TimePoint(milliseconds(ms)); }

}  // namespace

v1::RunStatsRequest ToProto(const db::StatsParams& params) {
  v1::RunStatsRequest r;
  r.set_scope(std::string(db::StatsScopeName(params.scope)));
  if (params.name) r.set_name(*params.name);
  r.set_hours(static_cast<int32_t>(params.range.count()));
  r.set_recent_failures(params.recent_failures);
  return r;
}

Result<db::StatsParams> FromProto(const v1::RunStatsRequest& r) {
  db::StatsParams p;
  if (!r.scope().empty()) {
    auto scope = db::ParseStatsScope(r.scope());
    if (!scope) return Fail(ErrorCode::kInvalidArgument, "scope: must be schedule or kind");
    p.scope = *scope;
  }
  if (r.has_name()) p.name = r.name();
  if (r.hours() != 0) p.range = std::chrono::hours(r.hours());
  if (r.has_recent_failures()) p.recent_failures = r.recent_failures();
  return p;
}

v1::RunStatsReply ToProto(const db::StatsReport& report) {
  v1::RunStatsReply out;
  out.set_scope(std::string(db::StatsScopeName(report.scope)));
  out.set_since_ms(Ms(report.since));
  out.set_until_ms(Ms(report.until));
  out.set_hours(static_cast<int32_t>(report.range.count()));
  for (const auto& row : report.rows) {
    v1::RunStatsRow* r = out.add_rows();
    r->set_name(row.name);
    if (row.schedule_id) r->set_schedule_id(*row.schedule_id);
    r->set_total(row.total);
    r->set_succeeded(row.succeeded);
    r->set_failed(row.failed);
    r->set_partial(row.partial);
    r->set_cancelled(row.cancelled);
    if (row.success_rate) r->set_success_rate(*row.success_rate);
    if (row.failure_rate) r->set_failure_rate(*row.failure_rate);
    if (row.avg_duration_ms) r->set_avg_duration_ms(*row.avg_duration_ms);
    if (row.p95_duration_ms) r->set_p95_duration_ms(*row.p95_duration_ms);
    if (row.last_execution) r->set_last_execution_ms(Ms(*row.last_execution));
    if (row.last_status) r->set_last_status(*row.last_status);
    if (row.last_success) r->set_last_success_ms(Ms(*row.last_success));
    r->set_consecutive_failures(row.consecutive_failures);
    r->set_skipped(row.skipped);
    v1::AttemptStats* a = r->mutable_attempts();
    a->set_total(row.attempts.total);
    a->set_succeeded(row.attempts.succeeded);
    a->set_partial(row.attempts.partial);
    a->set_skipped(row.attempts.skipped);
    a->set_failed(row.attempts.failed);
    a->set_cancelled(row.attempts.cancelled);
    if (row.last_success_job_id) r->set_last_success_job_id(*row.last_success_job_id);
    r->set_last_success_attempts(row.last_success_attempts);
    r->set_failures_before_last_success(row.failures_before_last_success);
    for (const auto& f : row.recent_failures) {
      v1::RecentFailure* p = r->add_recent_failures();
      p->set_job_id(f.job_id);
      p->set_attempt(f.attempt);
      p->set_finished_at_ms(Ms(f.finished_at));
      p->set_outcome(f.outcome);
      p->set_error(f.error);
      p->set_response(f.response);
    }
  }
  return out;
}

db::StatsReport FromProto(const v1::RunStatsReply& reply) {
  db::StatsReport report;
  report.scope = db::ParseStatsScope(reply.scope()).value_or(db::StatsScope::kSchedule);
  report.since = At(reply.since_ms());
  report.until = At(reply.until_ms());
  report.range = std::chrono::hours(reply.hours());
  for (const auto& r : reply.rows()) {
    db::StatsRow row;
    row.name = r.name();
    if (r.has_schedule_id()) row.schedule_id = r.schedule_id();
    row.total = r.total();
    row.succeeded = r.succeeded();
    row.failed = r.failed();
    row.partial = r.partial();
    row.cancelled = r.cancelled();
    if (r.has_success_rate()) row.success_rate = r.success_rate();
    if (r.has_failure_rate()) row.failure_rate = r.failure_rate();
    if (r.has_avg_duration_ms()) row.avg_duration_ms = r.avg_duration_ms();
    if (r.has_p95_duration_ms()) row.p95_duration_ms = r.p95_duration_ms();
    if (r.has_last_execution_ms()) row.last_execution = At(r.last_execution_ms());
    if (r.has_last_status()) row.last_status = r.last_status();
    if (r.has_last_success_ms()) row.last_success = At(r.last_success_ms());
    row.consecutive_failures = r.consecutive_failures();
    row.skipped = r.skipped();
    row.attempts = db::AttemptCounts{.total = r.attempts().total(),
                                     .succeeded = r.attempts().succeeded(),
                                     .partial = r.attempts().partial(),
                                     .skipped = r.attempts().skipped(),
                                     .failed = r.attempts().failed(),
                                     .cancelled = r.attempts().cancelled()};
    if (r.has_last_success_job_id()) row.last_success_job_id = r.last_success_job_id();
    row.last_success_attempts = r.last_success_attempts();
    row.failures_before_last_success = r.failures_before_last_success();
    for (const auto& f : r.recent_failures()) {
      row.recent_failures.push_back(db::RecentFailure{.job_id = f.job_id(), .attempt = f.attempt(),
                                                      .finished_at = At(f.finished_at_ms()),
                                                      .outcome = f.outcome(), .error = f.error(),
                                                      .response = f.response()});
    }
    report.rows.push_back(std::move(row));
  }
  return report;
}

v1::Alert ToProto(const db::AlertRow& a) {
  v1::Alert p;
  p.set_id(a.id);
  p.set_schedule_id(a.schedule_id);
  p.set_schedule_name(a.schedule_name);
  p.set_rule(a.rule);
  p.set_state(a.state);
  p.set_message(a.message);
  p.set_values_json(a.values_json);
  p.set_fired_at_ms(Ms(a.fired_at));
  if (a.resolved_at) p.set_resolved_at_ms(Ms(*a.resolved_at));
  p.set_delivery(a.delivery);
  p.set_delivered_state(a.delivered_state.value_or(""));
  p.set_delivery_attempts(a.delivery_attempts);
  p.set_next_delivery_at_ms(Ms(a.next_delivery_at));
  p.set_delivery_error(a.delivery_error.value_or(""));
  p.set_resolution(a.resolution.value_or(""));
  return p;
}

db::AlertRow FromProto(const v1::Alert& p) {
  db::AlertRow a;
  a.id = p.id();
  a.schedule_id = p.schedule_id();
  a.schedule_name = p.schedule_name();
  a.rule = p.rule();
  a.state = p.state();
  a.message = p.message();
  a.values_json = p.values_json();
  a.fired_at = At(p.fired_at_ms());
  if (p.has_resolved_at_ms()) a.resolved_at = At(p.resolved_at_ms());
  a.delivery = p.delivery();
  if (!p.delivered_state().empty()) a.delivered_state = p.delivered_state();
  a.delivery_attempts = p.delivery_attempts();
  a.next_delivery_at = At(p.next_delivery_at_ms());
  if (!p.delivery_error().empty()) a.delivery_error = p.delivery_error();
  if (!p.resolution().empty()) a.resolution = p.resolution();
  return a;
}

}  // namespace chime::wire
