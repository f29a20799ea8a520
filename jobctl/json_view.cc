#include "jobctl/json_view.h"

#include "common/base/text_format.h"

namespace chime::jobctl {
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

}  // namespace

json JobJson(const db::Job& job) {
  return json{
      {"id", job.id},
      {"kind", job.kind},
      {"queue", job.queue},
      {"priority", job.priority},
      {"state", std::string(db::JobStateName(job.state))},
      {"payload", Embedded(job.payload)},
      {"attempt", job.attempt},
      {"max_attempts", job.max_attempts},
      {"rescue_count", job.rescue_count},
      {"timeout_ms", OrNull(job.timeout, [](auto d) { return d.count(); })},
      {"unique_key", OrNull(job.unique_key)},
      {"parent_id", OrNull(job.parent_id)},
      {"dry_run", job.dry_run},
      {"cancel_requested", job.cancel_requested},
      {"worker_id", OrNull(job.worker_id)},
      {"created_at", Time(job.created_at)},
      {"run_at", Time(job.run_at)},
      {"attempted_at", OrNull(job.attempted_at, Time)},
      {"finished_at", OrNull(job.finished_at, Time)},
      {"last_error", OrNull(job.last_error)},
      {"progress", job.progress ? Embedded(*job.progress) : json(nullptr)},
  };
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
  };
}

json JobWithRunsJson(const db::JobWithRuns& job) {
  json out = JobJson(job.job);
  json runs = json::array();
  for (const auto& run : job.runs) runs.push_back(RunJson(run));
  out["runs"] = std::move(runs);
  return out;
}

json JobPageJson(const db::JobPage& page) {
  json jobs = json::array();
  for (const auto& job : page.jobs) jobs.push_back(JobJson(job));
  return json{{"jobs", std::move(jobs)}, {"next_before_id", OrNull(page.next_before_id)}};
}

json EnqueueResultJson(const db::EnqueueResult& result) {
  return json{{"id", result.id},
              {"existing", result.existing},
              {"state", std::string(db::JobStateName(result.state))}};
}

json StatsJson(const db::Stats& stats) {
  json states = json::object();
  for (auto s : {db::JobState::kScheduled, db::JobState::kAvailable, db::JobState::kRunning,
                 db::JobState::kRetryable, db::JobState::kSucceeded, db::JobState::kDiscarded,
                 db::JobState::kCancelled}) {
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

}  // namespace chime::jobctl
