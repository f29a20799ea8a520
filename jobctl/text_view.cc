#include "jobctl/text_view.h"

#include <algorithm>
#include <array>
#include <map>
#include <sstream>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/base/text_format.h"
#include "common/db/job_fields.h"
#include "common/view/json_view.h"

namespace chime::jobctl {
namespace {

constexpr size_t kLastErrorWidth = 40;
constexpr size_t kSummaryWidth = 60;
constexpr size_t kErrorLineWidth = 300;
constexpr size_t kMaxErrorsShown = 20;
constexpr size_t kPayloadWidth = 1000;

std::string Time(db::TimePoint t) { return FormatRfc3339(t); }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

std::string Pad(const std::string& s, size_t width, bool right) {
  const size_t w = DisplayWidth(s);
  if (w >= width) return s;
  return right ? std::string(width - w, ' ') + s : s + std::string(width - w, ' ');
}

void Field(std::string& out, std::string_view name, const std::string& value) {
  out += Pad(std::string(name) + ":", 18, false) + value + "\n";
}

template <typename T>
std::string OrDash(const std::optional<T>& v) {
  if (!v) return "-";
  if constexpr (std::is_same_v<T, std::string>) {
    return OneLine(*v, kPayloadWidth);
  } else {
    return std::to_string(*v);
  }
}

// "400000: 399990 succeeded, 10 discarded (0 still to run)" - a fan-out's
// aggregate outcome at a glance.
std::string ChildrenLine(const std::map<db::JobState, int64_t>& children) {
  int64_t total = 0, live = 0;
  std::string parts;
  for (const auto& [state, n] : children) {
    total += n;
    if (!db::IsFinished(state)) live += n;
    parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(db::JobStateName(state));
  }
  return std::to_string(total) + ": " + parts + " (" + std::to_string(live) + " still to run)";
}

// The newest run's summary in full, indented: what the kind reported (a
// reconciliation's per-exam entries, a fan-out's counts), which the runs
// table can only abbreviate. Long summaries stop after kMaxSummaryLines.
std::string LastResult(const db::Run& run) {
  constexpr size_t kMaxSummaryLines = 80;
  const auto summary = nlohmann::json::parse(run.summary, nullptr, /*allow_exceptions=*/false);
  if (summary.is_discarded() || summary.empty()) return "";
  std::string out = "\nresult of attempt " + std::to_string(run.attempt) + ":\n";
  std::istringstream lines(summary.dump(2));
  std::string line;
  size_t shown = 0, total = 0;
  while (std::getline(lines, line)) {
    if (++total <= kMaxSummaryLines) {
      out += "  " + line + "\n";
      ++shown;
    }
  }
  if (total > shown) out += "  ... " + std::to_string(total - shown) + " more lines (see --json)\n";
  return out;
}

}  // namespace

// Each is shown by a line of RenderJobWithRuns (some inside another's line:
// cancel_requested in state's, the schedule's id, name and tick in one,
// waiting_for_children in outcome's) or left out on purpose (fan_out: a
// fan-out shows its children).
const std::vector<std::string_view> kShowPlacedFields = {
    "id", "kind", "queue", "priority", "state", "outcome", "payload", "attempt", "max_attempts",
    "rescue_count", "timeout_ms", "unique_key", "parent_id", "dry_run", "invocation", "cancel_requested",
    "worker_id", "created_at", "run_at", "attempted_at", "finished_at", "last_error", "progress",
    "schedule_id", "schedule", "scheduled_for", "fan_out", "waiting_for_children"};

std::string RenderUnplacedJobFields(const db::Job& job, const std::vector<std::string_view>& placed) {
  std::string out;
  std::optional<nlohmann::ordered_json> as_json;  // Made for the first unplaced field only.
  for (const auto& field : db::kJobFields) {
    if (std::ranges::find(placed, field.json) != placed.end()) continue;
    if (!as_json) as_json = view::JobJson(job);
    const auto& value = (*as_json)[std::string(field.json)];
    std::string text = value.is_null()      ? "-"
                       : value.is_string()  ? value.get<std::string>()
                       : value.is_boolean() ? (value.get<bool>() ? "yes" : "no")
                                            : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    Field(out, field.json, OneLine(text, kPayloadWidth));
  }
  return out;
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right_aligned)
    : headers_(std::move(headers)), right_(std::move(right_aligned)) {
  right_.resize(headers_.size(), false);
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) widths[c] = DisplayWidth(headers_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      l += (last && !right_[c]) ? cells[c] : Pad(cells[c], widths[c], right_[c]);
      if (!last) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(headers_);
  for (const auto& row : rows_) line(row);
  return out;
}

std::string OutcomeText(const db::Job& job) {
  if (job.outcome) return std::string(db::JobOutcomeName(*job.outcome));
  if (!job.Waiting()) return "-";
  if (!job.children_live) return "waiting";
  return "waiting for " + std::to_string(*job.children_live) +
         (*job.children_live == 1 ? " child" : " children");
}

std::string RenderJobPage(const db::JobPage& page) {
  if (page.jobs.empty()) return "no jobs\n";
  Table table({"ID", "KIND", "QUEUE", "STATE", "OUTCOME", "SCHEDULE", "ATTEMPT", "PRI", "CREATED", "RUN_AT",
               "LAST_ERROR"},
              {true, false, false, false, false, false, true, true, false, false, false});
  for (const auto& job : page.jobs) {
    std::string state(db::JobStateName(job.state));
    if (job.cancel_requested && !db::IsFinished(job.state)) state += " (cancelling)";
    table.AddRow({std::to_string(job.id), OneLine(job.kind, 128), OneLine(job.queue, 128), state,
                  OutcomeText(job), job.schedule_name ? OneLine(*job.schedule_name, 64) : "-",
                  std::to_string(job.attempt) + "/" + std::to_string(job.max_attempts),
                  std::to_string(job.priority), Time(job.created_at), Time(job.run_at),
                  job.last_error ? OneLine(*job.last_error, kLastErrorWidth) : ""});
  }
  return table.Render();
}

std::string JobPageHint(const db::JobPage& page) {
  if (!page.next_before_id) return "";
  return "more jobs: repeat with --before-id " + std::to_string(*page.next_before_id) + "\n";
}

std::string LimitBudget(const schedule::LimitSpec& spec) {
  std::string out;
  if (spec.concurrency) out = std::to_string(*spec.concurrency) + " at once";
  if (spec.rate) out += (out.empty() ? "" : ", ") + schedule::FormatLimitRate(*spec.rate);
  return out;
}

std::string RenderLimitUse(const std::vector<db::LimitRow>& limits) {
  Table table({"LIMIT", "BUDGET", "RUNNING", "READY (HELD OR NOT)", "HELD BACK (TOTAL)", "PARTITIONS IN USE"});
  for (const auto& l : limits) {
    std::string budget = LimitBudget(l.spec);
    if (l.spec.partition_by) budget += " per " + *l.spec.partition_by;
    table.AddRow({l.spec.name, budget, std::to_string(l.running), std::to_string(l.ready), std::to_string(l.held_back),
                  std::to_string(l.partitions_total)});
  }
  return table.Render();
}

std::string DescribeLimitWait(const db::LimitWait& w) {
  std::string out = "limit " + w.limit;
  if (!w.partition.empty()) out += " (partition " + OneLine(w.partition, 64) + ")";
  out += ":";
  if (w.concurrency && w.running >= *w.concurrency) {
    out += " " + std::to_string(w.running) + " of " + std::to_string(*w.concurrency) + " running";
  }
  if (w.rate && w.started_in_window >= *w.rate) {
    out += " " + std::to_string(w.started_in_window) + " started in the last " + FormatDuration(w.rate_window);
    if (w.next_slot) out += ", next slot at " + FormatRfc3339(*w.next_slot, TimePrecision::kMillis);
  }
  return out;
}

std::string RenderJobWithRuns(const db::JobWithRuns& jr) {
  const db::Job& job = jr.job;
  std::string out;
  Field(out, "id", std::to_string(job.id));
  Field(out, "kind", OneLine(job.kind, 128));
  Field(out, "queue", OneLine(job.queue, 128));
  Field(out, "state", std::string(db::JobStateName(job.state)) +
                          (job.cancel_requested ? " (cancel requested)" : ""));
  Field(out, "outcome", OutcomeText(job));
  if (job.schedule_id) {
    Field(out, "schedule", (job.schedule_name ? OneLine(*job.schedule_name, 128)
                                              : "(deleted, id " + std::to_string(*job.schedule_id) + ")") +
                               (job.scheduled_for ? ", tick " + Time(*job.scheduled_for) : ""));
  }
  Field(out, "priority", std::to_string(job.priority));
  Field(out, "attempt", std::to_string(job.attempt) + " of " + std::to_string(job.max_attempts));
  Field(out, "rescues", std::to_string(job.rescue_count));
  Field(out, "payload", OneLine(job.payload, kPayloadWidth));
  Field(out, "unique_key", OrDash(job.unique_key));
  Field(out, "parent_id", OrDash(job.parent_id));
  Field(out, "dry_run", job.dry_run ? "yes" : "no");
  Field(out, "invocation", std::string(db::InvocationName(job.invocation)));
  Field(out, "timeout", job.timeout ? FormatDuration(*job.timeout) : "worker default");
  Field(out, "worker", OrDash(job.worker_id));
  Field(out, "created_at", Time(job.created_at));
  Field(out, "run_at", Time(job.run_at));
  Field(out, "attempted_at", job.attempted_at ? Time(*job.attempted_at) : "-");
  Field(out, "finished_at", job.finished_at ? Time(*job.finished_at) : "-");
  Field(out, "last_error", OrDash(job.last_error));
  Field(out, "progress", job.progress ? OneLine(*job.progress, kPayloadWidth) : "-");
  out += RenderUnplacedJobFields(job, kShowPlacedFields);
  if (!jr.children.empty()) Field(out, "children", ChildrenLine(jr.children));
  if (jr.queue_paused_at) {
    Field(out, "waiting on", "queue " + OneLine(job.queue, 128) + " paused since " + Time(*jr.queue_paused_at) +
                                 (jr.queue_paused_by.empty() ? "" : " by " + OneLine(jr.queue_paused_by, 64)) +
                                 " (jobctl queue resume " + OneLine(job.queue, 128) + ")");
  }
  for (const auto& w : jr.waiting_on) Field(out, "waiting on", DescribeLimitWait(w));

  if (jr.runs.empty()) {
    out += "\nruns: none\n";
    return out;
  }
  out += "\nruns (" + std::to_string(jr.runs.size()) + ", oldest first):\n";
  Table table({"ATTEMPT", "WORKER", "STARTED", "FINISHED", "DURATION", "OUTCOME", "DRY_RUN",
               "ERRORS", "SUMMARY"},
              {true, false, false, false, true, false, false, true, false});
  for (const auto& run : jr.runs) {
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(run.finished_at - run.started_at);
    std::string outcome(db::RunOutcomeName(run.outcome));
    if (run.final) {
      outcome += run.job_outcome ? " (final: " + std::string(db::JobOutcomeName(*run.job_outcome)) + ")"
                                 : " (final)";
    }
    table.AddRow({std::to_string(run.attempt), OneLine(run.worker_id, 64), Time(run.started_at),
                  Time(run.finished_at), FormatDuration(took), outcome, run.dry_run ? "yes" : "no",
                  std::to_string(run.errors.size()), OneLine(run.summary, kSummaryWidth)});
  }
  out += table.Render();
  for (const auto& run : jr.runs) {
    if (run.errors.empty()) continue;
    out += "\nerrors of attempt " + std::to_string(run.attempt) + ":\n";
    for (size_t i = 0; i < run.errors.size() && i < kMaxErrorsShown; ++i) {
      out += "  - " + OneLine(run.errors[i], kErrorLineWidth) + "\n";
    }
    if (run.errors.size() > kMaxErrorsShown) {
      out += "  ... " + std::to_string(run.errors.size() - kMaxErrorsShown) +
             " more (see --json)\n";
    }
  }
  out += LastResult(jr.runs.back());
  return out;
}

std::string RenderStats(const db::Stats& stats) {
  std::string out;
  if (stats.rows.empty()) {
    out += "no jobs\n";
  } else {
    // (queue, kind) -> count per state, in db::kJobStates order.
    std::map<std::pair<std::string, std::string>, std::array<int64_t, db::kJobStates.size()>> cells;
    std::array<int64_t, db::kJobStates.size()> totals{};
    for (const auto& row : stats.rows) {
      auto& counts = cells[{row.queue, row.kind}];
      const size_t i = std::find(db::kJobStates.begin(), db::kJobStates.end(), row.state) - db::kJobStates.begin();
      if (i >= db::kJobStates.size()) continue;
      counts[i] += row.count;
      totals[i] += row.count;
    }
    std::vector<std::string> headers{"QUEUE", "KIND"};
    std::vector<bool> right{false, false};
    for (auto s : db::kJobStates) {
      headers.push_back(Upper(db::JobStateName(s)));
      right.push_back(true);
    }
    Table table(headers, right);
    auto add = [&](std::string queue, std::string kind, const std::array<int64_t, db::kJobStates.size()>& counts) {
      std::vector<std::string> row{std::move(queue), std::move(kind)};
      for (int64_t n : counts) row.push_back(std::to_string(n));
      table.AddRow(std::move(row));
    };
    for (const auto& [key, counts] : cells) add(OneLine(key.first, 128), OneLine(key.second, 128), counts);
    if (cells.size() > 1) add("TOTAL", "", totals);
    out += table.Render();
  }
  out += "\n";
  if (stats.queues.empty()) {
    out += "no ready jobs in any queue\n";
    return out;
  }
  Table queues({"QUEUE", "READY", "OLDEST_READY_AGE"}, {false, true, true});
  for (const auto& q : stats.queues) {
    queues.AddRow({OneLine(q.queue, 128), std::to_string(q.ready),
                   q.ready > 0 ? FormatDuration(q.oldest_ready_age) : "-"});
  }
  out += queues.Render();
  return out;
}

std::string RenderMigration(const db::MigrationStatus& status, bool applied) {
  std::string out;
  if (applied) {
    for (const auto& file : status.applied_now) out += "applied " + file + "\n";
    if (status.applied_now.empty()) out += "nothing to apply\n";
  }
  out += "schema version " + std::to_string(status.current_version) + " (this jobctl knows " +
         std::to_string(status.latest_version) + "): ";
  if (status.current_version == status.latest_version) {
    out += "up to date\n";
  } else if (status.current_version < status.latest_version) {
    out += std::to_string(status.latest_version - status.current_version) +
           " version(s) pending; run `jobctl migrate`\n";
  } else {
    out += "the database is newer than this jobctl\n";
  }
  return out;
}

std::string RenderWorkers(const std::vector<WorkerView>& workers) {
  if (workers.empty()) return "no workers connected\n";
  Table table({"WORKER", "HOST", "PID", "QUEUES", "SLOTS", "FREE", "RUNNING", "LAST_SEEN"},
              {false, false, true, false, true, true, true, false});
  for (const auto& w : workers) {
    std::string queues;
    for (const auto& q : w.queues) queues += (queues.empty() ? "" : ",") + q;
    table.AddRow({OneLine(w.worker_id, 64), OneLine(w.host, 64), std::to_string(w.pid),
                  OneLine(queues, 64), std::to_string(w.slots), std::to_string(w.free_slots),
                  std::to_string(w.running_jobs.size()), Time(w.last_seen)});
  }
  return table.Render();
}

namespace {

std::string ScheduleState(const schedule::ScheduleSpec& spec) {
  return spec.paused ? "paused" : "active";
}

// A lease is held while it has not expired by the database's clock.
bool Leading(const db::LeaderState& leader) { return leader.expires_at > leader.db_now; }

std::string LastFireCell(const db::ScheduleStatus& s) {
  if (!s.last_fire_for) return "-";
  std::string cell = Time(*s.last_fire_for) + " " +
                     (s.last_fire_outcome ? std::string(db::FireOutcomeName(*s.last_fire_outcome))
                                          : std::string("recorded"));
  if (s.last_job_id) {
    cell += ", job " + std::to_string(*s.last_job_id);
    if (s.last_job_state) cell += " " + std::string(db::JobStateName(*s.last_job_state));
  }
  return cell;
}

std::string LastRunCell(const db::ScheduleStatus& s) {
  if (!s.last_run_outcome) return "-";
  std::string cell(db::JobOutcomeName(*s.last_run_outcome));
  if (s.last_run_finished_at) cell += " " + Time(*s.last_run_finished_at);
  return cell;
}

// JSON text on one line with YAML-friendly separators (", " and ": "), so a
// YAML flow reader never sees "a":"b" run together.
void FlowJson(const nlohmann::ordered_json& v, std::string& out) {
  if (v.is_object()) {
    out += "{";
    bool first = true;
    for (const auto& [key, value] : v.items()) {
      if (!first) out += ", ";
      first = false;
      out += nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out += ": ";
      FlowJson(value, out);
    }
    out += "}";
  } else if (v.is_array()) {
    out += "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ", ";
      FlowJson(v[i], out);
    }
    out += "]";
  } else {
    out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

std::string Quoted(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// "defaults", or the overrides: "min_runs=10, failure_rate=0.25, no_success_within=off".
std::string HealthText(const schedule::HealthSpec& health) {
  if (health.IsDefault()) return "defaults";
  std::string out;
  auto add = [&](std::string item) { out += (out.empty() ? "" : ", ") + item; };
  if (!health.enabled) add("enabled=false");
  if (health.min_runs) add("min_runs=" + std::to_string(*health.min_runs));
  for (schedule::HealthRule rule : schedule::kAllHealthRules) {
    if (auto v = schedule::HealthValueText(health, rule)) add(std::string(schedule::HealthRuleName(rule)) + "=" + *v);
  }
  return out;
}

}  // namespace

std::string RenderSchedule(const db::ScheduleRow& row, const std::vector<TimePoint>& next_fires) {
  const schedule::ScheduleSpec& spec = row.spec;
  std::string out;
  Field(out, "name", OneLine(spec.name, 128));
  Field(out, "id", std::to_string(row.id));
  Field(out, "state", ScheduleState(spec));
  Field(out, "cron", OneLine(spec.cron, 256));
  Field(out, "time_zone", OneLine(spec.time_zone, 64));
  Field(out, "kind", OneLine(spec.kind, 128));
  Field(out, "queue", OneLine(spec.queue, 128));
  Field(out, "priority", std::to_string(spec.priority));
  Field(out, "max_attempts", std::to_string(spec.max_attempts));
  Field(out, "timeout", spec.timeout ? FormatDuration(*spec.timeout) : "worker default");
  Field(out, "jitter", FormatDuration(spec.jitter));
  Field(out, "overlap", std::string(schedule::OverlapPolicyName(spec.overlap)));
  Field(out, "misfire", std::string(schedule::MisfirePolicyName(spec.misfire)));
  Field(out, "payload", OneLine(spec.payload, kPayloadWidth));
  Field(out, "health", HealthText(spec.health));
  Field(out, "source", std::string(db::ScheduleSourceName(row.source)));
  Field(out, "last_fired_for", row.last_fired_for ? Time(*row.last_fired_for) : "-");
  Field(out, "created_at", Time(row.created_at));
  Field(out, "updated_at", Time(row.updated_at));
  if (next_fires.empty()) {
    Field(out, "next_fires", spec.paused ? "- (paused)" : "-");
  } else {
    for (size_t i = 0; i < next_fires.size(); ++i) {
      if (i == 0) {
        Field(out, "next_fires", Time(next_fires[i]));
      } else {
        out += std::string(18, ' ') + Time(next_fires[i]) + "\n";
      }
    }
  }
  return out;
}

std::string RenderScheduleList(const std::vector<db::ScheduleStatus>& schedules,
                               const NextFireFn& next_fire) {
  if (schedules.empty()) return "no schedules\n";
  Table table({"NAME", "CRON", "TZ", "KIND", "STATE", "NEXT", "LAST_FIRE", "LAST_RUN"});
  for (const auto& s : schedules) {
    const auto next = next_fire ? next_fire(s.row) : std::nullopt;
    table.AddRow({OneLine(s.row.spec.name, 64), OneLine(s.row.spec.cron, 64),
                  OneLine(s.row.spec.time_zone, 64), OneLine(s.row.spec.kind, 64),
                  ScheduleState(s.row.spec), next ? Time(*next) : "-", LastFireCell(s),
                  LastRunCell(s)});
  }
  return table.Render();
}

std::string LeaderLine(const Result<std::optional<db::LeaderState>>& leader) {
  if (!leader) return "leader: unknown (" + OneLine(leader.error().message, 300) + ")\n";
  if (!*leader || !Leading(**leader)) return "leader: none (no scheduler is leading)\n";
  const db::LeaderState& l = **leader;
  const auto left = std::chrono::floor<std::chrono::seconds>(l.expires_at - l.db_now);
  return "leader: " + OneLine(l.holder, 128) + " (epoch " + std::to_string(l.epoch) +
         ", lease expires in " + FormatDuration(left) + ")\n";
}

std::string RenderLeader(const std::optional<db::LeaderState>& leader) {
  std::string out = LeaderLine(leader);
  if (!leader) return out + "no scheduler has ever held the lease\n";
  const db::LeaderState& l = *leader;
  Field(out, Leading(l) ? "holder" : "last_holder", OneLine(l.holder, 128));
  Field(out, "epoch", std::to_string(l.epoch));
  Field(out, "acquired_at", Time(l.acquired_at));
  std::string expires = Time(l.expires_at);
  if (!Leading(l)) {
    expires += " (expired " +
               FormatDuration(std::chrono::floor<std::chrono::seconds>(l.db_now - l.expires_at)) +
               " ago)";
  }
  Field(out, "expires_at", expires);
  Field(out, "database_time", Time(l.db_now));
  return out;
}

std::string DurationForParse(std::chrono::milliseconds d) {
  using namespace std::chrono;
  if (d <= milliseconds(0)) return "0s";
  std::string out;
  auto part = [&](auto unit, const char* suffix) {
    const auto n = duration_cast<milliseconds>(unit).count();
    if (d.count() >= n) {
      out += std::to_string(d.count() / n) + suffix;
      d = milliseconds(d.count() % n);
    }
  };
  part(days(1), "d");
  part(hours(1), "h");
  part(minutes(1), "m");
  part(seconds(1), "s");
  part(milliseconds(1), "ms");
  return out;
}

std::string RenderScheduleFile(const std::vector<schedule::ScheduleSpec>& specs,
                               std::string_view comment) {
  std::string out;
  size_t start = 0;
  while (!comment.empty() && start <= comment.size()) {
    size_t end = comment.find('\n', start);
    if (end == std::string_view::npos) end = comment.size();
    out += "# " + OneLine(comment.substr(start, end - start), 1000) + "\n";
    start = end + 1;
  }
  if (specs.empty()) return out + "schedules: []\n";
  out += "schedules:\n";
  for (const auto& spec : specs) {
    out += "  - name: " + Quoted(spec.name) + "\n";
    out += "    cron: " + Quoted(spec.cron) + "\n";
    out += "    time_zone: " + Quoted(spec.time_zone) + "\n";
    out += "    kind: " + Quoted(spec.kind) + "\n";
    const auto payload = nlohmann::ordered_json::parse(spec.payload, nullptr, /*allow_exceptions=*/false);
    out += "    payload: ";
    if (payload.is_discarded()) {
      out += Quoted(spec.payload);  // Not JSON: the linter will say so.
    } else {
      FlowJson(payload, out);
    }
    out += "\n";
    out += "    queue: " + Quoted(spec.queue) + "\n";
    out += "    priority: " + std::to_string(spec.priority) + "\n";
    out += "    max_attempts: " + std::to_string(spec.max_attempts) + "\n";
    if (spec.timeout) out += "    timeout: " + DurationForParse(*spec.timeout) + "\n";
    out += "    jitter: " + DurationForParse(spec.jitter) + "\n";
    out += "    overlap: " + std::string(schedule::OverlapPolicyName(spec.overlap)) + "\n";
    out += "    misfire: " + std::string(schedule::MisfirePolicyName(spec.misfire)) + "\n";
    out += std::string("    paused: ") + (spec.paused ? "true" : "false") + "\n";
    if (!spec.health.IsDefault()) {
      out += "    health:\n";
      if (!spec.health.enabled) out += "      enabled: false\n";
      if (spec.health.min_runs) out += "      min_runs: " + std::to_string(*spec.health.min_runs) + "\n";
      for (schedule::HealthRule rule : schedule::kAllHealthRules) {
        if (auto v = schedule::HealthValueText(spec.health, rule)) {
          out += "      " + std::string(schedule::HealthRuleName(rule)) + ": " + *v + "\n";
        }
      }
    }
  }
  return out;
}

}  // namespace chime::jobctl
