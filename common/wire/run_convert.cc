#include "common/wire/run_convert.h"

#include "common/wire/convert.h"
#include "common/wire/millis.h"

namespace chime::wire {
namespace {

using internal::FromUs;
using internal::Ms;
using internal::OptTime;
using internal::Time;
using internal::Us;

}  // namespace

v1::RunsRequest ToProto(const db::RunListParams& p) {
  v1::RunsRequest r;
  if (p.schedule) r.set_schedule(*p.schedule);
  if (p.kind) r.set_kind(*p.kind);
  if (p.outcome) r.set_outcome(*p.outcome);
  if (p.since) r.set_since_ms(Ms(*p.since));
  r.set_attempts(p.attempts);
  if (p.before_id) r.set_before_id(*p.before_id);
  r.set_limit(p.limit);
  return r;
}

Result<db::RunListParams> FromProto(const v1::RunsRequest& r) {
  db::RunListParams p;
  if (r.has_schedule()) p.schedule = r.schedule();
  if (r.has_kind()) p.kind = r.kind();
  if (r.has_outcome()) p.outcome = r.outcome();
  if (r.has_since_ms()) p.since = Time(r.since_ms());
  p.attempts = r.attempts();
  if (r.has_before_id()) p.before_id = r.before_id();
  if (r.limit() != 0) p.limit = r.limit();
  return p;  // The store validates and names the field.
}

v1::RunPage ToProto(const db::RunPage& page) {
  v1::RunPage out;
  for (const auto& item : page.runs) {
    v1::RunItem* r = out.add_runs();
    *r->mutable_run() = ToProto(item.run);
    r->set_kind(item.kind);
    r->set_queue(item.queue);
    if (item.schedule_id) r->set_schedule_id(*item.schedule_id);
    r->set_schedule(item.schedule.value_or(""));
    r->set_scheduled_for_ms(Ms(item.scheduled_for));
  }
  if (page.next_before_id) out.set_next_before_id(*page.next_before_id);
  return out;
}

db::RunPage FromProto(const v1::RunPage& p) {
  db::RunPage page;
  for (const auto& r : p.runs()) {
    db::RunListItem item;
    item.run = FromProto(r.run());
    item.kind = r.kind();
    item.queue = r.queue();
    if (r.has_schedule_id()) item.schedule_id = r.schedule_id();
    if (!r.schedule().empty()) item.schedule = r.schedule();
    item.scheduled_for = OptTime(r.scheduled_for_ms());
    page.runs.push_back(std::move(item));
  }
  if (p.has_next_before_id()) page.next_before_id = p.next_before_id();
  return page;
}

v1::ScheduleFiresRequest ToProto(const db::FireListParams& p) {
  v1::ScheduleFiresRequest r;
  r.set_name(p.schedule);
  if (p.before) r.set_before_us(Us(*p.before));
  r.set_limit(p.limit);
  return r;
}

db::FireListParams FromProto(const v1::ScheduleFiresRequest& r) {
  db::FireListParams p;
  p.schedule = r.name();
  if (r.has_before_us()) p.before = FromUs(r.before_us());
  if (r.limit() != 0) p.limit = r.limit();
  return p;
}

v1::FirePage ToProto(const db::FirePage& page) {
  v1::FirePage out;
  for (const auto& f : page.fires) {
    v1::FireRecord* r = out.add_fires();
    r->set_schedule_id(f.schedule_id);
    r->set_scheduled_for_us(Us(f.scheduled_for));
    r->set_fired_at_ms(Ms(f.fired_at));
    r->set_origin(std::string(db::FireOriginName(f.origin)));
    r->set_outcome(std::string(db::FireOutcomeName(f.outcome)));
    if (f.job_id) r->set_job_id(*f.job_id);
    r->set_leader_epoch(f.leader_epoch);
    if (f.job_state) r->set_job_state(std::string(db::JobStateName(*f.job_state)));
    if (f.job_outcome) r->set_job_outcome(std::string(db::JobOutcomeName(*f.job_outcome)));
    if (f.attempts) r->set_attempts(*f.attempts);
  }
  if (page.next_before) out.set_next_before_us(Us(*page.next_before));
  return out;
}

db::FirePage FromProto(const v1::FirePage& p) {
  db::FirePage page;
  for (const auto& r : p.fires()) {
    db::FireRow f;
    f.schedule_id = r.schedule_id();
    f.scheduled_for = FromUs(r.scheduled_for_us());
    f.fired_at = Time(r.fired_at_ms());
    f.origin = db::ParseFireOrigin(r.origin()).value_or(db::FireOrigin::kCron);
    f.outcome = db::ParseFireOutcome(r.outcome()).value_or(db::FireOutcome::kEnqueued);
    if (r.has_job_id()) f.job_id = r.job_id();
    f.leader_epoch = r.leader_epoch();
    f.job_state = db::ParseJobState(r.job_state());
    f.job_outcome = db::ParseJobOutcome(r.job_outcome());
    if (r.has_attempts()) f.attempts = r.attempts();
    page.fires.push_back(std::move(f));
  }
  if (p.has_next_before_us()) page.next_before = FromUs(p.next_before_us());
  return page;
}

}  // namespace chime::wire
