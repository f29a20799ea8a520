#include "common/wire/schedule_convert.h"

#include <chrono>

#include "common/wire/millis.h"

namespace chime::wire {
namespace {

using std::chrono::milliseconds;

using internal::Ms;
using internal::OptTime;
using internal::Time;

}  // namespace

v1::ScheduleSpec ToProto(const schedule::ScheduleSpec& s) {
  v1::ScheduleSpec p;
  p.set_name(s.name);
  p.set_cron(s.cron);
  p.set_time_zone(s.time_zone);
  p.set_kind(s.kind);
  p.set_payload_json(s.payload);
  p.set_queue(s.queue);
  p.set_priority(s.priority);
  p.set_max_attempts(s.max_attempts);
  if (s.timeout) p.set_timeout_ms(s.timeout->count());
  p.set_jitter_ms(s.jitter.count());
  p.set_overlap(std::string(schedule::OverlapPolicyName(s.overlap)));
  p.set_misfire(std::string(schedule::MisfirePolicyName(s.misfire)));
  p.set_paused(s.paused);
  if (!s.health.IsDefault()) p.set_health_json(schedule::HealthToJson(s.health));
  return p;
}

Result<schedule::ScheduleSpec> FromProto(const v1::ScheduleSpec& p) {
  schedule::ScheduleSpec s;
  s.name = p.name();
  s.cron = p.cron();
  if (!p.time_zone().empty()) s.time_zone = p.time_zone();
  s.kind = p.kind();
  if (!p.payload_json().empty()) s.payload = p.payload_json();
  if (!p.queue().empty()) s.queue = p.queue();
  s.priority = p.priority();
  if (p.max_attempts() != 0) s.max_attempts = p.max_attempts();
  if (p.has_timeout_ms()) s.timeout = milliseconds(p.timeout_ms());
  s.jitter = milliseconds(p.jitter_ms());
  if (!p.overlap().empty()) {
    auto overlap = schedule::ParseOverlapPolicy(p.overlap());
    if (!overlap) return Fail(ErrorCode::kInvalidArgument, "overlap: unknown policy");
    s.overlap = *overlap;
  }
  if (!p.misfire().empty()) {
    auto misfire = schedule::ParseMisfirePolicy(p.misfire());
    if (!misfire) return Fail(ErrorCode::kInvalidArgument, "misfire: unknown policy");
    s.misfire = *misfire;
  }
  s.paused = p.paused();
  auto health = schedule::HealthFromJson(p.health_json());
  if (!health) return std::unexpected(health.error());
  s.health = std::move(*health);
  return s;
}

v1::Schedule ToProto(const db::ScheduleRow& row) {
  v1::Schedule p;
  p.set_id(row.id);
  *p.mutable_spec() = ToProto(row.spec);
  p.set_source(std::string(db::ScheduleSourceName(row.source)));
  p.set_last_fired_for_ms(Ms(row.last_fired_for));
  p.set_created_at_ms(Ms(row.created_at));
  p.set_updated_at_ms(Ms(row.updated_at));
  return p;
}

v1::Schedule ToProto(const db::ScheduleStatus& s) {
  v1::Schedule p = ToProto(s.row);
  p.set_last_fire_for_ms(Ms(s.last_fire_for));
  if (s.last_fire_outcome) p.set_last_fire_outcome(std::string(db::FireOutcomeName(*s.last_fire_outcome)));
  if (s.last_job_id) p.set_last_job_id(*s.last_job_id);
  if (s.last_job_state) p.set_last_job_state(std::string(db::JobStateName(*s.last_job_state)));
  if (s.last_run_outcome) p.set_last_run_outcome(std::string(db::JobOutcomeName(*s.last_run_outcome)));
  p.set_last_run_finished_at_ms(Ms(s.last_run_finished_at));
  return p;
}

Result<db::ScheduleRow> FromProto(const v1::Schedule& p) {
  auto spec = FromProto(p.spec());
  if (!spec) return std::unexpected(spec.error());
  db::ScheduleRow row;
  row.id = p.id();
  row.spec = std::move(*spec);
  row.source = p.source() == "file" ? db::ScheduleSource::kFile : db::ScheduleSource::kApi;
  row.last_fired_for = OptTime(p.last_fired_for_ms());
  row.created_at = Time(p.created_at_ms());
  row.updated_at = Time(p.updated_at_ms());
  return row;
}

Result<db::ScheduleStatus> StatusFromProto(const v1::Schedule& p) {
  auto row = FromProto(p);
  if (!row) return std::unexpected(row.error());
  db::ScheduleStatus s;
  s.row = std::move(*row);
  s.last_fire_for = OptTime(p.last_fire_for_ms());
  s.last_fire_outcome = db::ParseFireOutcome(p.last_fire_outcome());
  if (p.has_last_job_id()) s.last_job_id = p.last_job_id();
  s.last_job_state = db::ParseJobState(p.last_job_state());
  s.last_run_outcome = db::ParseJobOutcome(p.last_run_outcome());
  s.last_run_finished_at = OptTime(p.last_run_finished_at_ms());
  return s;
}

v1::Fire ToProto(const db::FireResult& f) {
  v1::Fire p;
  p.set_schedule_id(f.schedule_id);
  p.set_scheduled_for_ms(Ms(f.scheduled_for));
  if (f.outcome) p.set_outcome(std::string(db::FireOutcomeName(*f.outcome)));
  if (f.job_id) p.set_job_id(*f.job_id);
  return p;
}

db::FireResult FromProto(const v1::Fire& p) {
  db::FireResult f;
  f.schedule_id = p.schedule_id();
  f.scheduled_for = Time(p.scheduled_for_ms());
  f.outcome = db::ParseFireOutcome(p.outcome());
  if (p.has_job_id()) f.job_id = p.job_id();
  return f;
}

v1::LeaderReply ToProto(const std::optional<db::LeaderState>& leader) {
  v1::LeaderReply p;
  if (!leader) return p;
  p.set_present(true);
  p.set_holder(leader->holder);
  p.set_epoch(leader->epoch);
  p.set_expires_at_ms(Ms(leader->expires_at));
  p.set_acquired_at_ms(Ms(leader->acquired_at));
  p.set_db_now_ms(Ms(leader->db_now));
  return p;
}

std::optional<db::LeaderState> FromProto(const v1::LeaderReply& p) {
  if (!p.present()) return std::nullopt;
  return db::LeaderState{.holder = p.holder(),
                         .epoch = p.epoch(),
                         .expires_at = Time(p.expires_at_ms()),
                         .acquired_at = Time(p.acquired_at_ms()),
                         .db_now = Time(p.db_now_ms())};
}

}  // namespace chime::wire
