#include "common/view/json_view.h"

#include "common/base/text_format.h"
#include "common/db/job_fields.h"

namespace chime::view {
namespace {

using json = nlohmann::ordered_json;

std::string Time(db::TimePoint t) { return FormatRfc3339(t, TimePrecision::kMillis); }

template <typename T, typename F>
json OrNull(const std::optional<T>& value, F&& convert) {
  return value ? json(convert(*value)) : json(nullptr);
}

template <typename T>
json OrNull(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

// Stored JSON text as a JSON value; text that does not parse stays a string.
json Embedded(const std::string& text) {
  if (text.empty()) return nullptr;
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? json(text) : parsed;
}

// A job field's value (common/db/job_fields.h) as its type says.
template <typename T>
json FieldJson(const T& value) {
  return json(value);
}
json FieldJson(db::TimePoint t) { return Time(t); }
json FieldJson(std::chrono::milliseconds d) { return d.count(); }
json FieldJson(db::JobState s) { return std::string(db::JobStateName(s)); }
json FieldJson(db::JobOutcome o) { return std::string(db::JobOutcomeName(o)); }
json FieldJson(db::Invocation i) { return std::string(db::InvocationName(i)); }
template <typename T>
json FieldJson(const std::optional<T>& value) {
  return value ? FieldJson(*value) : json(nullptr);
}

template <db::JobFieldEncoding kEncoding, typename T>
json JobFieldJson(const db::Job& job, const T& value) {
  if constexpr (kEncoding == db::JobFieldEncoding::kJsonText) {
    if constexpr (requires { value.has_value(); }) {
      return value ? Embedded(*value) : json(nullptr);
    } else {
      return Embedded(value);
    }
  } else if constexpr (kEncoding == db::JobFieldEncoding::kWhileWaiting) {
    return job.Waiting() ? FieldJson(value) : json(nullptr);
  } else {
    return FieldJson(value);
  }
}

}  // namespace

json JobJson(const db::Job& job) {
  json out = json::object();
#define CHIME_JOB_TO_JSON(member, column, proto, key, encoding) \
  out[key] = JobFieldJson<db::JobFieldEncoding::encoding>(job, job.member);
  CHIME_JOB_FIELDS(CHIME_JOB_TO_JSON)
#undef CHIME_JOB_TO_JSON
  return out;
}

json RunJson(const db::Run& run) {
  const auto duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(run.finished_at - run.started_at);
  return json{
      {"id", run.id},
      {"job_id", run.job_id},
      {"attempt", run.attempt},
      {"worker_id", run.worker_id},
      {"started_at", Time(run.started_at)},
      {"finished_at", Time(run.finished_at)},
      {"duration_ms", duration.count()},
      {"outcome", std::string(db::RunOutcomeName(run.outcome))},
      {"summary", Embedded(run.summary)},
      {"errors", run.errors},
      {"dry_run", run.dry_run},
      {"final", run.final},
      {"job_outcome", OrNull(run.job_outcome, [](auto o) { return std::string(db::JobOutcomeName(o)); })},
  };
}

json RunItemJson(const db::RunListItem& item) {
  json out = RunJson(item.run);
  out["kind"] = item.kind;
  out["queue"] = item.queue;
  out["schedule_id"] = OrNull(item.schedule_id);
  out["schedule"] = OrNull(item.schedule);
  out["scheduled_for"] = OrNull(item.scheduled_for, Time);
  return out;
}

json RunPageJson(const db::RunPage& page) {
  json runs = json::array();
  for (const auto& r : page.runs) runs.push_back(RunItemJson(r));
  return json{{"runs", std::move(runs)}, {"next_before_id", OrNull(page.next_before_id)}};
}

json JobWithRunsJson(const db::JobWithRuns& job) {
  json out = JobJson(job.job);
  json runs = json::array();
  for (const auto& run : job.runs) runs.push_back(RunJson(run));
  out["runs"] = std::move(runs);
  json children = json::object();
  for (const auto& [state, n] : job.children) children[std::string(db::JobStateName(state))] = n;
  out["children"] = std::move(children);
  json outcomes = json::object();
  for (const auto& [outcome, n] : job.children_outcomes) outcomes[outcome.empty() ? "live" : outcome] = n;
  out["children_outcomes"] = std::move(outcomes);
  json waiting = json::array();
  for (const auto& w : job.waiting_on) {
    waiting.push_back(json{{"limit", w.limit},
                           {"partition", w.partition},
                           {"concurrency", OrNull(w.concurrency)},
                           {"running", w.running},
                           {"rate", OrNull(w.rate)},
                           {"rate_window_ms", w.rate_window.count()},
                           {"started_in_window", w.started_in_window},
                           {"next_slot", w.next_slot ? json(FormatRfc3339(*w.next_slot, TimePrecision::kMillis))
                                                     : json(nullptr)}});
  }
  out["waiting_on"] = std::move(waiting);
  // A job in a paused queue: {"since", "by"}; null otherwise.
  out["queue_paused"] = job.queue_paused_at ? json{{"since", Time(*job.queue_paused_at)}, {"by", job.queue_paused_by}}
                                            : json(nullptr);
  return out;
}

json LimitJson(const db::LimitRow& row) {
  json parts = json::array();
  for (const auto& p : row.partitions) {
    parts.push_back({{"partition", p.partition}, {"running", p.running}, {"started_in_window", p.started_in_window}});
  }
  return json{{"name", row.spec.name},
              {"queue", OrNull(row.spec.queue)},
              {"kind", OrNull(row.spec.kind)},
              {"partition_by", OrNull(row.spec.partition_by)},
              {"concurrency", OrNull(row.spec.concurrency)},
              {"rate", OrNull(row.spec.rate, [](const auto& r) { return schedule::FormatLimitRate(r); })},
              {"source", row.source == db::LimitSource::kFile ? "file" : "api"},
              {"running", row.running},
              {"ready", row.ready},
              {"partitions_in_use", row.partitions_total},
              {"held_back", row.held_back},
              {"partitions", parts},
              {"created_at", Time(row.created_at)},
              {"updated_at", Time(row.updated_at)}};
}

json LimitsJson(const std::vector<db::LimitRow>& rows) {
  json list = json::array();
  for (const auto& row : rows) list.push_back(LimitJson(row));
  return json{{"limits", list}};
}

json QueueJson(const db::QueueRow& row) {
  return json{{"queue", row.name},
              {"paused", row.paused()},
              {"paused_at", OrNull(row.paused_at, Time)},
              {"changed_by", row.changed_by.empty() ? json(nullptr) : json(row.changed_by)},
              {"changed_at", OrNull(row.changed_at, Time)},
              {"ready", row.ready},
              {"scheduled", row.scheduled},
              {"running", row.running},
              {"oldest_ready_age_ms", row.oldest_ready_age.count()}};
}

json QueuesJson(const std::vector<db::QueueRow>& rows) {
  json list = json::array();
  for (const auto& row : rows) list.push_back(QueueJson(row));
  return json{{"queues", list}};
}

json FirePageJson(const db::FirePage& page) {
  json fires = json::array();
  for (const auto& f : page.fires) {
    fires.push_back(json{
        {"schedule_id", f.schedule_id},
        {"scheduled_for", FormatRfc3339(f.scheduled_for, TimePrecision::kMicros)},
        {"fired_at", Time(f.fired_at)},
        {"origin", std::string(db::FireOriginName(f.origin))},
        {"outcome", std::string(db::FireOutcomeName(f.outcome))},
        {"job_id", OrNull(f.job_id)},
        {"leader_epoch", f.leader_epoch},
        {"job_state", OrNull(f.job_state, [](auto s) { return std::string(db::JobStateName(s)); })},
        {"job_outcome", OrNull(f.job_outcome, [](auto o) { return std::string(db::JobOutcomeName(o)); })},
        {"attempts", OrNull(f.attempts)},
    });
  }
  return json{{"fires", std::move(fires)},
              {"next_before", OrNull(page.next_before, [](auto t) {
                 return FormatRfc3339(t, TimePrecision::kMicros);
               })}};
}

json JobPageJson(const db::JobPage& page) {
  json jobs = json::array();
  for (const auto& job : page.jobs) jobs.push_back(JobJson(job));
  return json{{"jobs", std::move(jobs)},
              {"next_before_id", OrNull(page.next_before_id)},
              {"searched_to_id", OrNull(page.searched_to_id)}};
}

json EnqueueResultJson(const db::EnqueueResult& result) {
  return json{{"id", result.id},
              {"existing", result.existing},
              {"state", std::string(db::JobStateName(result.state))}};
}

json StatsJson(const db::Stats& stats) {
  json states = json::object();
  for (auto s : db::kJobStates) {
    states[std::string(db::JobStateName(s))] = 0;
  }
  json rows = json::array();
  for (const auto& row : stats.rows) {
    const std::string state(db::JobStateName(row.state));
    states[state] = states[state].get<int64_t>() + row.count;
    rows.push_back(
        json{{"queue", row.queue}, {"kind", row.kind}, {"state", state}, {"count", row.count}});
  }
  json queues = json::array();
  for (const auto& q : stats.queues) {
    queues.push_back(json{{"queue", q.queue},
                          {"ready", q.ready},
                          {"oldest_ready_age_ms", q.oldest_ready_age.count()}});
  }
  return json{{"states", std::move(states)}, {"rows", std::move(rows)}, {"queues", std::move(queues)}};
}

json MigrationJson(const db::MigrationStatus& status) {
  return json{{"current_version", status.current_version},
              {"latest_version", status.latest_version},
              {"up_to_date", status.current_version >= status.latest_version},
              {"applied_now", status.applied_now}};
}

std::string DumpJson(const json& value) {
  return value.dump(2, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace) + "\n";
}

json WorkersJson(const std::vector<WorkerView>& workers) {
  json list = json::array();
  for (const auto& w : workers) {
    list.push_back(json{
        {"worker_id", w.worker_id},
        {"host", w.host},
        {"pid", w.pid},
        {"queues", w.queues},
        {"slots", w.slots},
        {"free_slots", w.free_slots},
        {"running_jobs", w.running_jobs},
        {"last_seen", Time(w.last_seen)},
        {"version", w.version},
    });
  }
  return json{{"workers", std::move(list)}};
}

json ScheduleSpecJson(const schedule::ScheduleSpec& spec) {
  return json{
      {"name", spec.name},
      {"cron", spec.cron},
      {"time_zone", spec.time_zone},
      {"kind", spec.kind},
      {"payload", Embedded(spec.payload)},
      {"queue", spec.queue},
      {"priority", spec.priority},
      {"max_attempts", spec.max_attempts},
      {"timeout_ms", OrNull(spec.timeout, [](auto d) { return d.count(); })},
      {"jitter_ms", spec.jitter.count()},
      {"overlap", std::string(schedule::OverlapPolicyName(spec.overlap))},
      {"misfire", std::string(schedule::MisfirePolicyName(spec.misfire))},
      {"paused", spec.paused},
      {"health", Embedded(schedule::HealthToJson(spec.health))},
  };
}

namespace {

json ScheduleRowJson(const db::ScheduleRow& row) {
  json out{{"id", row.id}};
  const json spec = ScheduleSpecJson(row.spec);
  for (const auto& [key, value] : spec.items()) out[key] = value;
  out["source"] = std::string(db::ScheduleSourceName(row.source));
  out["last_fired_for"] = OrNull(row.last_fired_for, Time);
  out["created_at"] = Time(row.created_at);
  out["updated_at"] = Time(row.updated_at);
  return out;
}

}  // namespace

json ScheduleJson(const db::ScheduleRow& row, const std::vector<TimePoint>& next_fires) {
  json out = ScheduleRowJson(row);
  json next = json::array();
  for (TimePoint t : next_fires) next.push_back(Time(t));
  out["next_fires"] = std::move(next);
  return out;
}

json ScheduleStatusJson(const db::ScheduleStatus& s, const std::optional<TimePoint>& next_fire) {
  json out = ScheduleRowJson(s.row);
  out["state"] = s.row.spec.paused ? "paused" : "active";
  out["next_fire"] = OrNull(next_fire, Time);
  out["last_fire_for"] = OrNull(s.last_fire_for, Time);
  out["last_fire_outcome"] =
      OrNull(s.last_fire_outcome, [](auto o) { return std::string(db::FireOutcomeName(o)); });
  out["last_job_id"] = OrNull(s.last_job_id);
  out["last_job_state"] =
      OrNull(s.last_job_state, [](auto st) { return std::string(db::JobStateName(st)); });
  out["last_run_outcome"] =
      OrNull(s.last_run_outcome, [](auto o) { return std::string(db::JobOutcomeName(o)); });
  out["last_run_finished_at"] = OrNull(s.last_run_finished_at, Time);
  return out;
}

json LeaderJson(const std::optional<db::LeaderState>& leader) {
  if (!leader) return nullptr;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(leader->expires_at - leader->db_now);
  return json{
      {"holder", leader->holder},
      {"epoch", leader->epoch},
      {"acquired_at", Time(leader->acquired_at)},
      {"expires_at", Time(leader->expires_at)},
      {"db_now", Time(leader->db_now)},
      {"leading", leader->expires_at > leader->db_now},
      {"expires_in_ms", left.count()},
  };
}

json FireResultJson(const db::FireResult& fire) {
  return json{
      {"schedule_id", fire.schedule_id},
      {"scheduled_for", Time(fire.scheduled_for)},
      {"outcome", OrNull(fire.outcome, [](auto o) { return std::string(db::FireOutcomeName(o)); })},
      {"job_id", OrNull(fire.job_id)},
  };
}

}  // namespace chime::view
